"""The command line: each command parses its options and hands over to the core.

Errors raised by the core, click's usage errors and failed output are turned
into one line on stderr and an exit code in one place, ``_Group.main``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from partnerctl import __version__
from partnerctl.core.errors import PartnerctlError
from partnerctl.formats.output import Format, choose, write_records

LIST_COLUMNS = ("id", "city", "country", "region", "status", "kind", "since", "themes", "networks", "projects")
EVENT_COLUMNS = ("partner", "id", "date", "end", "title", "themes")
VOCAB_COLUMNS = ("slug", "label", "partnerships")


def _say(message: str) -> None:
    """One line on stderr, ``partnerctl: ...``, control characters made visible."""
    from partnerctl.formats.output import clean

    sys.stderr.write(f"partnerctl: {clean(message)}\n")


class _Group(TyperGroup):
    """The one place where every failure becomes one line on stderr and an exit code.

    Core errors (``PartnerctlError``), click's usage errors, a declined prompt, an
    argument that is not UTF-8 and an output that cannot be written all end in
    ``main``, which the console script and CliRunner both call.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command line; exit (or, not standalone, return) with its exit code."""
        from partnerctl.cli import io as streams

        # The root callback fills it in; it also records whether a write landed (see _failed).
        state = extra.setdefault("obj", State())
        with streams.standard():
            code = self._run(args, complete_var, extra, state if isinstance(state, State) else State())
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(self, args: Any, complete_var: str | None, extra: dict[str, Any], state: State) -> int:
        from typer.exceptions import TyperException

        from partnerctl.cli import io as streams
        from partnerctl.core.errors import EXIT_USAGE

        try:
            argv = streams.command_line(sys.argv[1:] if args is None else list(args))
            # Whoever calls (python -m, CliRunner's "root"), messages name the program as users type it.
            rv = super().main(argv, "partnerctl", complete_var, standalone_mode=False, **extra)
            streams.flush_stdout()
            return rv if isinstance(rv, int) else 0
        except PartnerctlError as exc:
            return _failed(exc, state)
        except TyperException as exc:  # click's usage errors
            _flush_quietly()
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `partnerctl`: the help, as ever
                exc.show()
                return exc.exit_code
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            message = exc.format_message().rstrip(".").replace("Value error, ", "")
            # In the voice of every other message: "no such option", not "No such option".
            message = message[:1].lower() + message[1:] if message[1:2].islower() else message
            _say(f"error: {message}{hint}")
            return exc.exit_code
        except UnicodeEncodeError as exc:
            # Arguments are read as UTF-8 (streams.command_line), output escapes what it cannot
            # encode, and the model holds only valid text: what is left is a file name under a
            # locale whose encoding lacks its letters (LC_ALL=C with PYTHONUTF8=0).
            _flush_quietly()
            _say(f"error: cannot use the file name {exc.object!r} under this locale (encoding "
                 f"{exc.encoding}); use a UTF-8 locale such as LC_ALL=C.UTF-8")
            return EXIT_USAGE
        except typer.Abort:  # a prompt ended (end of input, Ctrl-C): nothing was done
            _flush_quietly()
            sys.stderr.write("\n")  # off the line of the unanswered question
            _say("error: aborted")
            return EXIT_USAGE


def _flush_quietly() -> None:
    """Flush stdout on the way out of an error, which is what gets reported."""
    from partnerctl.cli import io as streams
    from partnerctl.core.errors import OutputFailed

    try:
        streams.flush_stdout()
    except OutputFailed:
        pass


def _failed(exc: PartnerctlError, state: State) -> int:
    """The exit code for *exc*, said on stderr; after a write that landed, a warning and 0."""
    from partnerctl.core.errors import EXIT_OK, OutputFailed

    if isinstance(exc, OutputFailed) and exc.broken_pipe:
        # `partnerctl list | head`: the reader left; stop quietly.
        return EXIT_OK
    _flush_quietly()
    if state.landed:
        # The registry changed: a retry would repeat the change, so the exit code must say it landed.
        _say(f"warning: the registry was written, but {exc}")
        return EXIT_OK
    _say(f"error: {exc}")
    return exc.exit_code


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=True,
                  rich_markup_mode=None, pretty_exceptions_enable=False,
                  help="Query and edit a registry of a city's international partnerships.")


class State:
    """Options given before the command, and whether this run has written the registry."""

    def __init__(self, registry: Path | None = None, lock_timeout: float | None = None, backup: bool = True) -> None:
        self.registry = registry
        self.lock_timeout = lock_timeout
        self.backup = backup
        self.landed = False

    def location(self) -> Any:
        from partnerctl.storage import store

        return store.locate(self.registry)

    def load(self) -> Any:
        from partnerctl.storage import store

        return store.load(self.location().path)

    def view(self) -> Any:
        """The registry for the read commands: from the index when it is current (partnerctl.view)."""
        from partnerctl.storage import view

        return view.open_view(self.location().path)


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
    lock_timeout: Annotated[float | None, typer.Option(
        "--lock-timeout", envvar="PARTNERCTL_LOCK_TIMEOUT", min=0,
        help="Seconds a write waits for another writer's lock before failing (exit 4). Default: 5.")] = None,
    no_backup: Annotated[bool, typer.Option(
        "--no-backup", envvar="PARTNERCTL_NO_BACKUP",
        help="Do not keep the previous version as REGISTRY.bak on a write.")] = False,
) -> None:
    state = ctx.find_object(State)
    if state is None:
        ctx.obj = state = State()
    state.registry, state.lock_timeout, state.backup = registry, lock_timeout, not no_backup


def _completion_registry(ctx: Any) -> Any:
    """The registry in use while completing: --registry, $PARTNERCTL_REGISTRY or the default."""
    import os

    from partnerctl.storage import store
    from partnerctl.storage import view

    explicit = ctx.find_root().params.get("registry") or os.environ.get("PARTNERCTL_REGISTRY")
    # Through the index, as the read commands: a full load of a large registry is too slow for a Tab.
    return view.open_view(store.locate(Path(explicit) if explicit else None).path)


def _completer(candidates: Any) -> Any:
    """A completion callback over ``candidates(registry, ctx, incomplete)`` that never raises."""

    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        try:
            return candidates(_completion_registry(ctx), ctx, incomplete)
        except Exception:  # noqa: BLE001 - a broken registry must not break the user's shell
            return []

    return complete


def _partner_candidates(reg: Any, ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    return reg.complete_partners(incomplete)


def _theme_candidates(reg: Any, ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    from partnerctl.core import completion

    return completion.vocabulary(reg, "theme", incomplete)


def _network_candidates(reg: Any, ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    from partnerctl.core import completion

    return completion.vocabulary(reg, "network", incomplete)


def _event_candidates(reg: Any, ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    # The command's PARTNER argument, when already typed, narrows the events to its own.
    return reg.complete_events(ctx.params.get("partner"), incomplete)


# Shell completion callbacks (typer ``autocompletion=``) for PARTNER arguments,
# --theme/--network options and event ids; each reads the registry in use.
complete_partner = _completer(_partner_candidates)
complete_theme = _completer(_theme_candidates)
complete_network = _completer(_network_candidates)
complete_event = _completer(_event_candidates)

def _year(text: str) -> int:
    """A --since/--until value: dates.parse_year, a usage error naming the option otherwise."""
    from partnerctl.core import dates

    try:
        return dates.parse_year(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _days(text: str) -> int:
    """A --days value: dates.parse_days, a usage error naming the option otherwise."""
    from partnerctl.core import dates

    try:
        return dates.parse_days(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


FormatOpt = Annotated[Format | None, typer.Option(
    "--format", "-f", help="Output format. Default: table on a terminal, tsv when piped.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Short for --format json.")]
ThemeOpt = Annotated[list[str] | None, typer.Option(
    "--theme", "-t", help="Theme slug, label or a word of it; repeat: all must hold.",
    autocompletion=complete_theme)]
SinceOpt = Annotated[int | None, typer.Option("--since", parser=_year, metavar="YEAR",
                                              help="Events from this year on.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the diff of what it would write; write nothing.")]
UntilOpt = Annotated[int | None, typer.Option("--until", parser=_year, metavar="YEAR",
                                              help="Events up to this year.")]
FieldsOpt = Annotated[str | None, typer.Option(
    "--fields", help="Comma-separated fields that json, jsonl, csv and tsv output carry, in that order.")]
RawOpt = Annotated[bool, typer.Option(
    "--raw", help="CSV/TSV cells as they are: no leading ' before =, +, -, @ (spreadsheet formula guard).")]
# The partnership filters of ``list`` (and ``stats``).
NetworkOpt = Annotated[list[str] | None, typer.Option(
    "--network", "-n", help="Network slug, label or a word of it; repeatable.", autocompletion=complete_network)]
ProjectOpt = Annotated[list[str] | None, typer.Option("--project", "-p", help="European project; repeatable.")]
CountryOpt = Annotated[str | None, typer.Option("--country", help="Partner's country.")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="World region.")]
StatusOpt = Annotated[str | None, typer.Option("--status", help="active, suspended or ended.")]
OwnerOpt = Annotated[str | None, typer.Option(
    "--owner", help="Owner city: the partnership's own owner, else the registry's (any case, accents optional).")]
FirstSinceOpt = Annotated[int | None, typer.Option("--since", parser=_year, metavar="YEAR",
                                                   help="First year on or after YEAR.")]
FirstUntilOpt = Annotated[int | None, typer.Option("--until", parser=_year, metavar="YEAR",
                                                   help="First year on or before YEAR.")]


def _state(ctx: typer.Context) -> State:
    return ctx.find_object(State) or State(None)


def _print_table(renderable_of: Any, nothing: str | None = None) -> None:
    """Draw a table; *nothing*, when given, is said on stderr instead of an empty one on a terminal."""
    from partnerctl.cli import render

    con = render.console()
    if nothing and con.is_terminal:
        sys.stderr.write(f"partnerctl: {nothing}\n")
        return
    render.print_plain_or_rich(con, renderable_of(con), sys.stdout)


@app.command()
def show(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="Id, city name or alias (any case, accents optional), or a unique prefix.",
                                           autocompletion=complete_partner)],
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    fields: FieldsOpt = None,
    raw: RawOpt = False,
) -> None:
    """Show one partnership in full.

    Example: partnerctl show turin
    """
    from partnerctl.formats.output import pick

    picked = _parse_partnership_fields(fields)
    reg = _state(ctx).view()
    rec = reg.record(reg.resolve(partner))
    chosen = choose(fmt, as_json, piped=Format.table)
    if chosen is Format.json:
        from partnerctl.formats.output import write_json

        write_json(pick(rec, picked) if picked else rec, sys.stdout)
    elif chosen is Format.table:
        from partnerctl.cli import render

        _print_table(lambda con: render.partnership(con, rec, reg.themes, reg.networks, reg.owner))
    else:
        write_picked(chosen, [rec], LIST_COLUMNS, picked, raw=raw)


def _parse_partnership_fields(fields: str | None) -> list[str] | None:
    # The model (and its import time) only when --fields is given.
    if fields is None:
        return None
    from partnerctl.core.model import PARTNERSHIP_FIELDS
    from partnerctl.formats.output import parse_fields

    return parse_fields(fields, ("id", *PARTNERSHIP_FIELDS))


@app.command("list")
def list_(
    ctx: typer.Context,
    theme: ThemeOpt = None,
    network: NetworkOpt = None,
    project: ProjectOpt = None,
    country: CountryOpt = None,
    region: RegionOpt = None,
    status: StatusOpt = None,
    owner: OwnerOpt = None,
    since: FirstSinceOpt = None,
    until: FirstUntilOpt = None,
    sort: Annotated[str, typer.Option(help="Sort by id, city, country or since (first year).")] = "id",
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    fields: FieldsOpt = None,
    raw: RawOpt = False,
) -> None:
    """List partnerships, one row each; filters combine.

    Example: partnerctl list --theme mobility --format json
    """
    from partnerctl.core import query
    from partnerctl.core.errors import InvalidInput

    if sort not in query.SORT_KEYS:
        raise InvalidInput(f"--sort must be one of {', '.join(query.SORT_KEYS)}, not {sort!r}")
    filters = _filters(theme, network, project, country, region, status, owner, since, until)
    picked = _parse_partnership_fields(fields)
    reg = _state(ctx).view()
    records = reg.select(filters, sort)
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl.cli import render

        # Themes are many: the table counts them (``show`` names them) and names networks.
        rows = [{**r, "themes": len(r["themes"]), "networks": [reg.networks[n] for n in r["networks"]]}
                for r in records]
        columns = ("id", "city", "country", "region", "since", "kind", "themes", "networks")
        _print_table(lambda con: render.records_table(con, rows, columns, {"since": "FIRST YEAR"}),
                     None if rows else "no partnerships match")
    else:
        write_picked(chosen, records, LIST_COLUMNS, picked, raw=raw)


def _filters(theme: list[str] | None, network: list[str] | None, project: list[str] | None,
             country: str | None, region: str | None, status: str | None, owner: str | None,
             since: int | None, until: int | None) -> Any:
    """The ``list`` filters as a query.Filters (an unknown status is a usage error)."""
    from partnerctl.core import query
    from partnerctl.core.errors import InvalidInput

    if status is not None and status not in query.STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(query.STATUSES)}, not {status!r}")
    return query.Filters(themes=theme or [], networks=network or [], projects=project or [],
                         country=country, region=region, status=status, owner=owner,
                         since=since, until=until)


def write_picked(chosen: Format, records: list[dict[str, Any]], columns: tuple[str, ...],
                 picked: list[str] | None, **kwargs: Any) -> None:
    """Records in a machine format, narrowed to the ``--fields`` picked (``ids`` keeps its key)."""
    from partnerctl.formats.output import pick

    if picked and chosen is not Format.ids:
        records, columns = [pick(r, picked) for r in records], tuple(picked)
    write_records(chosen, records, columns, sys.stdout, **kwargs)


def _event_records(items: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    # (partnership record, event record) pairs from view.View.timeline.
    return [{"partner": p.id, "city": p.city, **e} for p, e in items]


@app.command()
def timeline(
    ctx: typer.Context,
    partners: Annotated[list[str] | None, typer.Argument(help="Partnerships (default: all).",
                                                         autocompletion=complete_partner)] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    theme: ThemeOpt = None,
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Only events from today on.")] = False,
    days: Annotated[int | None, typer.Option("--days", parser=_days, metavar="N",
                                             help="With --upcoming: starting within N days.")] = None,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    fields: FieldsOpt = None,
    raw: RawOpt = False,
) -> None:
    """Key events in date order, of all or the named partnerships.

    Example: partnerctl timeline turin milan --since 2010
    """
    import datetime

    from partnerctl.core import query
    from partnerctl.formats.output import parse_fields

    picked = None
    if fields is not None:
        from partnerctl.core.model import EVENT_FIELDS  # only then: the model costs import time

        # The keys of the records _event_records makes.
        picked = parse_fields(fields, ("partner", "city", *EVENT_FIELDS))
    reg = _state(ctx).view()
    # dict.fromkeys: naming a partnership twice (turin torino) shows its events once.
    pids = list(dict.fromkeys(reg.resolve(p) for p in partners)) if partners else None
    events = reg.timeline(pids, since, until, theme or [])
    if upcoming or days is not None:
        # --days alone means --upcoming too: there is no other horizon it could count from.
        events = query.upcoming(events, datetime.date.today(), days)
    items = _event_records(events)
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl.cli import render

        _print_table(lambda con: render.timeline(con, items), None if items else "no events match")
    else:
        write_picked(chosen, items, EVENT_COLUMNS, picked, raw=raw)


@app.command("add-event")
def add_event(
    ctx: typer.Context,
    partner: Annotated[str | None, typer.Argument(help="Id, city name or alias.", autocompletion=complete_partner)] = None,
    date: Annotated[str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD (required).")] = None,
    title: Annotated[str | None, typer.Option(help="One line (required).")] = None,
    end: Annotated[str | None, typer.Option(help="End of a period (partial date).")] = None,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    theme: ThemeOpt = None,
    link: Annotated[list[str] | None, typer.Option("--link", help="Source URL; repeatable.")] = None,
    from_jsonl: Annotated[str | None, typer.Option(
        "--from-jsonl", metavar="FILE",
        help='Add one event per JSON line {"partner", "date", "title", ...} (- for stdin); all or nothing.')] = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Append a key event to a partnership and print it with its id.

    Example: partnerctl add-event turin --date 2011-03 --title "Parks twinning charter"
    """
    from partnerctl.core import edit
    from partnerctl.core.errors import InvalidInput

    if from_jsonl is not None:
        if partner or date or title or end or description or theme or link:
            raise InvalidInput("--from-jsonl takes the events from the file: give no PARTNER or event options")
        _add_events_from(ctx, from_jsonl, dry_run, fmt, as_json)
        return
    for value, missing in ((partner, "missing argument PARTNER (or give --from-jsonl FILE)"),
                           (date, "missing option --date"), (title, "missing option --title")):
        if value is None:
            raise InvalidInput(missing)
    _event_change(ctx, partner,
                  lambda reg, pid: edit.add_event(reg, pid, date=date, title=title, end=end,
                                                  description=description, themes=theme or [],
                                                  links=link or []),
                  lambda pid, e: (f"added event {e.id} to {pid}", f"add event {e.id} to {pid}"),
                  dry_run, fmt, as_json, always=True)


def _timeline_renderable(con: Any, items: list[dict[str, Any]]) -> Any:
    from partnerctl.cli import render

    return render.timeline(con, items)


def print_changed(fmt: Format | None, as_json: bool, obj: dict[str, Any] | list[dict[str, Any]],
                  columns: tuple[str, ...], renderable_of: Any, *, id_key: str = "id") -> None:
    """Print the object (or objects) a write command changed: JSON, rows, or a table on a terminal."""
    chosen = choose(fmt, as_json)
    if chosen is Format.json:
        from partnerctl.formats.output import write_json

        write_json(obj, sys.stdout)
    elif chosen is Format.table:
        _print_table(renderable_of)
    else:
        write_records(chosen, obj if isinstance(obj, list) else [obj], columns, sys.stdout, id_key=id_key)


def _vocab_command(ctx: typer.Context, kind: str, fmt: Format | None, as_json: bool, raw: bool) -> None:
    rows = _state(ctx).view().usage(kind)
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl.cli import render

        _print_table(lambda con: render.vocab_table(con, rows, kind))
    else:
        records = [{"slug": s, "label": label, "partnerships": n} for s, label, n in rows]
        write_records(chosen, records, VOCAB_COLUMNS, sys.stdout, id_key="slug", raw=raw)


themes_app = typer.Typer(help="The theme vocabulary.")
networks_app = typer.Typer(help="The network vocabulary.")
app.add_typer(themes_app, name="themes")
app.add_typer(networks_app, name="networks")


@themes_app.callback(invoke_without_command=True)
def themes(ctx: typer.Context, fmt: FormatOpt = None, as_json: JsonOpt = False, raw: RawOpt = False) -> None:
    """List the declared themes and how many partnerships use each."""
    if ctx.invoked_subcommand is None:
        _vocab_command(ctx, "theme", fmt, as_json, raw)


@networks_app.callback(invoke_without_command=True)
def networks(ctx: typer.Context, fmt: FormatOpt = None, as_json: JsonOpt = False, raw: RawOpt = False) -> None:
    """List the declared networks and how many partnerships use each."""
    if ctx.invoked_subcommand is None:
        _vocab_command(ctx, "network", fmt, as_json, raw)


@app.command()
def validate(ctx: typer.Context, fmt: FormatOpt = None, as_json: JsonOpt = False, raw: RawOpt = False) -> None:
    """Check the registry and report every problem with where it is (exit 3 if any).

    Example: partnerctl validate
    """
    from partnerctl.storage import store

    path = _state(ctx).location().path
    problems = store.check(path)
    if as_json or (fmt is not None and fmt is not Format.table):
        chosen = choose(fmt, as_json)
        records = [{"where": p.where, "line": p.line, "message": p.message} for p in problems]
        write_records(chosen, records, ("where", "line", "message"), sys.stdout, id_key="where", raw=raw)
    else:
        from partnerctl.formats.output import clean

        for p in problems:
            sys.stderr.write(clean(str(p)) + "\n")
        if not problems:
            sys.stderr.write(f"partnerctl: {path}: valid\n")
    if problems:
        raise typer.Exit(3)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="File to import; - reads stdin (give --format).")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="json, jsonl or csv. Default: from the file name.")] = None,
    owner: Annotated[str | None, typer.Option(help="Import only the relations of this owner city.")] = None,
    on_conflict: Annotated[str, typer.Option(
        "--on-conflict", help="A partnership already in the registry: skip it, update it, or fail (nothing written).")] = "skip",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would happen, write nothing.")] = False,
) -> None:
    """Import partnerships (json, jsonl, csv, or the twin-towns CSV dataset); report every row not imported.

    Example: partnerctl import twin_cities_raw.csv --owner Lyon --dry-run
    """
    from contextlib import nullcontext

    from partnerctl.formats import exchange
    from partnerctl.storage import store
    from partnerctl.core.errors import InvalidInput
    from partnerctl.formats.output import clean

    if on_conflict not in exchange.ON_CONFLICT:
        raise InvalidInput(f"--on-conflict must be one of {', '.join(exchange.ON_CONFLICT)}, not {on_conflict!r}")
    with _stderr_progress() or nullcontext(store.no_progress) as tick:
        batch = exchange.load(file, fmt, tick)
        report, _ = _write(ctx, lambda reg: exchange.merge(reg, batch, on_conflict, owner, tick),
                           dry_run=dry_run, progress=tick)
    for line in [*report.lines, *report.notes, report.summary(dry_run)]:
        sys.stderr.write(f"partnerctl: {clean(line)}\n")


def _stderr_progress() -> Any:
    """A Rich progress bar when stderr is a terminal, else None (nothing is drawn)."""
    if not sys.stderr.isatty():
        return None
    from partnerctl.cli import render

    return render.progress()


STATS_COLUMNS = ("by", "key", "label", "count")
SEARCH_COLUMNS = ("partner", "field", "text")


@app.command()
def stats(
    ctx: typer.Context,
    by: Annotated[list[str] | None, typer.Option(
        "--by", "-b", help="theme, network, region, country, decade or status; repeatable. Default: all.")] = None,
    theme: ThemeOpt = None,
    network: NetworkOpt = None,
    project: ProjectOpt = None,
    country: CountryOpt = None,
    region: RegionOpt = None,
    status: StatusOpt = None,
    owner: OwnerOpt = None,
    since: FirstSinceOpt = None,
    until: FirstUntilOpt = None,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    raw: RawOpt = False,
) -> None:
    """Count partnerships by theme, network, region, country, decade or status (filters as in list).

    Example: partnerctl stats --by theme --region Europe
    """
    from dataclasses import asdict

    from partnerctl.core import stats as counting
    from partnerctl.formats.output import counted

    dimensions = counting.check_dimensions(by or [])
    filters = _filters(theme, network, project, country, region, status, owner, since, until)
    kept, groups = _state(ctx).view().counts(filters, dimensions)
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl.cli import render

        charts = [(f"By {dim} ({counted(kept, 'partnership')})", [(c.label, c.count) for c in items])
                  for dim, items in groups.items()]
        _print_table(lambda con: render.bar_charts(con, charts))
    else:
        records = [asdict(c) for items in groups.values() for c in items]
        write_records(chosen, records, STATS_COLUMNS, sys.stdout, id_key="label", raw=raw)


@app.command()
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find, any case, accents optional.")],
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
    raw: RawOpt = False,
) -> None:
    """Find text in names, aliases, themes, networks, projects, summaries, events and contacts.

    Example: partnerctl search delice
    """
    from dataclasses import asdict

    hits = [{**asdict(hit), "city": p.city} for p, hit in _state(ctx).view().search(text)]
    chosen = choose(fmt, as_json)
    if chosen is Format.table:
        from partnerctl.cli import render

        _print_table(lambda con: render.search_hits(con, hits))
    else:
        records = [{"partner": h["partner"], "city": h["city"], "field": h["field"], "text": h["text"],
                    "spans": [list(span) for span in h["spans"]]} for h in hits]
        if chosen is Format.ids:
            # Ids name partnerships: one line each, however many of its fields hold the text.
            records = list({r["partner"]: r for r in records}.values())
        write_records(chosen, records, SEARCH_COLUMNS, sys.stdout, id_key="partner", raw=raw)
    from partnerctl.formats.output import counted

    partners = len({h["partner"] for h in hits})
    sys.stderr.write(f"partnerctl: {counted(len(hits), 'hit')} in {counted(partners, 'partnership')}\n")


# Write commands. Each hands its change to the core through _write (store.update for the
# whole registry, store.update_one for one partnership) and reports through _report: what it
# did on stderr; the changed object on stdout with --format/--json; on --dry-run the diff.

CONTACT_COLUMNS = ("partner", "name", "role", "organisation", "email", "phone")
INIT_COLUMNS = ("path", "owner", "country", "themes", "networks", "partnerships")
FMT_COLUMNS = ("path", "changed")


def _write(ctx: typer.Context, change: Any, *, partner: str | None = None, dry_run: bool = False,
           fmt: Format | None = None, as_json: bool = False, progress: Any = None) -> Any:
    """Run *change* under the lock: on one partnership when *partner* is given, else on the whole registry.

    The output options (*fmt*, *as_json*) are checked first: a contradiction must fail before the write.
    *progress* (whole-registry writes) hears of each stage of the write (``store.update``).
    """
    from partnerctl.storage import store

    choose(fmt, as_json)
    state = _state(ctx)
    options: dict[str, Any] = {"dry_run": dry_run, "backup": state.backup}
    if state.lock_timeout is not None:
        options["lock_timeout"] = state.lock_timeout
    if partner is None:
        if progress is not None:
            options["progress"] = progress
        done = store.update(state.location(), change, **options)
    else:
        done = store.update_one(state.location(), partner, change, **options)
    state.landed = state.landed or done[1].written
    return done


def _report(ctx: typer.Context, change: Any, dry_run: bool, did: tuple[str, str], fmt: Format | None,
            as_json: bool, obj: Any, columns: tuple[str, ...], renderable_of: Any, *,
            always: bool = False, id_key: str = "id", name: str | None = None) -> None:
    """Say what a write did (*did*: past and plain form) and print the changed object or the diff.

    The object is printed with --format/--json (or *always*); a dry run without
    them prints the unified diff of the registry file (named *name*) instead.
    """
    from partnerctl.formats.output import clean

    past, plain = did
    asked = fmt is not None or as_json
    if dry_run:
        sys.stderr.write(f"partnerctl: would {clean(plain)}\n")
        if not asked:
            name = name or _state(ctx).location().path.name
            sys.stdout.write(clean(change.diff(name), multiline=True))
            return
    else:
        sys.stderr.write(f"partnerctl: {clean(past) if change.written else 'no changes'}\n")
    if asked or always:
        print_changed(fmt, as_json, obj, columns, renderable_of, id_key=id_key)


def _rows_renderable(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Any:
    def draw(con: Any) -> Any:
        from partnerctl.cli import render

        return render.records_table(con, rows, columns)

    return draw


def _edit_partner(ctx: typer.Context, partner: str, fn: Any, did: Any, dry_run: bool,
                  fmt: Format | None, as_json: bool) -> None:
    """Apply *fn(reg, pid)* to one partnership and report its record; *did(pid)* says what it did."""
    from partnerctl.core.model import record

    def change(reg: Any, pid: str) -> dict[str, Any]:
        fn(reg, pid)
        return record(pid, reg.partnerships[pid])

    rec, result = _write(ctx, change, partner=partner, dry_run=dry_run, fmt=fmt, as_json=as_json)
    _report(ctx, result, dry_run, did(rec["id"]), fmt, as_json, rec, LIST_COLUMNS,
            _rows_renderable([rec], LIST_COLUMNS))


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(
        dir_okay=False, help="The new file. Default: --registry, else data/registry.toml.")] = None,
    owner: Annotated[str | None, typer.Option(help="The city whose partnerships it holds.")] = None,
    country: Annotated[str | None, typer.Option(help="The owner's country.")] = None,
    sample: Annotated[bool, typer.Option("--sample", help="A writable copy of the bundled Lyon registry.")] = False,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a registry: empty (with the Lyon theme vocabulary), or a copy of the Lyon sample.

    Example: partnerctl init grenoble.toml --owner Grenoble --country France
    """
    from partnerctl.core import edit
    from partnerctl.storage import store
    from partnerctl.storage import toml as tomlfile
    from partnerctl.core.errors import InvalidInput

    target = path or _state(ctx).registry or Path("data/registry.toml")
    if sample and (owner or country):
        raise InvalidInput("--sample copies the Lyon registry: give no --owner or --country with it")
    if sample:
        text, what = store.read_text(store.bundled_path()), "a copy of the Lyon sample"
    elif owner is None or country is None:
        raise InvalidInput("give --owner CITY and --country COUNTRY for an empty registry, or --sample")
    else:
        themes = store.load(store.bundled_path()).themes
        text, what = tomlfile.dump(edit.new_registry(owner, country, themes)), f"empty, owner {owner}"
    choose(fmt, as_json)  # a contradiction fails before the file is created
    reg, change = store.create(target, text, dry_run=dry_run)
    _state(ctx).landed = change.written
    obj = {"path": str(target), "owner": reg.registry.owner, "country": reg.registry.country,
           "themes": len(reg.themes), "networks": len(reg.networks), "partnerships": len(reg.partnerships)}
    _report(ctx, change, dry_run, (f"created {target} ({what})", f"create {target} ({what})"), fmt, as_json,
            obj, INIT_COLUMNS, _rows_renderable([obj], INIT_COLUMNS), id_key="path", name=target.name)


@app.command()
def add(
    ctx: typer.Context,
    city: Annotated[str, typer.Argument(help="The partner city's name.")],
    country: Annotated[str | None, typer.Option(help="Its country (required).")] = None,
    id_: Annotated[str | None, typer.Option("--id", help="Id (a slug). Default: the city's name as a slug.")] = None,
    region: Annotated[str | None, typer.Option(help="World region.")] = None,
    since: Annotated[str | None, typer.Option(help="First year.")] = None,
    kind: Annotated[str | None, typer.Option(help="Kind of relation (twinning, cooperation, ...).")] = None,
    status: Annotated[str | None, typer.Option(help="active, suspended or ended.")] = None,
    theme: Annotated[list[str] | None, typer.Option("--theme", "-t", help="Theme (slug, label or a word of it); repeatable.")] = None,
    network: Annotated[list[str] | None, typer.Option("--network", "-n", help="Network; repeatable.")] = None,
    project: Annotated[list[str] | None, typer.Option("--project", "-p", help="European project; repeatable.")] = None,
    alias: Annotated[list[str] | None, typer.Option("--alias", help="Another name of the city; repeatable.")] = None,
    link: Annotated[list[str] | None, typer.Option("--link", help="Source URL; repeatable.")] = None,
    summary: Annotated[str | None, typer.Option(help="The narrative.")] = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a partnership.

    Example: partnerctl add Łódź --country Poland --since 1991 --theme culture   (id: lodz)
    """
    from partnerctl.core import edit
    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.model import record

    if country is None:
        raise InvalidInput("missing option --country")

    def change(reg: Any) -> dict[str, Any]:
        pid = edit.add_partnership(reg, city, country, id_, region=region, since=since, kind=kind, status=status,
                                   themes=theme, networks=network, projects=project, aliases=alias,
                                   links=link, summary=summary)
        return record(pid, reg.partnerships[pid])

    rec, result = _write(ctx, change, dry_run=dry_run, fmt=fmt, as_json=as_json)
    _report(ctx, result, dry_run, (f"added partnership {rec['id']} ({city})", f"add partnership {rec['id']} ({city})"),
            fmt, as_json, rec, LIST_COLUMNS, _rows_renderable([rec], LIST_COLUMNS))


@app.command("set")
def set_(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="Id, city name or alias.", autocompletion=complete_partner)],
    field: Annotated[str, typer.Argument(help="city, country, region, owner, owner_country, status, kind, since, since_note or summary.")],
    value: Annotated[str, typer.Argument(help="The new value.")],
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a field of a partnership.

    Example: partnerctl set turin status active
    """
    from partnerctl.core import edit

    _edit_partner(ctx, partner, lambda reg, pid: edit.set_field(reg, pid, field, value),
                  lambda pid: (f"set {field} of {pid}", f"set {field} of {pid}"), dry_run, fmt, as_json)


@app.command()
def unset(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="Id, city name or alias.", autocompletion=complete_partner)],
    field: Annotated[str, typer.Argument(help="An optional field (see set).")],
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove an optional field of a partnership.

    Example: partnerctl unset turin kind
    """
    from partnerctl.core import edit

    _edit_partner(ctx, partner, lambda reg, pid: edit.unset_field(reg, pid, field),
                  lambda pid: (f"unset {field} of {pid}", f"unset {field} of {pid}"), dry_run, fmt, as_json)


def _list_edit(ctx: typer.Context, partner: str, field: str, values: list[str], add: bool, dry_run: bool,
               fmt: Format | None, as_json: bool) -> None:
    """``add-to`` / ``remove-from`` (and ``tag`` / ``untag``, on themes)."""
    from partnerctl.core import edit

    change = edit.add_to if add else edit.remove_from
    past, plain, prep = ("added", "add", "to") if add else ("removed", "remove", "from")
    shown = ", ".join(values)
    _edit_partner(ctx, partner, lambda reg, pid: change(reg, pid, field, values),
                  lambda pid: (f"{past} {prep} {field} of {pid}: {shown}", f"{plain} {prep} {field} of {pid}: {shown}"),
                  dry_run, fmt, as_json)


ValuesArg = Annotated[list[str], typer.Argument(help="One or more values.")]
FieldArg = Annotated[str, typer.Argument(help="themes, networks, projects, aliases or links.")]
PartnerArg = Annotated[str, typer.Argument(help="Id, city name or alias.", autocompletion=complete_partner)]


@app.command()
def tag(ctx: typer.Context, partner: PartnerArg, themes: ValuesArg, dry_run: DryRunOpt = False,
        fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """Add themes to a partnership (short for add-to PARTNER themes).

    Example: partnerctl tag turin light sport
    """
    _list_edit(ctx, partner, "themes", themes, True, dry_run, fmt, as_json)


@app.command()
def untag(ctx: typer.Context, partner: PartnerArg, themes: ValuesArg, dry_run: DryRunOpt = False,
          fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """Remove themes from a partnership (short for remove-from PARTNER themes).

    Example: partnerctl untag turin sport
    """
    _list_edit(ctx, partner, "themes", themes, False, dry_run, fmt, as_json)


@app.command("add-to")
def add_to(ctx: typer.Context, partner: PartnerArg, field: FieldArg, values: ValuesArg, dry_run: DryRunOpt = False,
           fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """Add values to a list field of a partnership.

    Example: partnerctl add-to turin networks luci
    """
    _list_edit(ctx, partner, field, values, True, dry_run, fmt, as_json)


@app.command("remove-from")
def remove_from(ctx: typer.Context, partner: PartnerArg, field: FieldArg, values: ValuesArg,
                dry_run: DryRunOpt = False, fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """Remove values from a list field of a partnership.

    Example: partnerctl remove-from turin projects CITYLOG
    """
    _list_edit(ctx, partner, field, values, False, dry_run, fmt, as_json)


def _event_object(pid: str, event: Any) -> dict[str, Any]:
    """The JSON object a write command prints for an event it changed."""
    return {"partner": pid, **event.model_dump(mode="json")}


def _event_change(ctx: typer.Context, partner: str, fn: Any, did: Any, dry_run: bool, fmt: Format | None,
                  as_json: bool, *, always: bool = False) -> None:
    """Apply *fn(reg, pid) -> event* to one partnership and report the event; *did(pid, event)* says what.

    With *always* the event is printed even without --format (add-event shows the id it made).
    """
    (pid, event), change = _write(ctx, lambda reg, pid: (pid, fn(reg, pid)), partner=partner, dry_run=dry_run,
                                    fmt=fmt, as_json=as_json)
    items = [_event_object(pid, event)]
    _report(ctx, change, dry_run, did(pid, event), fmt, as_json, items[0], EVENT_COLUMNS,
            lambda con: _timeline_renderable(con, items), always=always)


@app.command("edit-event")
def edit_event(
    ctx: typer.Context,
    partner: PartnerArg,
    event_id: Annotated[str, typer.Argument(help="The event's id (or a unique prefix of it).",
                                             autocompletion=complete_event)],
    date: Annotated[str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="End of a period (partial date).")] = None,
    title: Annotated[str | None, typer.Option(help="One line.")] = None,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    theme: Annotated[list[str] | None, typer.Option("--theme", "-t", help="Replaces the event's themes; repeatable.")] = None,
    link: Annotated[list[str] | None, typer.Option("--link", help="Replaces the event's links; repeatable.")] = None,
    new_id: Annotated[str | None, typer.Option("--id", help="A new id for the event.")] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="Remove end, description, themes or links; repeatable.")] = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change an event of a partnership (its id stays unless --id).

    Example: partnerctl edit-event turin 2011-03-parks-twinning-charter --date 2011-04
    """
    from partnerctl.core import edit

    changes = {"date": date, "end": end, "title": title, "description": description, "themes": theme,
               "links": link, "id": new_id}
    _event_change(ctx, partner, lambda reg, pid: edit.edit_event(reg, pid, event_id, changes, unset or []),
                  lambda pid, e: (f"changed event {e.id} of {pid}", f"change event {e.id} of {pid}"),
                  dry_run, fmt, as_json)


@app.command("remove-event")
def remove_event(
    ctx: typer.Context,
    partner: PartnerArg,
    event_id: Annotated[str, typer.Argument(help="The event's id (or a unique prefix of it).",
                                             autocompletion=complete_event)],
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove an event of a partnership.

    Example: partnerctl remove-event turin 2012-one-off-events-sncf
    """
    from partnerctl.core import edit

    _event_change(ctx, partner, lambda reg, pid: edit.remove_event(reg, pid, event_id),
                  lambda pid, e: (f"removed event {e.id} from {pid}", f"remove event {e.id} from {pid}"),
                  dry_run, fmt, as_json)


def _add_events_from(ctx: typer.Context, source: str, dry_run: bool, fmt: Format | None, as_json: bool) -> None:
    """``add-event --from-jsonl``: every line's event, in one write, or none."""
    from partnerctl.core import edit
    from partnerctl.cli import io as streams

    text = streams.read_input(source)
    added, change = _write(ctx, lambda reg: edit.add_events_jsonl(reg, text.splitlines()), dry_run=dry_run,
                           fmt=fmt, as_json=as_json)
    items = [_event_object(pid, e) for pid, e in added]
    from partnerctl.formats.output import counted

    n = counted(len(items), "event")
    _report(ctx, change, dry_run, (f"added {n} from {source}", f"add {n} from {source}"), fmt, as_json,
            items, EVENT_COLUMNS, lambda con: _timeline_renderable(con, items), always=True)


ContactNameArg = Annotated[str, typer.Argument(help="The contact's name (any case, accents optional).")]


def _contact_change(ctx: typer.Context, partner: str, fn: Any, did: Any, dry_run: bool, fmt: Format | None,
                    as_json: bool) -> None:
    """Apply *fn(reg, pid) -> contact* to one partnership and report the contact."""
    (pid, contact), change = _write(ctx, lambda reg, pid: (pid, fn(reg, pid)), partner=partner, dry_run=dry_run,
                                    fmt=fmt, as_json=as_json)
    obj = {"partner": pid, **contact.model_dump(mode="json")}
    _report(ctx, change, dry_run, did(pid, contact.name), fmt, as_json, obj, CONTACT_COLUMNS,
            _rows_renderable([obj], CONTACT_COLUMNS), id_key="name")


@app.command("add-contact")
def add_contact(
    ctx: typer.Context,
    partner: PartnerArg,
    name: Annotated[str | None, typer.Option(help="Full name (required).")] = None,
    role: Annotated[str | None, typer.Option(help="Role or title.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Organisation.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a contact to a partnership.

    Example: partnerctl add-contact turin --name "Ada Rossi" --email ada@example.org
    """
    from partnerctl.core import edit
    from partnerctl.core.errors import InvalidInput

    if name is None:
        raise InvalidInput("missing option --name")
    fields = {"name": name, "role": role, "organisation": organisation, "email": email, "phone": phone}
    _contact_change(ctx, partner, lambda reg, pid: edit.add_contact(reg, pid, **fields),
                    lambda pid, n: (f"added contact {n} to {pid}", f"add contact {n} to {pid}"),
                    dry_run, fmt, as_json)


@app.command("edit-contact")
def edit_contact(
    ctx: typer.Context,
    partner: PartnerArg,
    contact: ContactNameArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    role: Annotated[str | None, typer.Option(help="Role or title.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Organisation.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="Remove role, organisation, email or phone; repeatable.")] = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a contact of a partnership.

    Example: partnerctl edit-contact turin "Juliette Cantau" --phone "+33 4 00 00 00 00"
    """
    from partnerctl.core import edit

    changes = {"name": name, "role": role, "organisation": organisation, "email": email, "phone": phone}
    _contact_change(ctx, partner, lambda reg, pid: edit.edit_contact(reg, pid, contact, changes, unset or []),
                    lambda pid, n: (f"changed contact {n} of {pid}", f"change contact {n} of {pid}"),
                    dry_run, fmt, as_json)


@app.command("remove-contact")
def remove_contact(ctx: typer.Context, partner: PartnerArg, name: ContactNameArg, dry_run: DryRunOpt = False,
                   fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
    """Remove a contact from a partnership.

    Example: partnerctl remove-contact turin "Juliette Cantau"
    """
    from partnerctl.core import edit

    _contact_change(ctx, partner, lambda reg, pid: edit.remove_contact(reg, pid, name),
                    lambda pid, n: (f"removed contact {n} from {pid}", f"remove contact {n} from {pid}"),
                    dry_run, fmt, as_json)


@app.command()
def rename(
    ctx: typer.Context,
    partner: PartnerArg,
    new_id: Annotated[str, typer.Argument(help="The new id (a slug).")],
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give a partnership a new id.

    Example: partnerctl rename saint-louis st-louis
    """
    from partnerctl.core import edit
    from partnerctl.core import query
    from partnerctl.core.model import record

    def change(reg: Any) -> tuple[str, dict[str, Any]]:
        old = query.resolve(reg, partner)
        new = edit.rename_partnership(reg, old, new_id)
        return old, record(new, reg.partnerships[new])

    (old, rec), result = _write(ctx, change, dry_run=dry_run, fmt=fmt, as_json=as_json)
    _report(ctx, result, dry_run, (f"renamed {old} to {rec['id']}", f"rename {old} to {rec['id']}"), fmt, as_json,
            rec, LIST_COLUMNS, _rows_renderable([rec], LIST_COLUMNS))


def _interactive() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


@app.command()
def remove(
    ctx: typer.Context,
    partner: PartnerArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for scripts).")] = False,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a partnership with its events and contacts (asks first on a terminal).

    Example: partnerctl remove saint-louis --yes
    """
    from partnerctl.core import edit
    from partnerctl.core import query
    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.model import record
    from partnerctl.formats.output import counted

    if not yes and not dry_run:
        if not _interactive():
            raise InvalidInput("refusing to remove without --yes when not on a terminal")
        reg = _state(ctx).load()
        pid = query.resolve(reg, partner)
        p = reg.partnerships[pid]
        question = (f"Remove {pid} ({p.city}, {p.country}) with its {counted(len(p.events), 'event')} "
                    f"and {counted(len(p.contacts), 'contact')}?")
        if not typer.confirm(question, err=True):
            raise InvalidInput(f"not removed: {pid}")
        partner = pid

    def change(reg: Any) -> dict[str, Any]:
        pid = query.resolve(reg, partner)
        return record(pid, edit.remove_partnership(reg, pid))

    rec, result = _write(ctx, change, dry_run=dry_run, fmt=fmt, as_json=as_json)
    _report(ctx, result, dry_run, (f"removed partnership {rec['id']} ({rec['city']})",
                                   f"remove partnership {rec['id']} ({rec['city']})"),
            fmt, as_json, rec, LIST_COLUMNS, _rows_renderable([rec], LIST_COLUMNS))


def _vocab_writes(sub: typer.Typer, kind: str) -> None:
    """``themes add|rename|remove`` and the same for networks."""
    plural = f"{kind}s"

    def report(ctx: typer.Context, result: Any, entry: dict[str, Any], dry_run: bool, did: tuple[str, str],
               fmt: Format | None, as_json: bool) -> None:
        _report(ctx, result, dry_run, did, fmt, as_json, entry, VOCAB_COLUMNS,
                _rows_renderable([entry], VOCAB_COLUMNS), id_key="slug")

    @sub.command("add", help=f"Declare a new {kind}.\n\nExample: partnerctl {plural} add "
                             + ("night-life 'Night life'" if kind == "theme" else "cities4europe 'Cities for Europe'"))
    def add_entry(ctx: typer.Context, slug: Annotated[str, typer.Argument(help="Lower-case words joined by hyphens.")],
                  label: Annotated[str, typer.Argument(help="The name people read.")], dry_run: DryRunOpt = False,
                  fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
        from partnerctl.core import edit

        entry, result = _write(ctx, lambda reg: edit.vocab_entry(reg, kind, edit.add_vocab(reg, kind, slug, label)),
                               dry_run=dry_run, fmt=fmt, as_json=as_json)
        report(ctx, result, entry, dry_run, (f"added {kind} {slug}", f"add {kind} {slug}"), fmt, as_json)

    @sub.command("rename", help=f"Rename a {kind} (and relabel it) in the vocabulary and wherever it is used."
                                f"\n\nExample: partnerctl {plural} rename OLD NEW --label 'New label'")
    def rename_entry(ctx: typer.Context, old: Annotated[str, typer.Argument(help="The slug now.")],
                     new: Annotated[str, typer.Argument(help="The new slug (may be the same, with --label).")],
                     label: Annotated[str | None, typer.Option(help="A new label.")] = None,
                     dry_run: DryRunOpt = False, fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
        from partnerctl.core import edit

        entry, result = _write(ctx, lambda reg: edit.vocab_entry(reg, kind, edit.rename_vocab(reg, kind, old, new, label)),
                               dry_run=dry_run, fmt=fmt, as_json=as_json)
        did = ((f"relabelled {kind} {old}", f"relabel {kind} {old}") if new == old
               else (f"renamed {kind} {old} to {new}", f"rename {kind} {old} to {new}"))
        report(ctx, result, entry, dry_run, did, fmt, as_json)

    @sub.command("remove", help=f"Remove a {kind}; refused while in use unless --force, which also removes it "
                                f"from the partnerships{' and events' if kind == 'theme' else ''} using it."
                                f"\n\nExample: partnerctl {plural} remove SLUG --force")
    def remove_entry(ctx: typer.Context, slug: Annotated[str, typer.Argument(help="The slug.")],
                     force: Annotated[bool, typer.Option("--force", help="Remove it from its users too.")] = False,
                     dry_run: DryRunOpt = False, fmt: FormatOpt = None, as_json: JsonOpt = False) -> None:
        from partnerctl.core import edit

        entry, result = _write(ctx, lambda reg: edit.remove_vocab(reg, kind, slug, force), dry_run=dry_run,
                               fmt=fmt, as_json=as_json)
        report(ctx, result, entry, dry_run, (f"removed {kind} {slug}", f"remove {kind} {slug}"), fmt, as_json)


_vocab_writes(themes_app, "theme")
_vocab_writes(networks_app, "network")


def _ask_edit_again() -> bool:
    """After a bad edit: True to re-open the editor, False to abort (also at end of input)."""
    question = "(e)dit again or (a)bort?"
    while True:
        if _interactive():
            try:
                answer = typer.prompt(question, err=True, default="e")
            except (typer.Abort, EOFError):
                return False
        else:
            # Not a terminal: read the answer anyway, so scripts and tests can pipe it.
            sys.stderr.write(f"{question} ")
            answer = sys.stdin.readline()
            sys.stderr.write("\n")  # the piped answer is not echoed
            if not answer:
                return False
        answer = answer.strip().lower()
        if answer in ("e", "edit"):
            return True
        if answer in ("a", "abort"):
            return False


@app.command("edit")
def edit_(
    ctx: typer.Context,
    partner: PartnerArg,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Edit a partnership as TOML in $VISUAL or $EDITOR; it is checked when you save.

    Example: EDITOR=nano partnerctl edit turin
    """
    from partnerctl.core import edit
    from partnerctl.core import query
    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.model import record
    from partnerctl.formats.output import clean

    choose(fmt, as_json)  # a contradiction fails before the editor opens
    reg = _state(ctx).load()
    pid = query.resolve(reg, partner)
    before = text = edit.block_text(reg, pid)
    while True:
        text = edit.run_editor(text, f"partnerctl-{pid}-")
        try:
            new = edit.parse_block(reg, pid, text)
            break
        except InvalidInput as exc:
            sys.stderr.write(f"partnerctl: {clean(str(exc))}\n")
            if not _ask_edit_again():
                raise InvalidInput(f"aborted; {pid} is unchanged") from None
    if new == reg.partnerships[pid]:
        sys.stderr.write("partnerctl: no changes\n")
        return

    def change(reg: Any, rpid: str) -> dict[str, Any]:
        return record(rpid, edit.put_block(reg, rpid, before, new))

    rec, result = _write(ctx, change, partner=pid, dry_run=dry_run, fmt=fmt, as_json=as_json)
    _report(ctx, result, dry_run, (f"edited {pid}", f"change {pid}"), fmt, as_json, rec, LIST_COLUMNS,
            _rows_renderable([rec], LIST_COLUMNS))


@app.command("fmt")
def fmt_(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 if the file is not canonical.")] = False,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rewrite the registry in canonical form.

    Example: partnerctl fmt --check
    """
    _, change = _write(ctx, lambda reg: None, dry_run=dry_run or check, fmt=fmt, as_json=as_json)
    path = _state(ctx).location().path
    changed = change.old_text != change.new_text
    obj = {"path": str(path), "changed": changed}
    if check and not dry_run:
        sys.stderr.write(f"partnerctl: {path} {'is not in canonical form' if changed else 'is canonical'}\n")
        if fmt is not None or as_json:
            print_changed(fmt, as_json, obj, FMT_COLUMNS, _rows_renderable([obj], FMT_COLUMNS), id_key="path")
    else:
        _report(ctx, change, dry_run, (f"reformatted {path}", f"reformat {path}"), fmt, as_json, obj, FMT_COLUMNS,
                _rows_renderable([obj], FMT_COLUMNS), id_key="path")
    if check and changed:
        raise typer.Exit(1)


# Each export format lives in its own module of the core; the module's
# ``export(reg, target)`` writes to *target* (a path, or stdout when None) and
# returns a one-line summary for stderr.
EXPORTERS = {
    "json": "partnerctl.formats.exchange", "jsonl": "partnerctl.formats.exchange", "csv": "partnerctl.formats.exchange",
    "sqlite": "partnerctl.storage.sqlschema",
    "markdown": "partnerctl.formats.site", "html": "partnerctl.formats.site",
    "ics": "partnerctl.formats.ics",
}


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(EXPORTERS)}.")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (or folder for markdown/html); default stdout.")] = None,
    raw: RawOpt = False,
    force: Annotated[bool, typer.Option("--force", help="html/markdown: export into a non-empty folder no export wrote, keeping its files.")] = False,
) -> None:
    """Export the whole registry.

    Example: partnerctl export --format json -o lyon.json
    """
    import importlib

    from partnerctl.core.errors import InvalidInput

    if fmt not in EXPORTERS:
        raise InvalidInput(f"--format must be one of {', '.join(EXPORTERS)}, not {fmt!r}")
    if force and fmt not in ("html", "markdown"):
        raise InvalidInput("--force is for --format html or markdown (a folder of pages)")
    module = importlib.import_module(EXPORTERS[fmt])
    # Only the CSV has cells to neutralise; the other formats write exact text anyway.
    options: dict[str, bool] = {"raw": True} if raw and fmt == "csv" else {}
    if force:
        options["force"] = True
    summary = module.export(_state(ctx).load(), fmt, output, **options)
    if summary:
        sys.stderr.write(f"partnerctl: {summary}\n")


def main() -> None:
    """Console-script entry point."""
    _build_only_invoked(app, sys.argv[1:])
    app(prog_name="partnerctl")


def _build_only_invoked(typer_app: typer.Typer, args: list[str]) -> None:
    """Keep only the invoked command in *typer_app*: Typer builds every command's options at start-up.

    With some forty commands that is tens of milliseconds on each call (see
    docs/performance.md). The command's name is found by the group's own option
    parser; help, completion, a mistyped command and anything unclear keep the
    whole tree, so what is printed never changes.
    """
    import copy
    import os

    from typer.main import get_command, get_command_name

    if any(name.endswith("_COMPLETE") for name in os.environ):
        return
    head = copy.copy(typer_app)
    head.registered_commands, head.registered_groups = [], []
    try:
        group = get_command(head)
        ctx = group.context_class(group, info_name="partnerctl", resilient_parsing=True)
        _, rest, _ = group.make_parser(ctx).parse_args(args=list(args))
    except Exception:  # noqa: BLE001 - any doubt: build everything, as Typer would
        return
    if not rest:
        return
    commands = [c for c in typer_app.registered_commands
                if (c.name or get_command_name(c.callback.__name__ if c.callback else "")) == rest[0]]
    groups = [g for g in typer_app.registered_groups if g.name == rest[0]]
    if commands or groups:
        typer_app.registered_commands, typer_app.registered_groups = commands, groups
