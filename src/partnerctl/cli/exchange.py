"""Getting partnerships in and out: import (json, jsonl, csv, the twin-towns CSV) and export (every format)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from partnerctl.cli.app import app, state
from partnerctl.cli.options import RawOpt
from partnerctl.cli.writing import progress_bar, write
from partnerctl.core.i18n import _

# Each export format lives in one module of the formats layer; its ``export(reg, fmt, target, out,
# **options)`` writes to *target* (a path) or to *out* (stdout's bytes) and returns a summary for stderr.
EXPORTERS = {
    "json": "partnerctl.formats.exchange", "jsonl": "partnerctl.formats.exchange",
    "csv": "partnerctl.formats.exchange", "sqlite": "partnerctl.formats.sqlite",
    "markdown": "partnerctl.formats.site", "html": "partnerctl.formats.site",
    "ics": "partnerctl.formats.ics",
}


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(EXPORTERS)}.")] = "json",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File (or folder for markdown/html); default stdout.")] = None,
    raw: RawOpt = False,
    force: Annotated[bool, typer.Option(
        "--force", help="html/markdown: export into a non-empty folder no export wrote, keeping its files.")] = False,
) -> None:
    """Export the whole registry.

    Example: partnerctl export --format json -o lyon.json
    """
    import importlib

    from partnerctl.core.errors import InvalidInput

    if fmt not in EXPORTERS:
        raise InvalidInput(_("--format must be one of {items}, not {fmt!r}").format(
            items=', '.join(EXPORTERS), fmt=fmt))
    if force and fmt not in ("html", "markdown"):
        raise InvalidInput(_("--force is for --format html or markdown (a folder of pages)"))
    module = importlib.import_module(EXPORTERS[fmt])
    # Only the CSV has cells to neutralise; the other formats write exact text anyway.
    options: dict[str, Any] = {"raw": True} if raw and fmt == "csv" else {}
    if force:
        options["force"] = True
    from partnerctl.cli.language import chosen

    if fmt in ("html", "markdown") and len(chosen()) > 1:
        options["languages"] = chosen()  # --lang fr,en: the site in each language, fr/ and en/
    io = state(ctx).io
    reader = state(ctx).reader()
    summary = module.export(reader.registry(), fmt, output, io.binary_stdout(), **options)
    reader.close()
    if summary:
        io.say(summary)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="File to import; - reads stdin (give --format).")],
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="json, jsonl or csv. Default: from the file name.")] = None,
    owner: Annotated[str | None, typer.Option(help="Import only the relations of this owner city.")] = None,
    on_conflict: Annotated[str, typer.Option(
        "--on-conflict", help="A partnership already in the registry: skip it, update it, or fail (nothing written).")
    ] = "skip",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would happen, write nothing.")] = False,
) -> None:
    """Import partnerships (json, jsonl, csv, or the twin-towns CSV dataset); report every row not imported.

    Example: partnerctl import twin_cities_raw.csv --owner Lyon --dry-run
    """
    from partnerctl.core.errors import InvalidInput
    from partnerctl.formats import exchange
    from partnerctl.storage import store

    if on_conflict not in exchange.ON_CONFLICT:
        raise InvalidInput(_("--on-conflict must be one of {items}, not {on_conflict!r}").format(
            items=', '.join(exchange.ON_CONFLICT), on_conflict=on_conflict))
    io = state(ctx).io
    with progress_bar(io) or nullcontext(store.no_progress) as tick:
        batch = exchange.load(file, fmt, tick, io.stdin)

        def change(draft: Any) -> Any:
            return exchange.merge(draft.everything(), batch, on_conflict, owner, tick)

        written = write(ctx, change, whole=True, dry_run=dry_run, progress=tick)
    result = written.result
    for line in [*result.lines, *result.notes, result.summary(dry_run)]:
        io.say(line)
