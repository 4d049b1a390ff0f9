"""A folder of generated files (the exported site) written as a whole.

The new tree is built in a temporary folder beside the target (same
filesystem), then swapped in: with one atomic exchange of the two folders where
the system has it (Linux ``renameat2(RENAME_EXCHANGE)``), else by renaming the
old folder aside and the new one in. A reader (a web server) sees the old site
or the new one, never a mix; a failure (a full disk) or a kill leaves the old
one; nothing is ever written inside the existing folder, so a symbolic link in
it cannot send a write elsewhere.

The folder may hold files partnerctl did not write (a README, a CNAME, ``.git``):
``.partnerctl-manifest.json`` lists the files an export wrote, and every entry
it does not list is carried into the new tree (files as hard links, symbolic
links re-created, never followed). Files of the old manifest that the new
export does not produce are dropped (the pages of partnerships removed since).
A file partnerctl did not write at a path it would write is never replaced.

One export of a folder at a time: an flock on ``.<name>.lock`` beside it, under
which the leftovers of a killed export are cleared first.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from partnerctl.core.errors import InvalidInput, WriteFailed
from partnerctl.core.i18n import _
from partnerctl.storage import files as fileio

MANIFEST = ".partnerctl-manifest.json"
_ASIDE = ".old"  # the old folder renamed aside where folders cannot be exchanged


@dataclass(frozen=True)
class Written:
    """What an export of a folder did."""

    target: Path
    written: int
    removed: int
    kept: int


@dataclass
class _Old:
    """The folder as it is: its entries by relative path (kind: dir, link, file) and its manifest."""

    entries: dict[str, str]
    manifest: set[str] | None
    stat: os.stat_result | None


def write_folder(target: Path, files: Mapping[str, Callable[[], str | bytes]], *, force: bool = False) -> Written:
    """Make the folder *target* hold *files* (relative path -> a function giving its text or bytes), as a whole.

    Files partnerctl did not write are kept; a non-empty folder without a
    manifest is refused unless *force*. Errors: InvalidInput for a target that is
    not a folder, WriteFailed (nothing changed) for everything else.
    """
    target = _real_folder(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteFailed(_("cannot create {parent}: {strerror}").format(
            parent=target.parent, strerror=exc.strerror)) from None
    fileio.refuse_read_only(target)
    if target.is_dir() and not fileio.mode_of(target) & 0o222:
        raise WriteFailed(_("cannot write {target}: the folder is read-only").format(target=target))
    if os.path.ismount(target):
        raise WriteFailed(_("cannot write {target}: it is a mount point, which cannot be replaced; "
                            "export into a folder inside it").format(target=target))
    with _locked(target):
        try:
            _clear_leftovers(target)
        except OSError as exc:
            raise WriteFailed(_("cannot write {target}: {value}").format(
                target=target, value=exc.strerror or exc)) from None
        old = _survey(target)
        carried = _plan(target, old, files, force)
        tmp, fd = _create_temp_folder(target)
        try:
            try:
                _build(tmp, target, files, old, carried)
            except OSError as exc:
                raise WriteFailed(_("cannot write {value}: {value2}").format(
                    value=exc.filename or target, value2=exc.strerror or exc)) from None
            _swap(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                fileio.remove_tree(tmp)
            raise
        finally:
            os.close(fd)
    removed = len((old.manifest or set()) - set(files))
    return Written(target, len(files), removed, sum(1 for kind in carried.values() if kind != "dir"))


def _real_folder(target: Path) -> Path:
    """The folder to replace: a symbolic link to a folder is followed to its real path (once, here)."""
    if os.path.lexists(target) and not target.is_dir():
        if target.is_symlink():
            raise InvalidInput(_("{target} is a symbolic link to {readlink}, not to a folder").format(
                target=target, readlink=os.readlink(target)))
        raise InvalidInput(_("{target} is a file, not a folder").format(target=target))
    return Path(os.path.realpath(target))


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    lock = target.with_name(f".{target.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WriteFailed(_("cannot lock {target}: {strerror} ({lock})").format(
            target=target, strerror=exc.strerror, lock=lock)) from None
    try:
        # Waits for another export of the same folder; the kernel drops the lock of a dead one.
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _aside_names(target: Path) -> list[Path]:
    return [target.with_name(name) for name in os.listdir(target.parent)
            if name.endswith(_ASIDE) and fileio.is_temp_name(target, name.removesuffix(_ASIDE) + ".tmp")]


def _clear_leftovers(target: Path) -> None:
    """What a killed export left: temporary trees (removed) and an old folder renamed aside (put back
    if the new one never arrived, else removed). Called under the lock."""
    fileio.remove_stale_temps(target)
    for aside in _aside_names(target):
        if not os.path.lexists(target):
            os.rename(aside, target)
        else:
            fileio.remove_tree(aside)


def _survey(target: Path) -> _Old:
    if not os.path.lexists(target):
        return _Old({}, None, None)
    entries: dict[str, str] = {}

    def walk(folder: Path, rel: PurePosixPath | None) -> None:
        with os.scandir(folder) as it:
            for entry in it:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_symlink():
                    entries[path] = "link"
                elif entry.is_dir(follow_symlinks=False):
                    entries[path] = "dir"
                    walk(Path(entry.path), PurePosixPath(path))
                else:
                    entries[path] = "file"

    try:
        walk(target, None)
        st = os.stat(target)
    except OSError as exc:
        raise WriteFailed(_("cannot read {value}: {strerror}").format(
            value=exc.filename or target, strerror=exc.strerror)) from None
    return _Old(entries, _read_manifest(target, entries.get(MANIFEST)), st)


def _read_manifest(target: Path, kind: str | None) -> set[str] | None:
    """The files the last export wrote, or None when there is no manifest (a link there is not one)."""
    if kind != "file":
        return None
    path = target / MANIFEST
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            data = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        data = None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) and _is_relative(f) for f in files):
        raise WriteFailed(_("{path} is not a partnerctl manifest; remove it (and the files it lists), "
                            "then export again").format(path=path))
    return set(files)


def _is_relative(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and "\0" not in name and not name.startswith("/") and ".." not in parts \
        and "." not in name.split("/") and "" not in name.split("/")


def _plan(target: Path, old: _Old, files: Mapping[str, Callable[[], str | bytes]], force: bool) -> dict[str, str]:
    """The entries of the old folder to carry into the new one (path -> kind); refuses what it must."""
    # A path the manifest lists is ours while it is a file or a link (we wrote it; a link put in its
    # place is dropped, never followed); a folder there is someone else's.
    ours = {path for path in old.manifest or () if old.entries.get(path) in ("file", "link")}
    if old.manifest is not None:
        ours.add(MANIFEST)
    foreign = {path: kind for path, kind in old.entries.items() if path not in ours}
    if old.manifest is None and foreign and not force:
        raise WriteFailed(_("{target} is not empty and has no {MANIFEST}: it was not written by "
                            "partnerctl export; give --force to export into it (its files are kept)").format(
                                target=target, MANIFEST=MANIFEST))
    wanted = {*files, MANIFEST}
    wanted_dirs = _parents(wanted)
    for path in sorted(foreign):
        kind = foreign[path]
        inside_a_file = any(str(parent) in wanted for parent in PurePosixPath(path).parents)
        if path in wanted or (path in wanted_dirs and kind != "dir") or inside_a_file:
            raise WriteFailed(_("{value} was not written by partnerctl export; not replacing it (move "
                                "it away, then export again)").format(value=target / path))
    # A folder is carried when it holds something carried, or nothing at all.
    carried = {path: kind for path, kind in foreign.items() if kind != "dir"}
    holders = _parents(carried)
    non_empty = _parents(old.entries)
    carried.update({path: kind for path, kind in foreign.items()
                    if kind == "dir" and (path in holders or path not in non_empty)})
    return carried


def _parents(paths: Iterable[str]) -> set[str]:
    """Every folder that holds one of *paths* (relative paths)."""
    return {str(parent) for path in paths for parent in PurePosixPath(path).parents if str(parent) != "."}


def _create_temp_folder(target: Path) -> tuple[Path, int]:
    try:
        return fileio.create_temp(target, folder=True)
    except OSError as exc:
        raise WriteFailed(_("cannot write {target}: {strerror}").format(target=target, strerror=exc.strerror)) from None


def _build(tmp: Path, target: Path, files: Mapping[str, Callable[[], str | bytes]], old: _Old,
           carried: dict[str, str]) -> None:
    """Write *files*, the manifest and the carried entries into *tmp*, then make them durable.

    An OSError carries the path as the user knows it (inside *target*) in its ``filename``.
    """
    ours = old.manifest or set()
    for name, render in files.items():
        content = render()
        data = content.encode("utf-8") if isinstance(content, str) else content
        if not (name in ours and old.entries.get(name) == "file" and _reuse(target / name, tmp / name, data)):
            _write_new(tmp, target, name, data)
    manifest = {"written by": "partnerctl export", "files": sorted(files)}
    _write_new(tmp, target, MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
    for path in sorted(carried):  # parents before children
        _carry(target / path, tmp / path, carried[path])
    if old.stat is None:
        os.chmod(tmp, 0o777 & ~fileio.umask())
    else:
        _same_mode_and_owner(old.stat, tmp)
    _sync(tmp)


def _write_new(tmp: Path, target: Path, name: str, data: bytes) -> None:
    path = tmp / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        try:
            with fileio.open_output(fd) as out:
                fileio.write_content(out, data)
        finally:
            os.close(fd)
    except OSError as exc:
        exc.filename = str(target / name)
        raise


def _reuse(old: Path, new: Path, data: bytes) -> bool:
    """Hard-link the old page into the new tree when it already holds exactly *data*.

    An unchanged page keeps its file (and modification time, for rsync and caches),
    and removing the old tree then frees nothing but names: much faster than
    deleting thousands of files. The check reads through the new link, in the
    private tree; the old page is never written. False: write it anew.
    """
    try:
        new.parent.mkdir(parents=True, exist_ok=True)
        os.link(old, new, follow_symlinks=False)
        fd = os.open(new, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        with open(fd, "rb", closefd=False) as f:
            same = stat.S_ISREG(st.st_mode) and st.st_size == len(data) and f.read() == data
    except OSError:
        same = False
    finally:
        os.close(fd)
    if not same:
        os.unlink(new)
    return same


def _carry(source: Path, dest: Path, kind: str) -> None:
    """Re-create one entry of the old folder in the new one, never following a link."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if kind == "dir":
            dest.mkdir(exist_ok=True)
            _same_mode_and_owner(os.lstat(source), dest)
        elif kind == "link":
            os.symlink(os.readlink(source), dest)
        else:
            try:
                os.link(source, dest, follow_symlinks=False)
            except OSError:
                # No hard link here (another filesystem, a protected file): a copy, the link itself if one.
                shutil.copy2(source, dest, follow_symlinks=False)
    except OSError as exc:
        exc.filename = str(source)
        raise


def _same_mode_and_owner(old: os.stat_result, new: Path) -> None:
    """Give the new folder the old one's mode and, when we may (root), its owner: a folder
    a web server's user owns stays its own after root exports into it."""
    os.chmod(new, stat.S_IMODE(old.st_mode))
    if os.geteuid() == 0:
        os.chown(new, old.st_uid, old.st_gid)


def _sync(tmp: Path) -> None:
    """Flush the new tree to disk before it replaces the old one: one syncfs of its filesystem
    (Linux), else a sync of everything: the bytes must be there before the rename is."""
    fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        syncfs = _libc_function("syncfs")
        if syncfs is None or syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _libc_function(name: str) -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(None, use_errno=True), name)
        return function
    except (OSError, AttributeError):
        return None


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap the two existing paths *a* and *b* in one atomic step; False where the system cannot.

    Linux ``renameat2(RENAME_EXCHANGE)``; other systems, old kernels and
    filesystems without it answer False (then rename aside and in).
    """
    renameat2 = _libc_function("renameat2")
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap(tmp: Path, target: Path) -> None:
    """Put the new tree *tmp* at *target*; the old one is removed (its links unlinked, not followed)."""
    old_tree: Path | None = None
    try:
        if not os.path.lexists(target):
            os.rename(tmp, target)
        elif exchange(tmp, target):
            old_tree = tmp  # the new tree is in place; the old one now has the temporary name
        else:
            aside = fileio.temp_path(target).with_suffix(_ASIDE)
            os.rename(target, aside)
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(aside, target)
                raise
            old_tree = aside
    except OSError as exc:
        raise WriteFailed(_("cannot write {target}: {value}").format(
            target=target, value=exc.strerror or exc)) from None
    fileio.fsync_folder(target.parent)
    if old_tree is not None:
        # The new site is in place: a failure to remove the old one is only a leftover, cleared next time.
        with contextlib.suppress(OSError):
            fileio.remove_tree(old_tree)
