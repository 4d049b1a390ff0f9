"""The commands over whole relations: merge two into one, place partner cities (lat, lon) on the map.

Like the other write commands, each builds its change from the core (``core.edit``),
runs it through the write pipeline and reports (``cli.writing``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Writing, write_options
from partnerctl.cli.writing import Many, report, write
from partnerctl.core.i18n import _


@app.command()
@write_options("partnership")
def merge(ctx: typer.Context, writing: Writing,
          keep: Annotated[str, typer.Argument(help="The partnership to keep (id, city name or alias).",
                                              autocompletion=complete.partner)],
          other: Annotated[str, typer.Argument(help="The partnership folded into it, then removed.",
                                               autocompletion=complete.partner)],
          take: Annotated[list[str] | None, typer.Option(
              "--take", metavar="FIELD=keep|other",
              help="Whose value of a field both have, differently (since=other); repeatable.")] = None) -> None:
    """Fold one partnership into another: events, contacts, themes, networks, projects, links united.

    One write: OTHER is removed, KEEP holds both. OTHER's city becomes an alias. A field with a value
    on both sides that differs is refused unless --take says whose to keep.
    Example: partnerctl merge birmingham lyon-birmingham
    """
    from partnerctl.core import edit
    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.text import counted

    chosen = {}
    for item in take or []:
        name, sep, whose = item.partition("=")
        if not sep:
            raise InvalidInput(_("--take {item!r}: write FIELD=keep or FIELD=other").format(item=item))
        chosen[name.strip()] = whose.strip()

    def change(draft: Any) -> dict[str, Any]:
        return edit.merge_partnerships(draft, draft.resolve(keep), draft.resolve(other), chosen)

    written = write(ctx, change, writing)
    done = written.result
    moved = []
    for what in ("events", "contacts"):
        if done[what]:
            moved.append(counted(done[what], what[:-1]))
    detail = _(" ({items} brought over)").format(items=", ".join(moved)) if moved else ""
    renamed = "".join(_("; event {old} is now {new}").format(old=old, new=new) for old, new in done["renamed"])
    report(ctx, written, writing, (_("merged {other} into {keep}{detail}{renamed}").format(
                                       other=done["other"], keep=done["keep"], detail=detail, renamed=renamed),
                                   _("merge {other} into {keep}").format(other=done["other"], keep=done["keep"])),
           [_record_of(done["keep"], done["record"])])


def _record_of(pid: str, p: Any) -> dict[str, Any]:
    from partnerctl.core.model import record

    return record(pid, p)


@app.command()
@write_options("location")
def locate(ctx: typer.Context, writing: Writing,
           partners: Annotated[list[str] | None, typer.Argument(
               help="Partnerships (default: every one without a place).", autocompletion=complete.partner)] = None,
           force: Annotated[bool, typer.Option(
               "--force", help="Look up partnerships that have a lat and lon already, and replace them.")]
           = False) -> None:
    """Fill in lat and lon of partner cities from an offline gazetteer (GeoNames' cities of 15,000+ people).

    The city is matched in its country by its name, its aliases, then the gazetteer's alternate names;
    several matches: the most populous. Nothing goes over the network. Each city it cannot place is
    reported on stderr.
    Example: partnerctl locate turin milan
    """
    from partnerctl.core import countries, edit, geo
    from partnerctl.core.i18n import language
    from partnerctl.core.text import counted

    io = state(ctx).io

    def change(draft: Any) -> list[dict[str, Any]]:
        pids = (list(dict.fromkeys(draft.resolve(p) for p in partners)) if partners
                else sorted(draft.everything().partnerships))
        found = edit.locate(draft, pids, geo.locate, force)
        return [_location(pid, draft.peek(pid), match) for pid, match in found]

    # Every partnership: the whole registry is read (and, on a large one, written) in one go.
    written = write(ctx, change, writing, whole=not partners)
    rows = written.result
    placed = [r for r in rows if r["lat"] is not None]
    for r in rows:
        if r["lat"] is None:
            io.say(_("not placed: {partner} ({city}, {country}): no city of that name in the gazetteer for that "
                     "country; set it with: partnerctl set {partner} lat LAT, then lon").format(
                partner=r["partner"], city=r["city"], country=countries.display(r["country"], language())))
    ambiguous = sum(1 for r in placed if r["candidates"] > 1)
    more = _(", {n} of them the most populous of several of that name").format(n=ambiguous) if ambiguous else ""
    summary = _("{placed} placed{more}, {n} not placed").format(
        placed=counted(len(placed), "partnership"), more=more, n=len(rows) - len(placed))
    report(ctx, written, writing, (_("located partner cities: {summary}").format(summary=summary),
                                   _("locate partner cities: {summary}").format(summary=summary)),
           Many(rows))


def _location(pid: str, p: Any, match: Any) -> dict[str, Any]:
    """A partnership's row of ``locate`` (``records.LOCATION``)."""
    return {"partner": pid, "city": p.city, "country": p.country,
            "lat": match.lat if match else None, "lon": match.lon if match else None,
            "place": match.name if match else None, "population": match.population if match else None,
            "how": match.how if match else None, "candidates": match.candidates if match else 0}
