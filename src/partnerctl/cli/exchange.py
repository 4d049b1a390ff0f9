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

# Each export format lives in one module of the formats layer; its ``export(source, fmt, target, out,
# **options)`` writes to *target* (a path) or to *out* (stdout's bytes) and returns a summary for stderr.
# *source* is the storage.reader.Reader: ``source.head`` and ``source.each_record()`` (one partnership at
# a time, in id order: memory does not grow with the registry), or ``source.registry()`` (every model).
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
    templates: Annotated[Path | None, typer.Option(
        "--templates", file_okay=False, help="html/markdown: a folder of templates that replace the shipped ones "
        "(default: the 'templates' setting).")] = None,
    include_internal: Annotated[bool, typer.Option(
        "--include-internal", help="html/markdown/ics: publish internal notes, events and contacts too.")] = False,
    anniversaries: Annotated[str | None, typer.Option(
        "--anniversaries", metavar="YEARS",
        help="ics: add the round anniversaries of these years (2026, 2026-2030 or 2026,2028).")] = None,
) -> None:
    """Export the whole registry.

    Example: partnerctl export --format json -o lyon.json
    """
    import importlib

    from partnerctl.core.errors import InvalidInput

    if fmt not in EXPORTERS:
        raise InvalidInput(_("--format must be one of {items}, not {fmt!r}").format(
            items=', '.join(EXPORTERS), fmt=fmt))
    pages = fmt in ("html", "markdown")
    for given, name, allowed in ((force, "--force", pages), (templates, "--templates", pages),
                                 (include_internal, "--include-internal", pages or fmt == "ics"),
                                 (anniversaries, "--anniversaries", fmt == "ics")):
        if given and not allowed:
            kind = "--format ics" if name == "--anniversaries" else (
                _("--format html, markdown or ics") if name == "--include-internal"
                else _("--format html or markdown"))
            raise InvalidInput(_("{name} is for {kind}").format(name=name, kind=kind))
    module = importlib.import_module(EXPORTERS[fmt])
    # Only the CSV has cells to neutralise; the other formats write exact text anyway.
    options: dict[str, Any] = {"raw": True} if raw and fmt == "csv" else {}
    if force:
        options["force"] = True
    if include_internal:
        options["include_internal"] = True
    if pages:
        options.update(site_options(templates))
    if anniversaries is not None:
        options["anniversaries"] = years(anniversaries)
    from partnerctl.cli.language import chosen

    if pages and len(chosen()) > 1:
        options["languages"] = chosen()  # --lang fr,en: the site in each language, fr/ and en/
    io = state(ctx).io
    reader = state(ctx).reader()
    # Text formats go through stdout's text stream (its encoding); calendars and databases are bytes.
    out = io.stdout if getattr(module, "TEXT", False) else io.binary_stdout()
    summary = module.export(reader, fmt, output, out, **options)
    reader.close()
    if summary:
        io.say(summary)


def site_options(templates: Path | None) -> dict[str, Any]:
    """The templates folder (the option, else the ``templates`` setting) and the ``[site]`` branding."""
    from partnerctl.formats import templating
    from partnerctl.storage import config

    settings = config.load()
    if templates is None:
        setting = settings.get("templates")
        templates = Path(setting.value) if setting is not None else None
    site = settings.table("site")
    logo = settings.in_table("site", "logo")
    logo_path = None
    where = "the settings"
    if logo is not None and isinstance(logo.value, str):
        logo_path = Path(logo.value) if Path(logo.value).is_absolute() else logo.source.parent / logo.value
        where = str(logo.source)
    elif settings.files:
        where = " or ".join(str(path) for path, _ in settings.files)
    return {"templates": templates, "branding": templating.branding(site, where, logo_path)}


def years(text: str) -> list[int]:
    """``--anniversaries`` years: ``2026``, ``2026-2030`` or ``2026,2028`` (at most 100 years)."""
    from partnerctl.core import dates
    from partnerctl.core.errors import InvalidInput

    out: list[int] = []
    try:
        for part in text.split(","):
            first, _sep, last = part.strip().partition("-")
            low = dates.parse_year(first)
            high = dates.parse_year(last) if last else low
            if high < low:
                raise ValueError(_("{years!r} ends before it starts").format(years=part.strip()))
            out += range(low, high + 1)
    except ValueError as exc:
        raise InvalidInput(_("--anniversaries: {exc} (give a year, YEAR-YEAR or YEAR,YEAR)").format(exc=exc)) from None
    if len(set(out)) > 100:
        raise InvalidInput(_("--anniversaries: at most 100 years at a time"))
    return sorted(set(out))


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
    from partnerctl.core import geo
    from partnerctl.core.errors import InvalidInput
    from partnerctl.formats import exchange
    from partnerctl.storage import store

    if on_conflict not in exchange.ON_CONFLICT:
        raise InvalidInput(_("--on-conflict must be one of {items}, not {on_conflict!r}").format(
            items=', '.join(exchange.ON_CONFLICT), on_conflict=on_conflict))
    io = state(ctx).io
    # Countries and regions are read as the registry reads them (its aliases, its regions).
    head = store.read_head(state(ctx).location().path)
    with progress_bar(io) or nullcontext(store.no_progress) as tick:
        batch = exchange.load(file, fmt, tick, io.stdin, head)

        def change(draft: Any) -> Any:
            # The gazetteer catches a partner city under another of its names (Beersheba, Be'er Sheva).
            return exchange.merge(draft.everything(), batch, on_conflict, owner, tick, place=geo.locate)

        written = write(ctx, change, whole=True, dry_run=dry_run, progress=tick)
    result = written.result
    for line in [*result.lines, *result.notes, result.summary(dry_run)]:
        io.say(line)
