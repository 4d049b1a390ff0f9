"""A one-block write's file work: the new file written from its pieces, one SHA-256 of it, the journal entry.

The block path never joins the new file in memory: it is the untouched spans of
the old bytes and the blocks written again (``store.NewFile``). Its SHA-256 is
computed once (``index.ContentHash``, from the old file's hash where the two
agree) and names both the journal entry and the index's key; the entry is made
just before the rename (``files.write_atomic``'s *before_rename*).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ENOSPC, FullDisk, fresh_index_contents, index_contents, no_full_load, snapshot
from partnerctl.core import edit
from partnerctl.storage import files, index, store
from partnerctl.storage import toml as tomlfile

pytestmark = pytest.mark.usefixtures("index_on")


# --- the pieces and their hash -------------------------------------------------------------

@st.composite
def spliced(draw: Any) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """Bytes and edits of them that do not overlap (each a span replaced, an insertion or a removal)."""
    data = draw(st.binary(max_size=200))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    spans = list(zip(cuts[::2], cuts[1::2], strict=False))
    return data, [(start, stop, draw(st.binary(max_size=20))) for start, stop in spans]


@settings(max_examples=300, deadline=None)
@given(spliced(), st.booleans(), st.sampled_from([1, 7, 64, index.HASH_STEP]))
def test_the_new_hash_is_the_sha256_of_the_joined_pieces(
        case: tuple[bytes, list[tuple[int, int, bytes]]], old_hashed: bool, step: int) -> None:
    data, edits = case
    pieces = tomlfile.splice(data, edits)
    new = store.NewFile(pieces, same=min((start for start, _, _ in edits), default=len(data)))
    joined = b"".join(pieces)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(index, "HASH_STEP", step)  # states kept every few bytes: the copy starts from one
        old = index.ContentHash(data)
        if old_hashed:
            assert old.hexdigest() == hashlib.sha256(data).hexdigest()
        assert old.of_copy(new.pieces, new.same) == hashlib.sha256(joined).hexdigest()
    assert new.join() == joined and new.size() == len(joined)
    assert new.equals(data) == (joined == data)


def test_new_bytes_equal_the_old_ones_only_when_they_are() -> None:
    data = b"head\n\nblock-one\n\nblock-two\n"

    def new(edits: list[tuple[int, int, bytes]]) -> store.NewFile:
        return store.NewFile(tomlfile.splice(data, edits), same=min(e[0] for e in edits))

    assert new([(6, 15, b"block-one")]).equals(data)  # a block written again as it was
    assert not new([(6, 15, b"block-ONE")]).equals(data)  # the same length, other bytes
    assert not new([(6, 15, b"block-1")]).equals(data)
    # A removal and an insertion that give back the same bytes further on.
    pieces = tomlfile.splice(b"aaab", [(0, 1, b""), (3, 3, b"a")])
    assert store.NewFile(pieces).equals(b"aaab") and not store.NewFile(pieces).equals(b"aaba")


# --- a write through the block path ---------------------------------------------------------

@pytest.fixture
def indexed(registry_path: Path) -> Path:
    """The Lyon registry in canonical form with a current index: writes take the block path."""
    store.write(store.Location(registry_path), store.Change(lambda draft: None, whole=True, reformat=True))
    data, st_ = store.read_file(registry_path)
    assert index.save(registry_path, store.parse_valid(data.decode(), "lyon"), data, st_)
    return registry_path


def _key_digest(registry: Path) -> str:
    with sqlite3.connect(index.db_path(registry)) as con:
        digest: str = con.execute("SELECT value FROM index_meta WHERE key = 'digest'").fetchone()[0]
    return digest


def test_one_hash_names_the_journal_entry_and_the_index_key(
        indexed: Path, invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    before = indexed.read_bytes()
    with monkeypatch.context() as patched:
        no_full_load(patched)
        assert invoke(indexed, "add-event", "turin", "--date", "2024-05", "--title", "Pieces").exit_code == 0
        assert invoke(indexed, "set", "milan", "status", "suspended").exit_code == 0
    after = indexed.read_bytes()
    digest = hashlib.sha256(after).hexdigest()
    [newest, previous] = files.journal_list(indexed)[:2]
    assert newest.after == digest[:16] == files.digest(after)
    assert previous.read() == before and _key_digest(indexed) == digest
    # The index is current for the file as written: the next read opens it without a rebuild.
    data, st_ = store.read_file(indexed)
    found = index.open_current(indexed, st_, lambda: (data, st_))
    assert found is not None
    found.close()


def test_undo_after_a_block_write_restores_the_exact_bytes_and_refuses_after_an_outside_change(
        indexed: Path, invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    before = indexed.read_bytes()
    with monkeypatch.context() as patched:
        no_full_load(patched)
        assert invoke(indexed, "tag", "turin", "sport").exit_code == 0
    assert invoke(indexed, "undo").exit_code == 0
    assert indexed.read_bytes() == before
    with monkeypatch.context() as patched:
        no_full_load(patched)
        assert invoke(indexed, "tag", "turin", "sport").exit_code == 0
    edited = indexed.read_bytes() + b"\n"
    indexed.write_bytes(edited)  # by hand, after partnerctl's write
    result = invoke(indexed, "undo")
    assert result.exit_code == 4 and "changed since partnerctl's last write" in result.stderr
    assert indexed.read_bytes() == edited


# Where the disk is full, from where the changed block starts and the file's size: in the span before
# it, inside the new block, or in the span after it.
ROOMS = {"in-the-first-span": lambda at, size: 100, "in-the-block": lambda at, size: at + 20,
         "in-the-last-span": lambda at, size: size - 3000}


@pytest.mark.parametrize("where", ROOMS)
def test_a_full_disk_part_way_through_the_pieces_leaves_the_old_bytes(
        indexed: Path, invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    assert invoke(indexed, "tag", "turin", "sport").exit_code == 0  # the .bak and the lock file exist
    data = indexed.read_bytes()
    at = data.index(b"\n[partnerships.milan]\n") + 1
    assert 3000 < at < len(data) - 6000  # part way through the file
    before = snapshot(indexed.parent)
    left = [ROOMS[where](at, len(data))]
    monkeypatch.setattr(files, "open_output", lambda fd: io.BufferedWriter(FullDisk(fd, left)))
    no_full_load(monkeypatch)
    result = invoke(indexed, "add-event", "milan", "--date", "2024", "--title", "Too much")
    assert result.exit_code == 4
    assert result.stderr == f"partnerctl: error: cannot write {indexed}: {ENOSPC}\n"
    assert snapshot(indexed.parent) == before  # the file, its .bak, the journal: as they were
    monkeypatch.undo()
    assert invoke(indexed, "show", "milan").exit_code == 0


def test_a_rename_that_fails_after_the_journal_entry_removes_it(
        indexed: Path, invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke(indexed, "tag", "turin", "sport").exit_code == 0
    before = snapshot(indexed.parent)
    entries = files.journal_list(indexed)

    def failing_backup(target: Path) -> None:
        assert len(files.journal_list(indexed)) == len(entries) + 1  # the entry is made before the rename
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(files, "_keep_backup", failing_backup)
    result = invoke(indexed, "tag", "milan", "sport")
    assert result.exit_code == 4
    assert result.stderr == f"partnerctl: error: cannot write {indexed}: {os.strerror(errno.EIO)}\n"
    assert snapshot(indexed.parent) == before and files.journal_list(indexed) == entries


def test_a_dry_run_diff_and_nothing_to_change_on_the_block_path(
        indexed: Path, invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    no_full_load(monkeypatch)
    before = indexed.read_bytes()
    result = invoke(indexed, "set", "turin", "status", "suspended", "--dry-run")
    assert result.exit_code == 0 and '+status = "suspended"' in result.stdout and indexed.read_bytes() == before
    assert invoke(indexed, "set", "turin", "status", "suspended").exit_code == 0
    before = indexed.read_bytes()
    written = store.write(store.Location(indexed), store.Change(  # the same value again: nothing to write
        lambda draft: edit.set_field(draft, "turin", "status", "suspended")))
    assert not written.written and written.new_data == before and indexed.read_bytes() == before


# --- the old bytes hashed while the change runs ---------------------------------------------

def test_a_change_run_on_an_index_the_file_no_longer_matches_does_not_count(
        indexed: Path, invoke: Callable[..., Any], tmp_path: Path) -> None:
    # Edited outside, still canonical, the head unchanged: the index opens (its stat does not vouch
    # for the bytes, which are hashed meanwhile) and answers for the old file until that hash is compared.
    data = indexed.read_bytes()
    assert data.count(b'city = "Milan"\n') == 1
    indexed.write_bytes(data.replace(b'city = "Milan"\n', b'city = "Milano"\n'))
    result = invoke(indexed, "set", "Milano", "status", "suspended")  # a name the index has never heard of
    assert result.exit_code == 0, result.stderr
    assert invoke(indexed, "tag", "turin", "sport").exit_code == 0  # a change the stale index could have made
    after = store.load(indexed)
    assert after.partnerships["milan"].city == "Milano" and after.partnerships["milan"].status == "suspended"
    assert "sport" in after.partnerships["turin"].themes
    assert index_contents(index.db_path(indexed)) == fresh_index_contents(indexed, tmp_path)


def test_an_index_the_file_no_longer_matches_is_not_updated_by_a_block_write(
        indexed: Path, tmp_path: Path) -> None:
    data = indexed.read_bytes()
    indexed.write_bytes(data.replace(b'city = "Milan"\n', b'city = "Milano"\n'))
    written = store.write(store.Location(indexed), store.Change(
        lambda draft: edit.add_event(draft, "turin", date="2024", title="Stale")))
    assert written.written and b'city = "Milano"\n' in indexed.read_bytes()
    assert _key_digest(indexed) == hashlib.sha256(indexed.read_bytes()).hexdigest()
    assert index_contents(index.db_path(indexed)) == fresh_index_contents(indexed, tmp_path)
