"""Machine-readable output: JSON, JSON lines, CSV, TSV and ids (no Rich here).

Every text that reaches a terminal or a TSV/CSV cell passes ``clean`` first:
registry text is untrusted and may hold terminal escape sequences, bidirectional
controls and invisible characters. CSV/TSV cells are also ``neutralise``d, so a
spreadsheet never runs one as a formula.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, TextIO

from partnerctl.core.names import INVISIBLE


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
_SHOWN_ESCAPED = re.compile(f"{_CONTROL.pattern}|{INVISIBLE.pattern}")


def _escape(char: str) -> str:
    r"""One character as a visible escape: ``\x1b``, ``\u202e``, ``\U000e0041``."""
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def clean(text: str, *, multiline: bool = False) -> str:
    r"""*text* made safe for a terminal or a cell: control, bidirectional and invisible characters
    (``names.INVISIBLE``) shown as escapes (``\x1b``, ``\u202e``), so what shows is what is there."""
    text = _SHOWN_ESCAPED.sub(lambda m: _escape(m.group()), text)
    return text if multiline else text.replace("\n", " ").replace("\t", " ")


def choose(fmt: Format | None, as_json: bool, stream: TextIO | None = None, piped: Format = Format.tsv) -> Format:
    """The format to print in: as asked, else a table on a terminal and *piped* otherwise."""
    if as_json:
        if fmt not in (None, Format.json):
            from partnerctl.core.errors import InvalidInput

            raise InvalidInput(f"--json and --format {fmt.value} contradict each other")
        return Format.json
    if fmt is not None:
        return fmt
    return Format.table if (stream or sys.stdout).isatty() else piped


# A cell a spreadsheet would take for a formula (OWASP "CSV injection"), possibly behind
# quotes that neutralising added: it gets one more leading quote, which import removes.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")


def neutralise(text: str) -> str:
    """A CSV/TSV cell that a spreadsheet shows as text: ``=1+2`` -> ``'=1+2`` (``unneutralise`` undoes it)."""
    return "'" + text if _FORMULA.match(text) else text


def unneutralise(text: str) -> str:
    """The value of a cell ``neutralise`` wrote: ``''=x`` -> ``'=x``; any other cell unchanged."""
    return text[1:] if _NEUTRALISED.match(text) else text


def cell(value: Any, *, raw: bool = False) -> str:
    """One value as a CSV/TSV cell: None empty, a list of plain values joined by commas, nested
    values as compact JSON; neutralised for spreadsheets unless *raw*."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):  # a number is never a formula (a count, a year)
        return str(value)
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
        text = dumps_json(value, compact=True)
    elif isinstance(value, list):
        text = ",".join(clean(str(v)) for v in value)
    else:
        text = clean(str(value))
    return text if raw else neutralise(text)


# What json.dumps leaves raw but a terminal would act on: DEL, C1 controls, names.INVISIBLE.
_JSON_ESCAPED = re.compile(f"[\\x7f-\\x9f]|{INVISIBLE.pattern}")


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # JSON writes a character beyond U+FFFF as a surrogate pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def dumps_json(value: Any, indent: int | None = None, *, compact: bool = False) -> str:
    """JSON keeping letters readable; DEL, C1 controls and invisible characters escaped as ``\\uXXXX``
    too (json escapes only C0). *compact*: no spaces after separators."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=(",", ":") if compact else None)
    return _JSON_ESCAPED.sub(lambda m: _json_escape(m.group()), text)


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
                  out: TextIO, *, id_key: str = "id", raw: bool = False) -> None:
    """Print *records* in a machine format; *columns* choose CSV/TSV cells (*raw*: not neutralised)."""
    if fmt is Format.json:
        write_json(list(records), out)
    elif fmt is Format.jsonl:
        for r in records:
            out.write(dumps_json(r) + "\n")
    elif fmt is Format.ids:
        for r in records:
            out.write(clean(str(r[id_key])) + "\n")
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
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell(v, raw=raw) for v in row] for row in rows)
        return
    for row in rows:
        out.write("\t".join(cell(v, raw=raw) for v in row) + "\n")


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
