"""The commands about the registry's history: log, diff, undo, and git's merge driver (merge-file, git-setup).

Changes are told by meaning (``core.semantic``): "turin: + event
2026-10-alice-visit; status active → suspended", not lines of TOML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, output_options
from partnerctl.core.errors import NotARepository

# A commit that changed more partnerships than this (an import) is summed up in one line.
SUMMARY_OVER = 5


def _summary(changes: Any, partner: str | None) -> list[str]:
    """What a commit changed, one line per partnership (or a count when it changed many)."""
    from partnerctl.core import semantic

    if changes is None:
        return ["(this version is not a readable registry)"]
    lines = semantic.describe(changes)
    if partner is None and len(lines) > SUMMARY_OVER:
        kinds: dict[str, str] = {}
        for c in changes:
            if c.path[0] == semantic.PARTNERSHIPS and len(c.path) > 1:
                what = {semantic.PARTNERSHIP_ADDED: "added", semantic.PARTNERSHIP_REMOVED: "removed"}.get(
                    c.kind, "changed")
                kinds.setdefault(c.path[1], what)
        counts: dict[str, int] = {}
        for what in kinds.values():
            counts[what] = counts.get(what, 0) + 1
        head = [line for line in lines if line.startswith(semantic.HEAD_LINE)]
        return head + [f"{len(kinds)} partnerships: "
                       + ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))]
    return lines


def _lines(io: Any, lines: list[str]) -> None:
    from partnerctl.core.text import clean

    for line in lines:
        io.stdout.write(clean(line) + "\n")


@app.command()
@output_options("commit")
def log(
    ctx: typer.Context, out: Output,
    partner: Annotated[str | None, typer.Argument(
        help="Only the commits that changed this partnership (id, city name or alias).",
        autocompletion=complete.partner)] = None,
) -> None:
    """The registry's git history by meaning: date, author and what changed, newest first.

    Example: partnerctl log turin
    """
    from partnerctl.core.errors import NotFound
    from partnerctl.core.names import slugify
    from partnerctl.storage import history

    out.check()
    io = state(ctx).io
    path = state(ctx).location().path
    pid = None
    if partner is not None:
        try:
            pid = state(ctx).reader().resolve(partner)
        except NotFound:
            pid = slugify(partner)  # a partnership removed since: its id as written
    commits = history.git_log(path, pid, changes=True)
    if not out.asked:
        if not commits:
            io.say(f"no commits changed {pid}" if pid else f"{path} has no git history")
        for c in commits:
            who = f"{c.date[:10]} {c.author}"
            _lines(io, [f"{who}: {line}" for line in _summary(c.changes, pid)])
        return
    records = [{"commit": c.sha, "date": c.date, "author": c.author, "message": c.message,
                "summary": "; ".join(_summary(c.changes, pid)),
                "changes": None if c.changes is None else [ch.to_json() for ch in c.changes]}
               for c in commits]
    out.emit(io, records)


def _version(path: Path, what: str) -> tuple[dict[str, Any] | None, str]:
    """A registry document named by *what*: a file, or a git revision of the registry."""
    from partnerctl.storage import history, store

    given = Path(what)
    data = store.read_file(given)[0] if given.is_file() else history.git_show(path, what)
    return (None if data is None else _document(data, what)), what


def _document(data: bytes, what: str) -> dict[str, Any]:
    from partnerctl.storage import store

    return store.parse_document(data, what)


@app.command()
@output_options("change")
def diff(
    ctx: typer.Context, out: Output,
    old: Annotated[str | None, typer.Argument(
        help="A git revision (HEAD~1, a tag) or a file. Default: HEAD, outside git the version before the "
             "last write.")] = None,
    new: Annotated[str | None, typer.Argument(help="A git revision or a file. Default: the registry now.")] = None,
) -> None:
    """What changed between two versions of the registry, by meaning.

    Example: partnerctl diff HEAD~1
    """
    from partnerctl.core import semantic
    from partnerctl.core.errors import NotFound
    from partnerctl.storage import files, store

    out.check()
    io = state(ctx).io
    path = state(ctx).location().path
    now = _document(store.read_file(path)[0], str(path))
    if old is None:
        try:
            before, old_name = _version(path, "HEAD")
        except NotARepository:
            entries = files.journal_list(path)
            if not entries:
                raise NotFound(f"{path} is not in git and has no previous version in its journal") from None
            before, old_name = _document(entries[0].read(), str(entries[0].file)), "the version before the last write"
    else:
        before, old_name = _version(path, old)
    after = now if new is None else _version(path, new)[0]
    changes = semantic.diff(before, after)
    if not out.asked:
        if not changes:
            io.say(f"no changes since {old_name}")
        _lines(io, semantic.describe(changes))
        return
    out.emit(io, [c.to_json() for c in changes])


@app.command()
def undo(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(
        "--force", help="Undo even if the registry changed since partnerctl's last write (that change is lost).")]
    = False,
) -> None:
    """Put back the registry as it was before the last write made through partnerctl (10 kept).

    Example: partnerctl undo
    """
    from partnerctl.core import semantic
    from partnerctl.storage import files, history, store

    st = state(ctx)
    options: dict[str, Any] = {"force": force, "backup": st.backup}
    if st.lock_timeout is not None:
        options["lock_timeout"] = st.lock_timeout
    entry, current, old = store.undo(st.location(), **options)
    st.landed = True
    lines = semantic.describe(semantic.diff(history.parse_document(current), history.parse_document(old)))
    left = len(files.journal_list(st.location().path))
    st.io.say(f"undid the write of {entry.time:%Y-%m-%d %H:%M} UTC ({left} earlier version(s) left to undo)")
    _lines(st.io, lines)


@app.command("merge-file")
def merge_file(
    ctx: typer.Context,
    base: Annotated[Path, typer.Argument(help="The common ancestor (git's %O).", dir_okay=False)],
    ours: Annotated[Path, typer.Argument(help="Our version; the result is written here (git's %A).",
                                         dir_okay=False)],
    theirs: Annotated[Path, typer.Argument(help="Their version (git's %B).", dir_okay=False)],
    name: Annotated[Path | None, typer.Argument(
        help="The registry's path in the work tree (git's %P): the conflict report goes beside it.")] = None,
) -> None:
    """Merge two versions of the registry by meaning (git's merge driver); exit 1 on a conflict.

    Example: partnerctl merge-file base.toml ours.toml theirs.toml registry.toml
    """
    from partnerctl.core.errors import EXIT_NOT_FOUND, Reported
    from partnerctl.storage import store

    io = state(ctx).io
    merged = store.merge_files(base, ours, theirs, name or ours)
    if merged.report is None:
        return
    what = name or ours
    io.say(f"{what}: {len(merged.conflicts)} conflict(s), ours' values kept; see {merged.report}")
    for line in merged.conflicts + merged.problems:
        io.say(f"  {line}")
    raise Reported(EXIT_NOT_FOUND)


@app.command("git-setup")
def git_setup(ctx: typer.Context) -> None:
    """Make git merge the registry by meaning: the merge driver, .gitattributes and .gitignore.

    Example: partnerctl git-setup
    """
    import shlex
    import sys

    from partnerctl.storage import history

    io = state(ctx).io
    path = state(ctx).location().path
    # The interpreter this partnerctl runs in: git finds the driver whatever the PATH of its caller.
    done = history.git_setup(path, f"{shlex.quote(sys.executable)} -m partnerctl")
    for line in done:
        io.say(line)
    if not done:
        io.say("already set up")
