"""Where the registry is, loading it, and writing it safely.

A write holds an exclusive lock on ``<registry>.lock`` from reading to
replacing, re-reads the file as it is then (so concurrent writers never lose an
update), validates the whole new registry, writes a temporary file in the same
folder, fsyncs it and renames it over the old one.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from partnerctl import tomlfile
from partnerctl.errors import InvalidInput, Problem, RegistryInvalid, WriteFailed
from partnerctl.model import Registry, validate_registry

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
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RegistryInvalid(f"registry not found: {path} (name one with --registry PATH)") from None
    except UnicodeDecodeError as exc:
        raise RegistryInvalid(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise RegistryInvalid(f"cannot read registry {path}: {exc.strerror}") from None


def check_text(text: str, name: str) -> tuple[Registry | None, list[Problem]]:
    """Parse and validate registry text: the registry, or None and every problem."""
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
    more = f" (and {len(problems) - 1} more problems; run 'partnerctl validate')" if len(problems) > 1 else ""
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
        deadline = time.monotonic() + timeout
        while True:
            try:
                # flock is released by the kernel when its holder dies: a dead writer never blocks.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriteFailed(
                        f"registry {path} is locked by another partnerctl; gave up after {timeout:g}s "
                        "(try again, or raise --lock-timeout)"
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)


def _writable_target(loc: Location) -> Path:
    if loc.bundled:
        raise WriteFailed(
            f"the bundled Lyon registry ({loc.path}) is read-only; copy it and name the copy: "
            "partnerctl --registry PATH ..."
        )
    # Write through a symbolic link to its target instead of replacing the link.
    target = Path(os.path.realpath(loc.path))
    if not target.parent.is_dir():
        raise WriteFailed(f"cannot write {loc.path}: folder {target.parent} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise WriteFailed(f"cannot write {loc.path}: the file is read-only")
    if not os.access(target.parent, os.W_OK):
        raise WriteFailed(f"cannot write {loc.path}: folder {target.parent} is read-only")
    return target


def write_atomic(target: Path, text: str) -> None:
    """Replace *target* with *text*: temp file in the same folder, fsync, rename."""
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
        os.replace(tmp, target)
    except OSError as exc:
        with _suppress_missing():
            os.unlink(tmp)
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


def update(
    loc: Location,
    change: Callable[[Registry], T],
    *,
    dry_run: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> tuple[T, Change]:
    """Apply *change* to the registry under the lock and write the result.

    *change* mutates the registry it is given and returns what the command
    reports. The new registry is validated whole before anything is written;
    an invalid result raises InvalidInput and leaves the file untouched.
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
            write_atomic(target, new_text)
    return result, Change(old_text, new_text, written=not dry_run and new_text != old_text)


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
) -> tuple[T, Change]:
    """Apply *change* to one partnership (named by id, city, alias or prefix).

    *change* gets the registry and the resolved id and may touch only that
    partnership: this is the contract that lets a large registry rewrite one
    block instead of the whole file.
    """
    from partnerctl import query

    return update(loc, lambda reg: change(reg, query.resolve(reg, partner)),
                  dry_run=dry_run, lock_timeout=lock_timeout)
