"""The derived index: a SQLite copy of the validated registry in the user cache folder.

The TOML file stays the only source of truth. The index is a cache of it, one
database per registry (named after the registry's real path) in
``$XDG_CACHE_HOME/partnerctl/`` (default ``~/.cache/partnerctl``). It is
trusted only when the size, mtime and BLAKE2b hash of the file's bytes equal
the ones it was built for; anything else (a hand edit, a missing, stale,
corrupt or unreadable database, another schema version) makes it ignored and
rebuilt from a full, validated load. ``PARTNERCTL_NO_INDEX=1`` turns it off.

It holds the shared tables of ``sqlite_export`` plus its own: per partnership
its JSON record (``model.record``) and, as columns, the fields of it that
resolution, completion and ``stats`` read (``FACTS``), the columns reads narrow
by (folded owner, country, region, number of events, the folded text that
search looks in), its folded names, its theme and network links, and the byte
span and hash of its block in the file. Reads use only these ``index_*``
tables and the registry's head kept in ``index_meta``; the shared tables are
kept for the schema they share with ``export --format sqlite``.

A cache file is just a file (bit rot, a crashed disk, a bad copy, a hand-run
``sqlite3``), so the index may make a read faster, never wrong, and never
decides what a write removes. What is checked:

- When it is opened: ``index_meta`` against a hash of its own rows; the set of
  tables and indexes (``sqlite_master``) against the hash recorded at build;
  and, per ``index_*`` table, one aggregate (row count and a sum of row
  hashes; for blocks, a sum weighing each span by its content hash) against
  the one recorded: a dropped or altered table, a deleted or inserted row, a
  changed span is seen there.
- Every row a read returns: each ``index_records``, ``index_names`` and
  ``index_links`` row carries a hash of all its columns (the record through
  its own hash, checked when the record is read), recomputed and compared.
- A one-block write (``store.update_one``) uses a span only if it lies on the
  canonical layout's boundaries, the hash of those bytes is the one recorded,
  and they parse to exactly the one ``[partnerships.ID]`` table expected.

Any disagreement, and any SQLite error, raises or is turned into ``Damaged``:
the reader answers from the file (a full validated load) and rebuilds the
index; the writer takes the full path. The gap left: a row is re-hashed only
when a read returns it, so a change to a narrowing column (a folded name, a
key, the search text) that makes a filter exclude a row it should keep, while
leaving the row's stored hash and the table's aggregate as they were, is not
seen by that filter; it is seen by any read that returns the row. Re-hashing
every row on every read would cost what the index saves.

Concurrency: every change of the database file (renaming a fresh build over
it, or updating it in place after a one-block write) happens under an
exclusive ``flock`` on ``<db>.lock``; readers open it read-only inside one
read transaction, so the key they checked and the rows they read agree. A
stale rollback journal is removed, under that lock, before a new build is
renamed over the database, so a journal can never be replayed into the wrong
file. A build fills ``.<db stem>.<random>.build.tmp``, flocked while it is
built; a builder or writer removes the temporary files in the cache folder
that nobody holds locked (left by a process that was killed).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import marshal
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from partnerctl.core.model import Partnership, Registry
    from partnerctl.core.query import Filters

SCHEMA_VERSION = 5
ENV_OFF = "PARTNERCTL_NO_INDEX"
LOCK_TIMEOUT = 2.0

INDEX_SCHEMA = """
CREATE TABLE index_meta (
    key TEXT PRIMARY KEY,
    value
);
CREATE TABLE index_records (
    id TEXT PRIMARY KEY REFERENCES partnerships(id),
    h INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    owner_key TEXT NOT NULL,
    country_key TEXT NOT NULL,
    region_key TEXT,
    events INTEGER NOT NULL,
    haystack TEXT NOT NULL,
    city TEXT NOT NULL,
    aliases TEXT NOT NULL,
    country TEXT NOT NULL,
    region TEXT,
    owner TEXT,
    status TEXT,
    since INTEGER,
    projects TEXT NOT NULL,
    themes TEXT NOT NULL,
    networks TEXT NOT NULL,
    record_h INTEGER NOT NULL,
    record TEXT NOT NULL,
    search_first INTEGER NOT NULL,
    search_count INTEGER NOT NULL
);
CREATE INDEX index_records_pos ON index_records(pos);
CREATE INDEX index_records_h ON index_records(h);
CREATE INDEX index_records_owner ON index_records(owner_key);
CREATE INDEX index_records_country ON index_records(country_key);
CREATE INDEX index_records_region ON index_records(region_key);
CREATE TABLE index_names (
    key TEXT NOT NULL,
    id TEXT NOT NULL REFERENCES partnerships(id),
    pos INTEGER NOT NULL,
    k INTEGER NOT NULL,
    h INTEGER NOT NULL,
    PRIMARY KEY (key, pos, k)
) WITHOUT ROWID;
CREATE INDEX index_names_id ON index_names(id);
CREATE INDEX index_names_h ON index_names(h);
CREATE TABLE index_links (
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    id TEXT NOT NULL REFERENCES partnerships(id),
    position INTEGER NOT NULL,
    h INTEGER NOT NULL,
    PRIMARY KEY (kind, slug, id, position)
) WITHOUT ROWID;
CREATE INDEX index_links_id ON index_links(id);
CREATE TABLE index_blocks (
    id TEXT PRIMARY KEY REFERENCES partnerships(id),
    start INTEGER NOT NULL,
    stop INTEGER NOT NULL,
    hash INTEGER NOT NULL
) WITHOUT ROWID;
"""

# The fields of a record that resolution, completion, stats and the vocabulary counts read:
# columns of their own (lists as JSON arrays), so those reads parse no record.
FACTS = ("city", "aliases", "country", "region", "owner", "status", "since", "projects", "themes", "networks")
_LISTS = {"aliases", "projects", "themes", "networks"}
# The columns each row hash covers, in this order. A record row covers its record
# through record_h; search_first/search_count (where its rows of the shared search
# table are) are read by no read, and checked where they are used (update_block).
RECORD_COLUMNS = ("id", "pos", "owner_key", "country_key", "region_key", "events", "haystack", *FACTS, "record_h")
_FACTS_AT = slice(RECORD_COLUMNS.index(FACTS[0]), RECORD_COLUMNS.index(FACTS[-1]) + 1)
NAME_COLUMNS = ("key", "id", "pos", "k")
LINK_COLUMNS = ("kind", "slug", "id", "position")

# Per table, the term summed (with the row count) at build and when the index is opened.
# Row hashes are cut to 32 bits so the sum cannot overflow; a block's span is weighed by
# its content hash, so a span moved, resized or swapped with another changes the sum. The
# indexes on h make the large tables' sums scans of a small index (under 10 ms in all for
# 26,000 partnerships).
_AGGREGATES = {
    "index_records": "h & 4294967295",
    "index_names": "h & 4294967295",
    "index_links": "h & 4294967295",
    "index_blocks": "((start + 7 * stop) * (1 + (hash & 255)) + (hash & 4294967295)) & 4294967295",
}
_PARTNERSHIP_TABLES = ("index_names", "index_links", "index_records", "index_blocks")


class Damaged(Exception):
    """The index disagrees with itself (or with the file): it must not be used."""


# Everything reading a damaged index can raise: the caller answers from the file instead.
FAULTS = (Damaged, sqlite3.Error, ValueError, KeyError, TypeError, IndexError, OverflowError)


def enabled() -> bool:
    """Whether the index is used: ``PARTNERCTL_NO_INDEX`` unset, empty or 0, and a cache folder to keep it in."""
    return os.environ.get(ENV_OFF, "") in ("", "0") and cache_dir() is not None


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/partnerctl``, else ``~/.cache/partnerctl``; None when there is no such place.

    No home (``HOME`` unset for a user without a passwd entry), or a folder
    name that is not UTF-8 (SQLite opens the index by a UTF-8 URI): then no index is kept.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    if os.path.isabs(base):
        root = Path(base)
    else:
        try:
            root = Path.home() / ".cache"
        except (RuntimeError, KeyError):
            return None
    try:
        str(root).encode("utf-8")
    except UnicodeEncodeError:
        return None
    return root / "partnerctl"


def db_path(registry: Path) -> Path:
    """The index database of the registry at *registry*, named after its real path (``enabled()`` first)."""
    folder = cache_dir()
    assert folder is not None, "db_path without a cache folder: check index.enabled() first"
    real = os.path.realpath(registry)
    digest = hashlib.blake2b(os.fsencode(real), digest_size=12).hexdigest()
    # The name only helps a person; what is not UTF-8 in it becomes "?".
    stem = Path(real).stem[:40].encode("utf-8", "replace").decode("utf-8")
    return folder / f"{stem}-{digest}.sqlite"


def bytes_hash(data: bytes) -> int:
    """A 64-bit BLAKE2b hash of *data*, as a signed integer SQLite stores as it is."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def row_hash(values: tuple[Any, ...]) -> int:
    """The hash of a row's values (str, int or None), as ``bytes_hash``."""
    # marshal version 0 encodes by value only (no sharing references, no interning flag).
    return bytes_hash(marshal.dumps(values, 0))


def _text_hash(text: str) -> int:
    return bytes_hash(text.encode("utf-8"))


@dataclass(frozen=True)
class Key:
    """What an index was built for: the file's size, mtime and content hash."""

    size: int
    mtime_ns: int
    digest: str


def key_of(data: bytes, st: os.stat_result) -> Key:
    """The key of file bytes *data* whose stat is *st*."""
    return Key(len(data), st.st_mtime_ns, hashlib.blake2b(data).hexdigest())


def _matches(meta: dict[str, Any], data: bytes, st: os.stat_result) -> bool:
    # Size and mtime first: a hand edit usually changes one of them, and they cost nothing.
    return (meta.get("schema") == SCHEMA_VERSION and meta.get("size") == len(data)
            and meta.get("mtime_ns") == st.st_mtime_ns
            and meta.get("digest") == hashlib.blake2b(data).hexdigest())


def _meta_hash(meta: dict[str, Any]) -> str:
    return hashlib.blake2b(marshal.dumps(tuple(sorted((k, v) for k, v in meta.items() if k != "check")), 0),
                           digest_size=16).hexdigest()


def _master_hash(con: sqlite3.Connection) -> str:
    """A hash of every table and index the database holds, with its SQL."""
    rows = tuple(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"))
    return hashlib.blake2b(marshal.dumps(rows, 0), digest_size=16).hexdigest()


def _aggregate(con: sqlite3.Connection, table: str, where: str = "", params: Sequence[Any] = ()) -> list[int]:
    row = con.execute(f"SELECT count(*), ifnull(sum({_AGGREGATES[table]}), 0) FROM {table} {where}",  # noqa: S608
                      params).fetchone()
    return [row[0], row[1]]


def _intact(con: sqlite3.Connection, meta: dict[str, Any]) -> bool:
    """Whether the database is the one that was built: meta, schema, and every table's aggregate."""
    if meta.get("check") != _meta_hash(meta) or meta.get("master") != _master_hash(con):
        return False
    checks = json.loads(meta["checks"])
    return all(_aggregate(con, table) == checks[table] for table in _AGGREGATES)


def name_keys(pid: str, p: Any) -> list[str]:
    """The folded names a partnership answers to, in ``query.resolve``'s order."""
    from partnerctl.core import query

    return query.names_of(pid, p)


class Index:
    """An open, current, intact index: verified rows, inside one read transaction."""

    def __init__(self, con: sqlite3.Connection, meta: dict[str, Any]) -> None:
        self.con = con
        self.meta = meta
        self.head = json.loads(meta["head"])

    @property
    def canonical(self) -> bool:
        """Whether the file is in canonical form, so one block can be rewritten alone."""
        return bool(self.meta.get("canonical"))

    @property
    def key(self) -> Key:
        """The key it was built for, which is the file's as read (it was checked on opening)."""
        return Key(self.meta["size"], self.meta["mtime_ns"], self.meta["digest"])

    @property
    def head_end(self) -> int:
        """Byte length of the head (owner and vocabularies) at the start of the file."""
        return int(self.meta["head_end"])

    def close(self) -> None:
        """End the read transaction and close the database."""
        with suppress(sqlite3.Error):
            self.con.close()

    def owner(self) -> tuple[str, str | None]:
        """The registry's owner and country."""
        return self.head[0], self.head[1]

    def vocabulary(self, kind: str) -> dict[str, str]:
        """The theme or network vocabulary in the file's order."""
        return dict(self.head[2] if kind == "theme" else self.head[3])

    def _rows(self, where: str, params: Sequence[Any], with_record: bool) -> list[tuple[Any, ...]]:
        """The verified rows (hash, ``RECORD_COLUMNS``[, record]) of the partnerships passing *where*, in file order."""
        columns = ", ".join(f"r.{c}" for c in ("h", *RECORD_COLUMNS, *(("record",) if with_record else ())))
        rows = self.con.execute(f"SELECT {columns} FROM index_records r {'WHERE ' + where if where else ''} "
                                "ORDER BY r.pos", params).fetchall()
        n = len(RECORD_COLUMNS)
        for row in rows:
            values = row[1:n + 1]
            if row_hash(values) != row[0] or (with_record and _text_hash(row[-1]) != values[-1]):
                raise Damaged(f"index row of {values[0]!r} does not match its hash")
        return rows

    def records(self, where: str = "", params: Sequence[Any] = ()) -> list[tuple[str, str]]:
        """(id, record JSON) of the partnerships passing the SQL condition *where* (on ``r``), in file order."""
        return [(row[1], row[-1]) for row in self._rows(where, params, with_record=True)]

    def facts(self, where: str = "", params: Sequence[Any] = (),
              make: Callable[[Iterable[tuple[str, Any]]], dict[str, Any]] = dict) -> list[tuple[str, dict[str, Any]]]:
        """(id, the record's ``FACTS`` fields as a *make*) of the partnerships passing *where*, in file order."""
        out = []
        for row in self._rows(where, params, with_record=False):
            facts = make(zip(FACTS, row[1:][_FACTS_AT]))
            for name in _LISTS:
                facts[name] = [] if facts[name] == "[]" else json.loads(facts[name])
            out.append((row[1], facts))
        return out

    def _verified(self, table: str, columns: tuple[str, ...], where: str,
                  params: Sequence[Any]) -> list[tuple[Any, ...]]:
        rows = self.con.execute(f"SELECT h, {', '.join(columns)} FROM {table} WHERE {where}",  # noqa: S608
                                params).fetchall()
        for row in rows:
            if row_hash(row[1:]) != row[0]:
                raise Damaged(f"{table} row {row[1:]!r} does not match its hash")
        return [row[1:] for row in rows]

    def named(self, key: str, make: Callable[[Iterable[tuple[str, Any]]], dict[str, Any]] = dict
              ) -> list[tuple[str, dict[str, Any]]]:
        """(id, facts) of the partnerships with a folded name starting with *key*, in file order."""
        if not key or not _bindable(key):
            return self.facts(make=make)
        upper = _prefix_upper(key)
        cond, params = ("key >= ? AND key < ?", [key, upper]) if upper is not None else ("key >= ?", [key])
        ids = {row[1] for row in self._verified("index_names", NAME_COLUMNS, cond, params)}
        found = self.facts(f"r.id IN (SELECT id FROM index_names WHERE {cond})", params, make)
        if {pid for pid, _ in found} != ids:
            raise Damaged("index_names names partnerships index_records does not hold")
        return found

    def _linked(self, kind: str, slugs: Sequence[str] | None) -> tuple[str, list[Any]]:
        """The SQL condition on ``r`` keeping partnerships linked to one of *slugs* (any, when None).

        The link rows it selects are verified here: the query then reads rows known to be intact.
        """
        cond, params = "kind = ?", [kind]
        if slugs is not None:
            cond += f" AND slug IN ({_marks(slugs)})"
            params += list(slugs)
        self._verified("index_links", LINK_COLUMNS, cond, params)
        return f"r.id IN (SELECT id FROM index_links WHERE {cond})", params

    def _filter_where(self, filters: Filters, theme_sets: Sequence[set[str]],
                      network_sets: Sequence[set[str]]) -> tuple[str, list[Any]]:
        """The SQL condition on ``index_records r`` that ``filtered`` narrows by."""
        from partnerctl.core.names import fold

        where: list[str] = []
        params: list[Any] = []
        for kind, sets in (("theme", theme_sets), ("network", network_sets)):
            for slugs in sets:
                cond, more = self._linked(kind, sorted(slugs))
                where.append(cond)
                params += more
        for column, value in (("owner_key", filters.owner), ("country_key", filters.country),
                              ("region_key", filters.region)):
            if value is not None:
                where.append(f"r.{column} = ?")
                params.append(fold(value))
        if filters.status is not None:
            where.append("r.status = ?")
            params.append(filters.status)
        if filters.since is not None:
            where.append("r.since >= ?")
            params.append(filters.since)
        if filters.until is not None:
            where.append("r.since <= ?")
            params.append(filters.until)
        return " AND ".join(where), params

    def filtered(self, filters: Filters, theme_sets: Sequence[set[str]],
                 network_sets: Sequence[set[str]]) -> list[tuple[str, str]]:
        """(id, record JSON) of a superset of what ``query.select`` keeps for *filters*.

        SQL only narrows, through indexed columns; ``query.select`` then decides
        on these records, so the meaning of a filter is written once, in
        query.py. Each condition here is implied by query.select's predicate.
        """
        return self.records(*self._filter_where(filters, theme_sets, network_sets))

    def counted(self, filters: Filters, theme_sets: Sequence[set[str]], network_sets: Sequence[set[str]],
                make: Callable[[Iterable[tuple[str, Any]]], dict[str, Any]] = dict
                ) -> list[tuple[str, dict[str, Any]]]:
        """(id, facts) of the partnerships ``filtered`` hands over: what ``query.select`` and ``stats`` read.

        Parsing 26,000 full JSON records would cost more than the rest of a ``stats`` call.
        """
        return self.facts(*self._filter_where(filters, theme_sets, network_sets), make)

    def containing(self, needle: str) -> list[tuple[str, str]]:
        """(id, record JSON) of the partnerships whose ``search.haystack`` holds *needle*."""
        if not _bindable(needle):
            return self.records()
        return self.records("instr(r.haystack, ?) > 0", [needle])

    def with_events(self) -> list[tuple[str, str]]:
        """(id, record JSON) of the partnerships that have events."""
        return self.records("r.events > 0")

    def with_links(self, kind: str, make: Callable[[Iterable[tuple[str, Any]]], dict[str, Any]] = dict
                   ) -> list[tuple[str, dict[str, Any]]]:
        """(id, facts) of the partnerships that name a theme (or network)."""
        return self.facts(*self._linked(kind, None), make)

    def records_of(self, pids: Sequence[str]) -> list[tuple[str, str]]:
        """(id, record JSON) of the given partnerships, in file order; all of them, or Damaged."""
        rows = self.records(f"r.id IN ({_marks(pids)})", list(pids))
        if {pid for pid, _ in rows} != set(pids):
            raise Damaged("index_records lacks a partnership its names resolve to")
        return rows

    def block(self, pid: str) -> tuple[int, int, int]:
        """(start, stop, hash) of the partnership's block in the file, as recorded: verify before use."""
        row = self.con.execute("SELECT start, stop, hash FROM index_blocks WHERE id = ?", (pid,)).fetchone()
        if row is None or not all(type(v) is int for v in row):
            raise Damaged(f"no block span recorded for {pid!r}")
        return row[0], row[1], row[2]


def _bindable(text: str) -> bool:
    """Whether SQLite can take *text*: not when it holds a lone surrogate (undecodable command-line bytes).

    Then the callers hand over every partnership, and query.py or search.py decides.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _marks(items: Sequence[Any] | set[Any]) -> str:
    return ", ".join("?" * len(items))


def _prefix_upper(key: str) -> str | None:
    """The least string above every string that starts with *key* (None: no bound).

    SQLite compares TEXT as UTF-8 bytes, which orders like code points.
    """
    while key:
        code = ord(key[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be encoded
            code = 0xE000
        if code <= 0x10FFFF:
            return key[:-1] + chr(code)
        key = key[:-1]
    return None


def _connect_ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, isolation_level=None,
                           timeout=LOCK_TIMEOUT, check_same_thread=False)


def open_current(path: Path, data: bytes, st: os.stat_result) -> Index | None:
    """The index of the registry at *path* if it was built for exactly these bytes and is intact, else None."""
    db = db_path(path)
    if not db.exists():
        return None
    con = None
    try:
        con = _connect_ro(db)
        # One read transaction: the key checked below and every row read later agree.
        con.execute("BEGIN")
        meta = dict(con.execute("SELECT key, value FROM index_meta"))
        if _matches(meta, data, st) and _intact(con, meta):
            return Index(con, meta)
    except (*FAULTS, OSError):
        pass
    if con is not None:
        con.close()
    return None


# --- building -------------------------------------------------------------------------

def _index_rows(reg: Registry, pid: str, p: Partnership, pos: int, search_first: int,
                search_count: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A partnership's rows of index_records, index_names and index_links, each with its hash first."""
    from partnerctl.core import search
    from partnerctl.core.model import record
    from partnerctl.core.names import fold

    rec = record(pid, p)
    text = json.dumps(rec, ensure_ascii=False)
    facts = [json.dumps(rec[k], ensure_ascii=False) if k in _LISTS else rec[k] for k in FACTS]
    values = (pid, pos, fold(p.owner or reg.registry.owner), fold(p.country),
              fold(p.region) if p.region is not None else None, len(p.events), search.haystack(p, reg.themes, reg.networks), *facts,
              _text_hash(text))
    names = [(name, pid, pos, k) for k, name in enumerate(name_keys(pid, p))]
    links = [(kind, slug, pid, i) for kind, slugs in (("theme", p.themes), ("network", p.networks))
             for i, slug in enumerate(slugs)]
    return ((row_hash(values), *values, text, search_first, search_count),
            [(row_hash(row), *row) for row in names], [(row_hash(row), *row) for row in links])


def _insert(con: sqlite3.Connection, reg: Registry, pid: str, p: Partnership, pos: int, search_rowid: int) -> int:
    """Insert a partnership's rows, its search rows from rowid *search_rowid* on; returns how many those are.

    *reg* gives the head (owner, vocabularies); *p* need not be in it.
    """
    from partnerctl.storage import sqlschema as sqlite_export

    found = sqlite_export.insert_partnership(con, pid, p, search_rowid)
    record_row, names, links = _index_rows(reg, pid, p, pos, search_rowid, found)
    con.execute(f"INSERT INTO index_records (h, {', '.join(RECORD_COLUMNS)}, record, search_first, search_count) "
                f"VALUES ({_marks(record_row)})", record_row)
    con.executemany(f"INSERT INTO index_names (h, {', '.join(NAME_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", names)
    con.executemany(f"INSERT INTO index_links (h, {', '.join(LINK_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", links)
    return found


def _fill(con: sqlite3.Connection, reg: Registry, data: bytes, key: Key) -> None:
    from partnerctl.storage import sqlschema as sqlite_export
    from partnerctl.storage import toml as tomlfile

    sqlite_export.insert_head(con, reg)
    search_rowid = 1
    for pos, (pid, p) in enumerate(reg.partnerships.items()):
        search_rowid += _insert(con, reg, pid, p, pos, search_rowid)
    parts = tomlfile.dump_parts(reg)
    encoded = [text.encode("utf-8") for _, text in parts]
    # Block spans are only meaningful when the file is exactly its canonical text.
    canonical = b"\n".join(encoded) == data
    if canonical:
        spans, start = [], len(encoded[0]) + 1
        for (pid, _), block in zip(parts[1:], encoded[1:]):
            spans.append((pid, start, start + len(block), bytes_hash(block)))
            start += len(block) + 1
        con.executemany("INSERT INTO index_blocks VALUES (?, ?, ?, ?)", spans)
    head = [reg.registry.owner, reg.registry.country, list(reg.themes.items()), list(reg.networks.items())]
    _write_meta(con, {
        "schema": SCHEMA_VERSION, "size": key.size, "mtime_ns": key.mtime_ns, "digest": key.digest,
        "head_end": len(encoded[0]), "canonical": int(canonical), "search_next": search_rowid,
        "head": json.dumps(head, ensure_ascii=False), "master": _master_hash(con),
        "checks": json.dumps({table: _aggregate(con, table) for table in _AGGREGATES})})


def _write_meta(con: sqlite3.Connection, meta: dict[str, Any]) -> None:
    """Write *meta* (every entry) with the hash that ``open_current`` checks it by."""
    con.executemany("INSERT OR REPLACE INTO index_meta VALUES (?, ?)",
                    [*meta.items(), ("check", _meta_hash(meta))])


def build_into(con: sqlite3.Connection, reg: Registry, data: bytes, st: os.stat_result) -> None:
    """Fill an empty database with the index of *reg*, the validated registry of bytes *data*."""
    from partnerctl.storage import sqlschema as sqlite_export

    # executescript commits first, so the schema comes before BEGIN.
    sqlite_export.create_schema(con)
    con.executescript(INDEX_SCHEMA)
    con.execute("BEGIN")
    _fill(con, reg, data, key_of(data, st))
    con.execute("COMMIT")


@contextmanager
def _db_lock(db: Path, timeout: float) -> Iterator[bool]:
    """Hold the database's lock; yields False when it could not be had within *timeout*."""
    from partnerctl.storage.store import flock_within

    fd = os.open(db.with_name(db.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield flock_within(fd, timeout)
    finally:
        os.close(fd)


def sweep(folder: Path) -> None:
    """Remove the temporary databases in *folder* that no live builder holds locked.

    A builder holds an flock on its temporary file until it is renamed or
    removed; the kernel drops it when the builder dies, so an unlocked one was
    left by a killed process. Also matches the names older versions used.
    """
    for tmp in folder.glob(".*.tmp"):
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Still that file under that name (not renamed over the index since it was opened).
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                os.unlink(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)


@contextmanager
def _temp_db(db: Path) -> Iterator[Path]:
    """A new, empty, flocked temporary file beside *db*; removed on the way out unless renamed."""
    tmp = db.with_name(f".{db.stem}.{os.urandom(6).hex()}.build.tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # A sweeper may have taken it between creation and lock: then it is not ours any more.
        if not os.path.samestat(os.fstat(fd), os.stat(tmp)):
            raise FileNotFoundError(tmp)
        yield tmp
    finally:
        # Removed while still locked, so no sweeper can mistake it for another builder's.
        with suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                os.unlink(tmp)
        os.close(fd)


def save(path: Path, reg: Registry, data: bytes, st: os.stat_result) -> bool:
    """Build the index of *reg* (loaded from *data*) and put it in place; False if it could not be.

    Built in a temporary file and renamed over the old index, so a reader sees
    the old or the new database, never a part of one. Best effort: a cache
    that cannot be written only costs speed.
    """
    db = db_path(path)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        sweep(db.parent)
        with _temp_db(db) as tmp:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                # Private until renamed: no journal needed; a crash leaves only a temp file.
                con.execute("PRAGMA journal_mode = OFF")
                con.execute("PRAGMA synchronous = OFF")
                con.execute("PRAGMA foreign_keys = ON")
                build_into(con, reg, data, st)
            finally:
                con.close()
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            with _db_lock(db, 0) as locked:
                if not locked:
                    return False
                # A journal left by a writer that died belongs to the database being replaced.
                with suppress(FileNotFoundError):
                    os.unlink(db.with_name(db.name + "-journal"))
                os.replace(tmp, db)
        return True
    except (OSError, sqlite3.Error):
        return False


def discard(path: Path) -> None:
    """Remove the index of the registry at *path* (found damaged): the next command rebuilds it."""
    db = db_path(path)
    with suppress(OSError), _db_lock(db, 0) as locked:
        if locked:
            with suppress(FileNotFoundError):
                os.unlink(db.with_name(db.name + "-journal"))
            with suppress(FileNotFoundError):
                os.unlink(db)


def update_block(path: Path, old: Key, new: Key, reg: Registry, pid: str, span: tuple[int, int],
                 block: bytes) -> bool:
    """After a one-block write: replace partnership *pid*'s rows and shift the later blocks.

    *reg* holds the head and the new partnership; *span* was its old block and
    *block* the bytes now at ``span[0]``. Applied in one transaction, and only
    if the index is still the one for the file as it was (*old*); otherwise it
    is left stale, to be rebuilt by the next read. False when not applied.

    Each table's aggregate in ``index_meta`` moves by exactly what the changed
    rows move it, so damage elsewhere in the index stays visible to the next open.
    """
    db = db_path(path)
    try:
        sweep(db.parent)
        with _db_lock(db, LOCK_TIMEOUT) as locked:
            if not locked:
                return False
            con = sqlite3.connect(db, isolation_level=None, timeout=LOCK_TIMEOUT)
            try:
                con.execute("PRAGMA foreign_keys = ON")
                con.execute("PRAGMA synchronous = NORMAL")
                con.execute("BEGIN IMMEDIATE")
                if not _update(con, old, new, reg, pid, span, block):
                    con.execute("ROLLBACK")
                    return False
                con.execute("COMMIT")
            finally:
                con.close()
        return True
    except (*FAULTS, OSError):
        return False


def _update(con: sqlite3.Connection, old: Key, new: Key, reg: Registry, pid: str, span: tuple[int, int],
            block: bytes) -> bool:
    meta = dict(con.execute("SELECT key, value FROM index_meta"))
    if (meta.get("check") != _meta_hash(meta) or meta.get("schema") != SCHEMA_VERSION
            or not meta.get("canonical")
            or (meta.get("size"), meta.get("mtime_ns"), meta.get("digest")) != (old.size, old.mtime_ns, old.digest)):
        return False
    row = con.execute("SELECT pos, search_first, search_count FROM index_records WHERE id = ?", (pid,)).fetchone()
    if row is None:
        return False
    pos, first, count = row
    # The search rows it names must be exactly this partnership's before they are deleted.
    owned = con.execute("SELECT count(*), ifnull(sum(partnership_id = ?), 0) FROM search "
                        "WHERE rowid >= ? AND rowid < ?", (pid, first, first + count)).fetchone()
    if owned != (count, count):
        return False
    scopes = {table: ("WHERE id >= ?" if table == "index_blocks" else "WHERE id = ?", (pid,)) for table in _AGGREGATES}
    before = {table: _aggregate(con, table, *scope) for table, scope in scopes.items()}
    _delete(con, pid, range(first, first + count))
    search_next = meta["search_next"]
    search_next += _insert(con, reg, pid, reg.partnerships[pid], pos, search_next)
    start, stop = span
    new_stop = start + len(block)
    shift = new_stop - stop
    if shift:
        # Blocks follow in id order (the file is canonical): the primary key finds the later ones.
        con.execute("UPDATE index_blocks SET start = start + ?, stop = stop + ? WHERE id > ?", (shift, shift, pid))
    con.execute("INSERT INTO index_blocks VALUES (?, ?, ?, ?)", (pid, start, new_stop, bytes_hash(block)))
    checks = json.loads(meta["checks"])
    for table, scope in scopes.items():
        after = _aggregate(con, table, *scope)
        checks[table] = [total + a - b for total, a, b in zip(checks[table], after, before[table])]
    meta.update(size=new.size, mtime_ns=new.mtime_ns, digest=new.digest, search_next=search_next,
                checks=json.dumps(checks))
    meta.pop("check")
    _write_meta(con, meta)
    return True


def _delete(con: sqlite3.Connection, pid: str, search_rowids: range) -> None:
    from partnerctl.storage import sqlschema as sqlite_export

    for table in _PARTNERSHIP_TABLES:
        con.execute(f"DELETE FROM {table} WHERE id = ?", (pid,))  # noqa: S608 - fixed names
    sqlite_export.delete_partnership(con, pid, search_rowids)
