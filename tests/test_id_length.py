"""Ids and slugs have at most 100 characters, so every export can use them in file names
(``partnerships/<id>.html``, ``<id>.md``, ICS UIDs ``<event>.<id>@partnerctl``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from partnerctl.formats import exchange

MAX_ID_LENGTH = 100  # as the README documents

LONG = "a" * 300
TOO_LONG = "b" * (MAX_ID_LENGTH + 1)
LONGEST = "c" * MAX_ID_LENGTH
EVENT = "2012-05-16-" + "e" * (MAX_ID_LENGTH - len("2012-05-16-"))


def test_the_limit_is_100() -> None:
    from partnerctl.core import model

    assert model.MAX_ID_LENGTH == MAX_ID_LENGTH
    # The longest page and UID names fit a file name of 255 bytes, with room for a temporary name.
    assert len(f".{LONGEST}.html.0123456789abcdef.tmp") <= 255
    assert len(f"{EVENT}.{LONGEST}@partnerctl.ics") <= 255


@pytest.mark.parametrize("args", [
    ["add", "Foo", "--country", "Italy", "--id", LONG],
    ["rename", "alder", LONG],
    ["rename", "alder", TOO_LONG],
    ["edit-event", "alder", "1991-04-charter", "--id", LONG],
    ["themes", "add", LONG, "Label"],
    ["themes", "rename", "culture", LONG],
    ["networks", "add", TOO_LONG, "Label"],
], ids=lambda args: " ".join(a[:12] for a in args))
def test_a_longer_id_is_refused_and_changes_nothing(
        invoke: Callable[..., Any], small_registry: Path, args: list[str]) -> None:
    before = small_registry.read_bytes()
    result = invoke(small_registry, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("partnerctl: error: ")
    assert "characters long; ids and slugs have at most 100 (they name files of the exported site)" in result.stderr
    assert small_registry.read_bytes() == before


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_an_imported_row_with_a_longer_id_is_rejected(
        invoke: Callable[..., Any], small_canonical: Path, tmp_path: Path, fmt: str) -> None:
    small_registry = small_canonical
    source = tmp_path / f"rows.{fmt}"
    if fmt == "csv":
        source.write_text(f"id,city,country\n{LONG},Foo,Italy\n", encoding="utf-8")
    else:
        row = json.dumps({"id": LONG, "city": "Foo", "country": "Italy"})
        source.write_text(f"[{row}]" if fmt == "json" else row + "\n", encoding="utf-8")
    before = small_registry.read_bytes()
    result = invoke(small_registry, "import", str(source))
    assert result.exit_code == 0
    assert f"rejected (id: '{'a' * 20}'... is 300 characters long;" in result.stderr
    assert result.stderr.endswith("0 imported, 0 updated, 0 skipped, 1 rejected (1 invalid)\n")
    assert small_registry.read_bytes() == before


def test_a_registry_holding_a_longer_id_is_invalid(invoke: Callable[..., Any], make_registry: Any) -> None:
    path = make_registry(f'[registry]\nowner = "X"\n\n[partnerships.{TOO_LONG}]\ncity = "A"\ncountry = "B"\n')
    result = invoke(path, "validate")
    assert result.exit_code == 3
    assert "is 101 characters long" in result.stderr


def test_generated_ids_are_shortened_stably_and_stay_unique(
        invoke: Callable[..., Any], small_registry: Path) -> None:
    city = "Llanfair " * 40
    result = invoke(small_registry, "add", city, "--country", "Wales", "--format", "ids")
    assert result.exit_code == 0, result.stderr
    pid = result.stdout.strip()
    assert len(pid) == MAX_ID_LENGTH and pid.startswith("llanfair-llanfair-")
    # The same city gives the same id: taken, so refused (never silently a second one).
    again = invoke(small_registry, "add", city, "--country", "Wales")
    assert again.exit_code == 2 and f"partnership {pid!r} already exists" in again.stderr

    title = " ".join(["word" * 30] * 5)
    ids = []
    for _ in range(2):
        added = invoke(small_registry, "add-event", "alder", "--date", "2020-01-02", "--title", title,
                       "--format", "ids")
        assert added.exit_code == 0, added.stderr
        ids.append(added.stdout.strip())
    assert all(len(i) <= MAX_ID_LENGTH for i in ids) and ids[0] != ids[1]

    # Twin-towns ids: the same names give the same id; another pair does not take it.
    owner, partner = "Sankt " * 30, "Unsere Liebe Frau " * 10
    first = exchange.twin_id(owner, partner, "Italy", set())
    assert len(first) <= MAX_ID_LENGTH and first == exchange.twin_id(owner, partner, "Italy", set())
    second = exchange.twin_id(owner, partner, "Italy", {first})
    third = exchange.twin_id(owner, partner, "Italy", {first, second})
    assert len({first, second, third}) == 3 and all(len(i) <= MAX_ID_LENGTH for i in (second, third))


LONGEST_TOML = f"""\
[registry]
owner = "Lyon"

[themes]
{LONGEST} = "A theme with the longest slug"

[partnerships.{LONGEST}]
city = "Longtown"
country = "IT"
themes = ["{LONGEST}"]

[[partnerships.{LONGEST}.events]]
id = "{EVENT}"
date = "2012-05-16"
title = "Longest ids"
themes = ["{LONGEST}"]
"""


def test_every_export_takes_the_longest_ids(invoke: Callable[..., Any], make_registry: Any, tmp_path: Path) -> None:
    path = make_registry(LONGEST_TOML)
    assert invoke(path, "validate").exit_code == 0
    for fmt in ("html", "markdown"):
        result = invoke(path, "export", "--format", fmt, "-o", str(tmp_path / fmt))
        assert result.exit_code == 0, result.stderr
    assert (tmp_path / "html" / "partnerships" / f"{LONGEST}.html").is_file()
    assert (tmp_path / "markdown" / "partnerships" / f"{LONGEST}.md").is_file()
    for fmt in ("json", "jsonl", "csv", "ics", "sqlite"):
        result = invoke(path, "export", "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
        assert result.exit_code == 0, result.stderr
    unfolded = (tmp_path / "out.ics").read_bytes().replace(b"\r\n ", b"").decode()
    assert f"UID:{EVENT}.{LONGEST}@partnerctl\r\n" in unfolded
    con = sqlite3.connect(tmp_path / "out.sqlite")
    assert con.execute("SELECT partnership_id, id FROM events").fetchall() == [(LONGEST, EVENT)]
