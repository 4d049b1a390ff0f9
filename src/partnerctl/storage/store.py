"""Where the registry is, loading it, and writing it safely.

A write holds an exclusive lock on ``<registry>.lock`` from reading to
replacing, re-reads the file as it is then (so concurrent writers never lose an
update), validates the whole new registry, writes a temporary file in the same
folder, fsyncs it and renames it over the old one. The previous version is kept
as ``<registry>.bak`` (a hard link to the old file, so it costs no copy) unless
the caller turns backups off. Temporary files left by a writer that was killed
are removed by the next writer, under the lock.

The same writer (``write_atomic`` / ``replacing``) writes every output file of
partnerctl, exports included: a new temporary file ``.<name>.<16 hex>.tmp``
beside the target, held under an flock while it lives (so clearing leftovers
never takes a live writer's), fsynced and renamed; on any error it is removed,
the target is untouched, and the error is a WriteFailed naming the file.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import io
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TypeVar

from partnerctl.storage import toml as tomlfile
from partnerctl.core.errors import InvalidInput, Problem, RegistryInvalid, WriteFailed

if TYPE_CHECKING:
    # The model is imported where a registry is validated: a read through the
    # index (partnerctl.view) locates and reads the file here without it.
    from partnerctl.core.model import Registry

T = TypeVar("T")
DEFAULT_LOCK_TIMEOUT = 5.0

# A progress callback: (stage, done, total or None when unknown). Long writes (import) call
# it from each stage, so a progress bar on a terminal moves and says what is going on.
Progress = Callable[[str, int, int | None], None]


def no_progress(stage: str, done: int, total: int | None) -> None:
    """The progress callback that shows nothing."""


def bundled_path() -> Path:
    """The Lyon registry shipped with the package (read-only)."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "registry.toml"
    # In a source checkout (editable install) the file is the repository's own.
    return installed if installed.exists() else package.parents[1] / "data" / "registry.toml"


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


def check_text(text: str, name: str,
               tick: Callable[[int, int], None] | None = None) -> tuple[Registry | None, list[Problem]]:
    """Parse and validate registry text: the registry, or None and every problem.

    *tick* gets (partnerships validated, total) as validation goes (``model.parse_registry``).
    """
    from partnerctl.core.model import validate_registry

    data, problems = tomlfile.parse(text, name)
    if data is None:
        return None, problems
    reg, problems = validate_registry(data, tick)
    located = [Problem(f"{name}: {p.where}", p.message, tomlfile.line_of(text, p.where)) for p in problems]
    return reg, located


def check(path: Path) -> list[Problem]:
    """Every problem of the registry at *path* (empty when it is valid)."""
    return check_text(read_text(path), str(path))[1]


def _invalid(problems: list[Problem]) -> RegistryInvalid:
    from partnerctl.formats.output import counted

    more = f" (and {counted(len(problems) - 1, 'more problem')}; run 'partnerctl validate')" if len(problems) > 1 else ""
    return RegistryInvalid(f"invalid registry: {problems[0]}{more}", problems)


def parse_valid(text: str, name: str, tick: Callable[[int, int], None] | None = None) -> Registry:
    """The registry in *text*, or RegistryInvalid naming the first problem (*tick*: see ``check_text``)."""
    reg, problems = check_text(text, name, tick)
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
    refuse_read_only(target, loc.path)
    return target


def refuse_read_only(target: Path, shown: Path | None = None) -> None:
    """WriteFailed when the file *target* or its folder is read-only, by permission or by mode bits.

    Root may write anything: the mode bits say what someone meant ("leave it"). A
    symbolic link at *target* is not looked through (a writer replaces the link itself).
    """
    shown = shown or target
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WriteFailed(f"cannot write {shown}: {exc.strerror}") from None
    if st is not None and stat.S_ISREG(st.st_mode) and (
            not os.access(target, os.W_OK) or not st.st_mode & 0o222):
        raise WriteFailed(f"cannot write {shown}: the file is read-only")
    folder = target.parent
    try:
        folder_mode = folder.stat().st_mode
    except OSError as exc:
        raise WriteFailed(f"cannot write {shown}: {exc.strerror} ({folder})") from None
    if not os.access(folder, os.W_OK) or not folder_mode & 0o222:
        raise WriteFailed(f"cannot write {shown}: folder {folder} is read-only")


def backup_path(target: Path) -> Path:
    """Where the previous version of *target* is kept: ``<name>.bak`` beside it."""
    return target.with_name(target.name + ".bak")


# Temporary files and folders beside a target are exactly ``.<name>.<16 hex digits>.tmp``, so the
# leftovers of one target are never confused with those of another (``ab.toml`` and ``ab.toml.v2.toml``).
_TEMP_HEX = 16


def temp_path(target: Path) -> Path:
    """A fresh name for a temporary file or folder beside *target*: ``.<name>.<16 hex>.tmp``."""
    return target.with_name(f".{target.name}.{secrets.token_hex(_TEMP_HEX // 2)}.tmp")


def is_temp_name(target: Path, name: str) -> bool:
    """Whether *name* (a name in *target*'s folder) is one of *target*'s temporary names."""
    pattern = rf"\.{re.escape(target.name)}\.[0-9a-f]{{{_TEMP_HEX}}}\.tmp"
    return re.fullmatch(pattern, name) is not None


def remove_stale_temps(target: Path) -> None:
    """Remove the temporary files and folders that dead writers of *target* left beside it.

    A live writer holds an flock on its temporary file (or folder) until it has
    renamed it, so only those of a dead one can be locked here, and are removed.
    """
    try:
        names = [name for name in os.listdir(target.parent) if is_temp_name(target, name)]
    except OSError:
        return  # a folder that cannot be listed has nothing of ours to clear
    for name in names:
        stale = target.parent / name
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                # A symbolic link under our name: no writer made it; remove the link, never what it names.
                with contextlib.suppress(OSError):
                    os.unlink(stale)
            continue  # gone already, or another user's that we may not open: left alone
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a writer at work
            remove_tree(stale)
        finally:
            os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove *path*: a file or link is unlinked, a folder removed with all it holds.

    Symbolic links inside are removed, never followed (``shutil.rmtree`` works on
    file descriptors and does not follow them), so nothing outside *path* is touched.
    """
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


def create_temp(target: Path, *, folder: bool = False) -> tuple[Path, int]:
    """Create a temporary file (or folder) beside *target*, open and flocked: (its path, its descriptor).

    Created new (``O_EXCL``), private (mode 0600 / 0700) and locked, so that
    ``remove_stale_temps`` leaves it alone while this process lives.
    """
    while True:
        tmp = temp_path(target)
        try:
            if folder:
                os.mkdir(tmp, 0o700)
                fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            else:
                fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.path.samestat(os.lstat(tmp), os.fstat(fd))
            except FileNotFoundError:
                same = False  # cleared by another writer before we held the lock: take a new name
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                remove_tree(tmp)
            raise
        if same:
            return tmp, fd
        os.close(fd)


def _keep_backup(target: Path) -> None:
    """Make ``<target>.bak`` the current *target*, atomically: a hard link, else a copy."""
    tmp = temp_path(target)
    try:
        os.link(target, tmp)
    except FileNotFoundError:
        return  # a new file has no previous version
    except OSError:
        # A filesystem without hard links: copy (the bytes, then the mode).
        try:
            shutil.copyfile(target, tmp)
            shutil.copymode(target, tmp)
        except BaseException:
            with _suppress_missing():
                os.unlink(tmp)
            raise
    try:
        os.replace(tmp, backup_path(target))
    finally:
        # rename() between two links of one file does nothing (the .bak of a writer killed just
        # before its own rename is the registry's inode): then the temporary link is still there.
        with _suppress_missing():
            os.unlink(tmp)


def is_stream(target: Path) -> bool:
    """Whether *target* is a device or named pipe (``/dev/stdout``, ``<(...)``): written to, never replaced."""
    where = target.absolute()
    # /dev/stdout names whatever stdout is (a file, when redirected): never replace such a name.
    if where.parent in (Path("/dev"), Path("/dev/fd")) or where.is_relative_to("/proc"):
        return True
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISBLK(mode)


def _folder_refused(target: Path) -> None:
    if stat.S_ISDIR(mode_of(target, follow=False)):
        raise InvalidInput(f"{target} is a folder; name a file to write")


def mode_of(path: Path, *, follow: bool = True) -> int:
    """The mode of *path* (of a link itself unless *follow*); 0 when it cannot be had."""
    try:
        return os.stat(path, follow_symlinks=follow).st_mode
    except OSError:
        return 0


def _new_file_mode(target: Path) -> int:
    """The mode the new file gets: the old file's (not a link's), else the usual one for a new file."""
    mode = mode_of(target, follow=False)
    if stat.S_ISREG(mode):
        return stat.S_IMODE(mode)
    return 0o666 & ~umask()


def umask() -> int:
    """The process's umask (reading it means setting it: set it back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def replacing(target: Path, *, backup: bool = False, exclusive: bool = False,
              shown: Path | None = None) -> Iterator[tuple[Path, int]]:
    """A temporary file beside *target* that replaces it when the block ends without an error.

    Yields the temporary file's path and an open descriptor of it; write through
    either. Then: fsync, rename over *target* (a symbolic link there is replaced,
    not followed), fsync the folder. On any error the temporary file is removed
    and *target* is untouched; an OSError becomes WriteFailed naming *shown*
    (default *target*) and the reason. With *backup*, the previous version becomes
    ``<target>.bak`` just before the rename; with *exclusive*, an existing
    *target* is never replaced (WriteFailed).
    """
    shown = shown or target
    _folder_refused(target)
    refuse_read_only(target, shown)
    mode = _new_file_mode(target)
    try:
        remove_stale_temps(target)
        tmp, fd = create_temp(target)
    except OSError as exc:
        raise WriteFailed(f"cannot write {shown}: {exc.strerror}") from None
    try:
        yield tmp, fd
        os.fsync(fd)
        os.fchmod(fd, mode)
        if exclusive:
            # link() refuses an existing name, where rename() would replace it.
            os.link(tmp, target)
            os.unlink(tmp)
        else:
            if backup:
                _keep_backup(target)
            os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        os.close(fd)
        if exclusive and isinstance(exc, FileExistsError):
            raise WriteFailed(f"{shown} already exists; not overwriting it") from None
        if isinstance(exc, OSError):
            raise WriteFailed(f"cannot write {shown}: {exc.strerror or exc}") from None
        raise
    os.close(fd)  # only now: the lock kept the temporary file from other writers' clearing
    fsync_folder(target.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in *folder* durable. Best effort: the rename has happened, the write has landed."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


Content = bytes | str | Callable[[IO[Any]], None]


def open_output(fd: int) -> BinaryIO:
    """The binary stream every output file is written through (tests put a full disk here)."""
    return open(fd, "wb", closefd=False)


def write_content(out: BinaryIO, content: Content, *, text: bool = False) -> None:
    """Write *content* into *out* and flush: bytes, str (as UTF-8), or a callback given the stream.

    With *text* the callback gets a text stream (UTF-8, newlines written as given).
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if isinstance(content, bytes):
        out.write(content)
    elif text:
        wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="")
        content(wrapper)
        wrapper.flush()
        wrapper.detach()
    else:
        content(out)
    out.flush()


def write_atomic(target: Path, content: Content, *, text: bool = False, backup: bool = False,
                 exclusive: bool = False, shown: Path | None = None) -> None:
    """Replace *target* with *content*, all or nothing (see ``replacing``): the one writer of output files.

    *content* is bytes, str (written as UTF-8) or a callback that writes to the
    stream it is given (a text stream with *text*). A device or named pipe
    (``-o /dev/stdout``) cannot be replaced: it is written to directly.
    """
    shown = shown or target
    if is_stream(target):
        try:
            with open(target, "wb") as out:
                write_content(out, content, text=text)
        except OSError as exc:
            raise WriteFailed(f"cannot write {shown}: {exc.strerror or exc}") from None
        return
    with replacing(target, backup=backup, exclusive=exclusive, shown=shown) as (_, fd):
        with open_output(fd) as out:
            write_content(out, content, text=text)


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
    progress: Progress = no_progress,
) -> tuple[T, Change]:
    """Apply *change* to the registry under the lock and write the result.

    *change* mutates the registry it is given and returns what the command
    reports. The new registry is validated whole before anything is written;
    an invalid result raises InvalidInput and leaves the file untouched. With
    *backup* the previous version is kept as ``<registry>.bak``. *progress*
    hears of each stage: reading, checking the new registry (partnerships
    validated so far), writing, updating the index.
    """
    def stage(name: str) -> Callable[[int, int], None]:
        progress(name, 0, None)
        return lambda done, total: progress(name, done, total)

    target = loc.path if dry_run else _writable_target(loc)
    with _locked(target, lock_timeout) if not dry_run else _no_lock():
        old_text = read_text(target)
        reg = parse_valid(old_text, str(loc.path), stage("reading the registry"))
        result = change(reg)
        checking = stage("checking the new registry")
        new_text = tomlfile.dump(reg)
        # Validate what will be written, exactly as the next read will see it.
        new_reg, problems = check_text(new_text, "new registry", checking)
        if new_reg is None:
            raise InvalidInput(str(problems[0]).removeprefix("new registry: "))
        if not dry_run and new_text != old_text:
            stage("writing the registry")
            commit(target, new_text, backup=backup)
            _reindex(target, new_reg, new_text, progress)
    return result, Change(old_text, new_text, written=not dry_run and new_text != old_text)


def _reindex(target: Path, reg: Registry, text: str, progress: Progress = no_progress) -> None:
    """Keep the index current after a full write, so the next read needs no rebuild."""
    from partnerctl.storage import index

    if index.enabled():
        progress("updating the index", 0, None)
        with _suppress_missing():
            index.save(target, reg, text.encode("utf-8"), os.stat(target))


def commit(target: Path, text: str, *, backup: bool) -> None:
    """The write step of every registry write; the caller holds the lock.

    Clears what a killed writer left, keeps the backup, replaces atomically.
    """
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
    from partnerctl.storage import index
    from partnerctl.core import query

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
    """``update_one`` rewriting one block, or None when that cannot be done (then the full path runs).

    The index only says where the block should be: the bytes replaced are
    those ``blocks.verified_span`` checked. A damaged index is discarded and
    the full path runs (which rebuilds it).
    """
    from partnerctl.storage import blocks
    from partnerctl.storage import index
    from partnerctl.storage import view
    from partnerctl.core.model import registry_data

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
            try:
                pid = view.of_index(idx).resolve(partner)
                span = blocks.verified_span(data, idx.head_end, pid, idx.block(pid))
                head = data[:idx.head_end].decode("utf-8")
                one = check_text(head + "\n" + data[span[0]:span[1]].decode("utf-8"), str(loc.path))[0]
                if one is None or list(one.partnerships) != [pid]:
                    raise index.Damaged(f"the head and the block of {pid!r} do not make a registry")
                reg = blocks.load_one(idx, one, pid)
                head_before = registry_data(reg)
            except index.FAULTS:
                index.discard(target)
                return None
            try:
                result = change(reg, pid)
            except index.Damaged:  # the other partnerships, loaded from the index for the change
                index.discard(target)
                return None
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
            index.update_block(target, old_key, index.key_of(new_data, os.stat(target)), new_one, pid, span, block)
    return result, Change(old_text, new_text, written=written)
