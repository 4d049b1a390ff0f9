"""Machine-readable output: JSON, JSON lines, CSV, TSV and ids (no Rich here).

Every text that reaches a terminal or a TSV/CSV cell passes ``clean`` first:
registry text is untrusted and may hold terminal escape sequences, bidirectional
controls and invisible characters. CSV/TSV cells are also ``neutralise``d, so a
spreadsheet never runs one as a formula.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, TextIO

from partnerctl.core.i18n import _
from partnerctl.core.text import clean, counted, dumps_json, loads_json, neutralise, unneutralise  # noqa: F401 - the writers' text rules, re-exported


class Format(str, Enum):
    """The output formats every data-printing command accepts."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    ids = "ids"


def choose(fmt: Format | None, as_json: bool, stream: TextIO | None = None, piped: Format = Format.tsv) -> Format:
    """The format to print in: as asked, else a table on a terminal and *piped* otherwise."""
    if as_json:
        if fmt not in (None, Format.json):
            from partnerctl.core.errors import InvalidInput

            raise InvalidInput(_("--json and --format {value} contradict each other").format(value=fmt.value))
        return Format.json
    if fmt is not None:
        return fmt
    return Format.table if (stream or sys.stdout).isatty() else piped


def cell(value: Any, *, raw: bool = False) -> str:
    """One value as a CSV/TSV cell: None empty, a list of plain values joined by commas, nested
    values as compact JSON; neutralised for spreadsheets unless *raw*."""
    if value is None:
        return ""
    if type(value) is str:  # most cells
        return clean(value) if raw else neutralise(clean(value))
    if isinstance(value, (int, float)):  # a number is never a formula (a count, a year)
        return str(value)
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
        text = dumps_json(value, compact=True)
    elif isinstance(value, list):
        text = ",".join(clean(str(v)) for v in value)
    else:
        text = clean(str(value))
    return text if raw else neutralise(text)


def write_json(items: Any, out: TextIO) -> None:
    """Indented, key-order-stable JSON with a final newline."""
    out.write(dumps_json(items, indent=2) + "\n")


def write_json_list(items: Iterable[Any], out: TextIO) -> None:
    """``write_json`` of a list, written an item at a time (the same bytes: an item's indented JSON holds
    no line break but its own, since JSON escapes those inside strings)."""
    sep = "[\n  "
    for item in items:
        out.write(sep + dumps_json(item, indent=2, margin="  "))
        sep = ",\n  "
    out.write("[]\n" if sep.startswith("[") else "\n]\n")


def write_records(fmt: Format, records: Iterable[dict[str, Any]], columns: Sequence[str],
                  out: TextIO, *, id_key: str = "id", raw: bool = False) -> None:
    """Print *records* in a machine format, one at a time as they come; *columns* choose CSV/TSV cells
    (*raw*: not neutralised)."""
    if fmt is Format.json:
        write_json_list(records, out)
    elif fmt is Format.jsonl:
        for r in records:
            out.write(dumps_json(r) + "\n")
    elif fmt is Format.ids:
        from partnerctl.storage.reader import Selected

        # A list read from the index knows its ids (checked with their rows): no record is read for them.
        ids = records.ids if id_key == "id" and isinstance(records, Selected) else (r[id_key] for r in records)
        for pid in ids:
            out.write(clean(str(pid)) + "\n")
    elif fmt in (Format.csv, Format.tsv):
        write_rows(columns, ([r.get(c) for c in columns] for r in records), out,
                   csv_format=fmt is Format.csv, raw=raw)
    else:  # pragma: no cover - tables are drawn by render.py
        raise ValueError(fmt)


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO,
               *, csv_format: bool = False, raw: bool = False) -> None:
    """CSV (with a header row) or TSV (without one, like ``gh``: for cut, awk and sort).

    Cells are ``neutralise``d for spreadsheets unless *raw*.
    """
    if csv_format:
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell(v, raw=raw) for v in row] for row in rows)
        return
    for row in rows:
        out.write("\t".join([cell(v, raw=raw) for v in row]) + "\n")


def parse_fields(spec: str | None, valid: Sequence[str]) -> list[str] | None:
    """The fields ``--fields a,b,c`` names, in that order; None when not given.

    An unknown or empty list is InvalidInput (a usage error) naming the valid fields.
    """
    if spec is None:
        return None
    from partnerctl.core.errors import InvalidInput

    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in valid]
    if unknown or not names:
        what = (_("unknown field {names}").format(names=", ".join(repr(n) for n in unknown)) if unknown
                else _("no field named"))
        raise InvalidInput(_("--fields: {what}; valid fields: {items}").format(what=what, items=', '.join(valid)))
    return list(dict.fromkeys(names))


def pick(record: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """*record* with only *fields*, in that order."""
    return {name: record.get(name) for name in fields}


