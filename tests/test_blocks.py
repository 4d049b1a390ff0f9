"""One-block rewrites: random edits through store.update_one give exactly the bytes of a full canonical save."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHIPPED_REGISTRY
from index_contents import index_contents
from partnerctl.core import edit
from partnerctl.core.errors import PartnerctlError
from partnerctl.storage import blocks, index, store
from partnerctl.storage import toml as tomlfile


@pytest.fixture(autouse=True)
def index_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the index: on, even in a run with PARTNERCTL_NO_INDEX=1."""
    monkeypatch.delenv(index.ENV_OFF, raising=False)


PIDS = sorted(store.load(SHIPPED_REGISTRY).partnerships)
THEMES = sorted(store.load(SHIPPED_REGISTRY).themes)

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
line = text.filter(lambda s: s.strip() and "\n" not in s and "\r" not in s)
year = st.integers(1900, 2030)
date = st.one_of(year.map(str), st.tuples(year, st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}"))


def add_event(d: str, title: str, themes: list[str], description: str | None) -> Callable[[Any, str], Any]:
    return lambda reg, pid: edit.add_event(reg, pid, date=d, title=title, themes=themes, description=description)


def set_field(field: str, value: str) -> Callable[[Any, str], Any]:
    return lambda reg, pid: edit.set_field(reg, pid, field, value)


def tag(theme: str) -> Callable[[Any, str], Any]:
    return lambda reg, pid: edit.add_to(reg, pid, "themes", [theme])


def untag_first(reg: Any, pid: str) -> Any:
    themes = reg.partnerships[pid].themes
    return edit.remove_from(reg, pid, "themes", themes[:1] or ["culture"])


def remove_last_event(reg: Any, pid: str) -> Any:
    events = reg.partnerships[pid].events
    return edit.remove_event(reg, pid, events[-1].id if events else "none")


def add_contact(name: str, role: str | None) -> Callable[[Any, str], Any]:
    return lambda reg, pid: edit.add_contact(reg, pid, name=name, role=role)


changes = st.one_of(
    st.builds(add_event, date, line, st.lists(st.sampled_from(THEMES), max_size=2, unique=True),
              st.none() | text),
    st.builds(set_field, st.sampled_from(["summary", "kind", "since_note", "region", "city"]), text),
    st.builds(set_field, st.just("since"), year.map(str)),
    st.builds(tag, st.sampled_from(THEMES)),
    st.just(untag_first),
    st.just(remove_last_event),
    st.builds(add_contact, line, st.none() | line),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(PIDS), changes), min_size=1, max_size=6))
def test_random_edits_through_update_one_equal_a_full_canonical_save(
    steps: list[tuple[str, Callable[[Any, str], Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "registry.toml"
        shutil.copyfile(SHIPPED_REGISTRY, path)
        data, stat = store.read_file(path)
        assert index.save(path, store.parse_valid(data.decode(), str(path)), data, stat)
        loc = store.Location(path)
        expected = store.load(path)
        with monkeypatch.context() as patched:
            # Every step must take the one-block path, never the full one.
            patched.setattr(store, "update", lambda *a, **k: pytest.fail("the full path was taken"))
            for pid, change in steps:
                before = path.read_bytes()
                try:
                    change(expected, pid)
                except PartnerctlError as exc:
                    with pytest.raises(type(exc), match=None) as raised:
                        store.update_one(loc, pid, change)
                    assert str(raised.value) == str(exc)
                    assert path.read_bytes() == before
                    expected = store.load(path)  # a failed change may have half-mutated our copy
                    continue
                store.update_one(loc, pid, change)
                assert path.read_text(encoding="utf-8") == tomlfile.dump(expected)
                # The next command starts from the file as saved (events in date order), not
                # from our in-memory copy (events in the order they were added).
                expected = store.parse_valid(tomlfile.dump(expected), "expected")
        # The index followed every write: equal to one built from scratch.
        assert _rows(index.db_path(path)) == _fresh_rows(path, Path(folder))


def _rows(db: Path) -> dict[str, list[str]]:
    return index_contents(db)


def _fresh_rows(path: Path, folder: Path) -> dict[str, list[str]]:
    data, stat = store.read_file(path)
    con = sqlite3.connect(folder / "fresh.sqlite", isolation_level=None)
    index.build_into(con, store.parse_valid(data.decode(), str(path)), data, stat)
    con.close()
    return _rows(folder / "fresh.sqlite")


def test_splice_copies_every_other_byte() -> None:
    data = b"head\n\nblock-one\n\nblock-two\n"
    assert blocks.splice(data, (6, 15), b"BLOCK") == b"head\n\nBLOCK\n\nblock-two\n"


def test_lazy_partnerships_load_the_others_only_when_looked_at() -> None:
    loads: list[int] = []

    def load_all() -> list[tuple[str, Any]]:
        loads.append(1)
        return [("a", "A"), ("b", "mine-placeholder"), ("c", "C")]

    lazy = blocks.LazyPartnerships("b", "B", load_all)
    assert lazy["b"] == "B" and "b" in lazy
    lazy["b"] = "B2"
    assert loads == [] and lazy.only_mine_changed()
    assert list(lazy.items()) == [("a", "A"), ("b", "B2"), ("c", "C")]
    assert loads == [1] and lazy.only_mine_changed()
    lazy["a"] = "A2"
    assert not lazy.only_mine_changed()
