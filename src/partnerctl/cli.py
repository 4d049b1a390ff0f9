"""The command line: each command parses its options and hands over to the core.

Errors raised by the core are turned into one line on stderr and an exit code
in one place, ``_Group.invoke``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from partnerctl import __version__
from partnerctl.errors import PartnerctlError
from partnerctl.output import Format, choose, write_records

LIST_COLUMNS = ("id", "city", "country", "region", "status", "kind", "since", "themes", "networks", "projects")
EVENT_COLUMNS = ("partner", "id", "date", "end", "title", "themes")
VOCAB_COLUMNS = ("slug", "label", "partnerships")


def fail(message: str, code: int) -> NoReturn:
    """Print one line on stderr and exit with *code*."""
    from partnerctl.output import clean

    sys.stderr.write(f"partnerctl: error: {clean(message)}\n")
    raise typer.Exit(code)


class _Group(TyperGroup):
    """Maps core errors to a message and exit code, and a closed pipe to a quiet exit."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PartnerctlError as exc:
            fail(str(exc), exc.exit_code)
        except BrokenPipeError:
            # `partnerctl list | head`: the reader left; stop quietly.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None, pretty_exceptions_enable=False,
                  help="Query and edit a registry of a city's international partnerships.")


class State:
    """Options given before the command."""

    def __init__(self, registry: Path | None) -> None:
        self.registry = registry

    def location(self) -> Any:
        from partnerctl import store

        return store.locate(self.registry)

    def load(self) -> Any:
        from partnerctl import store

        return store.load(self.location().path)


def _version(value: bool) -> None:
    if value:
        print(f"partnerctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    registry: Annotated[Path | None, typer.Option(
        "--registry", "-r", envvar="PARTNERCTL_REGISTRY", dir_okay=False,
        help="Registry file. Default: $PARTNERCTL_REGISTRY, ./data/registry.toml, else the bundled Lyon registry.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = State(registry)


FormatOpt = Annotated[Format | None, typer.Option(
    "--format", "-f", help="Output format. Default: table on a terminal, tsv when piped.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Short for --format json.")]
ThemeOpt = Annotated[list[str] | None, typer.Option(
    "--theme", "-t", help="Theme slug, label or a word of it; repeat: all must hold.")]
SinceOpt = Annotated[int | None, typer.Option("--since", help="From this year on.")]
UntilOpt = Annotated[int | None, typer.Option("--until", help="Up to this year.")]


def _state(ctx: typer.Context) -> State:
    return ctx.find_object(State) or State(None)


def _print_table(renderable_of: Any) -> None:
    from partnerctl import render

    con = render.console()
    render.print_plain_or_rich(con, renderable_of(con), sys.stdout)


@app.command()
def show(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="Id, city name or alias (any case, accents optional), or a unique prefix.")],
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one partnership in full.

    Example: partnerctl show turin
    """
    from partnerctl import query
    from partnerctl.model import record

    reg = _state(ctx).load()
    pid = query.resolve(reg, partner)
    rec = record(pid, reg.partnerships[pid])
    chosen = choose(fmt, as_json, piped=Format.table)
    if chosen is Format.json:
        from partnerctl.output import write_json

        write_json(rec, sys.stdout)
    elif chosen is Format.table:
        from partnerctl import render

        _print_table(lambda con: render.partnership(con, rec, reg.themes, reg.networks, reg.registry.owner))
    else:
        write_records(chosen, [rec], LIST_COLUMNS, sys.stdout)


@app.command("list")
def list_(
    ctx: typer.Context,
    theme: ThemeOpt = None,
    network: Annotated[list[str] | None, typer.Option("--network", "-n", help="Network slug, label or a word of it; repeatable.")] = None,
    project: Annotated[list[str] | None, typer.Option("--project", "-p", help="European project; repeatable.")] = None,
    country: Annotated[str | None, typer.Option(help="Partner's country.")] = None,
    region: Annotated[str | None, typer.Option(help="World region.")] = None,
    status: Annotated[str | None, typer.Option(help="active, suspended or ended.")] = None,
    since: Annotated[int | None, typer.Option("--since", help="First year on or after YEAR.")] = None,
    until: Annotated[int | None, typer.Option("--until", help="First year on or before YEAR.")] = None,
    sort: Annotated[str, typer.Option(help="Sort by id, city, country or since (first year).")] = "id",
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List partnerships, one row each; filters combine.

    Example: partnerctl list --theme mobility --format json
    """
    from partnerctl import query
    from partnerctl.errors import InvalidInput
    from partnerctl.model import STATUSES, record

    if sort not in query.SORT_KEYS:
        raise InvalidInput(f"--sort must be one of {', '.join(query.SORT_KEYS)}, not {sort!r}")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(STATUSES)}, not {status!r}")
    reg = _state(ctx).load()
    filters = query.Filters(themes=theme or [], networks=network or [], projects=project or [],
                            country=country, region=region, status=status, since=since, until=until)
    records = [record(pid, reg.partnerships[pid]) for pid in query.select(reg, filters, sort)]
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl import render

        # Themes are many: the table counts them (``show`` names them) and names networks.
        rows = [{**r, "themes": len(r["themes"]), "networks": [reg.networks[n] for n in r["networks"]]}
                for r in records]
        columns = ("id", "city", "country", "region", "since", "kind", "themes", "networks")
        _print_table(lambda con: render.records_table(con, rows, columns, {"since": "FIRST YEAR"}))
    else:
        write_records(chosen, records, LIST_COLUMNS, sys.stdout)


def _event_records(items: list[tuple[str, Any]], reg: Any) -> list[dict[str, Any]]:
    return [{"partner": pid, "city": reg.partnerships[pid].city, **e.model_dump(mode="json")}
            for pid, e in items]


@app.command()
def timeline(
    ctx: typer.Context,
    partners: Annotated[list[str] | None, typer.Argument(help="Partnerships (default: all).")] = None,
    since: Annotated[int | None, typer.Option("--since", help="Events from this year on.")] = None,
    until: Annotated[int | None, typer.Option("--until", help="Events up to this year.")] = None,
    theme: ThemeOpt = None,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Key events in date order, of all or the named partnerships.

    Example: partnerctl timeline turin milan --since 2010
    """
    from partnerctl import query

    reg = _state(ctx).load()
    pids = [query.resolve(reg, p) for p in partners] if partners else None
    items = _event_records(query.timeline(reg, pids, since, until, theme or []), reg)
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl import render

        _print_table(lambda con: render.timeline(con, items))
    else:
        write_records(chosen, items, EVENT_COLUMNS, sys.stdout)


@app.command("add-event")
def add_event(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="Id, city name or alias.")],
    date: Annotated[str, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD.")],
    title: Annotated[str, typer.Option(help="One line.")],
    end: Annotated[str | None, typer.Option(help="End of a period (partial date).")] = None,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    theme: ThemeOpt = None,
    link: Annotated[list[str] | None, typer.Option("--link", help="Source URL; repeatable.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and print, write nothing.")] = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Append a key event to a partnership and print it with its id.

    Example: partnerctl add-event turin --date 2011-03 --title "Parks twinning charter"
    """
    from partnerctl import edit, store

    (pid, event), _ = store.update_one(
        _state(ctx).location(), partner,
        lambda reg, pid: edit.add_event(reg, pid, date=date, title=title, end=end, description=description,
                                   themes=theme or [], links=link or []),
        dry_run=dry_run,
    )
    items = [{"partner": pid, **event.model_dump(mode="json")}]
    verb = "would add" if dry_run else "added"
    sys.stderr.write(f"partnerctl: {verb} event {event.id} to {pid}\n")
    print_changed(fmt, as_json, items[0], EVENT_COLUMNS, lambda con: _timeline_renderable(con, items))


def _timeline_renderable(con: Any, items: list[dict[str, Any]]) -> Any:
    from partnerctl import render

    return render.timeline(con, items)


def print_changed(fmt: Format | None, as_json: bool, obj: dict[str, Any], columns: tuple[str, ...],
                  renderable_of: Any) -> None:
    """Print the object a write command changed: JSON object, a row, or a table on a terminal."""
    chosen = choose(fmt, as_json)
    if chosen is Format.json:
        from partnerctl.output import write_json

        write_json(obj, sys.stdout)
    elif chosen is Format.table:
        _print_table(renderable_of)
    else:
        write_records(chosen, [obj], columns, sys.stdout)


def _vocab_command(ctx: typer.Context, kind: str, fmt: Format | None, as_json: bool) -> None:
    from partnerctl import query

    reg = _state(ctx).load()
    rows = query.usage(reg, kind)
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl import render

        _print_table(lambda con: render.vocab_table(con, rows, kind))
    else:
        records = [{"slug": s, "label": label, "partnerships": n} for s, label, n in rows]
        write_records(chosen, records, VOCAB_COLUMNS, sys.stdout, id_key="slug")


themes_app = typer.Typer(help="The theme vocabulary.")
networks_app = typer.Typer(help="The network vocabulary.")
app.add_typer(themes_app, name="themes")
app.add_typer(networks_app, name="networks")


@themes_app.callback(invoke_without_command=True)
def themes(ctx: typer.Context, fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """List the declared themes and how many partnerships use each."""
    if ctx.invoked_subcommand is None:
        _vocab_command(ctx, "theme", fmt, as_json)


@networks_app.callback(invoke_without_command=True)
def networks(ctx: typer.Context, fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """List the declared networks and how many partnerships use each."""
    if ctx.invoked_subcommand is None:
        _vocab_command(ctx, "network", fmt, as_json)


@app.command()
def validate(ctx: typer.Context, fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """Check the registry and report every problem with where it is (exit 3 if any).

    Example: partnerctl validate
    """
    from partnerctl import store

    path = _state(ctx).location().path
    problems = store.check(path)
    if as_json or (fmt is not None and fmt is not Format.table):
        chosen = choose(fmt, as_json)
        records = [{"where": p.where, "line": p.line, "message": p.message} for p in problems]
        write_records(chosen, records, ("where", "line", "message"), sys.stdout, id_key="where")
    else:
        from partnerctl.output import clean

        for p in problems:
            sys.stderr.write(clean(str(p)) + "\n")
        if not problems:
            sys.stderr.write(f"partnerctl: {path}: valid\n")
    if problems:
        raise typer.Exit(3)


# Each export format lives in its own module of the core; the module's
# ``export(reg, target)`` writes to *target* (a path, or stdout when None) and
# returns a one-line summary for stderr.
EXPORTERS = {
    "json": "partnerctl.exchange", "jsonl": "partnerctl.exchange", "csv": "partnerctl.exchange",
    "sqlite": "partnerctl.sqlite_export",
    "markdown": "partnerctl.site", "html": "partnerctl.site",
    "ics": "partnerctl.ics",
}


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(EXPORTERS)}.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (or folder for markdown/html); default stdout.")] = None,
) -> None:
    """Export the whole registry.

    Example: partnerctl export --format json -o lyon.json
    """
    import importlib

    from partnerctl.errors import InvalidInput

    if fmt not in EXPORTERS:
        raise InvalidInput(f"--format must be one of {', '.join(EXPORTERS)}, not {fmt!r}")
    module = importlib.import_module(EXPORTERS[fmt])
    summary = module.export(_state(ctx).load(), fmt, output)
    if summary:
        sys.stderr.write(f"partnerctl: {summary}\n")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="partnerctl")
