"""Block writes: random changes through the block path give exactly the bytes of the full path.

``store.write`` runs a change on a ``BlockDraft`` when the index is current and the
file canonical (only the head and the touched blocks are read, rewritten and
spliced in), else on a ``FullDraft`` (the whole file loaded and written). Both
must leave the same bytes, the same answer or the same error, and an index equal
to one built from scratch.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHIPPED_REGISTRY, fresh_index_contents, index_contents, no_full_load
from partnerctl.core import edit
from partnerctl.core.errors import PartnerctlError
from partnerctl.storage import index, store
from partnerctl.storage import toml as tomlfile

pytestmark = pytest.mark.usefixtures("index_on")

_SHIPPED = store.load(SHIPPED_REGISTRY)
PIDS = sorted(_SHIPPED.partnerships)
THEMES = sorted(_SHIPPED.themes)
NETWORKS = sorted(_SHIPPED.networks)
CITIES = sorted({p.city for p in _SHIPPED.partnerships.values()})

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
# Text that looks like the file's own structure: a block header inside a string.
tricky = st.sampled_from([f"a\n[partnerships.{pid}]\ncity = \"X\"\n" for pid in PIDS[::5]]
                         + ["[partnerships.turin]", "x\n[[partnerships.turin.events]]\n"])
line = text.filter(lambda s: s.strip() and "\n" not in s and "\r" not in s)
year = st.integers(1900, 2030)
date = st.one_of(year.map(str), st.tuples(year, st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}"))
partner = st.sampled_from(PIDS + ["tur", "Turin", "nowhere"])  # what a user types: resolved by the change
# New ids: taken ones, and ones next to existing ids (just before, just after, first, last).
new_id = st.one_of(st.sampled_from(PIDS), st.sampled_from(["aaa", "a", "zzz", "turin-b", "tur", "milan-2"]),
                   st.builds(lambda pid, n: pid[:n], st.sampled_from(PIDS), st.integers(1, 6)),
                   st.builds(lambda pid, s: f"{pid}-{s}", st.sampled_from(PIDS), st.sampled_from(["a", "z"])))
kind = st.sampled_from(["theme", "network"])
slug = st.one_of(st.sampled_from(THEMES + NETWORKS), st.sampled_from(["rowing", "aaa", "zzz-net"]))


# Each change is a function of a Draft, as a command's is: it resolves what the user typed first.
def add_event(who: str, d: str, title: str, themes: list[str], description: str | None) -> Callable[[Any], Any]:
    return lambda draft: edit.add_event(draft, draft.resolve(who), date=d, title=title, themes=themes,
                                        description=description)


def set_field(who: str, field: str, value: str) -> Callable[[Any], Any]:
    return lambda draft: edit.set_field(draft, draft.resolve(who), field, value)


def add_to(who: str, field: str, values: list[str]) -> Callable[[Any], Any]:
    return lambda draft: edit.add_to(draft, draft.resolve(who), field, values)


def untag_first(who: str) -> Callable[[Any], Any]:
    def change(draft: Any) -> Any:
        pid = draft.resolve(who)
        return edit.remove_from(draft, pid, "themes", draft.peek(pid).themes[:1] or ["culture"])
    return change


def remove_last_event(who: str) -> Callable[[Any], Any]:
    def change(draft: Any) -> Any:
        pid = draft.resolve(who)
        events = draft.peek(pid).events
        return edit.remove_event(draft, pid, events[-1].id if events else "none")
    return change


def add_contact(who: str, name: str, role: str | None) -> Callable[[Any], Any]:
    return lambda draft: edit.add_contact(draft, draft.resolve(who), name=name, role=role)


def add_partnership(city: str, country: str, pid: str | None, themes: list[str]) -> Callable[[Any], Any]:
    return lambda draft: edit.add_partnership(draft, city, country, pid, themes=themes)


def remove(who: str) -> Callable[[Any], Any]:
    return lambda draft: edit.remove_partnership(draft, draft.resolve(who))


def rename(who: str, new: str) -> Callable[[Any], Any]:
    return lambda draft: edit.rename_partnership(draft, draft.resolve(who), new)


def add_vocab(k: str, s: str, label: str) -> Callable[[Any], Any]:
    return lambda draft: edit.add_vocab(draft, k, s, label)


def rename_vocab(k: str, old: str, new: str, label: str | None) -> Callable[[Any], Any]:
    return lambda draft: edit.rename_vocab(draft, k, old, new, label)


def remove_vocab(k: str, s: str, force: bool) -> Callable[[Any], Any]:
    return lambda draft: edit.remove_vocab(draft, k, s, force)


changes = st.one_of(
    st.builds(add_event, partner, date, line, st.lists(st.sampled_from(THEMES), max_size=2, unique=True),
              st.none() | text | tricky),
    st.builds(set_field, partner, st.sampled_from(["summary", "kind", "since_note", "region"]), text | tricky),
    st.builds(set_field, partner, st.just("city"), line | st.sampled_from(CITIES)),
    st.builds(set_field, partner, st.just("since"), year.map(str)),
    st.builds(add_to, partner, st.just("themes"), st.lists(st.sampled_from(THEMES), min_size=1, max_size=2)),
    st.builds(add_to, partner, st.just("aliases"), st.lists(line | st.sampled_from(CITIES), min_size=1, max_size=2)),
    st.builds(untag_first, partner),
    st.builds(remove_last_event, partner),
    st.builds(add_contact, partner, line, st.none() | line),
    st.builds(add_partnership, line | st.sampled_from(CITIES), line, st.none() | new_id,
              st.lists(st.sampled_from(THEMES), max_size=2, unique=True)),
    st.builds(remove, partner),
    st.builds(rename, partner, new_id),
    st.builds(add_vocab, kind, slug, line),
    st.builds(rename_vocab, kind, slug, slug, st.none() | line),
    st.builds(remove_vocab, kind, slug, st.booleans()),
)


def _outcome(loc: store.Location, change: Callable[[Any], Any]) -> tuple[str, str]:
    """What a write of *change* reports: its result, or its error (type and message)."""
    try:
        return "done", repr(store.write(loc, store.Change(change), backup=False).result)
    except PartnerctlError as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(changes, min_size=1, max_size=8))
def test_random_changes_through_the_block_path_equal_the_full_path(
    steps: list[Callable[[Any], Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        monkeypatch.setenv("XDG_CACHE_HOME", str(Path(folder) / "cache"))
        blocks, full = (Path(folder) / name / "registry.toml" for name in ("blocks", "full"))
        for path in (blocks, full):
            path.parent.mkdir()
            shutil.copyfile(SHIPPED_REGISTRY, path)
        data, stat = store.read_file(blocks)
        assert index.save(blocks, store.parse_valid(data.decode(), str(blocks)), data, stat)
        for change in steps:
            with monkeypatch.context() as patched:
                no_full_load(patched)  # every step on the block path: never a full load
                got = _outcome(store.Location(blocks), change)
            with monkeypatch.context() as patched:
                patched.setenv(index.ENV_OFF, "1")
                expected = _outcome(store.Location(full), change)
            assert got == expected
            assert blocks.read_bytes() == full.read_bytes()
        # The index followed every write: equal to one built from scratch.
        assert index_contents(index.db_path(blocks)) == fresh_index_contents(blocks, Path(folder))


def test_a_partnership_whose_text_holds_a_blank_line_and_a_header_is_written_by_the_full_path(
    registry_path: Path, tmp_path: Path
) -> None:
    # A block is found from its header to the next blank line and header: text holding both cuts it
    # short, its hash then differs, and the whole file decides (the same bytes, only slower).
    loc = store.Location(registry_path)
    summary = "Pasted:\n\n[partnerships.turin]\ncity = \"Turin\"\n"
    store.write(loc, store.Change(lambda draft: edit.set_field(draft, "milan", "summary", summary), whole=True))
    reference = store.load(registry_path)
    for change in (lambda draft: edit.add_event(draft, "milan", date="2024", title="After"),
                   lambda draft: edit.add_event(draft, "turin", date="2024", title="Also")):
        store.write(loc, store.Change(change))
        change(store.FullDraft(reference))
        reference = store.parse_valid(tomlfile.dump(reference), "reference")
        assert registry_path.read_text(encoding="utf-8") == tomlfile.dump(reference)
    assert index_contents(index.db_path(registry_path)) == fresh_index_contents(registry_path, tmp_path)


def test_a_header_inside_another_block_is_not_taken_for_the_block(
    registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loc = store.Location(registry_path)
    # milan comes before turin in the file: its text is found first when looking for turin's header.
    store.write(loc, store.Change(lambda draft: edit.set_field(draft, "milan", "summary",
                                                               "x\n[partnerships.turin]\ncity = \"Turin\"\n")))
    before = registry_path.read_bytes()
    no_full_load(monkeypatch)
    store.write(loc, store.Change(lambda draft: edit.set_field(draft, "turin", "summary", "New")))
    after = registry_path.read_bytes()
    block = after.index(b"\n\n[partnerships.turin]\n")  # the real one: after a blank line
    assert after.count(b"\n[partnerships.turin]\n") == 2 and after.count(b'summary = "New"') == 1
    assert after.index(b'summary = "New"') > block and before[:block] == after[:block]
    assert index_contents(index.db_path(registry_path)) == fresh_index_contents(registry_path, tmp_path)


def test_splice_copies_every_other_byte() -> None:
    data = b"head\n\nblock-one\n\nblock-two\n"
    assert b"".join(tomlfile.splice(data, [(6, 15, b"BLOCK")])) == b"head\n\nBLOCK\n\nblock-two\n"
    # Edits in any order; an empty span inserts; an empty text removes.
    pieces = tomlfile.splice(data, [(17, 27, b""), (0, 4, b"HEAD"), (6, 6, b"new\n\n")])
    assert b"".join(pieces) == b"HEAD\n\nnew\n\nblock-one\n\n"
    # The untouched spans are views of the old bytes, not copies; no piece is empty.
    assert all(piece.obj is data for piece in pieces if isinstance(piece, memoryview)) and all(pieces)


def test_a_block_is_used_only_where_the_layout_and_its_hash_say() -> None:
    block = b'[partnerships.a]\ncity = "A"\ncountry = "X"\n'
    other = b'[partnerships.b]\ncity = "B"\ncountry = "X"\n'
    head = b'[registry]\nowner = "Lyon"\n'
    data = head + b"\n" + block + b"\n" + other
    start, stop = len(head) + 1, len(head) + 1 + len(block)
    digest = tomlfile.bytes_hash(block)
    assert tomlfile.verified_block(data, len(head), "a", (start, stop, digest)) == {"city": "A", "country": "X"}
    for pid, recorded in [("a", (start, stop, digest + 1)),  # another hash
                          ("b", (start, stop, digest)),  # another partnership's header
                          ("a", (start, stop - 1, digest)),  # not at a block's end
                          ("a", (start, len(data), tomlfile.bytes_hash(data[start:]))),  # two blocks
                          ("a", (start + 1, stop, tomlfile.bytes_hash(data[start + 1:stop])))]:  # not at a start
        with pytest.raises(tomlfile.Damaged):
            tomlfile.verified_block(data, len(head), pid, recorded)
