"""The registry as SQLite tables: ``export --format sqlite``.

One table per kind of record, with primary and foreign keys, so that
sqlite-utils and Datasette show the relations, plus ``search``, an FTS5 table
over partner names, summaries and event texts (folded with ``names.fold``:
lower case, no accents, so ``MATCH 'lodz'`` finds Łódź). The schema and the
inserts are derived from the field table: a new field is a new column.

Lists of free text (aliases, projects, links) are JSON arrays in one column;
lists of vocabulary slugs are link tables, so they can be joined and counted.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from partnerctl.core.errors import InvalidInput, WriteFailed
from partnerctl.core.fields import FieldSpec
from partnerctl.core.i18n import _
from partnerctl.core.model import table
from partnerctl.core.text import counted
from partnerctl.storage import files

if TYPE_CHECKING:  # the model is imported by whoever hands us one
    from partnerctl.core.model import Partnership, Registry
    from partnerctl.storage.reader import Reader

# Column names that SQL keeps for itself.
_SQL_NAMES = {"end": "end_date"}
_SQL_TYPES = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER", "text": "TEXT", "list": "TEXT"}


def _column(name: str) -> str:
    return _SQL_NAMES.get(name, name)


def _columns(model: str) -> list[tuple[str, str, FieldSpec]]:
    """(field, column, spec) of the fields of *model* stored as columns (lists of free text as JSON arrays)."""
    return [(s.name, _column(s.name), s) for s in table().of(model) if s.kind in _SQL_TYPES]


def _links(model: str) -> list[FieldSpec]:
    """The vocabulary-slug lists of *model*: each gets a link table."""
    return [s for s in table().of(model) if s.kind == "slugs"]


def _vocabularies() -> list[str]:
    return sorted({s.meta.vocab for m in ("partnership", "event") for s in _links(m) if s.meta.vocab})


def _definition(column: str, spec: FieldSpec) -> str:
    null = " NOT NULL" if spec.required or spec.is_list else ""
    return f"    {column} {_SQL_TYPES[spec.kind]}{null}"


def schema() -> str:
    """The SQL schema of the export, derived from the field table: one table per kind of record."""
    vocab_tables = "".join(f"CREATE TABLE {kind}s (\n    slug TEXT PRIMARY KEY,\n    label TEXT NOT NULL\n);\n"
                           for kind in _vocabularies())
    partnership = ",\n".join(["    id TEXT PRIMARY KEY", *(_definition(c, s) for _, c, s in _columns("partnership"))])
    event = ",\n".join(["    partnership_id TEXT NOT NULL REFERENCES partnerships(id)",
                         *(_definition(c, s) for _, c, s in _columns("event")),
                         "    position INTEGER NOT NULL", "    PRIMARY KEY (partnership_id, id)"])
    contact = ",\n".join(["    partnership_id TEXT NOT NULL REFERENCES partnerships(id)",
                           "    position INTEGER NOT NULL",
                           *(_definition(c, s) for _, c, s in _columns("contact")),
                           "    PRIMARY KEY (partnership_id, position)"])
    links = ""
    for spec in _links("partnership"):
        item = spec.meta.item or spec.name
        links += (f"CREATE TABLE partnership_{spec.name} (\n"
                  "    partnership_id TEXT NOT NULL REFERENCES partnerships(id),\n"
                  f"    position INTEGER NOT NULL,\n    {item} TEXT NOT NULL REFERENCES {spec.meta.vocab}s(slug),\n"
                  f"    PRIMARY KEY (partnership_id, position)\n);\n"
                  f"CREATE INDEX partnership_{spec.name}_{item} ON partnership_{spec.name}({item});\n")
    for spec in _links("event"):
        item = spec.meta.item or spec.name
        links += (f"CREATE TABLE event_{spec.name} (\n    partnership_id TEXT NOT NULL,\n    event_id TEXT NOT NULL,\n"
                  f"    position INTEGER NOT NULL,\n    {item} TEXT NOT NULL REFERENCES {spec.meta.vocab}s(slug),\n"
                  f"    PRIMARY KEY (partnership_id, event_id, position),\n"
                  f"    FOREIGN KEY (partnership_id, event_id) REFERENCES events(partnership_id, id)\n);\n"
                  f"CREATE INDEX event_{spec.name}_{item} ON event_{spec.name}({item});\n")
    return (
        "CREATE TABLE registry (\n    owner TEXT NOT NULL,\n    country TEXT\n);\n" + vocab_tables
        + f"CREATE TABLE partnerships (\n{partnership}\n);\n"
        + f"CREATE TABLE events (\n{event}\n);\n"
        + f"CREATE TABLE contacts (\n{contact}\n);\n" + links
        + "CREATE INDEX contacts_partnership ON contacts(partnership_id);\n"
        "CREATE VIRTUAL TABLE search USING fts5(\n    partnership_id UNINDEXED,\n    event_id UNINDEXED,\n"
        "    names,\n    text,\n    tokenize = 'unicode61 remove_diacritics 2'\n);\n"
    )


def _value(spec: FieldSpec, value: Any) -> Any:
    return _json(value) if spec.is_list else value


def _insert(con: sqlite3.Connection, name: str, row: dict[str, Any]) -> None:
    """One named INSERT (columns named, never by position)."""
    columns = ", ".join(row)
    con.execute(f"INSERT INTO {name} ({columns}) VALUES ({', '.join(':' + _param(c) for c in row)})",  # noqa: S608
                {_param(c): v for c, v in row.items()})


def _param(column: str) -> str:
    return column.replace(" ", "_")


def insert_head(con: sqlite3.Connection, reg: Registry) -> None:
    """The owner and the vocabularies (in the file's order)."""
    _insert(con, "registry", {"owner": reg.registry.owner, "country": reg.registry.country})
    for kind in _vocabularies():
        for slug, label in getattr(reg, f"{kind}s").items():
            _insert(con, f"{kind}s", {"slug": slug, "label": label})


def insert_partnership(con: sqlite3.Connection, pid: str, p: Partnership) -> None:
    """One partnership with its events, contacts, vocabulary links and search rows."""
    from partnerctl.core.model import sorted_events
    from partnerctl.core.names import fold

    _insert(con, "partnerships", {"id": pid, **{c: _value(s, getattr(p, f)) for f, c, s in _columns("partnership")}})
    for spec in _links("partnership"):
        for i, slug in enumerate(getattr(p, spec.name)):
            _insert(con, f"partnership_{spec.name}",
                    {"partnership_id": pid, "position": i, spec.meta.item or spec.name: slug})
    events = sorted_events(p.events)
    for i, e in enumerate(events):
        _insert(con, "events", {"partnership_id": pid, **{c: _value(s, getattr(e, f)) for f, c, s in _columns("event")},
                                "position": i})
        for spec in _links("event"):
            for k, slug in enumerate(getattr(e, spec.name)):
                _insert(con, f"event_{spec.name}",
                        {"partnership_id": pid, "event_id": e.id, "position": k, spec.meta.item or spec.name: slug})
    for i, c in enumerate(p.contacts):
        _insert(con, "contacts", {"partnership_id": pid, "position": i,
                                  **{col: _value(s, getattr(c, f)) for f, col, s in _columns("contact")}})
    # Folded as partnerctl folds (Łódź is lodz), which FTS5's remove_diacritics alone does not do.
    names = [v for s in table().with_("names") for v in (getattr(p, s.name) if s.is_list else [getattr(p, s.name)])]
    texts = [v for s in table().with_("search") if not s.meta.names and not s.meta.vocab and s.kind != "records"
             for v in (getattr(p, s.name) if s.is_list else [getattr(p, s.name)]) if v]
    event_fields = [s.name for s in table().with_("search", "event")]
    rows: list[tuple[str, str | None, str, str]] = [(pid, None, fold("\n".join(names)), fold("\n".join(texts)))]
    rows += [(pid, e.id, fold(getattr(e, event_fields[0]) or ""),
              fold("\n".join(getattr(e, f) or "" for f in event_fields[1:]))) for e in events]
    con.executemany("INSERT INTO search (partnership_id, event_id, names, text) VALUES (?, ?, ?, ?)", rows)


def fill(con: sqlite3.Connection, source: Reader) -> int:
    """Create the schema and insert the whole registry, in one transaction; return the partnerships inserted.

    Streamed: one partnership at a time (``Reader.each_record``), so memory does
    not grow with the registry.
    """
    from partnerctl.core.model import partnership_of

    con.executescript(schema())  # executescript commits first, so the schema comes before BEGIN
    con.execute("BEGIN")
    insert_head(con, source.head)
    n = 0
    for pid, rec in source.each_record():
        insert_partnership(con, pid, partnership_of(rec))
        n += 1
    con.execute("COMMIT")
    return n


def _json(items: list[str]) -> str:
    return json.dumps(items, ensure_ascii=False)


def export(source: Reader, fmt: str, target: Path | None, out: BinaryIO) -> str | None:
    """Write the registry *source* reads as a SQLite database to *target* (or to *out*, stdout's bytes, off a terminal).

    The database is built in a temporary file beside *target* and renamed over it
    (``files.replacing``): a failure (a full disk) leaves *target* as it was.
    """
    if target is None and out.isatty():
        raise InvalidInput(_("--format sqlite writes a binary database: name a file with -o FILE"))
    if target is not None and not files.is_stream(target):
        with files.replacing(target) as (tmp, _fd):
            n = _build(tmp, source, target)
    else:
        n, data = _database_bytes(source, target)
        if target is None:
            out.write(data)
            out.flush()
        else:
            files.write_atomic(target, data)
    where = target if target is not None else "stdout"
    return _("exported {count} to {where} (SQLite)").format(count=counted(n, "partnership"), where=where)


def _build(path: Path, source: Reader, shown: Path | None) -> int:
    """Fill the empty file at *path* with the database (return the partnerships); a SQLite error: WriteFailed."""
    try:
        con = sqlite3.connect(path, isolation_level=None)
        try:
            # Private until renamed: no journal, no syncs (the caller fsyncs the finished file).
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            con.execute("PRAGMA foreign_keys = ON")
            return fill(con, source)
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise WriteFailed(_("cannot write {value}: {value2}").format(
            value=shown or _("the database"), value2=_reason(exc))) from None


def _reason(exc: sqlite3.Error) -> str:
    # SQLITE_FULL is a full disk: say it as the file writers do.
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return os.strerror(errno.ENOSPC)
    return str(exc)


def _database_bytes(source: Reader, shown: Path | None) -> tuple[int, bytes]:
    """The database as bytes, built in a private temporary folder (for stdout or a pipe)."""
    try:
        with tempfile.TemporaryDirectory(prefix="partnerctl-export.") as folder:
            path = Path(folder) / "export.sqlite"
            n = _build(path, source, shown)
            return n, path.read_bytes()
    except OSError as exc:
        raise WriteFailed(_("cannot write {value}: {value2}").format(
            value=shown or _("the database"), value2=exc.strerror or exc)) from None
