"""Safe writes: the .bak backup, the lock (timeout, dead holders), leftovers of killed writers,
symbolic links, read-only files and missing folders."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from partnerctl.storage import reader, store


def bak(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


# --- backups ---------------------------------------------------------------------------------

def test_every_write_keeps_the_previous_version(invoke: Any, registry_path: Path) -> None:
    v0 = registry_path.read_bytes()
    assert invoke(registry_path, "set", "turin", "kind", "twinning").exit_code == 0
    v1 = registry_path.read_bytes()
    assert v1 != v0
    assert bak(registry_path).read_bytes() == v0
    assert invoke(registry_path, "tag", "turin", "sport").exit_code == 0
    assert bak(registry_path).read_bytes() == v1
    assert reader.problems(bak(registry_path)) == []


def test_backup_keeps_the_file_mode(invoke: Any, registry_path: Path) -> None:
    registry_path.chmod(0o640)
    assert invoke(registry_path, "set", "turin", "kind", "twinning").exit_code == 0
    assert registry_path.stat().st_mode & 0o777 == 0o640
    assert bak(registry_path).stat().st_mode & 0o777 == 0o640


def test_no_backup_option(invoke: Any, registry_path: Path) -> None:
    assert invoke(registry_path, "--no-backup", "set", "turin", "kind", "twinning").exit_code == 0
    assert not bak(registry_path).exists()


def test_no_backup_environment_variable(invoke: Any, registry_path: Path) -> None:
    result = invoke(registry_path, "set", "turin", "kind", "twinning", env={"PARTNERCTL_NO_BACKUP": "1"})
    assert result.exit_code == 0, result.stderr
    assert b'kind = "twinning"' in registry_path.read_bytes()
    assert not bak(registry_path).exists()


def test_dry_run_and_failed_writes_make_no_backup(invoke: Any, registry_path: Path) -> None:
    assert invoke(registry_path, "set", "turin", "kind", "twinning", "--dry-run").exit_code == 0
    assert invoke(registry_path, "set", "turin", "since", "nineteen").exit_code == 2
    assert not bak(registry_path).exists()


# --- the lock --------------------------------------------------------------------------------

def test_a_held_lock_makes_a_writer_give_up_with_exit_4(invoke: Any, registry_path: Path) -> None:
    before = registry_path.read_bytes()
    fd = os.open(f"{registry_path}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = invoke(registry_path, "--lock-timeout", "0", "set", "turin", "kind", "twinning")
    finally:
        os.close(fd)
    assert result.exit_code == 4
    assert result.stderr == (f"partnerctl: error: registry {registry_path} is locked by another partnerctl; "
                             "gave up after 0s (try again, or raise --lock-timeout)\n")
    assert registry_path.read_bytes() == before
    # Released: the same write now goes through.
    assert invoke(registry_path, "--lock-timeout", "0", "set", "turin", "kind", "twinning").exit_code == 0


def test_lock_timeout_from_the_environment(invoke: Any, registry_path: Path) -> None:
    fd = os.open(f"{registry_path}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = invoke(registry_path, "tag", "turin", "sport", env={"PARTNERCTL_LOCK_TIMEOUT": "0"})
    finally:
        os.close(fd)
    assert result.exit_code == 4
    assert "gave up after 0s" in result.stderr


def test_a_lock_file_without_a_holder_blocks_nobody(invoke: Any, registry_path: Path) -> None:
    Path(f"{registry_path}.lock").write_text("left over\n")
    result = invoke(registry_path, "--lock-timeout", "0", "set", "turin", "kind", "twinning")
    assert result.exit_code == 0, result.stderr


def test_a_lock_held_by_a_killed_process_blocks_nobody(invoke: Any, registry_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(registry_path) + '.lock'!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        held = invoke(registry_path, "--lock-timeout", "0", "set", "turin", "kind", "twinning")
        assert held.exit_code == 4
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    finally:
        holder.kill()
        holder.wait()
    result = invoke(registry_path, "--lock-timeout", "0", "set", "turin", "kind", "twinning")
    assert result.exit_code == 0, result.stderr


def test_temp_files_of_a_killed_writer_are_cleared_by_the_next_one(invoke: Any, registry_path: Path) -> None:
    # A writer's temporary files are named exactly .<name>.<16 hex digits>.tmp.
    leftovers = [registry_path.with_name(".registry.toml.0123456789abcdef.tmp"),
                 registry_path.with_name(".registry.toml.fedcba9876543210.tmp")]
    for p in leftovers:
        p.write_text("[partial")
    # Not this registry's: another file's, or not one of partnerctl's names at all.
    unrelated = [registry_path.with_name(name) for name in (
        ".other.toml.abc.tmp", ".registry.toml.v2.toml.0123456789abcdef.tmp", ".registry.toml.abc123.tmp",
        ".registry.toml.0123456789ABCDEF.tmp", ".registry.toml.0123456789abcdef.tmp.x")]
    for p in unrelated:
        p.write_text("not ours")
    result = invoke(registry_path, "set", "turin", "kind", "twinning")
    assert result.exit_code == 0, result.stderr
    assert not any(p.exists() for p in leftovers)
    assert [p.read_text() for p in unrelated] == ["not ours"] * len(unrelated)
    assert reader.problems(registry_path) == []


def test_negative_lock_timeout_is_a_usage_error(invoke: Any, registry_path: Path) -> None:
    result = invoke(registry_path, "--lock-timeout", "-1", "set", "turin", "kind", "x")
    assert result.exit_code == 2


# --- where the file is -----------------------------------------------------------------------

def test_write_through_a_symlink_keeps_the_link_and_backs_up_beside_the_target(
        invoke: Any, registry_path: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere" / "link.toml"
    link.parent.mkdir()
    link.symlink_to(registry_path)
    before = registry_path.read_bytes()
    result = invoke(link, "set", "turin", "kind", "twinning")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(registry_path)
    assert tomllib.loads(registry_path.read_text())["partnerships"]["turin"]["kind"] == "twinning"
    assert bak(registry_path).read_bytes() == before
    assert sorted(p.name for p in link.parent.iterdir()) == ["link.toml"]


def test_read_only_registry_is_refused_even_for_root(invoke: Any, registry_path: Path) -> None:
    registry_path.chmod(0o444)
    before = registry_path.read_bytes()
    result = invoke(registry_path, "tag", "turin", "sport")
    assert result.exit_code == 4
    assert result.stderr == f"partnerctl: error: cannot write {registry_path}: the file is read-only\n"
    assert registry_path.read_bytes() == before
    assert not bak(registry_path).exists()


def test_read_only_folder_is_refused_even_for_root(invoke: Any, registry_path: Path) -> None:
    # Root may write into a folder whatever its mode: the mode bits say "leave it", and are obeyed.
    folder = registry_path.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    folder.chmod(0o555)
    try:
        result = invoke(registry_path, "tag", "turin", "sport")
        add = invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "X")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == add.exit_code == 4
    assert result.stderr == f"partnerctl: error: cannot write {registry_path}: folder {folder} is read-only\n"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_registry_in_a_missing_folder_is_not_found(invoke: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "registry.toml"
    result = invoke(missing, "tag", "turin", "sport")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"partnerctl: error: registry not found: {missing}")
    assert not (tmp_path / "nowhere").exists()


# --- concurrent writers of different kinds ---------------------------------------------------
# (30 concurrent add-event processes: tests/test_process.py.)

def test_concurrent_writes_of_every_kind_all_land(registry_path: Path) -> None:
    commands = [
        ["tag", "milan", "sport"], ["set", "turin", "kind", "twinning"], ["unset", "geneva", "region"],
        ["add-to", "leipzig", "projects", "URBACT"], ["add-contact", "rabat", "--name", "Amal Idrissi"],
        ["themes", "add", "night-life", "Night life"], ["networks", "add", "cities4europe", "Cities for Europe"],
        ["add", "Zagreb", "--country", "Croatia"], ["rename", "yerevan", "erevan"],
        ["remove-event", "turin", "2012-one-off-events-sncf"], ["add-event", "bamako", "--date", "2020",
                                                              "--title", "Concurrent"],
        ["edit-event", "turin", "2009-cross-communication-campaigns", "--title", "Campaigns"],
    ]
    procs = [subprocess.Popen([sys.executable, "-m", "partnerctl", "--registry", str(registry_path),
                               "--lock-timeout", "120", *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for args in commands]
    errors = [(args, p.communicate(timeout=300)[1]) for args, p in zip(commands, procs, strict=True)]
    assert [p.returncode for p in procs] == [0] * len(commands), errors

    assert reader.problems(registry_path) == []
    reg = store.load(registry_path)
    ps = reg.partnerships
    assert "sport" in ps["milan"].themes
    assert ps["turin"].kind == "twinning"
    assert ps["geneva"].region is None
    assert "URBACT" in ps["leipzig"].projects
    assert [c.name for c in ps["rabat"].contacts][-1] == "Amal Idrissi"
    assert reg.themes["night-life"] == "Night life" and reg.networks["cities4europe"] == "Cities for Europe"
    assert ps["zagreb"].country == "HR"
    assert "erevan" in ps and "yerevan" not in ps
    turin_events = {e.id: e for e in ps["turin"].events}
    assert "2012-one-off-events-sncf" not in turin_events
    assert turin_events["2009-cross-communication-campaigns"].title == "Campaigns"
    assert "2020-concurrent" in {e.id for e in ps["bamako"].events}


def test_concurrent_writers_of_two_registries_with_alike_names_all_land(tmp_path: Path) -> None:
    # ab.toml's writers clear ab.toml's leftover temporary files; ab.toml.v2.toml's in-flight
    # ones (.ab.toml.v2.toml.<hex>.tmp) are not theirs, however alike the names.
    from conftest import large_registry
    from partnerctl.storage import toml as tomlfile

    ab, v2 = tmp_path / "ab.toml", tmp_path / "ab.toml.v2.toml"
    ab.write_text(tomlfile.dump(large_registry(5)), encoding="utf-8")
    v2.write_text(tomlfile.dump(large_registry(1000)), encoding="utf-8")  # a long write: a wide window
    n = 12
    env = {**os.environ, "PARTNERCTL_NO_INDEX": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "partnerctl", "--registry", str(path), "--lock-timeout", "120",
                               "add-event", "city-00001", "--date", "2020", "--title", f"Write {i}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(n) for path in (v2, ab)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), [e for e in errors if e]
    for path in (ab, v2):
        titles = {e.title for e in store.load(path).partnerships["city-00001"].events}
        assert {f"Write {i}" for i in range(n)} <= titles
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_writer_never_removes_the_temporary_file_of_another_registry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Deterministic: a real ab.toml writer runs to its end while ab.toml.v2.toml's write is in flight.
    from conftest import large_registry
    from partnerctl.core import edit
    from partnerctl.storage import toml as tomlfile

    ab, v2 = tmp_path / "ab.toml", tmp_path / "ab.toml.v2.toml"
    for path in (ab, v2):
        path.write_text(tomlfile.dump(large_registry(3)), encoding="utf-8")
    other: list[subprocess.CompletedProcess[str]] = []
    real_fsync = os.fsync

    def fsync_after_the_other_writer(fd: int) -> None:
        if not other:
            assert [p.name for p in tmp_path.glob(".ab.toml.v2.toml.*.tmp")]  # v2's write is in flight
            other.append(subprocess.run(
                [sys.executable, "-m", "partnerctl", "--registry", str(ab), "add-event", "city-00001",
                 "--date", "2020", "--title", "Meanwhile"], capture_output=True, text=True, timeout=60))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_after_the_other_writer)
    store.write(store.Location(v2), store.Change(
        lambda draft: edit.add_event(draft, "city-00001", date="2020", title="In flight"), whole=True))
    monkeypatch.undo()
    assert other[0].returncode == 0, other[0].stderr
    assert "In flight" in {e.title for e in store.load(v2).partnerships["city-00001"].events}
    assert "Meanwhile" in {e.title for e in store.load(ab).partnerships["city-00001"].events}
