"""Files: the one lock, the one atomic writer, temporary names, the undo journal, reading an input file or stdin.

Every output file of partnerctl (the registry, exports, the site's pages, the
index) is written by ``write_atomic`` / ``replacing``: a new temporary file
``.<name>.<16 hex>.tmp`` beside the target, held under an flock while it lives
(so clearing leftovers never takes a live writer's), fsynced and renamed; on
any error it is removed, the target is untouched, and the error is a
WriteFailed naming the file. ``locked`` is the one lock: an exclusive flock
on ``<name>.lock``, waited for in the kernel up to a deadline.

The journal. Before each write through partnerctl the pipeline hands the previous
bytes to ``journal_push``; ``undo`` puts the newest entry back. Entries live
beside the registry, in ``<registry folder>/.partnerctl/journal/<registry file
name>/``, one file per write, ``<n>-<UTC time>-<hash>.toml``: *n* counts up per
registry (the order, whatever the clock does), *hash* is the start of the
SHA-256 of the bytes that write produced. The newest ``JOURNAL_KEEP`` (10) are
kept. Why beside the registry rather than in the user's cache (where the index
lives): the index can be rebuilt from the file, the journal cannot, so it must
not sit where caches are wiped; it follows the registry when its folder is
moved, copied or shared, and everyone who may write the registry may undo
(folders and entries get the registry file's permissions). A git repository
should ignore ``.partnerctl/`` (``partnerctl git-setup`` writes that line).

Undo restores the newest entry only if the registry is still the version that
write produced: after an edit by hand, a ``git checkout`` or a write that kept
no journal, putting the old version back would silently drop that change, so
``undo`` refuses (``ChangedSinceWrite``) unless forced. An undo is not itself
journalled: a second undo goes one more write back.

A leaf of the storage layer: it imports nothing of partnerctl but the errors and the message lookup.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import io
import os
import re
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO

from partnerctl.core.errors import ChangedSinceWrite, InvalidInput, NothingToUndo, WriteFailed
from partnerctl.core.i18n import _


class _Deadline(Exception):
    """Raised by the alarm that ends a wait for a lock."""


def flock_within(fd: int, timeout: float) -> bool:
    """Take an exclusive flock on *fd*, waiting in the kernel up to *timeout* seconds; False if not had.

    The kernel queues the waiters and wakes one when the holder lets go (or dies:
    flock is released with its holder, so a dead writer never blocks). An alarm
    ends the wait at the deadline; off the main thread, where no alarm can be
    set, the wait polls instead.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        if timeout <= 0:
            return False
    if threading.current_thread() is not threading.main_thread():
        return _poll_flock(fd, timeout)

    def expire(signum: int, frame: Any) -> None:
        raise _Deadline

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return True
        except _Deadline:
            return False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def _poll_flock(fd: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def lock_path(path: Path) -> Path:
    """The lock file of *path*: ``<name>.lock`` beside it."""
    return path.with_name(path.name + ".lock")


@contextmanager
def locked(path: Path, timeout: float, what: str = "registry") -> Iterator[None]:
    """Hold the exclusive lock of *path* (``<name>.lock``) for the block; WriteFailed after *timeout* seconds."""
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WriteFailed(_("cannot lock {path}: {strerror} ({lock})").format(
            path=path, strerror=exc.strerror, lock=lock)) from None
    try:
        if not flock_within(fd, timeout):
            raise WriteFailed(
                _("{what} {path} is locked by another partnerctl; gave up after {timeout:g}s (try "
                  "again, or raise --lock-timeout)").format(what=what, path=path, timeout=timeout))
        yield
    finally:
        os.close(fd)


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
        raise WriteFailed(_("cannot write {shown}: {strerror}").format(shown=shown, strerror=exc.strerror)) from None
    if st is not None and stat.S_ISREG(st.st_mode) and (
            not os.access(target, os.W_OK) or not st.st_mode & 0o222):
        raise WriteFailed(_("cannot write {shown}: the file is read-only").format(shown=shown))
    folder = target.parent
    try:
        folder_mode = folder.stat().st_mode
    except OSError as exc:
        raise WriteFailed(_("cannot write {shown}: {strerror} ({folder})").format(
            shown=shown, strerror=exc.strerror, folder=folder)) from None
    if not os.access(folder, os.W_OK) or not folder_mode & 0o222:
        raise WriteFailed(_("cannot write {shown}: folder {folder} is read-only").format(shown=shown, folder=folder))


def backup_path(target: Path) -> Path:
    """Where the previous version of *target* is kept: ``<name>.bak`` beside it."""
    return target.with_name(target.name + ".bak")


# Temporary files and folders beside a target are exactly ``.<name>.<16 hex digits>.tmp``, so the
# leftovers of one target are never confused with those of another (``ab.toml`` and ``ab.toml.v2.toml``).
_TEMP_HEX = 16


def temp_path(target: Path) -> Path:
    """A fresh name for a temporary file or folder beside *target*: ``.<name>.<16 hex>.tmp``."""
    return target.with_name(f".{target.name}.{os.urandom(_TEMP_HEX // 2).hex()}.tmp")


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
        raise InvalidInput(_("{target} is a folder; name a file to write").format(target=target))


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
              shown: Path | None = None, before_rename: Callable[[], None] | None = None) -> Iterator[tuple[Path, int]]:
    """A temporary file beside *target* that replaces it when the block ends without an error.

    Yields the temporary file's path and an open descriptor of it; write through
    either. Then: fsync, rename over *target* (a symbolic link there is replaced,
    not followed), fsync the folder. On any error the temporary file is removed
    and *target* is untouched; an OSError becomes WriteFailed naming *shown*
    (default *target*) and the reason. With *backup*, the previous version becomes
    ``<target>.bak`` just before the rename; with *exclusive*, an existing
    *target* is never replaced (WriteFailed). *before_rename* runs once the new
    bytes are on disk, just before they replace *target* (the registry's journal
    entry); what it raises fails the write as any error does.
    """
    shown = shown or target
    _folder_refused(target)
    refuse_read_only(target, shown)
    mode = _new_file_mode(target)
    try:
        remove_stale_temps(target)
        tmp, fd = create_temp(target)
    except OSError as exc:
        raise WriteFailed(_("cannot write {shown}: {strerror}").format(shown=shown, strerror=exc.strerror)) from None
    try:
        yield tmp, fd
        os.fsync(fd)
        if before_rename is not None:
            before_rename()
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
            raise WriteFailed(_("{shown} already exists; not overwriting it").format(shown=shown)) from None
        if isinstance(exc, OSError):
            raise WriteFailed(_("cannot write {shown}: {value}").format(
                shown=shown, value=exc.strerror or exc)) from None
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


# A file's bytes in pieces, written one after another (a registry spliced from spans of its old bytes
# and new blocks: joined, they would cost one more copy of a 30 MB file in memory).
Pieces = list[bytes | memoryview]
Content = bytes | str | Pieces | Callable[[IO[Any]], None]


def open_output(fd: int) -> BinaryIO:
    """The binary stream every output file is written through (tests put a full disk here)."""
    return open(fd, "wb", closefd=False)


def write_content(out: BinaryIO, content: Content, *, text: bool = False) -> None:
    """Write *content* into *out* and flush: bytes, str (as UTF-8), pieces of bytes, or a callback given the stream.

    With *text* the callback gets a text stream (UTF-8, newlines written as given).
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if isinstance(content, bytes):
        out.write(content)
    elif isinstance(content, list):
        for piece in content:
            out.write(piece)
    elif text:
        wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="")
        content(wrapper)
        wrapper.flush()
        wrapper.detach()
    else:
        content(out)
    out.flush()


def write_atomic(target: Path, content: Content, *, text: bool = False, backup: bool = False,
                 exclusive: bool = False, shown: Path | None = None,
                 before_rename: Callable[[], None] | None = None) -> None:
    """Replace *target* with *content*, all or nothing (see ``replacing``): the one writer of output files.

    *content* is bytes, str (written as UTF-8), a list of bytes-like pieces written
    one after another, or a callback that writes to the stream it is given (a text
    stream with *text*). A device or named pipe
    (``-o /dev/stdout``) cannot be replaced: it is written to directly.
    *before_rename*: see ``replacing`` (for a stream, before it is written).
    """
    shown = shown or target
    if is_stream(target):
        if before_rename is not None:
            before_rename()
        try:
            with open(target, "wb") as out:
                write_content(out, content, text=text)
        except OSError as exc:
            raise WriteFailed(_("cannot write {shown}: {value}").format(
                shown=shown, value=exc.strerror or exc)) from None
        return
    with replacing(target, backup=backup, exclusive=exclusive, shown=shown, before_rename=before_rename) as (_tmp, fd):
        with open_output(fd) as out:
            write_content(out, content, text=text)


@contextmanager
def _suppress_missing() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


def _os_name(name: str) -> str | bytes:
    """*name* for open(): as bytes (its UTF-8) when the file-system encoding cannot encode it (LC_ALL=C)."""
    try:
        os.fsencode(name)
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape")
    return name


def read_text_to_change(file: Path) -> str:
    """A small text file a command is about to change (settings, .gitignore): "" when there is none yet;
    WriteFailed when it cannot be read (it must not be replaced by a file that lost its contents)."""
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise WriteFailed(_("cannot read {file}: {reason}").format(file=file, reason=exc)) from None


def read_input(source: str, stdin: TextIO | None = None) -> str:
    """The text of the file *source*, or of *stdin* for ``-``: UTF-8, a leading byte-order mark dropped.

    A file that cannot be read, or bytes that are not UTF-8, are InvalidInput.
    """
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            if stdin is None:
                raise InvalidInput(_("- names stdin, but no input stream was given"))
            buffer = getattr(stdin, "buffer", None)
            data = buffer.read() if buffer is not None else stdin.read().encode("utf-8", "surrogateescape")
        else:
            with open(_os_name(source), "rb") as f:
                data = f.read()
    except FileNotFoundError:
        raise InvalidInput(_("cannot read {name}: no such file").format(name=name)) from None
    except OSError as exc:
        raise InvalidInput(_("cannot read {name}: {value}").format(name=name, value=exc.strerror or exc)) from None
    try:
        # utf-8-sig: spreadsheets often start a CSV with a byte-order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(_("{name}: not UTF-8 text (byte {start})").format(name=name, start=exc.start)) from None


# ---------------------------------------------------------------------------- journal

JOURNAL_KEEP = 10
_ENTRY_NAME = re.compile(r"([0-9]+)-([0-9]{8}T[0-9]{6}Z)(?:-([0-9a-f]{16}))?\.toml")


@dataclass(frozen=True)
class JournalEntry:
    """A previous version of the registry: the file holding it, its number, when it was replaced,
    and the start of the SHA-256 of what replaced it (None if the write did not say)."""

    file: Path
    number: int
    time: datetime.datetime
    after: str | None

    def read(self) -> bytes:
        """The previous version's bytes."""
        return self.file.read_bytes()


def journal_folder(path: Path) -> Path:
    """Where the journal of the registry at *path* is kept (beside the file a symbolic link names)."""
    target = Path(os.path.realpath(path))
    return target.parent / ".partnerctl" / "journal" / target.name


_DIGEST_HEX = 16


def digest(data: bytes) -> str:
    """The short hash of a version that journal entries record: 16 hex digits of its SHA-256."""
    import hashlib  # loads OpenSSL: only a write or an undo pays for it

    return hashlib.sha256(data).hexdigest()[:_DIGEST_HEX]


def journal_list(path: Path) -> list[JournalEntry]:
    """The journal's entries for the registry at *path*, newest first (empty when there is none)."""
    folder = journal_folder(path)
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    entries = []
    for name in names:
        m = _ENTRY_NAME.fullmatch(name)
        if m:
            when = datetime.datetime.strptime(m.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
            entries.append(JournalEntry(folder / name, int(m.group(1)), when, m.group(3)))
    return sorted(entries, key=lambda e: e.number, reverse=True)


def journal_push(path: Path, old_bytes: bytes, *, new_bytes: bytes | None = None, new_hash: str | None = None,
                 keep: int = JOURNAL_KEEP, linked: bool = False) -> JournalEntry:
    """Keep *old_bytes*, the registry's version a write is about to replace with *new_bytes*.

    Call it under the registry's write lock, before the write. Give *new_bytes*, or
    *new_hash*, their SHA-256 in hex when the caller has it (the write pipeline: the
    index's key is the same hash): without either ``undo`` cannot tell whether the
    registry changed since. The
    oldest entries beyond *keep* (at least 1) are removed. WriteFailed (exit 4) when the
    journal cannot be written; the registry is untouched then.

    *linked*: the file at *path* holds *old_bytes* and is about to be replaced by a
    rename (the write pipeline's way): the entry is a hard link to it, so keeping a
    version costs no copy whatever the registry's size (a copy where links fail).
    """
    target = Path(os.path.realpath(path))
    folder = journal_folder(path)
    mode = _file_mode(target)
    try:
        _make_folders(folder, mode)
    except OSError as exc:
        raise WriteFailed(_("cannot keep the previous version of {path} in {folder}: {reason}").format(
            path=path, folder=folder, reason=exc.strerror)) from None
    entries = journal_list(path)
    number = entries[0].number + 1 if entries else 1
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    if new_hash is None and new_bytes is not None:
        new_hash = digest(new_bytes)
    after = f"-{new_hash[:_DIGEST_HEX]}" if new_hash is not None else ""
    entry = folder / f"{number:06d}-{stamp}{after}.toml"
    if not (linked and _link(target, entry)):
        write_atomic(entry, old_bytes)
    with contextlib.suppress(OSError):
        os.chmod(entry, mode)
    for stale in journal_list(path)[max(keep, 1):]:
        with contextlib.suppress(FileNotFoundError):
            stale.file.unlink()
    return journal_list(path)[0]


def _link(target: Path, entry: Path) -> bool:
    """Make *entry* a hard link to *target* (whose inode a rename is about to retire); False if it cannot be."""
    try:
        os.link(target, entry)
    except OSError:
        return False
    return True


def journal_pop(path: Path) -> bytes | None:
    """The newest previous version's bytes, removed from the journal; None when the journal is empty.

    ``undo`` is what a command wants: it removes the entry only once the restore has landed.
    """
    entries = journal_list(path)
    if not entries:
        return None
    data = entries[0].read()
    entries[0].file.unlink()
    return data


def undo(path: Path, current: bytes, write: Callable[[bytes], None], *, force: bool = False) -> JournalEntry:
    """Put back the version the last journalled write replaced; the entry used is returned.

    *current*: the registry's bytes now (read under the write lock). *write*: the
    pipeline's normal atomic write of the given bytes (validating them, and not
    journalling: an undo is not undone by the next undo). NothingToUndo when the
    journal is empty; ChangedSinceWrite when *current* is not what that write made
    (unless *force*). The entry is removed once the write has landed.
    """
    entries = journal_list(path)
    if not entries:
        raise NothingToUndo(_("nothing to undo: no previous version of {path} in {folder}").format(
            path=path, folder=journal_folder(path)))
    entry = entries[0]
    if not force and entry.after is not None and digest(current) != entry.after:
        raise ChangedSinceWrite(
            _("{path} changed since partnerctl's last write ({time} UTC): putting the previous version back "
              "would lose that change").format(path=path, time=f"{entry.time:%Y-%m-%d %H:%M}"))
    write(entry.read())
    # The write has landed: a journal entry that cannot be removed must not report a failure.
    # (Left in place, its hash no longer matches, so the next undo refuses it.)
    with contextlib.suppress(OSError):
        entry.file.unlink()
    return entry


def _file_mode(target: Path) -> int:
    """The registry's permission bits (what journal entries get), or the usual new-file bits."""
    mode = mode_of(target)
    return stat.S_IMODE(mode) & 0o666 if stat.S_ISREG(mode) else 0o666 & ~umask()


def _folder_mode(file_mode: int) -> int:
    """Folder bits for a file's: its owner gets rwx; group and others read (r-x) and write as the file."""
    mode = 0o700
    for read, write, search in ((0o040, 0o020, 0o010), (0o004, 0o002, 0o001)):
        if file_mode & read:
            mode |= read | search
        mode |= file_mode & write
    return mode


def _make_folders(folder: Path, file_mode: int) -> None:
    """Create *folder* and the missing folders above it (up to the registry's folder) with *file_mode*'s access."""
    missing = []
    here = folder
    while not here.is_dir():
        missing.append(here)
        here = here.parent
    for made in reversed(missing):
        os.mkdir(made)
        os.chmod(made, _folder_mode(file_mode))  # mkdir's mode is cut by the umask
