"""``list`` from the index streams: ids in order from SQL and the core, records read a chunk at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import no_full_load
from partnerctl.storage import index, reader

pytestmark = pytest.mark.usefixtures("index_on")

BLOCK = """
[partnerships.p{n:04d}]
city = "City {m:04d}"
country = "{country}"
since = {since}
"""


@pytest.fixture
def many(make_registry: Callable[..., Path]) -> Path:
    blocks = [BLOCK.format(n=n, m=(n * 7919) % 1201, country=("IT", "GB-ENG", "SN", "JP")[n % 4], since=1950 + n % 60)
              for n in range(1201)]
    return make_registry('[registry]\nowner = "Lyon"\ncountry = "FR"\n' + "".join(blocks))


@pytest.mark.parametrize("args", [(), ("--sort", "city"), ("--sort", "since", "--country", "GB"),
                                  ("--format", "json"), ("--format", "jsonl", "--fields", "id,city")])
def test_list_reads_records_a_chunk_at_a_time(
    invoke: Any, many: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv(index.ENV_OFF, "1")
    expected = invoke(many, "list", *args).stdout
    monkeypatch.delenv(index.ENV_OFF)
    invoke(many, "list", "--limit", "1")  # builds the index
    asked: list[int] = []
    checked_records = index.Index.checked_records

    def counted(self: index.Index, pids: Any, hashes: Any) -> Any:
        asked.append(len(pids))
        return checked_records(self, pids, hashes)

    monkeypatch.setattr(index.Index, "checked_records", counted)

    def none(self: index.Index, where: str = "", params: Any = ()) -> Any:
        raise AssertionError("records read otherwise than by id, a chunk at a time")

    monkeypatch.setattr(index.Index, "records", none)
    no_full_load(monkeypatch)
    result = invoke(many, "list", *args)
    assert (result.exit_code, result.stdout) == (0, expected)
    assert asked and max(asked) <= reader.Selected.CHUNK
    assert sum(asked) == (len(result.stdout.splitlines()) if "json" not in args else 1201)


def test_a_record_damaged_midway_is_read_from_the_file(invoke: Any, many: Path, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    import sqlite3

    monkeypatch.setenv(index.ENV_OFF, "1")
    expected = invoke(many, "list", "--format", "jsonl").stdout
    monkeypatch.delenv(index.ENV_OFF)
    invoke(many, "list", "--limit", "1")
    con = sqlite3.connect(index.db_path(many), isolation_level=None)
    con.execute("UPDATE index_records SET record = replace(record, 'City', 'Town') WHERE id = 'p1100'")
    con.close()
    assert invoke(many, "list", "--format", "jsonl").stdout == expected


@pytest.mark.parametrize("args", [(), ("--country", "GB"), ("--sort", "city", "--limit", "7")])
def test_list_of_ids_reads_no_record(invoke: Any, many: Path, monkeypatch: pytest.MonkeyPatch,
                                     args: tuple[str, ...]) -> None:
    monkeypatch.setenv(index.ENV_OFF, "1")
    expected = invoke(many, "list", "--format", "ids", *args).stdout
    monkeypatch.delenv(index.ENV_OFF)
    invoke(many, "list", "--limit", "1")  # builds the index

    def none(self: index.Index, *args: Any) -> Any:
        raise AssertionError("a record read for its id")

    monkeypatch.setattr(index.Index, "checked_records", none)
    monkeypatch.setattr(index.Index, "records", none)
    no_full_load(monkeypatch)
    result = invoke(many, "list", "--format", "ids", *args)
    assert (result.exit_code, result.stdout) == (0, expected)
    assert len(expected.splitlines()) == {(): 1201, ("--country", "GB"): 300}.get(args, 7)
