"""Option groups declared once (output, write, filters, fields as options) and the one record printer.

A command takes a group by naming a parameter of its type: ``out: Output``
(``--format/-f``, ``--json``, ``--fields``, ``--raw``), ``writing: Writing``
(``--dry-run`` and the output options), ``filters: Filters`` (the partnership
filters, from the field table). The decorators below put the group's options
in the command's signature for Typer, and hand the command one object.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, NamedTuple, TypeVar

import typer

from partnerctl.cli.complete import completer_for
from partnerctl.cli.io import IOStreams
from partnerctl.cli.values import year
from partnerctl.core.errors import InvalidInput
from partnerctl.core.fields import FieldSpec
from partnerctl.core.i18n import _
from partnerctl.core.model import table
from partnerctl.core.query import Filters
from partnerctl.formats.output import Format

F = TypeVar("F", bound=Callable[..., Any])


def _with_params(params: list[inspect.Parameter], name: str, build: Callable[[dict[str, Any]], Any]
                 ) -> Callable[[F], F]:
    """A decorator replacing the parameter *name* of a command by *params*, built into one object by *build*."""
    def decorator(func: F) -> F:
        hints = typing.get_type_hints(func, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(func).parameters.values() if p.name != name]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {p.name: kwargs.pop(p.name) for p in params}
            kwargs[name] = build(values)
            return func(*args, **kwargs)

        del wrapper.__wrapped__  # Typer must see the signature below, not the function's own
        signature = inspect.Signature([*own, *params])
        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        return wrapper  # type: ignore[return-value]

    return decorator


def _option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


# --- output --------------------------------------------------------------------------------

class Output(NamedTuple):
    """The output options of a command: ``--format``, ``--json``, ``--fields``, ``--raw``, and its record shape."""

    fmt: Format | None
    as_json: bool
    fields: str | None
    raw: bool
    shape: str
    pager: bool = True
    # A format of this command's own beyond the record formats (``stats --format svg``).
    other: str | None = None

    @property
    def asked(self) -> bool:
        """Whether a format was asked for (``--format`` or ``--json``)."""
        return self.fmt is not None or self.as_json

    def check(self) -> None:
        """Fail early (before a write) on contradicting options or an unknown field."""
        if self.other and self.as_json:
            raise InvalidInput(_("--json and --format {other} contradict each other").format(other=self.other))
        self.chosen(False)
        self.picked()

    def chosen(self, tty: bool, piped: Format = Format.tsv) -> Format:
        """The format to print in: as asked, else a table on a terminal and *piped* otherwise."""
        if self.as_json:
            if self.fmt not in (None, Format.json):
                raise InvalidInput(_("--json and --format {value} contradict each other").format(value=self.fmt.value))
            return Format.json
        if self.fmt is not None:
            return self.fmt
        return Format.table if tty else piped

    def picked(self) -> list[str] | None:
        """The fields ``--fields`` names, checked against the shape's (None when not given)."""
        from partnerctl.core.records import shape
        from partnerctl.formats.output import parse_fields

        return parse_fields(self.fields, shape(self.shape).fields)

    def emit(self, io: IOStreams, records: Sequence[dict[str, Any]], table: Callable[[Any], Any] | None = None,
             *, nothing: str | None = None, piped: Format = Format.tsv, one: bool = False,
             footer: str | None = None, many_owners: bool = False) -> None:
        """Print *records*: JSON (a list, or the one object with *one*), JSON lines, CSV, TSV, ids, or a table.

        *table* draws the Rich renderable (given a console), or its parts one after
        another, for the table format; on a terminal the table goes through the
        pager (``pager.paged``) unless ``--no-pager``, and ends with *footer* (a count
        line). *nothing* is said on stderr instead of an empty table on a terminal.
        *many_owners*: the records are of a registry of several owners (``records.shapes``).
        """
        from partnerctl.core.records import shape
        from partnerctl.formats.output import pick, write_json, write_records

        chosen = self.chosen(io.stdout_tty, piped)
        spec = shape(self.shape, many_owners)
        picked = self.picked()
        if chosen is Format.table:
            if nothing and not records and io.stdout_tty:
                io.say(nothing)
                return
            from partnerctl.cli import render, tables
            from partnerctl.cli.pager import paged

            draw = table or (lambda con: tables.records_table(con, records, spec.columns))
            with paged(io, self.pager) as shown:
                render.show(shown, draw, footer)
            return
        if chosen is Format.json and one:
            write_json(pick(records[0], picked) if picked else records[0], io.stdout)
            return
        columns: Sequence[str] = spec.columns
        rows: Iterable[dict[str, Any]] = records
        if picked and chosen is not Format.ids:
            # Picked as written: a long list (``reader.Selected``) is read as it goes, never held.
            rows, columns = (pick(r, picked) for r in records), picked
        write_records(chosen, rows, columns, io.stdout, id_key=spec.id_key, raw=self.raw)


FormatOpt = Annotated[Format | None, typer.Option(
    "--format", "-f", help="Output format. Default: table on a terminal, tsv when piped.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Short for --format json.")]
FieldsOpt = Annotated[str | None, typer.Option(
    "--fields", help="Comma-separated fields that json, jsonl, csv and tsv output carry, in that order.")]
RawOpt = Annotated[bool, typer.Option(
    "--raw", help="CSV/TSV cells as they are: no leading ' before =, +, -, @ (spreadsheet formula guard).")]
NoPagerOpt = Annotated[bool, typer.Option(
    "--no-pager", help="On a terminal, print straight out: no pager ($PARTNERCTL_PAGER, $PAGER, else less -FRX).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the diff of what it would write; write nothing.")]


def _output_params(also: Sequence[str] = ()) -> list[inspect.Parameter]:
    fmt: Any = FormatOpt
    if also:
        import click

        names = [f.value for f in Format] + list(also)
        fmt = Annotated[str | None, typer.Option(
            "--format", "-f", click_type=click.Choice(names),
            help=f"Output format: {', '.join(names)}. Default: table on a terminal, tsv when piped.")]
    return [_option("fmt", fmt), _option("as_json", JsonOpt, False),
            _option("fields", FieldsOpt), _option("raw", RawOpt, False), _option("no_pager", NoPagerOpt, False)]


def _output(values: dict[str, Any], shape: str) -> Output:
    fmt = values["fmt"]
    pager = not values["no_pager"]
    if isinstance(fmt, str) and fmt not in Format.__members__:
        return Output(None, values["as_json"], values["fields"], values["raw"], shape, pager, other=fmt)
    return Output(Format(fmt) if fmt is not None else None, values["as_json"], values["fields"], values["raw"], shape,
                  pager)


def output_options(shape: str, *, also: Sequence[str] = ()) -> Callable[[F], F]:
    """Give a command the output options; it receives them as ``out: Output`` (records of *shape*).

    *also* names formats of the command's own (``svg``), which it handles itself (``Output.other``).
    """
    return _with_params(_output_params(also), "out", lambda v: _output(v, shape))


class Writing(NamedTuple):
    """The options of a write command: ``--dry-run`` and its output options."""

    dry_run: bool
    out: Output


def write_options(shape: str) -> Callable[[F], F]:
    """Give a command ``--dry-run`` and the output options; it receives them as ``writing: Writing``."""
    params = [_option("dry_run", DryRunOpt, False), *_output_params()]
    return _with_params(params, "writing", lambda v: Writing(
        v["dry_run"], Output(v["fmt"], v["as_json"], v["fields"], v["raw"], shape, not v["no_pager"])))


# --- partnership filters, from the field table ---------------------------------------------

def _filter_params() -> list[inspect.Parameter]:
    params = []
    involving = [s for s in table().with_("involving")]
    if involving:
        params.append(_option("involving", Annotated[str | None, typer.Option(
            "--involving", metavar="CITY_OR_COUNTRY",
            help="A city (partner or owner) or a country (the partner's or the owner's): either side.")]))
    for spec in table().filters():
        kind = spec.meta.filter
        help_ = spec.meta.help
        if kind == "year":
            params += [_option("since", Annotated[int | None, typer.Option(
                "--since", parser=year, metavar="YEAR", help="First year on or after YEAR.")]),
                       _option("until", Annotated[int | None, typer.Option(
                           "--until", parser=year, metavar="YEAR", help="First year on or before YEAR.")])]
            continue
        names = [spec.option, *([spec.meta.short] if spec.meta.short else [])]
        if kind in ("vocab", "member") and spec.is_list:
            more = "repeat: all must hold" if kind == "vocab" else "repeatable"
            annotation: Any = Annotated[list[str] | None, typer.Option(
                *names, help=f"{help_.split(';')[0]}; {more}.", autocompletion=completer_for(spec))]
        else:
            annotation = Annotated[str | None, typer.Option(*names, help=_filter_help(spec),
                                                            autocompletion=completer_for(spec))]
        params.append(_option(f"filter_{spec.name}", annotation))
    return params


def _filter_help(spec: FieldSpec) -> str:
    if spec.choices:
        return f"{spec.meta.label}: {', '.join(spec.choices)}."
    inherit = ", else the registry's" if spec.meta.inherit else ""
    if spec.meta.filter == "country":
        return f"{spec.meta.label}{inherit}: a code, a name or an alias (its parts too: England is in GB)."
    if spec.meta.filter == "vocab":
        default = ", else its country's" if spec.meta.default_from else ""
        return f"{spec.meta.label}{default} (slug, label or a word of it)."
    return f"{spec.meta.label}{inherit} (any case, accents optional)."


def _filters(values: dict[str, Any]) -> Filters:
    asked = {name.removeprefix("filter_"): value for name, value in values.items()
             if name.startswith("filter_") and value not in (None, [])}
    return Filters(asked, since=values.get("since"), until=values.get("until"), involving=values.get("involving"))


def filter_options(func: F) -> F:
    """Give a command the partnership filters of ``list``; it receives them as ``filters: Filters``."""
    return _with_params(_filter_params(), "filters", _filters)(func)


# --- a partnership's fields as options (add, add-event, add-contact, edit-...) --------------

def field_params(model: str, *, skip: Sequence[str] = (), prefix: str = "field_") -> list[inspect.Parameter]:
    """One option per field of *model* a user gives on the command line (scalars and lists of strings)."""
    params = []
    for spec in table().of(model):
        if spec.name in skip or spec.kind == "records" or spec.meta.edit == "none":
            continue
        names = [spec.option, *([spec.meta.short] if spec.meta.short else [])]
        help_ = spec.meta.help + ("" if spec.is_list else ".") if spec.meta.help else spec.meta.label
        if spec.is_list:
            annotation: Any = Annotated[list[str] | None, typer.Option(
                *names, help=help_, autocompletion=completer_for(spec))]
        elif spec.kind == "bool":
            # A flag and its opposite: absent keeps the value (edit-event), --no-... sets it false.
            annotation = Annotated[bool | None, typer.Option(f"{spec.option}/--no-{spec.option[2:]}", help=help_)]
        else:
            annotation = Annotated[str | None, typer.Option(*names, help=help_)]
        params.append(_option(prefix + spec.name, annotation))
    return params


def field_options(model: str, *, skip: Sequence[str] = ()) -> Callable[[F], F]:
    """Give a command one option per field of *model*; it receives ``given: dict`` (field: value or None)."""
    params = field_params(model, skip=skip)
    return _with_params(params, "given", lambda v: {k.removeprefix("field_"): v[k] for k in v})
