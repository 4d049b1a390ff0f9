"""The registry's history: its versions in git, and the merge driver's side of a git merge.

Git. ``git_log`` lists the commits that touched the registry file (``git log
--follow``, so a renamed registry keeps its history), ``git_show`` gives the
file as it was at a revision, ``commit_changes`` what a commit changed by
meaning (``partnerctl.core.semantic``). Git runs as ``git -C <the registry's
folder>`` with NUL-separated output and literal pathspecs, so no file name,
author or message can be misread. No git on the machine, or a registry outside
a git work tree, is a ``NotARepository``; a revision git does not know is an
``UnknownRevision``; git failing to read its own repository is a ``GitFailed``.

The undo journal (the versions each write replaced) is kept by ``partnerctl.storage.files``,
where the write that replaces a version is.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from partnerctl.core import semantic
from partnerctl.core.errors import (
    GitFailed,
    NotARepository,
    UnknownRevision,
)
from partnerctl.core.i18n import N_, _
from partnerctl.core.semantic import Change
from partnerctl.storage.files import read_text_to_change, write_atomic

# ---------------------------------------------------------------------------- git

# Options for every git run: literal file names (``[x].toml`` is no glob), and no
# configuration that would add text to what is parsed (signatures, colours).
_GIT = ("git", "--literal-pathspecs", "-c", "log.showSignature=false", "-c", "color.ui=never")
_FIELDS = 5  # sha, parents, author, date, subject: see _LOG_FORMAT
_LOG_FORMAT = "--format=%H%x00%P%x00%an%x00%aI%x00%s"
# The start of every failure to read the history (its reason follows).
RH = N_("cannot read the registry's history: {reason}")
_OBJECT_HEADER = re.compile(rb"([0-9a-f]{40}|[0-9a-f]{64}) (\w+) (\d+)")


@dataclass(frozen=True)
class Commit:
    """A commit that touched the registry file.

    *date*: the author date, ISO 8601 with its offset. *message*: the subject line.
    *path*: the file's path in the repository at this commit; *parent* / *old_path*:
    the first parent and the file's path there (None for a commit that added the
    file). *changes*: what it changed by meaning, when ``git_log`` was asked for
    them (None also when a version is not a readable registry).
    """

    sha: str
    author: str
    date: str
    message: str
    path: str
    parent: str | None
    old_path: str | None
    changes: tuple[Change, ...] | None = None


def _git(folder: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run([*_GIT, "-C", str(folder), *args], input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise NotARepository(_("git is not installed: the registry's history needs it")) from None
    except OSError as exc:
        raise NotARepository(_("cannot run git: {reason}").format(reason=exc.strerror)) from None


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0].removeprefix("fatal: ") if text else _("git failed")


def _place(path: Path) -> tuple[Path, str, str]:
    """The registry's folder, its file name, and its path from the repository's top (``data/registry.toml``).

    A symbolic link is followed: the history is that of the file written (``store`` writes the link's target).
    """
    target = Path(os.path.realpath(path))
    done = _git(target.parent, "rev-parse", "--show-prefix")
    if done.returncode != 0:
        why = _first_line(done.stderr)
        raise NotARepository(_("{path} is not in a git repository").format(path=path)
                             + ("" if why.startswith("not a git repository") else f" ({why})"))
    prefix = os.fsdecode(done.stdout.rstrip(b"\n"))
    return target.parent, target.name, prefix + target.name


def _has_commits(folder: Path) -> bool:
    return _git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode == 0


def _commit_id(folder: Path, rev: str) -> str:
    # A revision starting with "-" would be read as an option.
    done = (None if rev.startswith("-") or not rev
            else _git(folder, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"))
    if done is None or done.returncode != 0:
        raise UnknownRevision(_("unknown revision {rev!r}").format(rev=rev))
    return done.stdout.decode("ascii").strip()


def _blobs(folder: Path, specs: list[str]) -> list[tuple[str, bytes] | None]:
    """The blobs named ``<commit>:<path from the top>``: (blob id, bytes) each, None where there is none."""
    if any("\n" in spec for spec in specs):
        # cat-file --batch reads one name a line; such a path cannot be named there.
        return [None if "\n" in spec else _blobs(folder, [spec])[0] for spec in specs]
    done = _git(folder, "cat-file", "--batch", stdin=b"".join(os.fsencode(spec) + b"\n" for spec in specs))
    if done.returncode != 0:
        raise GitFailed(_(RH).format(reason=_first_line(done.stderr)))
    out, at = done.stdout, 0
    found: list[tuple[str, bytes] | None] = []
    for spec in specs:
        end = out.find(b"\n", at)
        if end < 0:
            raise GitFailed(_(RH).format(reason=_("git's answer ended early")))
        header = _OBJECT_HEADER.fullmatch(out[at:end])
        at = end + 1
        if header is None:  # "<name> missing": no such file at that commit, or a damaged repository
            if _git(folder, "rev-parse", "--verify", "--quiet", spec).returncode == 0:
                raise GitFailed(_(RH).format(reason=_("git cannot read {spec} (object missing)").format(spec=spec)))
            found.append(None)
            continue
        size = int(header.group(3))
        found.append((header.group(1).decode("ascii"), out[at:at + size]) if header.group(2) == b"blob" else None)
        at += size + 1
    return found


def git_show(path: Path, rev: str) -> bytes | None:
    """The registry file's bytes at revision *rev* (``HEAD``, ``HEAD~1``, a tag, a commit id);
    None when the file did not exist there under its current name."""
    folder, _, where = _place(path)
    commit = _commit_id(folder, rev)
    blob = _blobs(folder, [f"{commit}:{where}"])[0]
    return None if blob is None else blob[1]


def git_log(path: Path, partner: str | None = None, *, changes: bool = False) -> list[Commit]:
    """The commits that touched the registry file, newest first, following renames.

    With *partner* (a partnership id), only the commits that changed that
    partnership, each with those changes (and the commits where a version is not
    a readable registry: what they did cannot be told). With *changes*, every
    commit carries what it changed.
    """
    folder, name, where = _place(path)
    if not _has_commits(folder):
        return []
    done = _git(folder, "log", "--follow", "-z", "--name-status", "--no-color", _LOG_FORMAT, "--", name)
    if done.returncode != 0:
        raise GitFailed(_(RH).format(reason=_first_line(done.stderr)))
    try:
        commits = _parse_log(done.stdout, where)
    except (IndexError, UnicodeDecodeError):
        raise GitFailed(_(RH).format(reason=_("git's answer is not in the expected form"))) from None
    if partner is None and not changes:
        return commits
    docs = _Versions(folder)
    kept = []
    for commit in commits:
        found = docs.changes(commit)
        if partner is not None and found is not None:
            found = [c for c in found if c.path[:2] == (semantic.PARTNERSHIPS, partner)]
            if not found:
                continue
        kept.append(replace(commit, changes=None if found is None else tuple(found)))
    return kept


def _parse_log(out: bytes, where: str) -> list[Commit]:
    """Commits from ``git log -z --name-status`` with ``_LOG_FORMAT``.

    Each commit is its five NUL-ended fields, then, when git shows what it did to
    the file, a status (the only field that starts with a newline: ``\\nM``,
    ``\\nR100``) and one path, or two for a rename or copy (old, new).
    """
    fields = out.split(b"\0")
    commits, at, current = [], 0, where
    while at + _FIELDS <= len(fields) and fields[at]:
        sha, parents, author, date, subject = fields[at:at + _FIELDS]
        at += _FIELDS
        path: str = current
        old: str | None = current
        if at < len(fields) and fields[at].startswith(b"\n"):
            status = fields[at][1:2]
            if status in (b"R", b"C"):
                old, path = os.fsdecode(fields[at + 1]), os.fsdecode(fields[at + 2])
                at += 3
            else:
                path = old = os.fsdecode(fields[at + 1])
                at += 2
            if status == b"A":
                old = None
        first_parent = parents.split()[0].decode("ascii") if parents.split() else None
        commits.append(Commit(sha.decode("ascii"), author.decode("utf-8", "replace"), date.decode("ascii"),
                              subject.decode("utf-8", "replace"), path, first_parent,
                              old if first_parent else None))
        # Older commits knew the file by the name it had before this one renamed it.
        current = old if old is not None else path
    return commits


class _Versions:
    """Versions of the registry read from git and parsed, the last few kept (a linear history
    reads each version twice in a row: as one commit's new version, then as the next's old)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parsed: dict[str, dict[str, Any] | None] = {}

    def document(self, blob: tuple[str, bytes] | None) -> tuple[bool, dict[str, Any] | None]:
        """(readable, document): a missing file is a readable, empty registry."""
        if blob is None:
            return True, None
        if blob[0] not in self.parsed:
            if len(self.parsed) > 4:
                self.parsed.pop(next(iter(self.parsed)))
            self.parsed[blob[0]] = parse_document(blob[1])
        doc = self.parsed[blob[0]]
        return doc is not None, doc

    def changes(self, commit: Commit) -> list[Change] | None:
        specs = [f"{commit.sha}:{commit.path}"]
        if commit.parent and commit.old_path:
            specs.append(f"{commit.parent}:{commit.old_path}")
        blobs = _blobs(self.folder, specs)
        new_ok, new = self.document(blobs[0])
        old_ok, old = self.document(blobs[1] if len(blobs) > 1 else None)
        return semantic.diff(old, new) if new_ok and old_ok else None


def parse_document(data: bytes) -> dict[str, Any] | None:
    """A version's bytes as a registry document, or None when they are not UTF-8 TOML."""
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError):
        return None


def commit_changes(path: Path, commit: Commit) -> list[Change] | None:
    """What *commit* (from ``git_log``) changed in the registry by meaning; None when the file at that
    commit or before it is not a readable registry."""
    folder, _, _ = _place(path)
    return _Versions(folder).changes(commit)


# ---------------------------------------------------------------------------- merge driver and git setup

def conflicts_path(path: Path) -> Path:
    """Where the conflict report of a merge of the registry at *path* is: ``<registry>.conflicts.json``."""
    return path.with_name(path.name + ".conflicts.json")


def read_conflicts(path: Path) -> list[str] | None:
    """The conflicts a merge left for the registry at *path*, one line each; None when there is no report."""
    import json

    report = conflicts_path(path)
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [_("the conflict report cannot be read ({reason})").format(reason=exc.__class__.__name__)]
    try:
        lines = semantic.describe_conflicts(semantic.report_conflicts(data))
    except ValueError as exc:
        return [str(exc)]
    problems = data.get("problems") if isinstance(data, dict) else None
    return lines + [str(p) for p in problems or []]


GITIGNORE_LINES = ("*.bak", "*.lock", ".partnerctl/")
DRIVER = "partnerctl"


def git_setup(path: Path, command: str) -> list[str]:
    """Make the repository holding the registry at *path* merge it by meaning; what was done, one line each.

    ``.gitattributes`` at the repository's top names the driver for the registry
    (``<path> merge=partnerctl``); the repository's own config (``.git/config``, not
    committed: each clone runs ``git-setup`` once) says how to run it (*command*
    with ``%O %A %B %P``); ``.gitignore`` gets ``*.bak``, ``*.lock`` and
    ``.partnerctl/`` (the undo journal). Running it again changes nothing.
    """
    folder, _name, where = _place(path)
    done = _git(folder, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise GitFailed(_("cannot find the repository's top: {reason}").format(reason=_first_line(done.stderr)))
    top = Path(os.fsdecode(done.stdout.rstrip(b"\n")))
    said = []
    pattern = "/" + "".join(f"\\{c}" if c in "*?[]\\ #!" else c for c in where)
    if _add_lines(top / ".gitattributes", [f"{pattern} merge={DRIVER}"]):
        said.append(f"{top / '.gitattributes'}: {pattern} merge={DRIVER}")
    if _add_lines(top / ".gitignore", list(GITIGNORE_LINES)):
        said.append(f"{top / '.gitignore'}: {', '.join(GITIGNORE_LINES)}")
    driver = f"{command} merge-file %O %A %B %P"
    for key, value in ((f"merge.{DRIVER}.name", "partnerctl: merge the registry by meaning"),
                       (f"merge.{DRIVER}.driver", driver)):
        current = _git(folder, "config", "--local", "--get", key)
        if current.returncode == 0 and current.stdout.decode("utf-8", "replace").rstrip("\n") == value:
            continue
        set_ = _git(folder, "config", "--local", key, value)
        if set_.returncode != 0:
            raise GitFailed(_("cannot set {key}: {reason}").format(key=key, reason=_first_line(set_.stderr)))
        said.append(f"git config {key} {value!r}")
    return said


def _add_lines(file: Path, lines: list[str]) -> bool:
    """Add the *lines* a text file lacks at its end (creating it); whether it changed."""
    text = read_text_to_change(file)
    have = set(text.splitlines())
    missing = [line for line in lines if line not in have]
    if not missing:
        return False
    write_atomic(file, text + ("\n" if text and not text.endswith("\n") else "") + "".join(f"{m}\n" for m in missing))
    return True
