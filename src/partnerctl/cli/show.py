"""``show``: one partnership in full.

A module of its own: the command scripts call most in a loop imports only what it
needs (the other reads declare filters and options of their own at import).
"""

# No ``from __future__ import annotations``: Typer reads the commands' annotations on every run, and
# objects cost nothing to read where strings are compiled and evaluated each time.

from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.options import Output, output_options
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

    many = out.asked and out.chosen(state(ctx).io.stdout_tty) in (Format.csv, Format.tsv) and reader.many_owners()
    out.emit(state(ctx).io, [rec], page, piped=Format.table, one=True, many_owners=many)
