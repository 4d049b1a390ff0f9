"""The commands that change key events: add-event (one, or many from JSON lines), edit-event, remove-event.

An event is printed the one way every command prints it (``records.event_row``).
Their options come from the field table (``model.Event``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Writing, field_options, write_options
from partnerctl.cli.writing import Many, report, write
from partnerctl.core.i18n import _

EventArg = Annotated[str, typer.Argument(help="The event's id (or a unique prefix of it).",
                                         autocompletion=complete.event)]
PartnerArg = Annotated[str, typer.Argument(help="Id, city name or alias.", autocompletion=complete.partner)]


def _row(draft: Any, pid: str, event: Any) -> dict[str, Any]:
    from partnerctl.core.model import to_dict
    from partnerctl.core.records import event_row

    return event_row(pid, draft.peek(pid).city if draft.has(pid) else "", to_dict(event))


def _draw(items: list[dict[str, Any]]) -> Any:
    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.timeline(con, items)

    return draw


def _event_change(ctx: typer.Context, partner: str, fn: Any, did: Any, writing: Writing, *,
                  always: bool = False) -> None:
    """Apply *fn(draft, pid) -> event* to one partnership and report the event; *did(pid, event)* says what.

    With *always* the event is printed even without --format (add-event shows the id it made).
    """
    def change(draft: Any) -> tuple[str, Any, dict[str, Any]]:
        pid = draft.resolve(partner)
        event = fn(draft, pid)
        return pid, event, _row(draft, pid, event)

    written = write(ctx, change, writing)
    pid, event, row = written.result
    report(ctx, written, writing, did(pid, event), [row], always=always, table=_draw([row]))


@app.command("add-event")
@write_options("event")
@field_options("event", skip=("id",))
def add_event(
    ctx: typer.Context,
    given: dict[str, Any],
    writing: Writing,
    partner: Annotated[str | None, typer.Argument(help="Id, city name or alias.",
                                                  autocompletion=complete.partner)] = None,
    from_jsonl: Annotated[str | None, typer.Option(
        "--from-jsonl", metavar="FILE",
        help='Add one event per JSON line {"partner", "date", "title", ...} (- for stdin); all or nothing.')] = None,
) -> None:
    """Append a key event to a partnership and print it with its id; on a terminal, asks for what is missing.

    Example: partnerctl add-event turin --date 2011-03 --title "Parks twinning charter"
    """
    from partnerctl.cli import prompts
    from partnerctl.core import edit
    from partnerctl.core.errors import InvalidInput

    if from_jsonl is not None:
        if partner or any(v for v in given.values()):
            raise InvalidInput(_("--from-jsonl takes the events from the file: give no PARTNER or event"
                                 " options"))
        _add_events_from(ctx, from_jsonl, writing)
        return
    if prompts.needed(state(ctx).io) and (partner is None or prompts.missing(given, "event")):
        prompts.ready(ctx, writing)
        partner = prompts.record(ctx, "event", partner, given)
    if partner is None:
        raise InvalidInput(_("missing argument PARTNER (or give --from-jsonl FILE)"))
    prompts.check_given(given, "event")
    _event_change(ctx, partner, lambda draft, pid: edit.add_event(draft, pid, **given),
                  lambda pid, e: (_("added event {id} to {pid}").format(id=e.id, pid=pid),
                                  _("add event {id} to {pid}").format(id=e.id, pid=pid)), writing,
                  always=True)


def _add_events_from(ctx: typer.Context, source: str, writing: Writing) -> None:
    """``add-event --from-jsonl``: every line's event, in one write, or none."""
    from partnerctl.core import edit
    from partnerctl.core.text import counted
    from partnerctl.storage.files import read_input

    text = read_input(source, state(ctx).io.stdin)

    def change(draft: Any) -> list[dict[str, Any]]:
        return [_row(draft, pid, e) for pid, e in edit.add_events_jsonl(draft, text.splitlines())]

    written = write(ctx, change, writing)
    items = Many(written.result)
    n = counted(len(items), "event")
    report(ctx, written, writing,
           (_("added {n} from {source}").format(n=n, source=source),
            _("add {n} from {source}").format(n=n, source=source)),
           items, always=True,
           table=_draw(items))


@app.command("edit-event")
@write_options("event")
@field_options("event", skip=("id",))
def edit_event(
    ctx: typer.Context, partner: PartnerArg, event_id: EventArg, given: dict[str, Any], writing: Writing,
    new_id: Annotated[str | None, typer.Option("--id", help="A new id for the event.")] = None,
    unset: Annotated[list[str] | None, typer.Option(
        "--unset", help="Remove end, description, themes or links; repeatable.")] = None,
) -> None:
    """Change an event of a partnership (its id stays unless --id); a list option replaces the list.

    Example: partnerctl edit-event turin 2011-03-parks-twinning-charter --date 2011-04
    """
    from partnerctl.core import edit

    changes = {**given, "id": new_id}
    _event_change(ctx, partner, lambda draft, pid: edit.edit_event(draft, pid, event_id, changes, unset or []),
                  lambda pid, e: (_("changed event {id} of {pid}").format(id=e.id, pid=pid),
                                  _("change event {id} of {pid}").format(id=e.id, pid=pid)), writing)


@app.command("remove-event")
@write_options("event")
def remove_event(ctx: typer.Context, partner: PartnerArg, event_id: EventArg, writing: Writing) -> None:
    """Remove an event of a partnership.

    Example: partnerctl remove-event turin 2012-one-off-events-sncf
    """
    from partnerctl.core import edit

    _event_change(ctx, partner, lambda draft, pid: edit.remove_event(draft, pid, event_id),
                  lambda pid, e: (_("removed event {id} from {pid}").format(id=e.id, pid=pid),
                                  _("remove event {id} from {pid}").format(id=e.id, pid=pid)), writing)
