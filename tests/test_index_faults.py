"""Fault injection: a damaged index never makes a read wrong and never decides what a write removes.

A cache file is just a file: each fault below damages a current index the way
bit rot, a crashed disk, a bad copy or a hand-run ``sqlite3`` could. Then each
command runs with the index and is compared with the same command run with
``PARTNERCTL_NO_INDEX=1``: a read prints the same (exit code, stdout, stderr),
a write leaves exactly the same file, byte for byte, every other partnership
intact, and nobody sees a traceback (the ``invoke`` fixture checks that).
Afterwards the index is rebuilt and equal to one built from scratch: at once
for a fault seen when the index is opened, after the first read that returns
the damaged row, or, for what only a write relies on (a block's hash, the
head's), after the first write that would rewrite that block.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import typer.testing

import partnerctl.cli
from conftest import fresh_index_contents, index_contents
from partnerctl.storage import index, reader, store
from partnerctl.storage import toml as tomlfile

pytestmark = pytest.mark.usefixtures("index_on")


@pytest.fixture
def invoke(invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """conftest's ``invoke``, each command's readers closed when it returns, as when its process exits.

    Left to the garbage collector (a connection and its statement cache refer to each other),
    a read's transaction would stay open and make the next write's index update wait, or
    the damage below wait for the database's lock; collecting after every command costs more
    than the commands.
    """
    opened: list[Any] = []
    real = reader.open_registry

    def tracked(path: Path) -> Any:
        opened.append(real(path))
        return opened[-1]

    monkeypatch.setattr(reader, "open_registry", tracked)

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return invoke(*args, **kwargs)
        finally:
            while opened:
                opened.pop().close()

    return run


_COMMAND: list[Any] = []


@pytest.fixture(autouse=True)
def cli_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's click command, built once for the hundreds of runs below (Typer's runner rebuilds it each time)."""
    if not _COMMAND:
        _COMMAND.append(typer.main.get_command(partnerctl.cli.app))
    build = typer.testing._get_command
    monkeypatch.setattr(typer.testing, "_get_command",
                        lambda app: _COMMAND[0] if app is partnerctl.cli.app else build(app))


@dataclass(frozen=True)
class Target:
    """The partnership a fault damages, the one after it in the file, what finds it, and a theme it uses."""

    pid: str
    next: str
    country: str
    city: str
    theme: str


TARGETS = {"registry_path": Target("turin", "yerevan", "italy", "Turin", "culture"),
           "small_canonical": Target("birch", "cedar", "canada", "Kingsford", "urban-planning")}


def _copy_row(con: sqlite3.Connection, table: str, where: str, params: tuple[Any, ...],
              **changes: Any) -> None:
    """Insert a copy of one row of *table* with some columns changed."""
    columns = [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
    select = ", ".join("?" if c in changes else c for c in columns)
    con.execute(f"INSERT INTO {table} SELECT {select} FROM {table} WHERE {where} LIMIT 1",  # noqa: S608
                [changes[c] for c in columns if c in changes] + list(params))


def _swap_hashes(con: sqlite3.Connection, one: str, other: str) -> None:
    """Swap two rows' block hashes: the table's sums stay as they were."""
    hashes = dict(con.execute("SELECT id, hash FROM index_blocks WHERE id IN (?, ?)", (one, other)))
    con.executemany("UPDATE index_blocks SET hash = ? WHERE id = ?", [(hashes[other], one), (hashes[one], other)])


def _forge_checks(con: sqlite3.Connection, **meta_changes: Any) -> None:
    """Make index_meta agree with the tables as they are now (and hold *meta_changes*): nothing shows at open."""
    meta = dict(con.execute("SELECT key, value FROM index_meta"))
    meta.update(meta_changes, checks=json.dumps({name: index._aggregate(con, name) for name in index._AGGREGATES}))
    meta.pop("check")
    index._write_meta(con, meta)


def _flip_in_record(db: Path, t: Target) -> None:
    """One byte of the target's stored record flipped in the database file itself."""
    data = bytearray(db.read_bytes())
    at = data.find(f'{{"id": "{t.pid}", "city": "{t.city}"'.encode())
    assert at >= 0
    at += len(f'{{"id": "{t.pid}", "city": "')
    data[at] ^= 0x01
    db.write_bytes(bytes(data))


# When a fault is seen, so when the index is healed: when it is opened (a table's sums or
# its schema), by a read that returns the damaged row, or by a write that would rewrite
# the block (what only a block write relies on: a block's hash and place, the head's hash).
OPEN, READ, WRITE = "open", "read", "write"

# name: (what it does to the index database, when it is seen)
SQL_FAULTS: dict[str, tuple[Callable[[sqlite3.Connection, Target], Any], str]] = {
    "block hash changed": (lambda c, t: c.execute(
        "UPDATE index_blocks SET hash = hash + 1 WHERE id = ?", (t.pid,)), OPEN),
    "block hash of the next block": (lambda c, t: c.execute(
        "UPDATE index_blocks SET hash = (SELECT hash FROM index_blocks WHERE id = ?) WHERE id = ?",
        (t.next, t.pid)), OPEN),
    # The sums stay as they were: only the block's bytes can tell.
    "block hashes swapped with the next block": (lambda c, t: _swap_hashes(c, t.pid, t.next), WRITE),
    "block text no longer matching its hash, sums forged": (lambda c, t: (c.execute(
        "UPDATE index_blocks SET hash = ? WHERE id = ?",
        (tomlfile.bytes_hash(f"[partnerships.{t.pid}]\ncity = \"{t.city}\"\n".encode()), t.pid)),
        _forge_checks(c)), WRITE),
    "head hash changed, meta forged": (lambda c, t: _forge_checks(c, head_hash=str(
        tomlfile.bytes_hash(b'[registry]\nowner = "Lyon"\n'))), WRITE),
    # The block's row under another id (sorted first): the block is in the file, the index lost it.
    "block row under another id": (lambda c, t: c.execute(
        "UPDATE index_blocks SET id = 'a-' || id WHERE id = ?", (t.pid,)), WRITE),
    "record JSON updated": (lambda c, t: c.execute(
        "UPDATE index_records SET record = replace(record, ?, ?) WHERE id = ?",
        (f'"city": "{t.city}"', f'"city": "{t.city}x"', t.pid)), READ),
    "city column updated": (lambda c, t: c.execute(
        "UPDATE index_records SET city = city || 'x' WHERE id = ?", (t.pid,)), READ),
    "aliases column updated": (lambda c, t: c.execute(
        "UPDATE index_records SET aliases = '[\"Forged\"]' WHERE id = ?", (t.pid,)), READ),
    "events column updated": (lambda c, t: c.execute(
        "UPDATE index_records SET events = events + 1 WHERE id = ?", (t.pid,)), READ),
    "search text updated": (lambda c, t: c.execute(
        "UPDATE index_records SET haystack = haystack || ' forged' WHERE id = ?", (t.pid,)), READ),
    "a name row pointed at the next partnership": (lambda c, t: c.execute(
        "UPDATE index_names SET id = ? WHERE id = ?", (t.next, t.pid)), READ),
    # Its own and its events' links to a theme: a narrowing column, seen by a read that lists them all.
    "theme links moved to another slug": (lambda c, t: c.execute(
        "UPDATE index_links SET slug = 'moved' WHERE id = ? AND slug = ?", (t.pid, t.theme)), READ),
    "deleted index_records row": (lambda c, t: c.execute(
        "DELETE FROM index_records WHERE id = ?", (t.pid,)), OPEN),
    "deleted index_names row": (lambda c, t: c.execute(
        "DELETE FROM index_names WHERE id = ? AND k = 0", (t.pid,)), OPEN),
    "deleted index_links row": (lambda c, t: c.execute(
        "DELETE FROM index_links WHERE id = ? AND position = 0", (t.pid,)), OPEN),
    "deleted index_blocks row": (lambda c, t: c.execute(
        "DELETE FROM index_blocks WHERE id = ?", (t.pid,)), OPEN),
    "inserted index_records row": (lambda c, t: _copy_row(
        c, "index_records", "id = ?", (t.pid,), id="aaa-forged"), OPEN),
    "inserted index_names row": (lambda c, t: _copy_row(
        c, "index_names", "id = ?", (t.pid,), key=t.next, k=99), OPEN),
    "inserted index_links row": (lambda c, t: _copy_row(
        c, "index_links", "id = ?", (t.pid,), id=t.next, position=99), OPEN),
    "inserted index_blocks row": (lambda c, t: _copy_row(
        c, "index_blocks", "id = ?", (t.pid,), id="aaa-forged"), OPEN),
}
# Every table and every index of the index database: each one dropped.
TABLES = ["index_meta", "index_records", "index_names", "index_links", "index_blocks"]
INDEXES = ["index_records_h", "index_records_country", "index_records_region", "index_records_owner",
           "index_records_owner_country",
           "index_names_id", "index_names_h", "index_links_id"]
def _drop(kind: str, name: str) -> Callable[[sqlite3.Connection, Target], Any]:
    return lambda c, t: c.execute(f"DROP {kind} {name}")


SQL_FAULTS.update({f"dropped table {name}": (_drop("TABLE", name), OPEN) for name in TABLES})
SQL_FAULTS.update({f"dropped index {name}": (_drop("INDEX", name), OPEN) for name in INDEXES})
FAULTS = [*SQL_FAULTS, "flipped byte in a stored record"]
# Every fault on the shipped registry; on the small one, the dropped indexes are left out
# (one check covers them all: the hash of sqlite_master).
CASES = [(fixture, fault) for fixture in TARGETS for fault in FAULTS
         if fixture == "registry_path" or not fault.startswith("dropped index")]


def damage(path: Path, fault: str, t: Target) -> str:
    """Apply *fault* to the index of *path*; when the index can see it (OPEN, READ or WRITE)."""
    db = index.db_path(path)
    if fault == "flipped byte in a stored record":
        _flip_in_record(db, t)
        return READ
    act, seen = SQL_FAULTS[fault]
    con = sqlite3.connect(db, isolation_level=None)
    act(con, t)
    con.close()
    return seen


READS = {
    "show": lambda t: ("show", t.pid, "--format", "json"),
    "list": lambda t: ("list", "--country", t.country, "--format", "json"),
    "search": lambda t: ("search", t.city, "--format", "json"),
    "stats": lambda t: ("stats", "--format", "json"),
    "timeline": lambda t: ("timeline", "--format", "json"),
}
# Every kind of block write: one block, a block removed, a block moved, a block added in its
# place, the blocks of every user of a theme.
WRITES = {
    "add-event": lambda t: ("add-event", t.pid, "--date", "2020-05", "--title", "Fault drill"),
    "set": lambda t: ("set", t.pid, "summary", "Rewritten by the fault drill."),
    "remove": lambda t: ("remove", t.next, "--yes"),
    "rename": lambda t: ("rename", t.pid, f"{t.pid}-renamed"),
    "add": lambda t: ("add", "Faultville", "--country", "Kosovo", "--id", t.pid[:3]),
    "themes rename": lambda t: ("themes", "rename", t.theme, "renamed-theme"),
}


def changed_by(command: str, t: Target) -> set[str]:
    """The partnerships a write adds, removes or rewrites at will (a theme rename: none, see ``untouched``)."""
    return {"remove": {t.next}, "rename": {t.pid, f"{t.pid}-renamed"}, "add": {t.pid[:3]},
            "themes rename": set()}.get(command, {t.pid})


def untouched(command: str, t: Target, partnerships: dict[str, Any]) -> dict[str, Any]:
    """What the write must leave of the other partnerships of a file (a theme rename: its new slug for the old)."""
    kept = {pid: p for pid, p in partnerships.items() if pid not in changed_by(command, t)}
    if command != "themes rename":
        return kept

    def swap(table: dict[str, Any]) -> dict[str, Any]:
        if "themes" not in table:
            return table
        return {**table, "themes": ["renamed-theme" if s == t.theme else s for s in table["themes"]]}

    return {pid: {**swap(p), **({"events": [swap(e) for e in p["events"]]} if "events" in p else {})}
            for pid, p in kept.items()}


def run(invoke: Callable[..., Any], path: Path, args: tuple[str, ...]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a command, its folder written ``DIR`` (to compare runs in two folders)."""
    result = invoke(path, *args)
    folder = str(path.parent)
    return result.exit_code, result.stdout.replace(folder, "DIR"), result.stderr.replace(folder, "DIR")


# (file content, command) -> (outputs, file content after) of a run with PARTNERCTL_NO_INDEX=1.
_WITHOUT: dict[tuple[bytes, tuple[str, ...]], tuple[tuple[int, str, str], bytes]] = {}


def without_index(invoke: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch,
                  args: tuple[str, ...]) -> tuple[tuple[int, str, str], bytes]:
    """What the command prints and leaves in the file without the index (run on a copy: *path* is not touched)."""
    before = path.read_bytes()
    if (before, args) not in _WITHOUT:
        with tempfile.TemporaryDirectory() as folder, monkeypatch.context() as off:
            off.setenv(index.ENV_OFF, "1")
            copy = Path(folder) / path.name
            copy.write_bytes(before)
            _WITHOUT[before, args] = run(invoke, copy, args), copy.read_bytes()
    return _WITHOUT[before, args]


def build_index(path: Path) -> None:
    data, st = store.read_file(path)
    assert index.save(path, store.parse_valid(data.decode(), str(path)), data, st)


def same_as_without_index(invoke: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch,
                          args: tuple[str, ...]) -> tuple[int, str, str]:
    """Run *args* with the index: the same output and the same file as without it. Returns the outputs."""
    expected, expected_file = without_index(invoke, path, monkeypatch, args)
    assert run(invoke, path, args) == expected
    assert path.read_bytes() == expected_file
    return expected


def assert_healed(invoke: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                  t: Target, seen: str) -> None:
    """The index is one built from scratch: at once, after reads that return the damaged rows, or after a
    write that would rewrite the damaged block."""
    if seen == OPEN:
        assert index_contents(index.db_path(path)) == fresh_index_contents(path, tmp_path)
    for args in [("show", t.pid, "--format", "json"), ("list", "--format", "json"), ("themes", "--format", "json")]:
        same_as_without_index(invoke, path, monkeypatch, args)
    if seen == WRITE:
        pid = t.pid if f"[partnerships.{t.pid}]".encode() in path.read_bytes() else t.next
        same_as_without_index(invoke, path, monkeypatch, ("add-event", pid, "--date", "2021", "--title", "Healed"))
    assert index_contents(index.db_path(path)) == fresh_index_contents(path, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("command", [*READS, *WRITES])
@pytest.mark.parametrize(("fixture", "fault"), CASES)
def test_a_command_through_a_damaged_index_does_what_it_does_without_one(
    invoke: Callable[..., Any], request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, fixture: str, fault: str, command: str
) -> None:
    path, t = request.getfixturevalue(fixture), TARGETS[fixture]
    args = {**READS, **WRITES}[command](t)
    original = path.read_bytes()
    without_index(invoke, path, monkeypatch, args)
    build_index(path)
    seen = damage(path, fault, t)
    # A read leaves the file as it is; a write leaves exactly what the full path writes.
    outputs = same_as_without_index(invoke, path, monkeypatch, args)
    if command in WRITES:
        assert outputs[0] == 0 and path.read_bytes() != original
        # Spelled out: no other partnership lost or changed.
        before = tomllib.loads(original.decode())["partnerships"]
        after = tomllib.loads(path.read_text(encoding="utf-8"))["partnerships"]
        changed = changed_by(command, t)
        assert {k: v for k, v in after.items() if k not in changed} == untouched(command, t, before)
    assert_healed(invoke, path, monkeypatch, tmp_path, t, seen)


def test_the_faults_drop_every_table_and_index_of_the_index(registry_path: Path, invoke: Callable[..., Any]) -> None:
    invoke(registry_path, "list")
    con = sqlite3.connect(index.db_path(registry_path))
    found = {(kind, name) for kind, name in con.execute("SELECT type, name FROM sqlite_master WHERE sql IS NOT NULL")}
    assert found == {("table", name) for name in TABLES} | {("index", name) for name in INDEXES}


@pytest.mark.parametrize("command", WRITES)
def test_a_block_edited_by_hand_under_a_forged_key_is_never_written_over(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # The index claims to be current for the file (its key forged after a hand edit of Turin's
    # block): reads may trust that claim, but a write checks every block it rewrites against its bytes.
    t = TARGETS["registry_path"]
    args = WRITES[command](t)
    build_index(registry_path)
    data = registry_path.read_bytes().replace(b'city = "Turin"', b'city = "Turix"')
    registry_path.write_bytes(data)
    con = sqlite3.connect(index.db_path(registry_path), isolation_level=None)
    key = index.key_of(data, registry_path.stat())
    _forge_checks(con, size=key.size, mtime_ns=key.mtime_ns, digest=key.digest)
    con.close()
    assert index.open_current(registry_path, *store.read_file(registry_path)) is not None
    expected, expected_file = without_index(invoke, registry_path, monkeypatch, args)
    assert expected[0] == 0 and b'city = "Turix"' in expected_file
    assert run(invoke, registry_path, args)[0] == 0
    assert registry_path.read_bytes() == expected_file


def test_the_block_the_index_lost_is_neither_duplicated_nor_passed_over(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Turin's block row under another id: the index says there is no turin. Adding one would
    # write a second [partnerships.turin] table, and "tur" would go after Turin's block.
    t = TARGETS["registry_path"]
    for args in [("add", "Turin", "--country", "Italy", "--id", "turin"), ("add", "Tur", "--country", "XK"),
                 ("rename", "milan", "turin"), ("add-event", "turin", "--date", "2020", "--title", "T")]:
        build_index(registry_path)
        damage(registry_path, "block row under another id", t)
        same_as_without_index(invoke, registry_path, monkeypatch, args)
        assert tomllib.loads(registry_path.read_text(encoding="utf-8"))


def test_a_theme_rename_rewrites_every_user_even_one_whose_link_the_index_lost(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = TARGETS["registry_path"]
    for args in [("themes", "rename", t.theme, "arts"), ("themes", "remove", t.theme),
                 ("themes", "remove", t.theme, "--force")]:
        build_index(registry_path)
        damage(registry_path, "theme links moved to another slug", t)
        same_as_without_index(invoke, registry_path, monkeypatch, args)
        assert store.load(registry_path)


def test_the_span_the_issue_reported_no_longer_removes_the_next_partnership(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    # The issue: with Turin's recorded block running over the next one, add-event turin removed
    # Yerevan (exit 0). Blocks are now found by their header and hash: the next block's hash for
    # Turin's is the nearest thing to that span.
    invoke(registry_path, "list")
    damage(registry_path, "block hashes swapped with the next block", TARGETS["registry_path"])
    assert invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "T").exit_code == 0
    after = tomllib.loads(registry_path.read_text())["partnerships"]
    assert len(after) == 24
    assert after["yerevan"]["city"] == "Yerevan"


# --- temporary databases of builders that were killed --------------------------------

def _big_registry(path: Path, n: int) -> Path:
    """A valid registry of *n* partnerships, large enough that building its index takes a while."""
    parts = ['[registry]\nowner = "Lyon"\n\n[themes]\nculture = "Culture"\n']
    for i in range(n):
        parts.append(f'[partnerships.p{i:05d}]\ncity = "City {i}"\naliases = ["Town {i}", "Ville {i}"]\n'
                     f'country = "IT"\nsince = {1950 + i % 70}\nthemes = ["culture"]\n'
                     f'summary = "Partnership number {i}, with some words to index and search."\n\n'
                     f'[[partnerships.p{i:05d}.events]]\nid = "2001-meeting"\ndate = "2001"\ntitle = "Meeting {i}"\n')
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _temps(cache: Path) -> list[Path]:
    return sorted((cache / "partnerctl").glob(".*.tmp"))


@pytest.mark.slow
def test_builders_killed_mid_build_leave_no_temporary_database_behind(tmp_path: Path) -> None:
    registry = _big_registry(tmp_path / "big.toml", 2000)
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop(index.ENV_OFF, None)
    base = [sys.executable, "-m", "partnerctl", "-r", str(registry)]
    killed_mid_build = 0
    for i in range(6):
        # A reader builds the index; a writer (full path: the file is not canonical) rebuilds it.
        command = [*base, "list", "--format", "ids"] if i % 2 == 0 else [
            *base, "--no-backup", "set", "p00001", "summary", f"Changed {i}"]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait for its temporary database to appear (polling, not a guessed delay), then kill it.
        while proc.poll() is None and not _temps(cache):
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_mid_build += bool(_temps(cache))
    assert killed_mid_build, "no kill landed during a build"
    done = subprocess.run([*base, "show", "p00002", "--format", "ids"], env=env, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "p00002\n")
    assert _temps(cache) == []
    assert (cache / "partnerctl" / index.db_path(registry).name).exists()


def test_a_temporary_database_a_live_builder_holds_is_left_alone(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    import fcntl

    folder = index.db_path(registry_path).parent
    folder.mkdir(parents=True)
    held, dead = folder / ".held.abc.build.tmp", folder / ".dead.abc.build.tmp"
    held.write_bytes(b"x")
    dead.write_bytes(b"x")
    fd = os.open(held, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert invoke(registry_path, "list").exit_code == 0  # builds: sweeps the cache folder
        assert held.exists() and not dead.exists()
    finally:
        os.close(fd)
    dead.write_bytes(b"x")
    # A one-block write updates the index in place: it sweeps too (the first lock was released).
    assert invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "T").exit_code == 0
    assert _temps(folder.parent) == []
