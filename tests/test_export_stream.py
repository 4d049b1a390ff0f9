"""Streamed exports (``Reader.each_record``): the same bytes from the index, from the file, and from a damaged index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import assert_same_with_and_without_index


@pytest.mark.usefixtures("index_on")
@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "ics"])
def test_streamed_export_is_the_same_from_every_source(invoke: Callable[..., Any], registry_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    assert_same_with_and_without_index(invoke, registry_path, monkeypatch, ("export", "--format", fmt))


@pytest.mark.usefixtures("index_on")
def test_streamed_sqlite_export_is_the_same_from_every_source(invoke: Callable[..., Any], registry_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sqlite3

    from conftest import damage_every_row
    from partnerctl.storage import index

    def dump(name: str) -> list[str]:
        target = tmp_path / f"{name}.sqlite"
        assert invoke(registry_path, "export", "--format", "sqlite", "-o", str(target)).exit_code == 0
        con = sqlite3.connect(target)
        try:
            return list(con.iterdump())
        finally:
            con.close()

    monkeypatch.setenv(index.ENV_OFF, "1")
    without = dump("without")
    monkeypatch.delenv(index.ENV_OFF)
    assert dump("building") == without
    assert dump("indexed") == without
    damage_every_row(index.db_path(registry_path))
    assert dump("damaged") == without


def test_empty_registry_exports_as_before(invoke: Callable[..., Any], tmp_path: Path) -> None:
    import json

    path = tmp_path / "empty.toml"
    path.write_text('[registry]\nowner = "Lyon"\ncountry = "FR"\n', encoding="utf-8")
    out = invoke(path, "export", "--format", "json").stdout
    assert out == json.dumps({"registry": {"owner": "Lyon", "country": "FR"}, "themes": {}, "networks": {},
                              "partnerships": []}, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.usefixtures("index_on")
@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "ics", "sqlite"])
def test_streamed_export_reads_the_index_not_the_file(invoke: Callable[..., Any], registry_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      fmt: str) -> None:
    from conftest import no_full_load

    assert invoke(registry_path, "list", "--format", "ids").exit_code == 0  # builds the index
    no_full_load(monkeypatch)
    result = invoke(registry_path, "export", "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
    assert result.exit_code == 0, result.stderr
    assert "24 partnerships" in result.stderr or fmt == "ics"
