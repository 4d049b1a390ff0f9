"""Where the registry is, loading it, and writing it safely.

A write holds an exclusive lock on ``<registry>.lock`` from reading to
replacing, re-reads the file as it is then (so concurrent writers never lose an
update), validates the whole new registry, writes a temporary file in the same
folder, fsyncs it and renames it over the old one. The previous version is kept
as ``<registry>.bak`` (a hard link to the old file, so it costs no copy) unless
the caller turns backups off. Temporary files left by a writer that was killed
are removed by the next writer, under the lock.
"""

from __future__ import annotations

import errno
import fcntl
import difflib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from partnerctl import tomlfile
from partnerctl.errors import InvalidInput, Problem, RegistryInvalid, WriteFailed

if TYPE_CHECKING:
    # The model is imported where a registry is validated: a read through the
    # index (partnerctl.view) locates and reads the file here without it.
    from partnerctl.model import Registry

T = TypeVar("T")
DEFAULT_LOCK_TIMEOUT = 5.0


def bundled_path() -> Path:
    """The Lyon registry shipped with the package (read-only)."""
    here = Path(__file__).resolve().parent
    installed = here / "registry.toml"
    # In a source checkout (editable install) the file is the repository's own.
    return installed if installed.exists() else here.parents[1] / "data" / "registry.toml"


@dataclass(frozen=True)
class Location:
    """A registry file, and whether it is the read-only bundled one."""

    path: Path
    bundled: bool = False


def locate(explicit: Path | None) -> Location:
    """``--registry`` / ``$PARTNERCTL_REGISTRY``, else ./data/registry.toml, else the bundled one."""
    if explicit is not None:
        return Location(explicit)
    local = Path("data/registry.toml")
    if local.exists():
        return Location(local)
    return Location(bundled_path(), bundled=True)


def read_text(path: Path) -> str:
    """The registry's text; an unreadable file is a RegistryInvalid (exit 3)."""
    return decode(read_file(path)[0], path)


def read_file(path: Path) -> tuple[bytes, os.stat_result]:
    """The registry's bytes and the stat of that same open file (the index's key needs both)."""
    try:
        with open(path, "rb") as f:
            return f.read(), os.fstat(f.fileno())
    except FileNotFoundError:
        raise RegistryInvalid(f"registry not found: {path} (name one with --registry PATH)") from None
    except OSError as exc:
        raise RegistryInvalid(f"cannot read registry {path}: {exc.strerror}") from None


def decode(data: bytes, path: Path) -> str:
    """The registry's bytes as text; not UTF-8 is a RegistryInvalid (exit 3)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryInvalid(f"{path}: not UTF-8 text (byte {exc.start})") from None


def check_text(text: str, name: str) -> tuple[Registry | None, list[Problem]]:
    """Parse and validate registry text: the registry, or None and every problem."""
    from partnerctl.model import validate_registry

    data, problems = tomlfile.parse(text, name)
    if data is None:
        return None, problems
    reg, problems = validate_registry(data)
    located = [Problem(f"{name}: {p.where}", p.message, tomlfile.line_of(text, p.where)) for p in problems]
    return reg, located


def check(path: Path) -> list[Problem]:
    """Every problem of the registry at *path* (empty when it is valid)."""
    return check_text(read_text(path), str(path))[1]


def _invalid(problems: list[Problem]) -> RegistryInvalid:
    from partnerctl.output import counted

    more = f" (and {counted(len(problems) - 1, 'more problem')}; run 'partnerctl validate')" if len(problems) > 1 else ""
    return RegistryInvalid(f"invalid registry: {problems[0]}{more}", problems)


def parse_valid(text: str, name: str) -> Registry:
    """The registry in *text*, or RegistryInvalid naming the first problem."""
    reg, problems = check_text(text, name)
    if reg is None:
        raise _invalid(problems)
    return reg


def load(path: Path) -> Registry:
    """Load and validate the registry at *path*."""
    return parse_valid(read_text(path), str(path))


@contextmanager
def _locked(path: Path, timeout: float) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WriteFailed(f"cannot lock {path}: {exc.strerror} ({lock_path})") from None
    try:
        if not flock_within(fd, timeout):
            raise WriteFailed(
                f"registry {path} is locked by another partnerctl; gave up after {timeout:g}s "
                "(try again, or raise --lock-timeout)"
            )
        yield
    finally:
        os.close(fd)


def flock_within(fd: int, timeout: float) -> bool:
    """Take an exclusive flock on *fd*, waiting up to *timeout* seconds; False if it could not be had."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            # flock is released by the kernel when its holder dies: a dead writer never blocks.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def _writable_target(loc: Location) -> Path:
    if loc.bundled:
        raise WriteFailed(
            f"the bundled Lyon registry ({loc.path}) is read-only; copy it (partnerctl init PATH --sample) "
            "and name the copy: partnerctl --registry PATH ..."
        )
    # Write through a symbolic link to its target instead of replacing the link.
    target = Path(os.path.realpath(loc.path))
    if not target.parent.is_dir():
        # Nothing there to read: the same exit 3 as a missing file (and as a read of that path).
        raise RegistryInvalid(f"registry not found: {loc.path} (folder {target.parent} does not exist)")
    # The mode bits too: root may write anything, but a file someone made read-only means "leave it".
    if target.exists() and (not os.access(target, os.W_OK) or not target.stat().st_mode & 0o222):
        raise WriteFailed(f"cannot write {loc.path}: the file is read-only")
    if not os.access(target.parent, os.W_OK):
        raise WriteFailed(f"cannot write {loc.path}: folder {target.parent} is read-only")
    return target


def backup_path(target: Path) -> Path:
    """Where the previous version of *target* is kept: ``<name>.bak`` beside it."""
    return target.with_name(target.name + ".bak")


def _temp_name(target: Path) -> Path:
    # Every temporary file of a registry matches ``.<name>.*.tmp``: see remove_stale_temps.
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")


def remove_stale_temps(target: Path) -> None:
    """Remove temporary files a killed writer left beside *target*; call it holding the lock."""
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        with _suppress_missing():
            stale.unlink()


def _keep_backup(target: Path) -> None:
    """Make ``<target>.bak`` the current *target*, atomically: a hard link, else a copy."""
    tmp = _temp_name(target)
    try:
        os.link(target, tmp)
    except FileNotFoundError:
        return  # a new file has no previous version
    except OSError:
        # A filesystem without hard links: copy (the bytes, then the mode).
        shutil.copyfile(target, tmp)
        shutil.copymode(target, tmp)
    os.replace(tmp, backup_path(target))
    # rename() between two links of one file does nothing (the .bak of a writer killed just
    # before its own rename is the registry's inode): then the temporary link is still there.
    with _suppress_missing():
        os.unlink(tmp)


def write_atomic(target: Path, text: str, *, backup: bool = False, exclusive: bool = False) -> None:
    """Replace *target* with *text*: temp file in the same folder, fsync, rename.

    With *backup*, the previous version becomes ``<target>.bak`` just before the
    rename. With *exclusive*, an existing *target* is never replaced (WriteFailed).
    """
    data = text.encode("utf-8")
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if exclusive:
            # link() refuses an existing name, where rename() would replace it.
            os.link(tmp, target)
            os.unlink(tmp)
        else:
            if backup:
                _keep_backup(target)
            os.replace(tmp, target)
    except OSError as exc:
        with _suppress_missing():
            os.unlink(tmp)
        if exclusive and isinstance(exc, FileExistsError):
            raise WriteFailed(f"{target} already exists; not overwriting it") from None
        raise WriteFailed(f"cannot write {target}: {exc.strerror}") from None
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def _suppress_missing() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


@dataclass
class Change:
    """What a write did: the old and new text, and whether it was written."""

    old_text: str
    new_text: str
    written: bool

    def diff(self, name: str) -> str:
        """A unified diff from the old to the new text (empty when nothing changes)."""
        return "".join(difflib.unified_diff(
            self.old_text.splitlines(keepends=True), self.new_text.splitlines(keepends=True),
            fromfile=name, tofile=f"{name} (new)"))


def update(
    loc: Location,
    change: Callable[[Registry], T],
    *,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    backup: bool = True,
) -> tuple[T, Change]:
    """Apply *change* to the registry under the lock and write the result.

    *change* mutates the registry it is given and returns what the command
    reports. The new registry is validated whole before anything is written;
    an invalid result raises InvalidInput and leaves the file untouched. With
    *backup* the previous version is kept as ``<registry>.bak``.
    """
    target = loc.path if dry_run else _writable_target(loc)
    with _locked(target, lock_timeout) if not dry_run else _no_lock():
        old_text = read_text(target)
        reg = parse_valid(old_text, str(loc.path))
        result = change(reg)
        new_text = tomlfile.dump(reg)
        # Validate what will be written, exactly as the next read will see it.
        new_reg, problems = check_text(new_text, "new registry")
        if new_reg is None:
            raise InvalidInput(str(problems[0]).removeprefix("new registry: "))
        if not dry_run and new_text != old_text:
            commit(target, new_text, backup=backup)
            _reindex(target, new_reg, new_text)
    return result, Change(old_text, new_text, written=not dry_run and new_text != old_text)


def _reindex(target: Path, reg: Registry, text: str) -> None:
    """Keep the index current after a full write, so the next read needs no rebuild."""
    from partnerctl import index

    if index.enabled():
        with _suppress_missing():
            index.save(target, reg, text.encode("utf-8"), os.stat(target))


def commit(target: Path, text: str, *, backup: bool) -> None:
    """The write step of every registry write; the caller holds the lock.

    Clears what a killed writer left, keeps the backup, replaces atomically.
    """
    remove_stale_temps(target)
    write_atomic(target, text, backup=backup)


def create(path: Path, text: str, *, dry_run: bool = False,
           lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> tuple[Registry, Change]:
    """Write a new registry at *path* (creating its folder), validated first.

    An existing file (or link) at *path* is never replaced: WriteFailed.
    """
    reg = parse_valid(text, str(path))
    if os.path.lexists(path):
        raise WriteFailed(f"{path} already exists; not overwriting it")
    if not dry_run:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteFailed(f"cannot create folder {path.parent}: {exc.strerror}") from None
        with _locked(path, lock_timeout):
            remove_stale_temps(path)
            write_atomic(path, text, exclusive=True)
    return reg, Change("", text, written=not dry_run)


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


def update_one(
    loc: Location,
    partner: str,
    change: Callable[[Registry, str], T],
    *,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    backup: bool = True,
) -> tuple[T, Change]:
    """Apply *change* to one partnership (named by id, city, alias or prefix).

    *change* gets the registry and the resolved id and may touch only that
    partnership: this is the contract that lets a large registry rewrite one
    block instead of the whole file. With a current index of a canonical file
    it does (see partnerctl.blocks): the other partnerships are loaded only if
    *change* looks at them, and a change that adds, removes or renames a
    partnership, or changes the head, is run again on the full registry.
    """
    from partnerctl import index, query

    if index.enabled():
        done = _update_block(loc, partner, change, dry_run=dry_run, lock_timeout=lock_timeout, backup=backup)
        if done is not None:
            return done
    return update(loc, lambda reg: change(reg, query.resolve(reg, partner)),
                  dry_run=dry_run, lock_timeout=lock_timeout, backup=backup)


def _update_block(
    loc: Location,
    partner: str,
    change: Callable[[Registry, str], T],
    *,
    dry_run: bool,
    lock_timeout: float,
    backup: bool,
) -> tuple[T, Change] | None:
    """``update_one`` rewriting one block, or None when that cannot be done (then the full path runs)."""
    from partnerctl import blocks, index, view
    from partnerctl.model import registry_data

    target = loc.path if dry_run else _writable_target(loc)
    with _locked(target, lock_timeout) if not dry_run else _no_lock():
        data, st = read_file(target)
        idx = index.open_current(target, data, st)
        if idx is None:
            return None
        try:
            if not idx.canonical:
                return None
            old_key = idx.key
            pid = view.of_index(idx).resolve(partner)
            span = idx.block(pid)
            head = decode(data[:idx.head_end], loc.path)
            one = parse_valid(head + "\n" + decode(data[span[0]:span[1]], loc.path), str(loc.path))
            reg = blocks.load_one(idx, one, pid)
            head_before = registry_data(reg)
            result = change(reg, pid)
            mapping = reg.partnerships
            if (not isinstance(mapping, blocks.LazyPartnerships) or not mapping.only_mine_changed()
                    or registry_data(reg) != head_before):
                return None
            block = tomlfile.dump_block(pid, mapping[pid]).encode("utf-8")
        finally:
            # The index's read transaction must end before the index is updated below.
            idx.close()
        new_data = blocks.splice(data, span, block)
        old_text, new_text = decode(data, loc.path), decode(new_data, loc.path)
        # Validate what will be written, exactly as the next read will see it: the head, the new
        # block, and (only to word an error as the full path does) the whole new text.
        new_one, problems = check_text(head + "\n" + block.decode("utf-8"), "new registry")
        if new_one is None:
            problems = check_text(new_text, "new registry")[1]
            raise InvalidInput(str(problems[0]).removeprefix("new registry: "))
        written = not dry_run and new_data != data
        if written:
            commit(target, new_text, backup=backup)
            index.update_block(target, old_key, index.key_of(new_data, os.stat(target)),
                               new_one, pid, span, span[0] + len(block))
    return result, Change(old_text, new_text, written=written)
