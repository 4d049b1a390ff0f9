"""The read commands: show, list, timeline, stats, search.

Each reads the registry through the one read API (``State.reader``), asks the
core, and prints with its output options (``options.Output``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, days, filter_options, output_options, year
from partnerctl.core.i18n import _
from partnerctl.core.query import Filters
from partnerctl.formats.output import Format

PartnerArg = Annotated[str, typer.Argument(
    help="Id, city name or alias (any case, accents optional), or a unique prefix.", autocompletion=complete.partner)]


@app.command()
@output_options("partnership")
def show(ctx: typer.Context, partner: PartnerArg, out: Output) -> None:
    """Show one partnership in full.

    Example: partnerctl show turin
    """
    out.check()
    reader = state(ctx).reader()
    rec = reader.record(reader.resolve(partner))

    def page(con: Any) -> Any:
        from partnerctl.cli import render

        return render.partnership(con, reader.snapshot({}), rec)

    out.emit(state(ctx).io, [rec], page, piped=Format.table, one=True)


def list_table(reader: Any, records: list[dict[str, Any]]) -> Any:
    """How ``list`` draws on a terminal: the table columns of the field table (counts, labels)."""
    from partnerctl.core.model import table

    specs = [s for s in table().partnership if s.meta.table]
    rows = []
    for r in records:
        row = {"id": r["id"]}
        for s in specs:
            value = r[s.name]
            if s.meta.table == "count":
                value = len(value)
            elif s.meta.table == "labels":
                value = [reader.snapshot({}).labels(s.meta.vocab).get(v, v) for v in value]
            row[s.name] = value
        rows.append(row)
    columns = ("id", *(s.name for s in specs))
    headings = {s.name: _(s.meta.heading).upper() for s in specs if s.meta.heading}

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.records_table(con, rows, columns, headings)

    return draw


@app.command("list")
@output_options("partnership")
@filter_options
def list_(ctx: typer.Context, filters: Filters, out: Output,
          sort: Annotated[str, typer.Option(help="Sort by id, city, country or since (first year).")] = "id") -> None:
    """List partnerships, one row each; filters combine.

    Example: partnerctl list --theme mobility --format json
    """
    from partnerctl.core import query

    query.check_sort(sort)
    out.check()
    reader = state(ctx).reader()
    records = reader.select(filters, sort)
    out.emit(state(ctx).io, records, list_table(reader, records), nothing=_("no partnerships match"))


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
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Only events from today on.")] = False,
    within: Annotated[int | None, typer.Option("--days", parser=days, metavar="N",
                                               help="With --upcoming: starting within N days.")] = None,
) -> None:
    """Key events in date order, of all or the named partnerships.

    Example: partnerctl timeline turin milan --since 2010
    """
    import datetime

    from partnerctl.core import query
    from partnerctl.core.records import event_row

    out.check()
    reader = state(ctx).reader()
    # dict.fromkeys: naming a partnership twice (turin torino) shows its events once.
    pids = list(dict.fromkeys(reader.resolve(p) for p in partners)) if partners else None
    events = reader.timeline(pids, since, until, theme or [])
    if upcoming or within is not None:
        # --days alone means --upcoming too: there is no other horizon it could count from.
        events = [(rec, e) for rec, e in events
                  if query.upcoming([(rec["id"], e)], datetime.date.today(), within)]
    items = [event_row(rec["id"], rec["city"], e) for rec, e in events]

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.timeline(con, items)

    out.emit(state(ctx).io, items, draw, nothing=_("no events match"))


def _shown_label(reader: Any, count: Any) -> str:
    """A count's label on the chart, in the language in force (the records keep the English one)."""
    from partnerctl.core.model import table

    spec = table().dimensions()[count.by]
    if count.key is None:
        return _(count.label)
    if spec.meta.vocab:
        return str(reader.snapshot({}).labels(spec.meta.vocab).get(count.key, count.label))
    if spec.meta.stat == "decade":
        return _("{decade}s").format(decade=count.key)
    return _(count.label) if spec.choices else str(count.label)


@app.command()
@output_options("stat")
@filter_options
def stats(ctx: typer.Context, filters: Filters, out: Output,
          by: Annotated[list[str] | None, typer.Option(
              "--by", "-b", help="theme, network, region, country, decade or status; repeatable. Default: all.")]
          = None) -> None:
    """Count partnerships by theme, network, region, country, decade or status (filters as in list).

    Example: partnerctl stats --by theme --region Europe
    """
    from dataclasses import asdict

    from partnerctl.core import stats as counting
    from partnerctl.core.text import counted

    dimensions = counting.check_dimensions(by or [])
    out.check()
    reader = state(ctx).reader()
    kept, groups = reader.counts(filters, dimensions)
    records = [asdict(c) for items in groups.values() for c in items]

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        charts = [(_("By {dimension} ({count})").format(dimension=_(dim), count=counted(kept, "partnership")),
                   [(_shown_label(reader, c), c.count) for c in items])
                  for dim, items in groups.items()]
        return render.bar_charts(con, charts)

    out.emit(state(ctx).io, records, draw)


@app.command()
@output_options("hit")
def search(ctx: typer.Context, out: Output,
           text: Annotated[str, typer.Argument(help="Words to find, any case, accents optional.")]) -> None:
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

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.search_hits(con, hits)

    out.emit(io, shown, draw)
    partners = len({h["partner"] for h in hits})
    io.say(_("{hits} in {partnerships}").format(hits=counted(len(hits), "hit"),
                                                 partnerships=counted(partners, "partnership")))
