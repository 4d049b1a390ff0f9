"""Fault injection: a damaged index never makes a read wrong and never decides what a write removes.

A cache file is just a file: each fault below damages a current index the way
bit rot, a crashed disk, a bad copy or a hand-run ``sqlite3`` could. Then each
command runs with the index and is compared with the same command run with
``PARTNERCTL_NO_INDEX=1``: a read prints the same (exit code, stdout, stderr),
a write leaves exactly the same file, byte for byte, every other partnership
intact, and nobody sees a traceback (the ``invoke`` fixture checks that).
Afterwards the index is rebuilt and equal to one built from scratch: at once
for a fault seen when the index is opened, else after the first read that
returns the damaged row.
"""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import subprocess
import sys
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
from index_contents import index_contents
from partnerctl.storage import index, store


@pytest.fixture(autouse=True)
def index_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the index: on, even in a run with PARTNERCTL_NO_INDEX=1."""
    monkeypatch.delenv(index.ENV_OFF, raising=False)


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
    """The partnership a fault damages, the one after it in the file, and what finds it."""

    pid: str
    next: str
    country: str
    city: str


TARGETS = {"registry_path": Target("turin", "yerevan", "italy", "Turin"),
           "small_canonical": Target("birch", "cedar", "canada", "Kingsford")}


def _copy_row(con: sqlite3.Connection, table: str, where: str, params: tuple[Any, ...],
              **changes: Any) -> None:
    """Insert a copy of one row of *table* with some columns changed."""
    columns = [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
    select = ", ".join("?" if c in changes else c for c in columns)
    con.execute(f"INSERT INTO {table} SELECT {select} FROM {table} WHERE {where} LIMIT 1",  # noqa: S608
                [changes[c] for c in columns if c in changes] + list(params))


def _flip_in_record(db: Path, t: Target) -> None:
    """One byte of the target's stored record flipped in the database file itself."""
    data = bytearray(db.read_bytes())
    at = data.find(f'{{"id": "{t.pid}", "city": "{t.city}"'.encode())
    assert at >= 0
    at += len(f'{{"id": "{t.pid}", "city": "')
    data[at] ^= 0x01
    db.write_bytes(bytes(data))


# name: (what it does to the index database, whether the index sees it when opened)
SQL_FAULTS: dict[str, tuple[Callable[[sqlite3.Connection, Target], Any], bool]] = {
    "span start shifted": (lambda c, t: c.execute(
        "UPDATE index_blocks SET start = start + 1 WHERE id = ?", (t.pid,)), True),
    "span stop shifted back": (lambda c, t: c.execute(
        "UPDATE index_blocks SET stop = stop - 2 WHERE id = ?", (t.pid,)), True),
    # The issue's case: the span runs over the next partnership's block too.
    "span stop over the next block": (lambda c, t: c.execute(
        "UPDATE index_blocks SET stop = (SELECT stop FROM index_blocks WHERE id = ?) WHERE id = ?",
        (t.next, t.pid)), True),
    "span swapped with the next block": (lambda c, t: c.execute(
        "UPDATE index_blocks SET start = (SELECT start FROM index_blocks b WHERE b.id = "
        "(CASE index_blocks.id WHEN ? THEN ? ELSE ? END)), stop = (SELECT stop FROM index_blocks b "
        "WHERE b.id = (CASE index_blocks.id WHEN ? THEN ? ELSE ? END)) WHERE id IN (?, ?)",
        (t.pid, t.next, t.pid, t.pid, t.next, t.pid, t.pid, t.next)), True),
    "span and hash swapped with the next block": (lambda c, t: c.execute(
        "UPDATE index_blocks SET (start, stop, hash) = (SELECT start, stop, hash FROM index_blocks b "
        "WHERE b.id = (CASE index_blocks.id WHEN ? THEN ? ELSE ? END)) WHERE id IN (?, ?)",
        (t.pid, t.next, t.pid, t.pid, t.next)), True),
    "block hash": (lambda c, t: c.execute(
        "UPDATE index_blocks SET hash = hash + 1 WHERE id = ?", (t.pid,)), True),
    "record JSON updated": (lambda c, t: c.execute(
        "UPDATE index_records SET record = replace(record, ?, ?) WHERE id = ?",
        (f'"city": "{t.city}"', f'"city": "{t.city}x"', t.pid)), False),
    "city column updated": (lambda c, t: c.execute(
        "UPDATE index_records SET city = city || 'x' WHERE id = ?", (t.pid,)), False),
    "aliases column updated": (lambda c, t: c.execute(
        "UPDATE index_records SET aliases = '[\"Forged\"]' WHERE id = ?", (t.pid,)), False),
    "a name row pointed at the next partnership": (lambda c, t: c.execute(
        "UPDATE index_names SET id = ? WHERE id = ?", (t.next, t.pid)), False),
    "deleted index_records row": (lambda c, t: c.execute(
        "DELETE FROM index_records WHERE id = ?", (t.pid,)), True),
    "deleted index_names row": (lambda c, t: c.execute(
        "DELETE FROM index_names WHERE id = ? AND k = 0", (t.pid,)), True),
    "deleted index_links row": (lambda c, t: c.execute(
        "DELETE FROM index_links WHERE id = ? AND position = 0", (t.pid,)), True),
    "deleted index_blocks row": (lambda c, t: c.execute(
        "DELETE FROM index_blocks WHERE id = ?", (t.pid,)), True),
    "inserted index_records row": (lambda c, t: _copy_row(
        c, "index_records", "id = ?", (t.pid,), id="aaa-forged", pos=-1), True),
    "inserted index_names row": (lambda c, t: _copy_row(
        c, "index_names", "id = ?", (t.pid,), key=t.next, k=99), True),
    "inserted index_links row": (lambda c, t: _copy_row(
        c, "index_links", "id = ?", (t.pid,), id=t.next, position=99), True),
    "inserted index_blocks row": (lambda c, t: _copy_row(
        c, "index_blocks", "id = ?", (t.pid,), id="aaa-forged"), True),
}
# Every table of the index: each one dropped.
TABLES = ["registry", "themes", "networks", "partnerships", "events", "contacts", "partnership_themes",
          "partnership_networks", "event_themes", "search", "index_meta", "index_records", "index_names",
          "index_links", "index_blocks"]
SQL_FAULTS.update({f"dropped table {table}": ((lambda table: lambda c, t: c.execute(f"DROP TABLE {table}"))(table),
                                              True) for table in TABLES})
FAULTS = [*SQL_FAULTS, "flipped byte in a stored record"]
# Every fault on the shipped registry; on the small one, the shared tables dropped are left out
# (one check covers every table: the hash of sqlite_master).
CASES = [(fixture, fault) for fixture in TARGETS for fault in FAULTS
         if fixture == "registry_path" or not fault.startswith("dropped table") or "index_" in fault]


def damage(path: Path, fault: str, t: Target) -> bool:
    """Apply *fault* to the index of *path*; whether the index can see it when it is opened."""
    db = index.db_path(path)
    gc.collect()  # an in-process read's connection (a reference cycle) may still hold its read transaction
    if fault == "flipped byte in a stored record":
        _flip_in_record(db, t)
        return False
    act, at_open = SQL_FAULTS[fault]
    con = sqlite3.connect(db, isolation_level=None)
    act(con, t)
    con.close()
    return at_open


READS = {
    "show": lambda t: ("show", t.pid, "--format", "json"),
    "list": lambda t: ("list", "--country", t.country, "--format", "json"),
    "search": lambda t: ("search", t.city, "--format", "json"),
    "stats": lambda t: ("stats", "--format", "json"),
    "timeline": lambda t: ("timeline", "--format", "json"),
}
WRITES = {
    "add-event": lambda t: ("add-event", t.pid, "--date", "2020-05", "--title", "Fault drill"),
    "set": lambda t: ("set", t.pid, "summary", "Rewritten by the fault drill."),
    "remove": lambda t: ("remove", t.next, "--yes"),
}


def run(invoke: Callable[..., Any], path: Path, args: tuple[str, ...]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a command, its folder written ``DIR`` (to compare runs in two folders)."""
    result = invoke(path, *args)
    folder = str(path.parent)
    return result.exit_code, result.stdout.replace(folder, "DIR"), result.stderr.replace(folder, "DIR")


# (file content, command) -> (outputs, file content after) of a run with PARTNERCTL_NO_INDEX=1.
_WITHOUT: dict[tuple[bytes, tuple[str, ...]], tuple[tuple[int, str, str], bytes]] = {}


def without_index(invoke: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch,
                  args: tuple[str, ...]) -> tuple[tuple[int, str, str], bytes]:
    """What the command prints and leaves in the file without the index, *path* left as it was."""
    before = path.read_bytes()
    if (before, args) not in _WITHOUT:
        with monkeypatch.context() as off:
            off.setenv(index.ENV_OFF, "1")
            outputs = run(invoke, path, args)
        _WITHOUT[before, args] = outputs, path.read_bytes()
        if _WITHOUT[before, args][1] != before:
            path.write_bytes(before)
    return _WITHOUT[before, args]


def build_index(path: Path) -> None:
    data, st = store.read_file(path)
    assert index.save(path, store.parse_valid(data.decode(), str(path)), data, st)


def fresh_rows(path: Path, tmp_path: Path) -> dict[str, list[str]]:
    """The rows of an index built from scratch for the file as it is."""
    data, st = store.read_file(path)
    target = tmp_path / "fresh.sqlite"
    target.unlink(missing_ok=True)
    con = sqlite3.connect(target, isolation_level=None)
    con.execute("PRAGMA synchronous = OFF")
    index.build_into(con, store.parse_valid(data.decode(), str(path)), data, st)
    con.close()
    return index_contents(target)


def assert_healed(invoke: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                  t: Target, at_once: bool) -> None:
    """The index is (at once, or after reads that return the damaged rows) one built from scratch."""
    fresh = fresh_rows(path, tmp_path)
    if at_once:
        assert index_contents(index.db_path(path)) == fresh
    for args in [("show", t.pid, "--format", "json"), ("list", "--format", "json")]:
        assert run(invoke, path, args) == without_index(invoke, path, monkeypatch, args)[0]
    assert index_contents(index.db_path(path)) == fresh


@pytest.mark.parametrize("command", [*READS, *WRITES])
@pytest.mark.parametrize(("fixture", "fault"), CASES)
def test_a_command_through_a_damaged_index_does_what_it_does_without_one(
    invoke: Callable[..., Any], request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, fixture: str, fault: str, command: str
) -> None:
    path, t = request.getfixturevalue(fixture), TARGETS[fixture]
    args = {**READS, **WRITES}[command](t)
    original = path.read_bytes()
    expected, expected_file = without_index(invoke, path, monkeypatch, args)
    build_index(path)
    at_open = damage(path, fault, t)
    assert run(invoke, path, args) == expected
    # A read leaves the file as it is; a write leaves exactly what the full path writes.
    assert path.read_bytes() == expected_file
    if command in WRITES:
        assert expected[0] == 0 and expected_file != original
        # Spelled out: no other partnership lost or changed.
        before = tomllib.loads(original.decode())["partnerships"]
        after = tomllib.loads(expected_file.decode())["partnerships"]
        changed = {t.next} if command == "remove" else {t.pid}
        assert {k: v for k, v in after.items() if k not in changed} == {
            k: v for k, v in before.items() if k not in changed}
    assert_healed(invoke, path, monkeypatch, tmp_path, t, at_open)


def test_the_faults_drop_every_table_of_the_index(registry_path: Path, invoke: Callable[..., Any]) -> None:
    invoke(registry_path, "list")
    con = sqlite3.connect(index.db_path(registry_path))
    tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # The FTS5 table's own shadow tables go with it.
    assert {t for t in tables if not t.startswith("search_")} == set(TABLES)


def test_the_span_the_issue_reported_no_longer_removes_the_next_partnership(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    # The issue: with Turin's span running over the next block, add-event turin removed Yerevan (exit 0).
    invoke(registry_path, "list")
    damage(registry_path, "span stop over the next block", TARGETS["registry_path"])
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
                     f'country = "Italy"\nregion = "Europe"\nsince = {1950 + i % 70}\nthemes = ["culture"]\n'
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
