"""The printable outputs for people: the meeting brief."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.core.i18n import _


@app.command()
def brief(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(
        help="Id, city name or alias (any case, accents optional), or a unique prefix.",
        autocompletion=complete.partner)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="File to write (default: stdout).")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="html or markdown. Default: markdown for an -o FILE ending in .md, else html.")] = None,
    events: Annotated[int, typer.Option(
        "--events", min=0, max=1000, metavar="N", help="How many of the latest key events (0: all).")] = 5,
    templates: Annotated[Path | None, typer.Option(
        "--templates", file_okay=False, help="A folder of templates that replace the shipped ones "
        "(brief/brief.html, brief/brief.md; default: the 'templates' setting).")] = None,
) -> None:
    """A printable meeting brief about one partnership (internal: it shows the internal notes).

    Example: partnerctl brief turin -o turin-brief.html
    """
    from partnerctl.cli.exchange import site_options
    from partnerctl.core.errors import InvalidInput
    from partnerctl.formats import brief as briefs
    from partnerctl.formats import templating
    from partnerctl.storage import files

    if fmt is None:
        fmt = "markdown" if output is not None and output.suffix.lower() in (".md", ".markdown") else "html"
    if fmt not in briefs.FORMATS:
        raise InvalidInput(_("--format must be one of {items}, not {fmt!r}").format(
            items=", ".join(briefs.FORMATS), fmt=fmt))
    options = site_options(templates)
    env = templating.environment(options["templates"])
    reader = state(ctx).reader()
    pid = reader.resolve(partner)
    text = briefs.brief(reader.snapshot({}), pid, reader.record(pid), fmt=fmt, events=events, env=env,
                        branding=options["branding"])
    reader.close()
    io = state(ctx).io
    if output is None:
        io.stdout.write(text)
        return
    files.write_atomic(output, text.encode("utf-8"))
    io.say(_("wrote the brief of {pid} to {output}").format(pid=pid, output=output))
