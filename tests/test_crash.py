"""Crash safety: whenever a writer dies, the registry is the old or the new version, never partial,
and what the dead writer left behind does not confuse the next run.

Two tests: real ``partnerctl add-event`` processes on a large registry killed with
SIGKILL at a spread of moments; and, in-process, a simulated crash at each
file-system step of a write in turn (so every step is hit, not only the likely ones).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from conftest import large_registry
from partnerctl.core import edit
from partnerctl.storage import files, reader, store
from partnerctl.storage import toml as tomlfile

PARTNERSHIPS = 1000  # 3,000 took 65 s here (a run ~2.3 s): over the ~40 s budget
KILLS = 50
TARGET = "city-00500"


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".registry.toml.*.tmp"))


def reset(registry: Path, data: bytes) -> None:
    """Put *data* back as a new file (as an editor that saves by renaming would), never in place:
    the registry's inode may also be its .bak."""
    fresh = registry.with_name("reset")
    fresh.write_bytes(data)
    os.replace(fresh, registry)


def test_kill_9_at_any_moment_leaves_the_old_or_the_new_registry(tmp_path: Path) -> None:
    registry = tmp_path / "registry.toml"
    registry.write_text(tomlfile.dump(large_registry(PARTNERSHIPS)), encoding="utf-8")
    old = registry.read_bytes()
    command = [sys.executable, "-m", "partnerctl", "--registry", str(registry), "add-event", TARGET,
               "--date", "2024-05", "--title", "Written while being killed"]

    # The new version: the same write once, on a copy.
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    shutil.copyfile(registry, copy_dir / "registry.toml")
    subprocess.run([*command[:4], str(copy_dir / "registry.toml"), *command[5:]], check=True,
                   capture_output=True)
    new = (copy_dir / "registry.toml").read_bytes()
    assert new != old
    assert tomllib.loads(old.decode())["partnerships"][TARGET]
    added = tomllib.loads(new.decode())["partnerships"][TARGET]["events"][-1]
    assert added["id"] == "2024-05-written-while-being-killed"
    # How long a whole run takes on this very file, as the runs below will find it (a read
    # index of it, if partnerctl keeps one, is then warm): one run to completion, then back.
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    duration = time.monotonic() - started
    assert registry.read_bytes() == new
    reset(registry, old)

    outcomes = {"old": 0, "new": 0}
    for k in range(KILLS):
        # A deterministic spread of moments from the start to the measured end.
        delay = duration * k / (KILLS - 1)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)  # a run that ends sooner is simply not killed
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        data = registry.read_bytes()
        assert data in (old, new), f"kill {k} after {delay:.3f}s left a registry that is neither version"
        if data == new:
            outcomes["new"] += 1
            reset(registry, old)  # start the next kill from the old version again
        else:
            outcomes["old"] += 1
    assert outcomes["old"] > 0  # a kill at once must leave the old version

    # After all those deaths the next run works, ends with the new version, and cleans up.
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert registry.read_bytes() == new
    assert temp_files(tmp_path) == []
    assert registry.with_name("registry.toml.bak").read_bytes() == old
    assert reader.problems(registry) == []
    print(f"{PARTNERSHIPS} partnerships, write {duration:.2f}s, {KILLS} kills: {outcomes}")


class Crash(BaseException):
    """Stands for the process dying: not an error the writer could catch and clean up after."""


class CrashingOS:
    """The ``os`` module as the writer (storage.files) sees it, dying at the *at*-th file-system call."""

    STEPS = {"open", "fdopen", "fsync", "chmod", "link", "replace", "unlink", "stat", "fstat"}

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        real = getattr(os, name)
        if name not in self.STEPS:
            return real

        def step(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if len(self.calls) == self.at:
                raise Crash(name)
            return real(*args, **kwargs)

        return step


@pytest.mark.parametrize("one", [False, True], ids=["update", "update_one"])
def test_a_crash_at_each_step_of_a_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one: bool) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # where a read index may live
    registry = tmp_path / "registry.toml"
    registry.write_text(tomlfile.dump(large_registry(20)), encoding="utf-8")
    old = registry.read_bytes()
    loc = store.Location(registry)

    def write() -> None:
        # The write of one partnership through its block (add-event, set, tag, ...), or of the whole file.
        store.write(loc, store.Change(lambda draft: edit.add_event(draft, "city-00007", date="2024",
                                                                   title="Step by step"), whole=not one))

    at = 0
    crashed_at: list[str] = []
    while True:
        at += 1
        fake = CrashingOS(at)
        monkeypatch.setattr(files, "os", fake)
        try:
            write()
        except Crash as crash:
            crashed_at.append(str(crash))
        else:
            break  # the write ran through: every step before it has been crashed once
        finally:
            monkeypatch.setattr(files, "os", os)
        data = registry.read_bytes()
        assert tomllib.loads(data.decode())  # never partial
        if data != old:
            # Died after the rename: the new version, complete.
            assert b'title = "Step by step"' in data
        # The next writer is not confused by what the dead one left, and clears it.
        reset(registry, old)
        write()
        assert temp_files(tmp_path) == []
        assert b'title = "Step by step"' in registry.read_bytes()
        reset(registry, old)
    # Every kind of step was hit, the rename included.
    assert {"fsync", "link", "replace"} <= set(crashed_at)
