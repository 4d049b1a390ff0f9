"""The index keeps up with changes made outside partnerctl (a git pull, a checkout, a hand edit): only the
changed blocks are read again, and reads answer exactly as without the index."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conftest import fresh_index_contents, index_contents, no_full_load, outputs
from partnerctl.storage import index, reader, store

READS = [("show", "turin", "--json"), ("list", "--json"), ("timeline", "--format", "tsv"), ("search", "visit"),
         ("stats", "--json"), ("list", "--status", "ended", "--format", "ids")]


def outside(path: Path, old: str, new: str, count: int = 1) -> None:
    """Change the file as a hand edit or a pull would, without partnerctl."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


@pytest.fixture
def canonical(invoke: Any, registry_path: Path, index_on: None) -> Path:
    assert invoke(registry_path, "fmt").exit_code == 0
    assert invoke(registry_path, "list").exit_code == 0  # the index, current
    return registry_path


def same_as_without_index(invoke: Any, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for args in READS:
        with_index = outputs(invoke, path, args)
        monkeypatch.setenv(index.ENV_OFF, "1")
        assert outputs(invoke, path, args) == with_index, args
        monkeypatch.delenv(index.ENV_OFF)


CHANGES = {
    "one field": [('status = "active"', 'status = "ended"')],
    "one event added": [('[[partnerships.turin.events]]\n', '[[partnerships.turin.events]]\nid = "1990-x"\n'
                         'date = "1990"\ntitle = "A visit"\n\n[[partnerships.turin.events]]\n')],
    "several blocks": [('title = "', 'title = "Visit: ', 5)],
}


@pytest.mark.parametrize("name", CHANGES)
def test_an_outside_change_is_caught_up_without_a_full_load(invoke: Any, canonical: Path, name: str,
                                                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for change in CHANGES[name]:
        outside(canonical, *change)
    assert store.parse_valid  # the full path is refused from here on: only the changed blocks are read
    with pytest.MonkeyPatch.context() as m:
        no_full_load(m)
        result = invoke(canonical, "show", "turin", "--json")
        assert result.exit_code == 0, result.stderr
    db = index.db_path(canonical)
    assert index_contents(db) == fresh_index_contents(canonical, tmp_path)
    same_as_without_index(invoke, canonical, monkeypatch)


def test_a_removed_partnership_is_caught_up(invoke: Any, canonical: Path, tmp_path: Path) -> None:
    text = canonical.read_text(encoding="utf-8")
    start = text.index("\n\n[partnerships.geneva]")
    stop = text.index("\n\n[partnerships.", start + 1)
    canonical.write_text(text[:start] + text[stop:], encoding="utf-8")
    with pytest.MonkeyPatch.context() as m:
        no_full_load(m)
        assert invoke(canonical, "show", "geneva").exit_code == 1
    assert index_contents(index.db_path(canonical)) == fresh_index_contents(canonical, tmp_path)


@pytest.mark.parametrize("change", [
    ('owner = "Lyon"', 'owner = "Lyons"'),  # the head: the whole file decides
    ('status = "active"', 'status = "unknown"'),  # invalid: the whole file says where
    ('city = "Turin"', 'city =   "Turin"'),  # not canonical
    ('[partnerships.turin]\n', '# a comment\n[partnerships.turin]\n'),
])
def test_what_cannot_be_caught_up_is_read_whole(invoke: Any, canonical: Path, change: tuple[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    outside(canonical, *change)
    data, st = store.read_file(canonical)
    assert reader.catch_up(canonical, data, st) is False
    same_as_without_index(invoke, canonical, monkeypatch)
    if "unknown" in change[1]:
        result = invoke(canonical, "show", "turin")
        assert result.exit_code == 3 and re.search(r"status", result.stderr)
