"""The commands that change a partnership: add, set, unset, tag, untag, add-to, remove-from, rename, remove.

Each builds its change from the core (``core.edit``), runs it through the write
pipeline and reports (``cli.writing``). Which fields ``set`` and ``add-to``
take, and the options of ``add``, come from the field table.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Writing, field_options, write_options
from partnerctl.cli.writing import report, write
from partnerctl.core.i18n import _
from partnerctl.core.model import table

PartnerArg = Annotated[str, typer.Argument(help="Id, city name or alias.", autocompletion=complete.partner)]
ValuesArg = Annotated[list[str], typer.Argument(help="One or more values.")]


def _record(draft: Any, pid: str) -> dict[str, Any]:
    from partnerctl.core.model import record

    return record(pid, draft.peek(pid))


def _change_one(ctx: typer.Context, partner: str, fn: Any, did: Any, writing: Writing) -> None:
    """Apply *fn(draft, pid)* to the partnership *partner* names and report its record; *did(pid)* says what."""
    def change(draft: Any) -> dict[str, Any]:
        pid = draft.resolve(partner)
        fn(draft, pid)
        return _record(draft, pid)

    written = write(ctx, change, writing)
    rec = written.result
    report(ctx, written, writing, did(rec["id"]), [rec])


@app.command()
@write_options("partnership")
@field_options("partnership", skip=("city",))
def add(ctx: typer.Context, given: dict[str, Any], writing: Writing,
        city: Annotated[str | None, typer.Argument(
            help="The partner city's name (asked for on a terminal when left out).", show_default=False)] = None,
        id_: Annotated[str | None, typer.Option("--id", help="Id (a slug). Default: the city's name as a slug.")]
        = None,
        no_gazetteer: Annotated[bool, typer.Option(
            "--no-gazetteer", help="Do not refuse a city the gazetteer puts where another partnership of the "
                                   "owner is (a different relation after all).")] = False) -> None:
    """Add a partnership; on a terminal, asks for what is missing.

    Example: partnerctl add Łódź --country Poland --since 1991 --theme culture   (id: lodz)
    """
    from partnerctl.cli import prompts
    from partnerctl.core import edit, geo

    if prompts.needed(state(ctx).io) and (city is None or prompts.missing(given, "partnership", skip=("city",))):
        prompts.ready(ctx, writing)
        city, id_ = prompts.partnership(ctx, city, id_, given)
    if city is None:
        raise prompts.missing_argument(ctx, "city")
    prompts.check_given(given, "partnership", skip=("city",))
    fields = {k: v for k, v in given.items() if v is not None and k != "country"}
    # Read before the write takes its lock (about 0.6 s), so the lock is not held that long; and only
    # when the registry has a partnership in that country, the one case the gazetteer can find a duplicate.
    gazetteer = None if no_gazetteer or not _has_country(ctx, given["country"]) else geo.gazetteer().load()

    def change(draft: Any) -> dict[str, Any]:
        pid = edit.add_partnership(draft, city, given["country"], id_, gazetteer=gazetteer, **fields)
        return _record(draft, pid)

    written = write(ctx, change, writing)
    rec = written.result
    report(ctx, written, writing, (_("added partnership {id} ({city})").format(id=rec["id"], city=city),
                                   _("add partnership {id} ({city})").format(id=rec["id"], city=city)), [rec])


def _has_country(ctx: typer.Context, country: str) -> bool:
    """Whether the registry holds a partnership in the nation of *country* (a code, a name or an alias);
    True when *country* cannot be read (the change refuses it then, with its message)."""
    from partnerctl.core import countries, query
    from partnerctl.core.errors import InvalidInput
    from partnerctl.storage import store

    try:
        code = countries.resolver(store.read_head(state(ctx).location().path).countries).resolve(country)
    except (InvalidInput, ValueError):
        return True
    reader = state(ctx).reader()
    try:
        return bool(reader.select(query.Filters({"country": countries.nation(code)})))
    finally:
        reader.close()  # its read transaction would keep the write from updating the index


# A value may start with "-" (a longitude west of Greenwich: set montreal lon -73.57): not an option.
@app.command("set", context_settings={"ignore_unknown_options": True})
@write_options("partnership")
def set_(ctx: typer.Context, partner: PartnerArg, writing: Writing,
         field: Annotated[str, typer.Argument(help=", ".join(table().settable()) + ".")],
         value: Annotated[str, typer.Argument(help="The new value.")]) -> None:
    """Set a field of a partnership.

    Example: partnerctl set turin status active
    """
    from partnerctl.core import edit

    _change_one(ctx, partner, lambda draft, pid: edit.set_field(draft, pid, field, value),
                lambda pid: (_("set {field} of {pid}").format(field=field, pid=pid),
                             _("set {field} of {pid}").format(field=field, pid=pid)), writing)


@app.command()
@write_options("partnership")
def unset(ctx: typer.Context, partner: PartnerArg, writing: Writing,
          field: Annotated[str, typer.Argument(help="An optional field (see set).")]) -> None:
    """Remove an optional field of a partnership.

    Example: partnerctl unset turin kind
    """
    from partnerctl.core import edit

    _change_one(ctx, partner, lambda draft, pid: edit.unset_field(draft, pid, field),
                lambda pid: (_("unset {field} of {pid}").format(field=field, pid=pid),
                             _("unset {field} of {pid}").format(field=field, pid=pid)), writing)


def _list_edit(ctx: typer.Context, partner: str, field: str, values: list[str], add: bool, writing: Writing) -> None:
    """``add-to`` / ``remove-from`` (and ``tag`` / ``untag``, on themes)."""
    from partnerctl.core import edit

    change = edit.add_to if add else edit.remove_from
    past, plain = ((_("added to {field} of {pid}: {shown}"), _("add to {field} of {pid}: {shown}")) if add
                   else (_("removed from {field} of {pid}: {shown}"), _("remove from {field} of {pid}: {shown}")))
    shown = ", ".join(values)
    _change_one(ctx, partner, lambda draft, pid: change(draft, pid, field, values),
                lambda pid: (past.format(field=field, pid=pid, shown=shown), plain.format(field=field, pid=pid,
                                                                                           shown=shown)),
                writing)


FieldArg = Annotated[str, typer.Argument(help=", ".join(table().list_fields()) + ".")]


@app.command()
@write_options("partnership")
def tag(ctx: typer.Context, partner: PartnerArg, themes: ValuesArg, writing: Writing) -> None:
    """Add themes to a partnership (short for add-to PARTNER themes).

    Example: partnerctl tag turin light sport
    """
    _list_edit(ctx, partner, "themes", themes, True, writing)


@app.command()
@write_options("partnership")
def untag(ctx: typer.Context, partner: PartnerArg, themes: ValuesArg, writing: Writing) -> None:
    """Remove themes from a partnership (short for remove-from PARTNER themes).

    Example: partnerctl untag turin sport
    """
    _list_edit(ctx, partner, "themes", themes, False, writing)


@app.command("add-to")
@write_options("partnership")
def add_to(ctx: typer.Context, partner: PartnerArg, field: FieldArg, values: ValuesArg, writing: Writing) -> None:
    """Add values to a list field of a partnership.

    Example: partnerctl add-to turin networks luci
    """
    _list_edit(ctx, partner, field, values, True, writing)


@app.command("remove-from")
@write_options("partnership")
def remove_from(ctx: typer.Context, partner: PartnerArg, field: FieldArg, values: ValuesArg,
                writing: Writing) -> None:
    """Remove values from a list field of a partnership.

    Example: partnerctl remove-from turin projects CITYLOG
    """
    _list_edit(ctx, partner, field, values, False, writing)


@app.command()
@write_options("partnership")
def rename(ctx: typer.Context, partner: PartnerArg, writing: Writing,
           new_id: Annotated[str, typer.Argument(help="The new id (a slug).")]) -> None:
    """Give a partnership a new id.

    Example: partnerctl rename saint-louis st-louis
    """
    from partnerctl.core import edit

    def change(draft: Any) -> tuple[str, dict[str, Any]]:
        old = draft.resolve(partner)
        new = edit.rename_partnership(draft, old, new_id)
        return old, _record(draft, new)

    written = write(ctx, change, writing)
    old, rec = written.result
    report(ctx, written, writing, (_("renamed {old} to {id}").format(old=old, id=rec["id"]),
                                   _("rename {old} to {id}").format(old=old, id=rec["id"])), [rec])


@app.command()
@write_options("partnership")
def remove(ctx: typer.Context, partner: PartnerArg, writing: Writing,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for scripts).")] = False) -> None:
    """Remove a partnership with its events and contacts (asks first on a terminal).

    Example: partnerctl remove saint-louis --yes
    """
    from partnerctl.cli.editor import confirm
    from partnerctl.core import edit
    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.model import record
    from partnerctl.core.text import counted

    io = state(ctx).io
    if not yes and not writing.dry_run:
        if not io.stdin_tty:
            raise InvalidInput(_("refusing to remove without --yes when not on a terminal"))
        reader = state(ctx).reader()
        pid = reader.resolve(partner)
        p = reader.record(pid)
        country = reader.snapshot({}).shown("country", p["country"])
        reader.close()
        question = _("Remove {id} ({city}, {country}) with its {events} and {contacts}?").format(
            id=pid, city=p["city"], country=country, events=counted(len(p["events"]), "event"),
            contacts=counted(len(p["contacts"]), "contact"))
        if not confirm(io, question):
            raise InvalidInput(_("not removed: {id}").format(id=pid))
        partner = pid

    def change(draft: Any) -> dict[str, Any]:
        pid = draft.resolve(partner)
        return record(pid, edit.remove_partnership(draft, pid))

    written = write(ctx, change, writing)
    rec = written.result
    report(ctx, written, writing, (_("removed partnership {id} ({city})").format(id=rec["id"], city=rec["city"]),
                                   _("remove partnership {id} ({city})").format(id=rec["id"], city=rec["city"])),
           [rec])
