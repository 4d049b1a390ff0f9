"""Machine-readable output: JSON, JSON lines, CSV, TSV and ids (no Rich here).

Every text that reaches a terminal or a TSV/CSV cell passes ``clean`` first:
registry text is untrusted and may hold terminal escape sequences.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, TextIO


class Format(str, Enum):
    """The output formats every data-printing command accepts."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    ids = "ids"


# C0 and C1 control characters and DEL; shown as visible escapes, never passed through.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, *, multiline: bool = False) -> str:
    """*text* made safe for a terminal: control characters shown as ``\\x1b`` and the like."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if multiline else text.replace("\n", " ").replace("\t", " ")


def choose(fmt: Format | None, as_json: bool, stream: TextIO | None = None, piped: Format = Format.tsv) -> Format:
    """The format to print in: as asked, else a table on a terminal and *piped* otherwise."""
    if as_json:
        if fmt not in (None, Format.json):
            from partnerctl.errors import InvalidInput

            raise InvalidInput(f"--json and --format {fmt.value} contradict each other")
        return Format.json
    if fmt is not None:
        return fmt
    return Format.table if (stream or sys.stdout).isatty() else piped


def cell(value: Any) -> str:
    """One value as a CSV/TSV cell: lists joined by commas, None empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(cell(v) for v in value)
    return clean(str(value))


_C1 = re.compile(r"[\x7f-\x9f]")


def dumps_json(value: Any, indent: int | None = None) -> str:
    """JSON keeping letters readable, with DEL and C1 controls escaped too (json escapes only C0)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def loads_json(text: str) -> Any:
    """``json.loads`` for untrusted text: every failure is a ``json.JSONDecodeError``.

    Also arrays or objects nested too deeply for the parser, and numbers too
    long to convert (Python's own limit), which json.loads raises otherwise.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None
    except ValueError:
        raise json.JSONDecodeError("a number with too many digits", text, 0) from None


def write_json(items: Any, out: TextIO) -> None:
    """Indented, key-order-stable JSON with a final newline."""
    out.write(dumps_json(items, indent=2) + "\n")


def write_records(fmt: Format, records: Sequence[dict[str, Any]], columns: Sequence[str],
                  out: TextIO, *, id_key: str = "id") -> None:
    """Print *records* in a machine format; *columns* choose CSV/TSV cells."""
    if fmt is Format.json:
        write_json(list(records), out)
    elif fmt is Format.jsonl:
        for r in records:
            out.write(dumps_json(r) + "\n")
    elif fmt is Format.ids:
        for r in records:
            out.write(clean(str(r[id_key])) + "\n")
    elif fmt is Format.csv:
        write_rows(columns, ([r.get(c) for c in columns] for r in records), out, csv_format=True)
    elif fmt is Format.tsv:
        write_rows(columns, ([r.get(c) for c in columns] for r in records), out)
    else:  # pragma: no cover - tables are drawn by render.py
        raise ValueError(fmt)


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO,
               *, csv_format: bool = False) -> None:
    """CSV (with a header row) or TSV (without one, like ``gh``: for cut, awk and sort)."""
    if csv_format:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell(v) for v in row] for row in rows)
        return
    for row in rows:
        out.write("\t".join(cell(v) for v in row) + "\n")


def parse_fields(spec: str | None, valid: Sequence[str]) -> list[str] | None:
    """The fields ``--fields a,b,c`` names, in that order; None when not given.

    An unknown or empty list is InvalidInput (a usage error) naming the valid fields.
    """
    if spec is None:
        return None
    from partnerctl.errors import InvalidInput

    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in valid]
    if unknown or not names:
        what = f"unknown field {', '.join(repr(n) for n in unknown)}" if unknown else "no field named"
        raise InvalidInput(f"--fields: {what}; valid fields: {', '.join(valid)}")
    return list(dict.fromkeys(names))


def pick(record: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """*record* with only *fields*, in that order."""
    return {name: record.get(name) for name in fields}


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """*n* and *noun* in the number it takes: ``1 partnership``, ``2 partnerships``, ``0 events``.

    Every message that counts says it through here (*plural* for a noun not made with -s).
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
