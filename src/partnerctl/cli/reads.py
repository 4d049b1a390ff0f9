"""The read commands over many partnerships: list, timeline, search, duplicates (``show`` is in cli/show.py).

Each reads the registry through the one read API (``State.reader``), asks the
core, and prints with its output options (``options.Output``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, filter_options, output_options
from partnerctl.cli.values import LimitOpt, days, limited, year
from partnerctl.core.i18n import _
from partnerctl.core.query import Filters
from partnerctl.formats.output import Format


def list_table(reader: Any, records: Sequence[dict[str, Any]], many_owners: bool = False) -> Any:
    """How ``list`` draws on a terminal: the table columns of the field table (counts, labels, names), each
    value as the partnership holds it (its owner, else the registry's; its region, else its country's)."""
    from partnerctl.core.model import table

    specs = [s for s in table().partnership if s.meta.table and (many_owners or not s.meta.many_owners)]
    columns = ("id", *(s.name for s in specs))
    headings = {s.name: _(s.meta.heading).upper() for s in specs if s.meta.heading}

    def draw(con: Any) -> Any:
        from partnerctl.cli import tables

        # Only for a table: the names of countries (pycountry) are not loaded for piped rows.
        snap = reader.snapshot({})

        def row_of(r: dict[str, Any]) -> dict[str, Any]:
            row = {"id": r["id"]}
            for s in specs:
                value = snap.value(r, s.name)
                if s.meta.table == "count":
                    value = len(value)
                elif isinstance(value, list):
                    value = [snap.shown(s.name, v) for v in value]
                elif value is not None:
                    value = snap.shown(s.name, value)
                row[s.name] = value
            return row

        # Rows made as the table draws them (a hundred at a time): the records are read as they go too.
        return tables.records_table(con, tables.Mapped(records, row_of), columns, headings)

    return draw


@app.command("list")
@output_options("partnership")
@filter_options
def list_(ctx: typer.Context, filters: Filters, out: Output,
          sort: Annotated[str, typer.Option(help="Sort by id, city, country or since (first year).")] = "id",
          limit: LimitOpt = None) -> None:
    """List partnerships, one row each; filters combine.

    Example: partnerctl list --theme mobility --format json
    """
    from partnerctl.core import query

    query.check_sort(sort)
    out.check()
    reader = state(ctx).reader()
    records = reader.select(filters, sort)
    shown = limited(records, limit)
    many = reader.many_owners()
    out.emit(state(ctx).io, shown, list_table(reader, shown, many), nothing=_("no partnerships match"),
             footer=count_line(len(shown), len(records), "partnership"), many_owners=many)


def count_line(shown: int, total: int, noun: str) -> str:
    """The line that ends a table on a terminal: ``1353 partnerships``, or ``20 of 1353 partnerships (--limit)``."""
    from partnerctl.core.text import counted

    whole = counted(total, noun)
    return whole if shown == total else _("{shown} of {whole} (--limit)").format(shown=shown, whole=whole)


@app.command()
@output_options("event")
def timeline(
    ctx: typer.Context,
    out: Output,
    partners: Annotated[list[str] | None, typer.Argument(help="Partnerships (default: all).",
                                                         autocompletion=complete.partner)] = None,
    since: Annotated[int | None, typer.Option("--since", parser=year, metavar="YEAR",
                                              help="Events from this year on.")] = None,
    until: Annotated[int | None, typer.Option("--until", parser=year, metavar="YEAR",
                                              help="Events up to this year.")] = None,
    theme: Annotated[list[str] | None, typer.Option(
        "--theme", "-t", help="Theme slug, label or a word of it; repeat: all must hold.",
        autocompletion=complete.theme)] = None,
    upcoming: Annotated[bool, typer.Option(
        "--upcoming", help="Only events from today on, with this year's round anniversaries.")] = False,
    within: Annotated[int | None, typer.Option("--days", parser=days, metavar="N",
                                               help="With --upcoming: starting within N days.")] = None,
    limit: LimitOpt = None,
    with_anniversaries: Annotated[bool, typer.Option(
        "--anniversaries/--no-anniversaries", help="With --upcoming: list this year's round anniversaries too.")
    ] = True,
) -> None:
    """Key events in date order, of all or the named partnerships.

    Example: partnerctl timeline turin milan --since 2010
    """
    import datetime

    from partnerctl.core import dates, query
    from partnerctl.core.records import event_row

    out.check()
    reader = state(ctx).reader()
    # dict.fromkeys: naming a partnership twice (turin torino) shows its events once.
    pids = list(dict.fromkeys(reader.resolve(p) for p in partners)) if partners else None
    events = reader.timeline(pids, since, until, theme or [])
    items = [event_row(rec["id"], rec["city"], e) for rec, e in events]
    titles: dict[tuple[str, str], str] = {}  # anniversaries' titles as people read them (the rows keep English)
    if upcoming or within is not None:
        # --days alone means --upcoming too: there is no other horizon it could count from.
        today = datetime.date.today()
        if with_anniversaries:
            items += _anniversary_events(reader, pids, today, since, until, theme or [], titles)
        kept = query.upcoming([(item["partner"], item) for item in items], today, within)
        items = sorted((dict(item) for _, item in kept), key=lambda item: dates.sort_key(item["date"]))
    items = limited(items, limit)

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.timeline(con, [{**i, "title": titles.get((i["partner"], i["id"]), i["title"])} for i in items])

    out.emit(state(ctx).io, items, draw, nothing=_("no events match"))


def _anniversary_events(reader: Any, pids: list[str] | None, today: Any, since: int | None, until: int | None,
                        themes: list[str], titles: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """This year's round anniversaries as timeline events, kept by the same --since, --until and --theme.

    Their titles are English, as every row scripts read; *titles* gets each one in the run's language.
    """
    import gettext

    from partnerctl.core import anniversaries, i18n, query

    records = reader.dated(pids)
    rows = anniversaries.anniversaries(records, today.year, anniversaries.DEFAULT_EVERY)
    with i18n.using("en", gettext.NullTranslations()):
        events = [anniversaries.as_event(row, records[row["partner"]]) for row in rows]
    for row, event in zip(rows, events, strict=True):
        titles[(event["partner"], event["id"])] = anniversaries.describe(row)
    kept = []
    snap = reader.snapshot({})
    wanted = [query.match_vocab(snap.themes, t, "theme") for t in themes]
    for event in events:
        on = set(event["themes"] or records[event["partner"]].get("themes") or [])
        if ((since is None or today.year >= since) and (until is None or today.year <= until)
                and all(w & on for w in wanted)):
            kept.append(event)
    return kept


@app.command()
@output_options("hit")
def search(ctx: typer.Context, out: Output,
           text: Annotated[str, typer.Argument(help="Words to find, any case, accents optional.")],
           limit: LimitOpt = None) -> None:
    """Find text in names, aliases, themes, networks, projects, summaries, events and contacts.

    Example: partnerctl search delice
    """
    from partnerctl.core.text import counted

    out.check()
    io = state(ctx).io
    hits = [{"partner": hit.partner, "city": rec["city"], "field": hit.field, "text": hit.text,
             "spans": [list(span) for span in hit.spans]} for rec, hit in state(ctx).reader().search(text)]
    shown = hits
    if out.chosen(io.stdout_tty) is Format.ids:
        # Ids name partnerships: one line each, however many of its fields hold the text.
        shown = list({h["partner"]: h for h in hits}.values())
    total = len(shown)
    shown = limited(shown, limit)

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.search_hits(con, shown)

    out.emit(io, shown, draw)
    partners = len({h["partner"] for h in hits})
    also = (_(" ({shown} of {total} shown: --limit)").format(shown=len(shown), total=total)
            if len(shown) < total else "")
    io.say(_("{hits} in {partnerships}").format(hits=counted(len(hits), "hit"),
                                                 partnerships=counted(partners, "partnership")) + also)


@app.command()
@output_options("duplicate")
def duplicates(ctx: typer.Context, out: Output) -> None:
    """List partnerships that are, or may be, one relation held twice (merge them with merge).

    A duplicate: same owner, a name in common, countries that overlap. A near one: names alike
    once punctuation is set aside, one name in countries that differ, or two names the offline
    gazetteer resolves to one city (Be'er Sheva and Beersheba) in countries that overlap.
    Example: partnerctl duplicates
    """
    from partnerctl.core.text import counted

    out.check()
    io = state(ctx).io
    pairs = state(ctx).reader().duplicates()
    records = [pair.row() for pair in pairs]

    def draw(con: Any) -> Any:
        from partnerctl.cli import tables

        return tables.records_table(con, records, ("partner", "other", "kind", "why"))

    out.emit(io, records, draw)
    found = sum(p.kind == "duplicate" for p in pairs)
    io.say(_("{duplicates}, {near}").format(duplicates=counted(found, "duplicate"),
                                            near=counted(len(pairs) - found, "near duplicate"))
           + (_("; fold one into the other with: partnerctl merge PARTNER OTHER") if pairs else ""))
