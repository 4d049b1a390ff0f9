"""What every write command does around its change: run it through the write pipeline, then report.

``write`` hands a change (a function of a ``Draft``) to ``store.write`` with the
root options (lock timeout, backups); ``report`` says what it did in one line
on stderr and prints the changed records with ``--format``/``--json`` (or the
diff of the file on ``--dry-run``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import typer

from partnerctl.cli.app import state
from partnerctl.cli.options import Writing
from partnerctl.core.i18n import _

T = TypeVar("T")


def write(ctx: typer.Context, fn: Callable[[Any], T], writing: Writing | None = None, *, whole: bool = False,
          dry_run: bool = False, progress: Any = None, prepare: Callable[[Any], None] | None = None,
          reformat: bool = False) -> Any:
    """Run the change *fn* (a function of a Draft) through ``store.write``; returns the ``Written``.

    The output options are checked first: a contradiction must fail before the write.
    """
    from partnerctl.storage import store

    if writing is not None:
        writing.out.check()
        dry_run = dry_run or writing.dry_run
    st = state(ctx)
    options: dict[str, Any] = {"dry_run": dry_run, "backup": st.backup}
    if st.lock_timeout is not None:
        options["lock_timeout"] = st.lock_timeout
    if progress is not None:
        options["progress"] = progress
    written = store.write(st.location(), store.Change(fn, whole=whole or prepare is not None, prepare=prepare,
                                                      reformat=reformat), **options)
    st.landed = st.landed or written.written
    return written


def report(ctx: typer.Context, written: Any, writing: Writing, did: tuple[str, str],
           records: Sequence[dict[str, Any]], *, always: bool = False, table: Callable[[Any], Any] | None = None,
           name: str | None = None) -> None:
    """Say what a write did (*did*: past and plain form) and print the changed records or the diff.

    The records are printed with --format/--json (or *always*); a dry run without
    them prints the unified diff of the registry file (named *name*) instead.
    """
    from partnerctl.core.text import clean

    io = state(ctx).io
    past, plain = did
    if writing.dry_run:
        io.say(_("would {change}").format(change=plain))
        if not writing.out.asked:
            io.stdout.write(clean(written.diff(name or state(ctx).location().path.name), multiline=True))
            return
    else:
        io.say(past if written.written else _("no changes"))
    if writing.out.asked or always:
        writing.out.emit(io, list(records), table, one=len(records) == 1 and not always_list(records))


def always_list(records: Sequence[dict[str, Any]]) -> bool:
    """Whether JSON output of these records is a list (several of them) rather than the one object."""
    return getattr(records, "as_list", False)


class Many(list):  # type: ignore[type-arg]
    """Records a write reports as a JSON list even when there is one (``add-event --from-jsonl``)."""

    as_list = True


def progress_bar(io: Any) -> Any:
    """A Rich progress bar on stderr when it is a terminal, else None (nothing is drawn)."""
    if not io.stderr.isatty():
        return None
    from partnerctl.cli import render

    return render.progress()
