"""The figures: stats (counts, percentages, SVG charts) and anniversaries.

Each reads the registry through the one read API (``State.reader``), asks the
core (``core.stats``, ``core.anniversaries``), and prints with its output options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, filter_options, output_options
from partnerctl.cli.values import year
from partnerctl.core.i18n import _
from partnerctl.core.query import Filters


def _dimensions() -> str:
    from partnerctl.core.model import table

    names = list(table().dimensions())
    return ", ".join(names[:-1]) + " or " + names[-1]


@app.command()
@output_options("anniversary")
def anniversaries(
    ctx: typer.Context,
    out: Output,
    partners: Annotated[list[str] | None, typer.Argument(help="Partnerships (default: all).",
                                                         autocompletion=complete.partner)] = None,
    in_year: Annotated[int | None, typer.Option("--year", parser=year, metavar="YEAR",
                                                help="The year to look at. Default: this year.")] = None,
    every: Annotated[int, typer.Option("--every", min=1, max=1000, metavar="N",
                                       help="Anniversaries every N years (25, 50, 75, 100 are jubilees).")] = 5,
) -> None:
    """Round anniversaries of each partnership's first year and of key events with a full date.

    Example: partnerctl anniversaries --year 2026
    """
    import datetime

    out.check()
    reader = state(ctx).reader()
    pids = list(dict.fromkeys(reader.resolve(p) for p in partners)) if partners else None
    rows = reader.anniversaries(in_year or datetime.date.today().year, every, pids)

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.anniversaries(con, rows)

    out.emit(state(ctx).io, rows, draw, nothing=_("no anniversaries"))


@app.command()
@output_options("stat", also=("svg",))
@filter_options
def stats(ctx: typer.Context, filters: Filters, out: Output,
          by: Annotated[list[str] | None, typer.Option(
              "--by", "-b", help=f"{_dimensions()}; repeatable. Default: all (owner and owner-country where the "
                                 "registry holds several owners).")]
          = None,
          output: Annotated[Path | None, typer.Option(
              "--output", "-o", dir_okay=False, help="With --format svg: the file to write (default: stdout).")]
          = None) -> None:
    """Count partnerships by theme, network, region, country, decade, status, owner or owner's country.

    The filters are those of list. Example: partnerctl stats --by theme --region Europe
    """
    from partnerctl.core import stats as counting
    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.text import counted

    out.check()
    if output is not None and out.other != "svg":
        raise InvalidInput(_("-o is for --format svg (the other formats print on stdout)"))
    reader = state(ctx).reader()
    dimensions = counting.check_dimensions(by or [], reader.many_owners())
    kept, groups = reader.counts(filters, dimensions)
    if out.other == "svg":
        snap = reader.snapshot({})
        _write_svg(ctx, groups, kept, output, lambda c: counting.shown_label(snap, c))
        return
    records = [dict(vars(c)) for items in groups.values() for c in items]  # its fields, scalars: no deep copy

    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        snap = reader.snapshot({})
        charts = [(_("By {dimension} ({count})").format(dimension=_(dim), count=counted(kept, "partnership")),
                   [(counting.shown_label(snap, c), c.count, c.percent) for c in items])
                  for dim, items in groups.items()]
        return render.bar_charts(con, charts)

    out.emit(state(ctx).io, records, draw)


def _write_svg(ctx: typer.Context, groups: Any, kept: int, output: Path | None, shown: Any) -> None:
    """``stats --format svg``: the bar charts into *output*, or on stdout (*shown*: a count's label)."""
    from partnerctl.core.text import counted
    from partnerctl.formats import charts
    from partnerctl.storage import files

    io = state(ctx).io
    svg = charts.charts(groups, kept, shown=shown).encode("utf-8")
    if output is None:
        stream = io.binary_stdout()
        stream.write(svg)
        stream.flush()
        return
    files.write_atomic(output, svg)
    io.say(_("wrote {charts} to {output}").format(charts=counted(len(groups), "chart"), output=output))

