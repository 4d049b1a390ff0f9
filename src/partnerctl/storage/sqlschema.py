"""The registry as SQLite tables: ``export --format sqlite``, and the shared part of the index.

One table per kind of record, with primary and foreign keys, so that
sqlite-utils and Datasette show the relations, plus ``search``, an FTS5 table
over partner names, summaries and event texts (folded with ``names.fold``:
lower case, no accents, so ``MATCH 'lodz'`` finds Łódź). The derived index
(``partnerctl.index``) is built on exactly these tables and adds its own
``index_*`` tables; one schema serves both, so an analyst's export and the
index can never drift apart.

Lists of free text (aliases, projects, links) are JSON arrays in one column;
lists of vocabulary slugs are link tables, so they can be joined and counted.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from partnerctl.storage import store
from partnerctl.core.errors import InvalidInput, WriteFailed

if TYPE_CHECKING:  # the model is imported by whoever hands us one
    from partnerctl.core.model import Partnership, Registry

SCHEMA = """
CREATE TABLE registry (
    owner TEXT NOT NULL,
    country TEXT
);
CREATE TABLE themes (
    slug TEXT PRIMARY KEY,
    label TEXT NOT NULL
);
CREATE TABLE networks (
    slug TEXT PRIMARY KEY,
    label TEXT NOT NULL
);
CREATE TABLE partnerships (
    id TEXT PRIMARY KEY,
    city TEXT NOT NULL,
    aliases TEXT NOT NULL,
    country TEXT NOT NULL,
    region TEXT,
    owner TEXT,
    owner_country TEXT,
    status TEXT,
    kind TEXT,
    since INTEGER,
    since_note TEXT,
    projects TEXT NOT NULL,
    links TEXT NOT NULL,
    summary TEXT
);
CREATE TABLE events (
    partnership_id TEXT NOT NULL REFERENCES partnerships(id),
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    date TEXT NOT NULL,
    end_date TEXT,
    title TEXT NOT NULL,
    description TEXT,
    links TEXT NOT NULL,
    PRIMARY KEY (partnership_id, id)
);
CREATE TABLE contacts (
    partnership_id TEXT NOT NULL REFERENCES partnerships(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT,
    organisation TEXT,
    email TEXT,
    phone TEXT,
    PRIMARY KEY (partnership_id, position)
);
CREATE TABLE partnership_themes (
    partnership_id TEXT NOT NULL REFERENCES partnerships(id),
    position INTEGER NOT NULL,
    theme TEXT NOT NULL REFERENCES themes(slug),
    PRIMARY KEY (partnership_id, position)
);
CREATE TABLE partnership_networks (
    partnership_id TEXT NOT NULL REFERENCES partnerships(id),
    position INTEGER NOT NULL,
    network TEXT NOT NULL REFERENCES networks(slug),
    PRIMARY KEY (partnership_id, position)
);
CREATE TABLE event_themes (
    partnership_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    theme TEXT NOT NULL REFERENCES themes(slug),
    PRIMARY KEY (partnership_id, event_id, position),
    FOREIGN KEY (partnership_id, event_id) REFERENCES events(partnership_id, id)
);
CREATE INDEX partnership_themes_theme ON partnership_themes(theme);
CREATE INDEX partnership_networks_network ON partnership_networks(network);
CREATE INDEX event_themes_theme ON event_themes(theme);
CREATE INDEX contacts_partnership ON contacts(partnership_id);
CREATE VIRTUAL TABLE search USING fts5(
    partnership_id UNINDEXED,
    event_id UNINDEXED,
    names,
    text,
    tokenize = 'unicode61 remove_diacritics 2'
);
"""

# Children before parents, so foreign keys hold at every step of a removal.
_PARTNERSHIP_TABLES = ("search", "event_themes", "events", "contacts", "partnership_themes",
                       "partnership_networks", "partnerships")


def create_schema(con: sqlite3.Connection) -> None:
    """Create the shared tables in an empty database."""
    con.executescript(SCHEMA)


def insert_head(con: sqlite3.Connection, reg: Registry) -> None:
    """The owner and the vocabularies (in the file's order)."""
    con.execute("INSERT INTO registry VALUES (?, ?)", (reg.registry.owner, reg.registry.country))
    con.executemany("INSERT INTO themes VALUES (?, ?)", reg.themes.items())
    con.executemany("INSERT INTO networks VALUES (?, ?)", reg.networks.items())


def insert_partnership(con: sqlite3.Connection, pid: str, p: Partnership, search_rowid: int | None = None) -> int:
    """One partnership with its events, contacts, theme and network links and search rows.

    Returns the number of ``search`` rows; with *search_rowid* they take the rowids
    from it on (the index keeps the range, to delete them without a scan).
    """
    from partnerctl.core.model import sorted_events
    from partnerctl.core.names import fold

    con.execute(
        "INSERT INTO partnerships VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (pid, p.city, _json(p.aliases), p.country, p.region, p.owner, p.owner_country, p.status,
         p.kind, p.since, p.since_note, _json(p.projects), _json(p.links), p.summary),
    )
    con.executemany("INSERT INTO partnership_themes VALUES (?, ?, ?)",
                    [(pid, i, slug) for i, slug in enumerate(p.themes)])
    con.executemany("INSERT INTO partnership_networks VALUES (?, ?, ?)",
                    [(pid, i, slug) for i, slug in enumerate(p.networks)])
    events = sorted_events(p.events)
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(pid, e.id, i, e.date, e.end, e.title, e.description, _json(e.links))
                     for i, e in enumerate(events)])
    con.executemany("INSERT INTO event_themes VALUES (?, ?, ?, ?)",
                    [(pid, e.id, i, slug) for e in events for i, slug in enumerate(e.themes)])
    con.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(pid, i, c.name, c.role, c.organisation, c.email, c.phone)
                     for i, c in enumerate(p.contacts)])
    # Folded as partnerctl folds (Łódź is lodz), which FTS5's remove_diacritics alone does not do.
    search = ([(pid, None, fold("\n".join([p.city, *p.aliases])), fold(p.summary or ""))]
              + [(pid, e.id, fold(e.title), fold(e.description or "")) for e in events])
    if search_rowid is None:
        con.executemany("INSERT INTO search VALUES (?, ?, ?, ?)", search)
    else:
        con.executemany("INSERT INTO search (rowid, partnership_id, event_id, names, text) VALUES (?, ?, ?, ?, ?)",
                        [(search_rowid + i, *row) for i, row in enumerate(search)])
    return len(search)


def delete_partnership(con: sqlite3.Connection, pid: str, search_rowids: range | None = None) -> None:
    """Remove a partnership and every row that belongs to it.

    *search_rowids*, when known, are its ``search`` rows: found without scanning the FTS table.
    """
    for table in _PARTNERSHIP_TABLES:
        if table == "search" and search_rowids is not None:
            con.execute("DELETE FROM search WHERE rowid >= ? AND rowid < ?", (search_rowids.start, search_rowids.stop))
            continue
        key = "id" if table == "partnerships" else "partnership_id"
        con.execute(f"DELETE FROM {table} WHERE {key} = ?", (pid,))  # noqa: S608 - fixed names


def fill(con: sqlite3.Connection, reg: Registry) -> None:
    """Create the schema and insert the whole registry, in one transaction."""
    create_schema(con)  # executescript commits first, so the schema comes before BEGIN
    con.execute("BEGIN")
    insert_head(con, reg)
    for pid, p in reg.partnerships.items():
        insert_partnership(con, pid, p)
    con.execute("COMMIT")


def _json(items: list[str]) -> str:
    return json.dumps(items, ensure_ascii=False)


def export(reg: Registry, fmt: str, target: Path | None) -> str | None:
    """Write *reg* as a SQLite database to *target* (or to stdout when it is a pipe).

    The database is built in a temporary file beside *target* and renamed over it
    (``store.replacing``): a failure (a full disk) leaves *target* as it was.
    """
    if target is None and sys.stdout.isatty():
        raise InvalidInput("--format sqlite writes a binary database: name a file with -o FILE")
    if target is not None and not store.is_stream(target):
        with store.replacing(target) as (tmp, _):
            _build(tmp, reg, target)
    else:
        data = _database_bytes(reg, target)
        if target is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            store.write_atomic(target, data)
    where = target if target is not None else "stdout"
    from partnerctl.formats.output import counted

    return f"exported {counted(len(reg.partnerships), 'partnership')} to {where} (SQLite)"


def _build(path: Path, reg: Registry, shown: Path | None) -> None:
    """Fill the empty file at *path* with the database; a SQLite error becomes WriteFailed."""
    try:
        con = sqlite3.connect(path, isolation_level=None)
        try:
            # Private until renamed: no journal, no syncs (the caller fsyncs the finished file).
            con.execute("PRAGMA journal_mode = OFF")
            con.execute("PRAGMA synchronous = OFF")
            con.execute("PRAGMA foreign_keys = ON")
            fill(con, reg)
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise WriteFailed(f"cannot write {shown or 'the database'}: {_reason(exc)}") from None


def _reason(exc: sqlite3.Error) -> str:
    # SQLITE_FULL is a full disk: say it as the file writers do.
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return os.strerror(errno.ENOSPC)
    return str(exc)


def _database_bytes(reg: Registry, shown: Path | None) -> bytes:
    """The database as bytes, built in a private temporary folder (for stdout or a pipe)."""
    try:
        with tempfile.TemporaryDirectory(prefix="partnerctl-export.") as folder:
            path = Path(folder) / "export.sqlite"
            _build(path, reg, shown)
            return path.read_bytes()
    except OSError as exc:
        raise WriteFailed(f"cannot write {shown or 'the database'}: {exc.strerror or exc}") from None
