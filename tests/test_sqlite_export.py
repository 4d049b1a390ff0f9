"""``export --format sqlite``: one table per kind of record, keys that hold, full-text search."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from partnerctl.storage import index, store


@pytest.fixture(autouse=True)
def index_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the index: on, even in a run with PARTNERCTL_NO_INDEX=1."""
    monkeypatch.delenv(index.ENV_OFF, raising=False)


TABLES = {"registry", "themes", "networks", "partnerships", "events", "contacts", "partnership_themes",
          "partnership_networks", "event_themes", "search"}


def export_db(invoke: Callable[..., Any], registry: Path, target: Path) -> sqlite3.Connection:
    result = invoke(registry, "export", "--format", "sqlite", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert f"to {target}" in result.stderr
    con = sqlite3.connect(target)
    con.execute("PRAGMA foreign_keys = ON")
    return con


def test_sqlite_export_holds_every_record_with_its_keys(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path
) -> None:
    con = export_db(invoke, registry_path, tmp_path / "lyon.sqlite")
    reg = store.load(registry_path)
    names = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= names
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count = lambda table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731, S608
    assert count("partnerships") == len(reg.partnerships)
    assert count("events") == sum(len(p.events) for p in reg.partnerships.values())
    assert count("contacts") == sum(len(p.contacts) for p in reg.partnerships.values())
    assert count("partnership_themes") == sum(len(p.themes) for p in reg.partnerships.values())
    assert count("event_themes") == sum(len(e.themes) for p in reg.partnerships.values() for e in p.events)
    assert dict(con.execute("SELECT slug, label FROM themes")) == reg.themes
    assert con.execute("SELECT owner, country FROM registry").fetchall() == [("Lyon", "FR")]
    turin = con.execute("SELECT city, aliases, since FROM partnerships WHERE id = 'turin'").fetchone()
    assert turin == ("Turin", '[]', 1991)
    # Foreign keys are declared, not only kept: sqlite-utils and Datasette follow them.
    targets = {row[2] for row in con.execute("PRAGMA foreign_key_list(event_themes)")}
    assert targets == {"events", "themes"}
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO partnership_themes VALUES ('turin', 99, 'no-such-theme')")


def test_full_text_search_over_names_summaries_and_events(
    invoke: Callable[..., Any], small_registry: Path, tmp_path: Path
) -> None:
    con = export_db(invoke, small_registry, tmp_path / "small.sqlite")
    hit = lambda q: con.execute(  # noqa: E731
        "SELECT partnership_id, event_id FROM search WHERE search MATCH ? ORDER BY 1, 2", (q,)).fetchall()
    assert hit("tram") == [("alder", "2005-tram-exchange")]
    assert hit("marlo") == [("alder", None)]  # the alias Mårlø, folded as partnerctl folds
    assert hit("elan") == [("cedar", None)]  # Élan
    assert hit("twinned") == [("alder", None)]  # summary
    assert hit("kingsford") == [("birch", None)]


def test_full_text_search_is_folded_like_partnerctl(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path
) -> None:
    """Ł does not decompose, so FTS5's remove_diacritics alone misses "lodz": the text is folded first."""
    con = export_db(invoke, registry_path, tmp_path / "lyon.sqlite")
    found = {pid for (pid,) in con.execute("SELECT partnership_id FROM search WHERE search MATCH 'lodz'")}
    assert "lodz" in found
    # The README's example query still answers.
    rows = con.execute(
        "SELECT p.city, e.date, e.title FROM search JOIN events e ON e.partnership_id = search.partnership_id "
        "AND e.id = search.event_id JOIN partnerships p ON p.id = e.partnership_id "
        "WHERE search MATCH 'mobility'").fetchall()
    assert rows and all(title for _, _, title in rows)


def test_the_index_keeps_no_copy_of_the_export(invoke: Callable[..., Any], registry_path: Path) -> None:
    """The export is for analysts; the index holds only what reads use (its own tables), to stay small."""
    invoke(registry_path, "list")
    idx = sqlite3.connect(index.db_path(registry_path))
    tables = {name for (name,) in idx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables and all(name.startswith("index_") for name in tables), tables


def test_sqlite_export_to_a_pipe_and_refused_on_a_terminal(
    invoke: Callable[..., Any], small_registry: Path, tmp_path: Path
) -> None:
    result = invoke(small_registry, "export", "--format", "sqlite")
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"SQLite format 3\x00")
    piped = tmp_path / "piped.sqlite"
    piped.write_bytes(result.stdout_bytes)
    assert sqlite3.connect(piped).execute("SELECT count(*) FROM partnerships").fetchone() == (4,)


def test_sqlite_export_replaces_an_old_file_and_fails_cleanly_on_a_missing_folder(
    invoke: Callable[..., Any], small_registry: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out.sqlite"
    target.write_bytes(b"old")
    export_db(invoke, small_registry, target)
    assert target.read_bytes().startswith(b"SQLite format 3\x00")
    result = invoke(small_registry, "export", "--format", "sqlite", "-o", str(tmp_path / "no" / "x.sqlite"))
    assert result.exit_code == 4
    assert result.stderr.startswith("partnerctl: error: cannot write")
    assert list(tmp_path.glob(".partnerctl-export.*")) == []
