"""Export to and import from JSON, JSON lines and CSV, and the twin-towns CSV.

Import is two steps. ``load`` reads a file into a ``Batch``: one ``Row`` per
data row or record, each already built into a ``Partnership`` (validated once,
here) or carrying the reason it cannot be. ``merge`` then adds the rows to a
registry inside ``store.update`` (one locked, validated write for the whole
file) and returns a ``Report`` in which every row of the file is counted once:
imported, updated, skipped, rejected or, with ``--owner``, not selected.

Formats:

- ``json``: what ``export --format json`` writes (owner, vocabularies,
  partnerships as records), or a bare array of records (``list --format json``),
  which carries slugs but no vocabulary (no labels).
- ``jsonl``: one record per line (partnerships only).
- ``csv``: one row per partnership, the columns of ``CSV_COLUMNS``; list cells
  hold their items joined by ``;`` (a ``;`` or ``\\`` inside an item is written
  ``\\;`` / ``\\\\``). A CSV whose header is ``city1,country1,city2,country2`` is
  the public twin-towns dataset: city1 is the owner, city2 the partner.

Ids of twin-towns relations are ``<owner-slug>-<partner-slug>``; when another
pair already holds that id, ``-<partner-country-slug>`` is appended, then
``-2``, ``-3``...  A name whose slug is empty (a name in a non-Latin script that
folding cannot reduce to ASCII) is replaced by ``x`` and the first 8 hex digits
of the SHA-1 of its NFC form. Ids are given in file order and never change: a
later import finds an existing relation by its folded names, not by its id.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from partnerctl.core import dates
from partnerctl.core.duplicates import Place, one_place, same_place
from partnerctl.core.errors import InvalidInput
from partnerctl.core.geo import Match
from partnerctl.core.i18n import N_, _, ngettext
from partnerctl.core.model import (
    MAX_ID_LENGTH,
    Owner,
    Partnership,
    Registry,
    length_problem,
    problems_of,
    registry_data,
    table,
    undeclared,
    validate,
    vocabularies,
    vocabulary_kinds,
)
from partnerctl.core.names import fold, is_slug, shorten, slugify, unique
from partnerctl.core.text import counted, loads_json, unneutralise
from partnerctl.storage import files
from partnerctl.storage.store import Progress, no_progress

if TYPE_CHECKING:
    from partnerctl.storage.reader import Reader

FORMATS = ("json", "jsonl", "csv")
ON_CONFLICT = ("skip", "update", "fail")
TWIN_HEADER = ("city1", "country1", "city2", "country2")
# Every field one row can hold (events and contacts cannot), from the field table.
CSV_COLUMNS = ("id", *table().flat())
CSV_LISTS = frozenset(s.name for s in table().partnership if s.is_list)
_YEARS = frozenset(s.name for s in table().partnership if s.kind == "int")
_NUMBERS = frozenset(s.name for s in table().partnership if s.kind == "float")
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_TWIN_CARRIES = frozenset({"city", "country", "owner", "owner_country"})

# Reasons a row is rejected or skipped, as counted in the summary.
UNPARSABLE = N_("unparsable")
EMPTY = N_("empty city or country")
DUPLICATE = N_("duplicate")
INVALID = N_("invalid")
UNDECLARED = N_("undeclared theme or network")
EXISTING = N_("already in the registry")
SAME_PLACE = N_("same place in the gazetteer")
UNKNOWN_COUNTRY = N_("unknown country")
# What becomes of a row (counted; shown in the language in force).
OUTCOMES = (N_("imported"), N_("updated"), N_("skipped"), N_("rejected"))

# --------------------------------------------------------------------- export


# These formats are text: to stdout they go through its text stream, in the encoding it was given.
TEXT = True


def export(source: Reader, fmt: str, target: Path | None, out: TextIO, *, raw: bool = False) -> str | None:
    """Write the registry *source* reads as json, jsonl or csv to *target*, or to *out* (stdout's text stream).

    Streamed: one partnership at a time (``Reader.each_record``), so memory does
    not grow with the registry. CSV cells are neutralised for spreadsheets unless
    *raw*. Returns a one-line summary for stderr when writing to a file.
    """
    if target is None:
        _write(source, fmt, out, raw)
        out.flush()
        return None
    written = [0]

    def fill(out: TextIO) -> None:
        written[0] = _write(source, fmt, out, raw)

    files.write_atomic(target, fill, text=True)  # type: ignore[arg-type]
    return _("wrote {count} to {target} ({fmt})").format(count=counted(written[0], "partnership"),
                                                        target=target, fmt=fmt)


def _write(source: Reader, fmt: str, out: TextIO, raw: bool = False) -> int:
    """Write every partnership of *source* in *fmt*, one at a time; return how many."""
    from partnerctl.core.text import dumps_json

    if fmt not in FORMATS:
        raise InvalidInput(_("--format must be one of {items}, not {fmt!r}").format(items=', '.join(FORMATS), fmt=fmt))
    n = 0
    if fmt == "json":
        # Byte for byte what one json.dumps(indent=2) of {head..., "partnerships": [...]} writes.
        head = dumps_json(registry_data(source.head), indent=2)
        out.write(head[:-2] + ',\n  "partnerships": [')
        for _pid, rec in source.each_record():
            # Newlines in indented JSON are only between items (a string's are escaped).
            out.write(("\n" if n == 0 else ",\n") + "    " + dumps_json(rec, indent=2).replace("\n", "\n    "))
            n += 1
        out.write("\n  ]\n}\n" if n else "]\n}\n")
    elif fmt == "jsonl":
        for _pid, rec in source.each_record():
            out.write(dumps_json(rec) + "\n")
            n += 1
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for _pid, rec in source.each_record():
            writer.writerow([_csv_cell(rec[c], raw) for c in CSV_COLUMNS])
            n += 1
    return n


def _csv_cell(value: Any, raw: bool = False) -> str:
    from partnerctl.core.text import clean, neutralise

    if value is None or isinstance(value, int):
        return "" if value is None else str(value)
    if isinstance(value, list):
        text = ";".join(clean(str(v)).replace("\\", "\\\\").replace(";", "\\;") for v in value)
    else:
        # Tabs and newlines are data (a summary spans lines); other control characters are not.
        text = clean(str(value), multiline=True)
    # Import takes the neutralising quote off again (_partnership_row), so the round trip is exact.
    return text if raw else neutralise(text)


def _split_list(text: str) -> list[str]:
    """The items of a CSV list cell: split on unescaped ``;``, trimmed, empty ones dropped."""
    items, current, chars = [], [], iter(text)
    for c in chars:
        if c == "\\":
            current.append(next(chars, "\\"))
        elif c == ";":
            items.append("".join(current))
            current = []
        else:
            current.append(c)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


# --------------------------------------------------------------------- reading


class Names:
    """How an import reads countries and regions: the registry's resolver (``countries.resolver`` with its
    aliases) and its regions. Each distinct text is resolved once; how each was resolved is counted."""

    def __init__(self, head: Registry | None = None) -> None:
        from partnerctl.core import countries

        self.regions = dict(head.regions) if head is not None else {}
        self.resolver = countries.resolver(head.countries if head is not None else {})
        self._seen: dict[str, tuple[str | None, str]] = {}
        self.how: Counter[str] = Counter()
        self.parts: Counter[tuple[str, str]] = Counter()  # ("Rauma, Norway", "NO"): a place, then its country

    def country(self, text: str) -> str:
        """The code *text* names (InvalidInput with a did-you-mean when none)."""
        if text not in self._seen:
            try:
                found = self.resolver.explain(text)
                self._seen[text] = (found.code, found.how)
            except InvalidInput as exc:
                self._seen[text] = (None, str(exc))
        code, how = self._seen[text]
        if code is None:
            raise InvalidInput(how)
        self.how[how] += 1
        if how == "country-of":
            self.parts[(text, code)] += 1
        return code

    def region(self, text: str) -> str:
        """The slug of the declared region *text* names (its slug, its label, a word of it)."""
        from partnerctl.core.query import resolve_terms

        return resolve_terms(self.regions, [text], "region")[0]

    def prepare(self, data: dict[str, Any]) -> str | None:
        """*data* (a partnership's fields) with its countries as codes and its region as a slug, in place;
        the reason it cannot be (``UNKNOWN_COUNTRY``, ``INVALID``) and why, as "reason: detail", or None."""
        for spec in table().partnership:
            value = data.get(spec.name)
            if not isinstance(value, str):
                continue
            try:
                if spec.meta.country:
                    data[spec.name] = self.country(value)
                elif spec.meta.vocab == "region":
                    data[spec.name] = self.region(value)
            except InvalidInput as exc:
                reason = UNKNOWN_COUNTRY if spec.meta.country else INVALID
                return f"{reason}\t{spec.name}: {exc}"
        return None

    def notes(self) -> list[str]:
        """What the report says about the countries: how they were read, when not all by code or name."""
        plain = self.how["code"] + self.how["name"]
        if not self.how or plain == sum(self.how.values()):
            return []
        ways = {"french": "French name", "folded": "name spelled otherwise", "alias": "alias",
                "territory": "territory of a country", "subdivision": "part of a country",
                "country-of": "place followed by its country"}
        told = ", ".join(f"{n} by {ways.get(how, how)}" for how, n in sorted(self.how.items(), key=lambda i: -i[1])
                         if how not in ("code", "name"))
        out = [f"countries read: {plain} by code or name, {told}"]
        if self.parts:
            shown = ", ".join(f"{text!r} -> {code}" for (text, code), _ in self.parts.most_common(3))
            out.append(f"countries given as a place and its country (read as the country): {shown}"
                       + (f" and {len(self.parts) - 3} more" if len(self.parts) > 3 else ""))
        return out


@dataclass
class Row:
    """One data row or record of an imported file."""

    where: str
    raw: Any
    partnership: Partnership | None = None
    pid: str | None = None
    owner: str | None = None
    carries: frozenset[str] = frozenset(table().flat()) | {"events", "contacts"}
    pair: tuple[str, str, str, str] | None = None
    reason: str | None = None
    detail: str = ""

    def text(self) -> str:
        """The row as the file has it (a record shortened), for the report."""
        if isinstance(self.raw, list):
            return _as_csv(self.raw)
        try:
            text = self.raw if isinstance(self.raw, str) else json.dumps(self.raw, ensure_ascii=False)
        except RecursionError:  # read at the parser's depth limit, a little too deep to write back
            text = "(nested too deeply to show)"
        return text if len(text) <= 120 else text[:119] + "…"


@dataclass
class Batch:
    """A file read for import: its rows and what it says about owner and vocabularies."""

    source: str
    twin: bool = False
    owner: Owner | None = None
    themes: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    countries: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    # Their labels in other languages (``Registry.translations``).
    translations: dict[Any, Any] = field(default_factory=dict)
    names: Names = field(default_factory=Names)


def detect_format(source: str, fmt: str | None) -> str:
    """The import format: as given, else from the file name's suffix."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidInput(_("--format must be one of {items}, not {fmt!r}").format(
                items=', '.join(FORMATS), fmt=fmt))
        return fmt
    found = _SUFFIXES.get(Path(source).suffix.lower())
    if found is None:
        raise InvalidInput(_("cannot tell the format of {source!r} from its name; give --format json, "
                             "jsonl or csv").format(source=source))
    return found


def load(source: str, fmt: str | None = None, progress: Progress = no_progress,
         stdin: TextIO | None = None, head: Registry | None = None) -> Batch:
    """Read *source* (a path, or ``-`` for *stdin*) into a Batch; every row is built once here, its
    countries and region read as the registry of head *head* reads them (``Names``)."""
    fmt = detect_format(source, fmt)
    text = files.read_input(source, stdin)
    batch = Batch(source, names=Names(head))
    if fmt == "csv":
        _read_csv(text, batch, progress)
    elif fmt == "jsonl":
        _read_jsonl(text, batch, progress)
    else:
        _read_json(text, batch, progress)
    return batch


def _build(data: dict[str, Any], names: Names) -> tuple[Partnership | None, str, str]:
    """The partnership of *data* (countries and region read by *names*), or None, the reason and why not."""
    refused = names.prepare(data)
    if refused is not None:
        reason, detail = refused.split("\t", 1)
        return None, reason, detail
    try:
        return validate(Partnership, data), "", ""
    except ValidationError as exc:
        problem = problems_of(exc)[0]
        return None, INVALID, f"{problem.where}: {problem.message}"


def _record_row(where: str, rec: Any, raw: Any, names: Names) -> Row:
    if not isinstance(rec, dict):
        return Row(where, raw, reason=UNPARSABLE, detail="not a JSON object")
    data = dict(rec)
    owner = data.get("owner") if isinstance(data.get("owner"), str) else None
    pid = data.pop("id", None)
    if not isinstance(pid, str) or not is_slug(pid):
        return Row(where, raw, owner=owner, reason=INVALID, detail=_("id: {pid!r} is not a slug").format(pid=pid))
    if length_problem(pid):
        return Row(where, raw, owner=owner, reason=INVALID, detail=f"id: {length_problem(pid)}")
    p, reason, detail = _build(data, names)
    return Row(where, raw, p, pid, owner=owner, reason=reason or None, detail=detail)


def _ticker(stage: str, total: int, progress: Progress) -> Callable[[int], None]:
    def tick(done: int) -> None:
        if done % 1000 == 0 or done == total:
            progress(stage, done, total)

    return tick


def _read_json(text: str, batch: Batch, progress: Progress) -> None:
    try:
        data = loads_json(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(_("{source}: not valid JSON: {exc}").format(source=batch.source, exc=exc)) from None
    if isinstance(data, dict):
        known = ("registry", "themes", "networks", "regions", "countries", "partnerships")
        unknown = set(data) - set(known)
        if unknown:
            raise InvalidInput(_("{source}: unknown key {value!r} (expected {items})").format(
                source=batch.source, value=sorted(unknown)[0], items=", ".join(known)))
        _read_head(batch, data)
        records = data.get("partnerships", [])
    else:
        records = data
    if not isinstance(records, list):
        raise InvalidInput(_("{source}: partnerships must be an array of records").format(source=batch.source))
    tick = _ticker(_("reading {source}").format(source=batch.source), len(records), progress)
    for i, rec in enumerate(records, 1):
        batch.rows.append(_record_row(_("record {n}").format(n=i), rec, rec, batch.names))
        tick(i)


def _read_head(batch: Batch, data: dict[str, Any]) -> None:
    """The owner and vocabularies of a JSON export; a bad one is an error of the whole file."""
    owner = data.get("registry", {"owner": "-"})
    if isinstance(owner, dict) and isinstance(owner.get("country"), str):
        # An export written before countries were codes names it.
        owner = {**owner, "country": batch.names.country(owner["country"])}
    try:
        head = validate(Registry, {"registry": owner, **{key: data.get(key, {})
                                                         for key in ("themes", "networks", "regions", "countries")}})
    except ValidationError as exc:
        raise InvalidInput(_("{source}: {value}").format(source=batch.source, value=problems_of(exc)[0])) from None
    batch.owner = head.registry if "registry" in data else None
    batch.themes, batch.networks, batch.translations = head.themes, head.networks, head.translations
    batch.regions, batch.countries = head.regions, head.countries
    # The file's rows name its regions: those the registry lacks come with them (merge declares them).
    batch.names.regions = {**head.regions, **batch.names.regions}


def _read_jsonl(text: str, batch: Batch, progress: Progress) -> None:
    # Not splitlines(): JSON text may hold U+2028 and other characters it would split on.
    lines = [line.removesuffix("\r") for line in text.removesuffix("\n").split("\n")] if text else []
    tick = _ticker(_("reading {source}").format(source=batch.source), len(lines), progress)
    for n, line in enumerate(lines, 1):
        tick(n)
        if not line.strip():
            continue
        try:
            rec = loads_json(line)
        except json.JSONDecodeError as exc:
            batch.rows.append(Row(_("line {n}").format(n=n), line, reason=UNPARSABLE,
                                  detail=_("not valid JSON: {exc}").format(exc=exc)))
            continue
        batch.rows.append(_record_row(_("line {n}").format(n=n), rec, line, batch.names))


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, fields) for each non-blank row, the header included."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for fields in reader:
        if fields:
            yield start, fields
        start = reader.line_num + 1


def _as_csv(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _read_csv(text: str, batch: Batch, progress: Progress) -> None:
    try:
        rows = list(_csv_rows(text))
    except csv.Error as exc:
        raise InvalidInput(_("{source}: not valid CSV: {exc}").format(source=batch.source, exc=exc)) from None
    if not rows:
        raise InvalidInput(_("{source}: empty file (no header row)").format(source=batch.source))
    header = [h.strip().casefold() for h in rows[0][1]]
    tick = _ticker(_("reading {source}").format(source=batch.source), len(rows) - 1, progress)
    if tuple(header) == TWIN_HEADER:
        batch.twin = True
        seen: dict[tuple[str, str, str, str], int] = {}
        for i, (line, fields) in enumerate(rows[1:], 1):
            batch.rows.append(_twin_row(line, fields, seen, batch.names))
            tick(i)
        return
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [h for h in ("id", "city", "country") if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        what = (_("unknown column {name!r}").format(name=unknown[0]) if unknown
                else _("missing column {name!r}").format(name=missing[0]) if missing
                else _("a column is named twice"))
        raise InvalidInput(_("{source}: {what}; columns are {items} (or {items2} for the twin-towns "
                             "dataset)").format(
                                 source=batch.source, what=what, items=", ".join(CSV_COLUMNS),
                                 items2=",".join(TWIN_HEADER)))
    carries = frozenset(header) - {"id"}
    for i, (line, fields) in enumerate(rows[1:], 1):
        batch.rows.append(_partnership_row(line, fields, header, carries, batch.names))
        tick(i)


def _partnership_row(line: int, fields: list[str], header: list[str], carries: frozenset[str], names: Names) -> Row:
    where = _("line {n}").format(n=line)
    if len(fields) != len(header):
        return Row(where, fields, reason=UNPARSABLE, detail=_("{n} fields, expected {expected}").format(
            n=len(fields), expected=len(header)))
    data: dict[str, Any] = {}
    for name, value in zip(header, fields, strict=True):
        value = unneutralise(value)  # the quote export --format csv put before a formula-like cell
        if name in CSV_LISTS:
            data[name] = _split_list(value)
        elif name in _YEARS and value.strip():
            try:
                data[name] = dates.parse_year(value)
            except ValueError as exc:
                return Row(where, fields, reason=INVALID, detail=f"{name}: {exc}")
        elif name in _NUMBERS and value.strip():
            try:
                data[name] = float(value) if _NUMBER.fullmatch(value.strip()) else None
            except ValueError:
                data[name] = None
            if data[name] is None:
                return Row(where, fields, reason=INVALID, detail=f"{name}: {value!r} is not a number")
        elif value != "":
            data[name] = value
    pid = data.pop("id", "")
    if not is_slug(pid):
        return Row(where, fields, owner=data.get("owner"), reason=INVALID,
                   detail=_("id: {pid!r} is not a slug").format(pid=pid))
    if length_problem(pid):
        return Row(where, fields, owner=data.get("owner"), reason=INVALID, detail=f"id: {length_problem(pid)}")
    p, reason, detail = _build(data, names)
    return Row(where, fields, p, pid, owner=data.get("owner"), carries=carries, reason=reason or None, detail=detail)


def _twin_row(line: int, fields: list[str], seen: dict[tuple[str, str, str, str], int], names: Names) -> Row:
    where = _("line {n}").format(n=line)
    if len(fields) != len(TWIN_HEADER):
        return Row(where, fields, reason=UNPARSABLE, detail=_("{n} fields, expected {expected}").format(
            n=len(fields), expected=len(TWIN_HEADER)))
    values = [f.strip() for f in fields]
    owner, owner_country, city, country = values
    empty = [name for name, value in zip(TWIN_HEADER, values, strict=True) if not value]
    if empty:
        return Row(where, fields, owner=owner, reason=EMPTY,
                   detail=_("empty {fields}").format(fields=" and ".join(empty)))
    # A name is one line (the model says so of city and country; owners are names too).
    broken = [name for name, value in zip(TWIN_HEADER, values, strict=True) if "\n" in value or "\r" in value]
    if broken:
        return Row(where, fields, owner=owner, reason=INVALID, detail=_("line break in {fields}").format(
            fields=" and ".join(broken)))
    pair = (fold(owner), fold(owner_country), fold(city), fold(country))
    if pair in seen:
        return Row(where, fields, owner=owner, reason=DUPLICATE, detail=_("same pair as line {n}").format(
            n=seen[pair]))
    seen[pair] = line
    p, reason, detail = _build({"city": city, "country": country, "owner": owner, "owner_country": owner_country},
                               names)
    # Said in the file's words: its columns are country1 (the owner's) and country2 (the partner's).
    detail = re.sub(r"^owner_country:", "country1:", re.sub(r"^country:", "country2:", detail))
    # The pair as the registry will hold it: names folded, countries as codes.
    held = (fold(owner), p.owner_country or "", fold(city), p.country) if p else None
    return Row(where, fields, p, owner=owner, carries=_TWIN_CARRIES, pair=held, reason=reason or None, detail=detail)


# --------------------------------------------------------------------- twin ids


def name_slug(name: str) -> str:
    """The slug of a city or country name, or ``x`` + 8 hex digits of its SHA-1 when folding leaves nothing."""
    slug = slugify(name)
    if slug:
        return slug
    return "x" + hashlib.sha1(unicodedata.normalize("NFC", name.strip()).encode("utf-8")).hexdigest()[:8]


def twin_id(owner: str, partner: str, partner_country: str, taken: set[str] | dict[str, Any]) -> str:
    """``<owner>-<partner>``, else ``-<partner country>`` appended, else ``-2``, ``-3``... (not in *taken*).

    An id longer than the model allows is shortened (``names.shorten``): stable, and still unique.
    """
    base = f"{name_slug(owner)}-{name_slug(partner)}"
    if shorten(base, MAX_ID_LENGTH) not in taken:
        return shorten(base, MAX_ID_LENGTH)
    return unique(f"{base}-{name_slug(partner_country)}", taken, MAX_ID_LENGTH)


# --------------------------------------------------------------------- merging


@dataclass
class Report:
    """What an import did with every row: counts by outcome and reason, and a line per row not imported."""

    source: str
    read: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Undeclared slugs named by rejected rows, by kind.
    missing: dict[str, set[str]] = field(default_factory=dict)

    def add(self, row: Row, outcome: str, reason: str | None = None, detail: str = "") -> None:
        """Count *row* under *outcome*; rows not imported also get a line of their own."""
        self.counts[outcome] += 1
        if reason is not None:
            self.reasons[(outcome, reason)] += 1
        if outcome in ("rejected", "skipped"):
            line = (_("{source} {where}: rejected ({why}): {text}") if outcome == "rejected"
                    else _("{source} {where}: skipped ({why}): {text}"))
            self.lines.append(line.format(source=self.source, where=row.where,
                                          why=detail or (_(reason) if reason else ""), text=row.text()))

    def add_undeclared(self, row: Row, missing: list[tuple[str, str, str]]) -> None:
        """Reject *row* for the themes and networks it names that the registry does not declare."""
        by_place: dict[tuple[str, str], list[str]] = {}
        for path, kind, slug in missing:
            self.missing.setdefault(kind, set()).add(slug)
            by_place.setdefault((path, kind), []).append(repr(slug))
        self.add(row, "rejected", UNDECLARED, "; ".join(
            _("{path}: undeclared {kind} {slugs}").format(path=path, kind=kind + ("s" if len(slugs) > 1 else ""),
                                                          slugs=", ".join(slugs))
            for (path, kind), slugs in by_place.items()))

    def summary(self, dry_run: bool = False) -> str:
        """One line; the counts add up to the rows read, and undeclared vocabulary says how to fix it."""
        parts = [_("{n} {outcome}").format(n=self.counts[o], outcome=_(o)) + self._why(o) for o in OUTCOMES]
        if self.counts["not selected"]:
            parts.append(_("{n} not selected by --owner").format(n=self.counts["not selected"]))
        tail = _(" (dry run: nothing written)") if dry_run else ""
        return _("read {count} from {source}: {parts}{fix}{tail}").format(
            count=counted(self.read, "row"), source=self.source, parts=", ".join(parts), fix=self._fix_vocab(),
            tail=tail)

    def _fix_vocab(self) -> str:
        """What to do about rows rejected for undeclared themes or networks ("" when there are none).

        The file cannot tell their labels (a bare array, jsonl and csv carry slugs only): they
        are not invented, the user declares them or imports a file that carries them.
        """
        rows = self.reasons[("rejected", UNDECLARED)]
        if not rows:
            return ""
        named = _(" or ").join(f"{kind}{'s' if len(slugs) > 1 else ''} ({_some(sorted(slugs))})"
                               for kind in ("theme", "network") if (slugs := self.missing.get(kind)))
        commands = " / ".join(f"'partnerctl {kind}s add SLUG LABEL'" for kind in ("theme", "network")
                              if kind in self.missing)
        return ngettext("; {rows} row names undeclared {named}: declare them with {commands}, or import what "
                        "'partnerctl export --format json' writes, which carries the vocabularies",
                        "; {rows} rows name undeclared {named}: declare them with {commands}, or import what "
                        "'partnerctl export --format json' writes, which carries the vocabularies",
                        rows).format(rows=rows, named=named, commands=commands)

    def _why(self, outcome: str) -> str:
        why = [_("{n} {reason}").format(n=n, reason=_(reason)) for (o, reason), n in sorted(self.reasons.items())
               if o == outcome]
        return f" ({', '.join(why)})" if why else ""


def _some(items: list[str], shown: int = 10) -> str:
    """The first *shown* of *items*, comma-separated, and how many more there are."""
    more = _(" and {n} more").format(n=len(items) - shown) if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _pair_of(reg: Registry, p: Partnership) -> tuple[str, str, str, str]:
    """The relation as twin-towns rows are matched: owner, owner's country, partner, country (names folded,
    countries as codes). A partnership without an owner of its own is the registry owner's."""
    if p.owner:
        return fold(p.owner), p.owner_country or "", fold(p.city), p.country
    return fold(reg.registry.owner or ""), reg.registry.country or "", fold(p.city), p.country


class Relations:
    """The registry's partnerships by owner, folded name and country: ``same`` finds the one a new
    partnership duplicates (``duplicates``' rule: same owner, a name in common, countries that overlap);
    ``same_place`` the one the gazetteer puts in the same city (``duplicates``' gazetteer rule)."""

    def __init__(self, reg: Registry, place: Place | None = None) -> None:
        self.reg = reg
        self.place = place
        self._by: dict[tuple[str, str, str, str], list[str]] = {}
        # Owner and nation -> ids: only a partnership with a sibling there can share its city.
        self._nations: dict[tuple[str, str, str], list[str]] = {}
        self._cities: dict[str, Match | None] = {}
        for pid in sorted(reg.partnerships):
            self.add(pid, reg.partnerships[pid])

    def _owner(self, p: Partnership) -> tuple[str, str]:
        from partnerctl.core.countries import nation

        # An owner is its name and its country (Córdoba in Argentina is not Córdoba in Mexico).
        owner_country = p.owner_country if p.owner else self.reg.registry.country
        return fold(p.owner or self.reg.registry.owner or ""), nation(owner_country) if owner_country else ""

    def _keys(self, p: Partnership) -> set[tuple[str, str, str, str]]:
        from partnerctl.core.countries import nation

        owner = self._owner(p)
        return {(*owner, fold(name.strip()), nation(p.country)) for name in (p.city, *p.aliases)}

    def add(self, pid: str, p: Partnership) -> None:
        """Count partnership *pid* among the relations."""
        from partnerctl.core.countries import nation

        for k in self._keys(p):
            self._by.setdefault(k, []).append(pid)
        self._nations.setdefault((*self._owner(p), nation(p.country)), []).append(pid)

    def same(self, p: Partnership, but: str | None = None) -> str | None:
        """The id of a partnership (other than *but*) that is the same relation as *p*, or None."""
        from partnerctl.core.countries import overlap

        found = {pid for k in self._keys(p) for pid in self._by.get(k, ())
                 if pid != but and pid in self.reg.partnerships
                 and overlap(self.reg.partnerships[pid].country, p.country)}
        return min(found) if found else None

    def _city(self, pid: str) -> Match | None:
        """The gazetteer's one city for partnership *pid* (looked up once)."""
        if pid not in self._cities:
            assert self.place is not None
            p = self.reg.partnerships[pid]
            self._cities[pid] = one_place(self.place, p.city, p.country, p.aliases)
        return self._cities[pid]

    def same_place(self, p: Partnership, but: str | None = None) -> tuple[str, Match] | None:
        """A partnership (other than *but*) of *p*'s owner, in a country overlapping *p*'s, that the gazetteer
        puts in the same city as *p*, with that city; None when there is none (or no gazetteer).

        The gazetteer is consulted only when the owner has a partnership in that nation already, so an
        owner's first relation with a country costs no lookup."""
        from partnerctl.core.countries import nation, overlap

        siblings = [pid for pid in self._nations.get((*self._owner(p), nation(p.country)), ())
                    if pid != but and pid in self.reg.partnerships
                    and overlap(self.reg.partnerships[pid].country, p.country)]
        if self.place is None or not siblings:
            return None
        match = one_place(self.place, p.city, p.country, p.aliases)
        if match is None:
            return None
        for pid in sorted(siblings):
            theirs = self._city(pid)
            if theirs is not None and theirs.geonameid == match.geonameid:
                return pid, match
        return None


def _merge_vocab(reg: Registry, batch: Batch, on_conflict: str, report: Report) -> None:
    tables = [(kind, getattr(reg, f"{kind}s"), getattr(batch, f"{kind}s")) for kind in vocabulary_kinds()]
    tables.append(("country alias", reg.countries, batch.countries))
    for kind, ours, theirs in tables:
        for slug, label in theirs.items():
            if ours.get(slug, label) == label:
                ours[slug] = label
                continue
            if on_conflict == "fail":
                raise InvalidInput(_("{source}: {kind} {slug!r} is labelled {label!r} in the file but "
                                     "{ours!r} in the registry (--on-conflict fail); nothing written").format(
                                         source=batch.source, kind=kind, slug=slug, label=label, ours=ours[slug]))
            kept = on_conflict == "skip"
            note = (_("{kind} {slug}: kept label {ours!r}; the file has {label!r}") if kept
                    else _("{kind} {slug}: replaced label {ours!r} with {label!r}"))
            report.notes.append(note.format(kind=kind, slug=slug, ours=ours[slug], label=label))
            if not kept:
                ours[slug] = label
    # Labels in other languages: the file's fill those the registry lacks (and replace them with update).
    for lang, by_kind in batch.translations.items():
        for key, labels in by_kind.items():
            mine = reg.translations.setdefault(lang, {}).setdefault(key, {})
            for slug, label in labels.items():
                if on_conflict == "update" or slug not in mine:
                    mine[slug] = label


def merge(reg: Registry, batch: Batch, on_conflict: str = "skip", owner: str | None = None,
          progress: Progress = no_progress, place: Place | None = None) -> Report:
    """Add the rows of *batch* to *reg* (in place) and account for each one in the report.

    A row whose partnership is already in the registry (same id; for the twin-towns
    dataset, same owner, partner and countries) or that duplicates one under another id
    (same owner, a name in common, countries that overlap: ``Relations.same``) or that
    the gazetteer *place* puts in the city of one of the same owner (``Relations.same_place``:
    a possible duplicate, counted apart as such) is skipped, replaces what the file
    carries (update: the whole partnership from JSON, the columns present from CSV,
    keeping events and contacts), or stops the import (fail: InvalidInput, nothing
    written). ``owner`` keeps only rows whose owner (the partnership's, else the file's,
    else the registry's) folds equal to it.
    """
    if on_conflict not in ON_CONFLICT:
        raise InvalidInput(_("--on-conflict must be one of {items}, not {on_conflict!r}").format(
            items=', '.join(ON_CONFLICT), on_conflict=on_conflict))
    report = Report(batch.source, read=len(batch.rows))
    _merge_vocab(reg, batch, on_conflict, report)
    file_owner = batch.owner
    # Relations the file names without an owner are its own owner's: say so when that is not ours.
    foreign = file_owner is not None and fold(file_owner.owner or "") != fold(reg.registry.owner or "")
    home = (fold(reg.registry.owner or ""), reg.registry.country or "")
    existing = {_pair_of(reg, p): pid for pid, p in reg.partnerships.items()} if batch.twin else {}
    relations = Relations(reg, place)
    known = set(reg.partnerships)  # ids before this import: only these can conflict
    first_line: dict[str, str] = {}
    tick = _ticker(_("merging"), len(batch.rows), progress)
    for i, row in enumerate(batch.rows, 1):
        tick(i)
        row_owner = row.owner if row.owner is not None else (file_owner or reg.registry).owner
        # A row that cannot be read has no known owner: it is reported whatever --owner says.
        if owner is not None and row.reason != UNPARSABLE and fold(row_owner or "") != fold(owner):
            report.add(row, "not selected")
            continue
        p = row.partnership
        if p is None:
            report.add(row, "rejected", row.reason or INVALID, row.detail)
            continue
        if batch.twin:
            assert row.pair is not None
            if row.pair[:2] == home:
                p = replace(p, owner=None, owner_country=None)
            pid = existing.get(row.pair) or twin_id(p.owner or reg.registry.owner or "", p.city,
                                                    _country_name(p.country), reg.partnerships)
        else:
            pid = row.pid or ""
            if pid in first_line:
                report.add(row, "rejected", DUPLICATE,
                           _("same id {pid} as {first}").format(pid=pid, first=first_line[pid]))
                continue
            first_line[pid] = row.where
            if foreign and not p.owner and file_owner is not None:
                p = replace(p, owner=file_owner.owner, owner_country=file_owner.country)
        if not p.owner and reg.registry.owner is None:
            report.add(row, "rejected", INVALID, "owner: the registry has no owner of its own, and the row "
                                                 "names none")
            continue
        missing = undeclared(p, vocabularies(reg)) if p.themes or p.networks or p.events or p.region else []
        same = None if pid in known else relations.same(p)
        # Names first (certain), then the gazetteer (a possible duplicate), only for a row no name matched.
        place_of = None if missing or pid in known or same is not None else relations.same_place(p)
        if place_of is not None:
            same = place_of[0]
        if missing:
            report.add_undeclared(row, missing)
        elif pid not in known and same is None:
            reg.partnerships[pid] = p
            relations.add(pid, p)
            report.add(row, "imported")
        elif on_conflict == "skip":
            if place_of is not None:
                kept = place_of[0]
                report.add(row, "skipped", SAME_PLACE,
                           _("possible duplicate of {kept} ({city}): {why}").format(
                               kept=kept, city=reg.partnerships[kept].city, why=same_place(place_of[1])))
            elif same is not None:
                report.add(row, "skipped", DUPLICATE,
                           _("duplicate of {same}: the same owner, partner and country").format(same=same))
            else:
                report.add(row, "skipped", EXISTING, _("already in the registry as {pid}").format(pid=pid))
        elif on_conflict == "fail":
            if place_of is not None:
                what = _("possible duplicate of {kept} ({city}): {why}").format(
                    kept=place_of[0], city=reg.partnerships[place_of[0]].city, why=same_place(place_of[1]))
            elif same is not None:
                what = _("duplicates {same} (the same owner, partner and country)").format(same=same)
            else:
                what = _("{pid} is already in the registry").format(pid=pid)
            raise InvalidInput(_("{source} {where}: {what} (--on-conflict fail); nothing written").format(
                source=batch.source, where=row.where, what=what))
        else:
            target = same if same is not None else pid
            old = reg.partnerships[target]
            reg.partnerships[target] = replace(old, **{f: getattr(p, f) for f in row.carries})
            report.add(row, "updated")
    report.notes += batch.names.notes()
    return report


def _country_name(code: str) -> str:
    """A country's name, for an id (``cordoba-cordoba-spain``)."""
    from partnerctl.core.countries import display

    try:
        return display(code)
    except InvalidInput:
        return code
