"""The derived index: a SQLite cache of the validated registry in the user cache folder.

The TOML file stays the only source of truth. The index is a cache of it, one
database per registry (named after the registry's real path) in
``$XDG_CACHE_HOME/partnerctl/`` (default ``~/.cache/partnerctl``). It is used
only while the size, mtime and BLAKE2b hash of the file's bytes equal the ones
it was built for; anything else (a hand edit, a missing, stale, corrupt or
unreadable database, another schema) makes it ignored and rebuilt from a full,
validated load. ``PARTNERCTL_NO_INDEX=1`` turns it off.

What it holds, per partnership: its JSON record (``model.record``); as columns
of their own, the fields that resolution, completion, filters and ``stats``
read (``FACTS``, from the field table) and the folded keys filters narrow by;
the folded text ``search`` looks in; its folded names; its theme, network and
event-theme links; and the hash of its block of the file. Its schema is built
from the field table, and its version is a hash of that schema: a new field
makes every index rebuild.

A cache file is just a file (bit rot, a crashed disk, a bad copy, a hand-run
``sqlite3``), so the index may make a read faster, never wrong, and never
decides what a write removes. What is checked:

- When it is opened: ``index_meta`` against a hash of its own rows; the set of
  tables and indexes (``sqlite_master``) against the hash recorded at build;
  and, per table, one aggregate (row count and a sum of row hashes) against
  the one recorded: a dropped or altered table, a deleted or inserted row is
  seen there.
- Every row a read returns: each ``index_records``, ``index_names`` and
  ``index_links`` row carries a hash of all its columns (the record through
  its own hash, checked when the record is read), recomputed and compared.
- A block a write rewrites is found in the file by its header line, and used
  only if the hash of those bytes is the one recorded and they parse to exactly
  the one ``[partnerships.ID]`` table expected (``toml.verified_block``).
  What the index does not list is looked for in the file before a write takes
  it as missing, a new block goes only between blocks that follow one another
  in the file, a change to a vocabulary entry checks every link row first, and
  ``apply`` checks the rows it replaces (``store.BlockDraft``).

Any disagreement, and any SQLite error, raises or is turned into ``Damaged``:
the reader answers from the file (a full validated load) and rebuilds the
index; the writer takes the full path. The gap left: a row is re-hashed only
when a read returns it, so a change to a narrowing column (a folded name, a
key, the search text) that makes a filter exclude a row it should keep, while
leaving the row's stored hash and the table's aggregate as they were, is not
seen by that filter; it is seen by any read that returns the row. Re-hashing
every row on every read would cost what the index saves.

Concurrency: every change of the database file (renaming a fresh build over
it, or updating it in place after a write) happens under an exclusive
``flock`` on ``<db>.lock``; readers open it read-only inside one read
transaction, so the key they checked and the rows they read agree. A stale
rollback journal is removed, under that lock, before a new build is renamed
over the database, so a journal can never be replayed into the wrong file. A
build fills ``.<db stem>.<random>.build.tmp``, flocked while it is built; a
builder or writer removes the temporary files in the cache folder that nobody
holds locked (left by a process that was killed).
"""

from __future__ import annotations

import fcntl
import json
import marshal
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from partnerctl.core.model import table
from partnerctl.storage.files import flock_within
from partnerctl.storage.toml import Damaged, blake2b, bytes_hash

if TYPE_CHECKING:
    from partnerctl.core.model import Registry
    from partnerctl.core.query import Snapshot, Wanted

__all__ = ["Damaged", "FAULTS", "Index", "Key", "apply", "discard", "enabled", "open_current", "save"]

ENV_OFF = "PARTNERCTL_NO_INDEX"
LOCK_TIMEOUT = 2.0
# Bumped when what a row holds changes without the schema changing (the schema's own
# changes are seen by its hash, below).
FORMAT = 6

_SQL_TYPES = {"int": "INTEGER", "float": "REAL", "text": "TEXT", "list": "TEXT", "slugs": "TEXT"}


@cache
def facts_fields() -> tuple[str, ...]:
    """The fields kept as columns of their own: what names, filters, stats and list columns read."""
    return tuple(s.name for s in table().partnership if s.kind != "records"
                 and (s.meta.names or s.meta.filter or s.meta.stat or s.meta.column))


@cache
def key_fields() -> tuple[str, ...]:
    """The fields filters compare by a key (``query.keyed``: a folded text, a country, a region's slug): each
    gets a ``<name>_key`` column with an index, holding ``query.filter_key`` of the value the field holds."""
    from partnerctl.core.query import keyed

    return tuple(s.name for s in table().filters() if keyed(s))


@cache
def record_columns() -> tuple[str, ...]:
    """The columns each record row hash covers, in this order (the record itself through ``record_h``)."""
    return ("id", *(f"{name}_key" for name in key_fields()), "events", "haystack", *facts_fields(), "record_h")


NAME_COLUMNS = ("key", "id", "k")
LINK_COLUMNS = ("kind", "slug", "id", "position")


@cache
def ddl() -> str:
    """The index's SQL schema, derived from the field table."""
    t = table()
    facts = ",\n    ".join(f"{name} {_SQL_TYPES[t.get(name).kind]}" for name in facts_fields())
    keys = ",\n    ".join(f"{name}_key TEXT" for name in key_fields())
    key_indexes = "\n".join(f"CREATE INDEX index_records_{name} ON index_records({name}_key);"
                            for name in key_fields())
    return f"""
CREATE TABLE index_meta (
    key TEXT PRIMARY KEY,
    value
);
CREATE TABLE index_records (
    id TEXT PRIMARY KEY,
    h INTEGER NOT NULL,
    {keys},
    events INTEGER NOT NULL,
    haystack TEXT NOT NULL,
    {facts},
    record_h INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX index_records_h ON index_records(h);
{key_indexes}
CREATE TABLE index_names (
    key TEXT NOT NULL,
    id TEXT NOT NULL,
    k INTEGER NOT NULL,
    h INTEGER NOT NULL,
    PRIMARY KEY (key, id, k)
) WITHOUT ROWID;
CREATE INDEX index_names_id ON index_names(id);
CREATE INDEX index_names_h ON index_names(h);
CREATE TABLE index_links (
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    h INTEGER NOT NULL,
    PRIMARY KEY (kind, slug, id, position)
) WITHOUT ROWID;
CREATE INDEX index_links_id ON index_links(id);
CREATE TABLE index_blocks (
    id TEXT PRIMARY KEY,
    hash INTEGER NOT NULL
) WITHOUT ROWID;
"""


@cache
def schema_version() -> str:
    """A hash of the schema and of the row format: an index built by another version is not used."""
    return blake2b(f"{FORMAT}\n{ddl()}".encode(), digest_size=8).hexdigest()


# Per table, the term summed (with the row count) at build and when the index is opened.
# Row hashes are cut to 32 bits so the sum cannot overflow. The indexes on h make the large
# tables' sums scans of a small index.
_AGGREGATES = {
    "index_records": "h & 4294967295",
    "index_names": "h & 4294967295",
    "index_links": "h & 4294967295",
    "index_blocks": "hash & 4294967295",
}
_PARTNERSHIP_TABLES = ("index_names", "index_links", "index_records", "index_blocks")

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
    digest = blake2b(os.fsencode(real), digest_size=12).hexdigest()
    # The name only helps a person; what is not UTF-8 in it becomes "?".
    stem = Path(real).stem[:40].encode("utf-8", "replace").decode("utf-8")
    return folder / f"{stem}-{digest}.sqlite"


def row_hash(values: tuple[Any, ...]) -> int:
    """The hash of a row's values (str, int or None), as ``toml.bytes_hash``."""
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
    return Key(len(data), st.st_mtime_ns, blake2b(data).hexdigest())


def _matches(meta: dict[str, Any], data: bytes, st: os.stat_result) -> bool:
    # Size and mtime first: a hand edit usually changes one of them, and they cost nothing.
    return (meta.get("schema") == schema_version() and meta.get("size") == len(data)
            and meta.get("mtime_ns") == st.st_mtime_ns
            and meta.get("digest") == blake2b(data).hexdigest())


def _meta_hash(meta: dict[str, Any]) -> str:
    return blake2b(marshal.dumps(tuple(sorted((k, v) for k, v in meta.items() if k != "check")), 0),
                           digest_size=16).hexdigest()


def _master_hash(con: sqlite3.Connection) -> str:
    """A hash of every table and index the database holds, with its SQL."""
    rows = tuple(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"))
    return blake2b(marshal.dumps(rows, 0), digest_size=16).hexdigest()


def _aggregate(con: sqlite3.Connection, table_name: str, where: str = "", params: Sequence[Any] = ()) -> list[int]:
    row = con.execute(f"SELECT count(*), ifnull(sum({_AGGREGATES[table_name]}), 0) FROM {table_name} {where}",  # noqa: S608
                      params).fetchone()
    return [row[0], row[1]]


def _intact(con: sqlite3.Connection, meta: dict[str, Any]) -> bool:
    """Whether the database is the one that was built: meta, schema, and every table's aggregate."""
    if meta.get("check") != _meta_hash(meta) or meta.get("master") != _master_hash(con):
        return False
    checks = json.loads(meta["checks"])
    return all(_aggregate(con, name) == checks[name] for name in _AGGREGATES)


def _marks(items: Sequence[Any] | set[Any]) -> str:
    return ", ".join("?" * len(items))


def _bindable(text: str) -> bool:
    """Whether SQLite can take *text*: not when it holds a lone surrogate (undecodable command-line bytes).

    Then the callers hand over every partnership, and query.py or search.py decides.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


class Index:
    """An open, current, intact index: verified rows, inside one read transaction."""

    def __init__(self, con: sqlite3.Connection, meta: dict[str, Any]) -> None:
        self.con = con
        self.meta = meta
        # The head as ``model.registry_data`` has it (owner, vocabularies, country aliases).
        self.head: dict[str, Any] = json.loads(meta["head"])
        owner = self.head["registry"]
        self.owner: str | None = owner.get("owner")
        self.country: str | None = owner.get("country")
        self.name: str | None = owner.get("name")
        self.themes: dict[str, str] = dict(self.head["themes"])
        self.networks: dict[str, str] = dict(self.head["networks"])
        self.regions: dict[str, str] = dict(self.head.get("regions", {}))
        self.countries: dict[str, str] = dict(self.head.get("countries", {}))

    def registry_head(self) -> Registry:
        """The head recorded, as a Registry without partnerships (built from the verified meta, not validated
        again: it was, when the index was built)."""
        from partnerctl.core.model import Owner, Registry

        owner = Owner(name=self.name, owner=self.owner, country=self.country)
        return Registry(registry=owner, themes=self.themes, networks=self.networks, regions=self.regions,
                        countries=self.countries)

    @property
    def canonical(self) -> bool:
        """Whether the file is in canonical form, so blocks can be rewritten alone."""
        return bool(self.meta.get("canonical"))

    @property
    def key(self) -> Key:
        """The key it was built for, which is the file's as read (it was checked on opening)."""
        return Key(self.meta["size"], self.meta["mtime_ns"], self.meta["digest"])

    @property
    def head_hash(self) -> int:
        """The hash of the head's bytes (owner and vocabularies) at the start of the file."""
        return int(self.meta["head_hash"])

    def close(self) -> None:
        """End the read transaction and close the database."""
        with suppress(sqlite3.Error):
            self.con.close()

    # --- rows, verified ----------------------------------------------------------------------

    def _rows(self, where: str, params: Sequence[Any], with_record: bool) -> list[tuple[Any, ...]]:
        """The verified rows (hash, ``record_columns()``[, record]) passing *where*, by id."""
        names = record_columns()
        columns = ", ".join(f"r.{c}" for c in ("h", *names, *(("record",) if with_record else ())))
        rows = self.con.execute(f"SELECT {columns} FROM index_records r {'WHERE ' + where if where else ''} "
                                "ORDER BY r.id", params).fetchall()
        n = len(names)
        for row in rows:
            values = row[1:n + 1]
            if row_hash(values) != row[0] or (with_record and _text_hash(row[-1]) != values[-1]):
                raise Damaged(f"index row of {values[0]!r} does not match its hash")
        return rows

    def records(self, where: str = "", params: Sequence[Any] = ()) -> dict[str, dict[str, Any]]:
        """{id: record} of the partnerships passing the SQL condition *where* (on ``r``), by id."""
        return {row[1]: json.loads(row[-1]) for row in self._rows(where, params, with_record=True)}

    def each_record(self) -> Iterator[tuple[str, str]]:
        """(id, record JSON text) of every partnership by id, verified, one row at a time (exports).

        Rows come from the cursor as they are read, so memory does not grow with
        the registry; a damaged row raises ``Damaged`` when it is reached.
        """
        names = record_columns()
        columns = ", ".join(f"r.{c}" for c in ("h", *names, "record"))
        for row in self.con.execute(f"SELECT {columns} FROM index_records r ORDER BY r.id"):  # noqa: S608
            values = row[1:len(names) + 1]
            if row_hash(values) != row[0] or _text_hash(row[-1]) != values[-1]:
                raise Damaged(f"index row of {values[0]!r} does not match its hash")
            yield row[1], row[-1]

    def facts(self, where: str = "", params: Sequence[Any] = ()) -> dict[str, dict[str, Any]]:
        """{id: the record's ``FACTS`` fields} of the partnerships passing *where*, by id."""
        names = record_columns()
        at = names.index(facts_fields()[0])
        lists = {s.name for s in table().partnership if s.is_list}
        out = {}
        for row in self._rows(where, params, with_record=False):
            facts = dict(zip(facts_fields(), row[1 + at:1 + at + len(facts_fields())], strict=True))
            for name in lists & facts.keys():
                facts[name] = json.loads(facts[name])
            out[row[1]] = facts
        return out

    def _verified(self, table_name: str, columns: tuple[str, ...], where: str,
                  params: Sequence[Any]) -> list[tuple[Any, ...]]:
        rows = self.con.execute(f"SELECT h, {', '.join(columns)} FROM {table_name} WHERE {where}",  # noqa: S608
                                params).fetchall()
        for row in rows:
            if row_hash(row[1:]) != row[0]:
                raise Damaged(f"{table_name} row {row[1:]!r} does not match its hash")
        return [row[1:] for row in rows]

    # --- questions ---------------------------------------------------------------------------

    def named(self, key: str) -> dict[str, dict[str, Any]]:
        """{id: facts} of the partnerships with a folded name starting with *key* (all when empty)."""
        if not key or not _bindable(key):
            return self.facts()
        upper = _prefix_upper(key)
        cond, params = ("key >= ? AND key < ?", [key, upper]) if upper is not None else ("key >= ?", [key])
        ids = {row[1] for row in self._verified("index_names", NAME_COLUMNS, cond, params)}
        found = self.facts(f"r.id IN (SELECT id FROM index_names WHERE {cond})", params)
        if set(found) != ids:
            raise Damaged("index_names names partnerships index_records does not hold")
        return found

    def name_owners(self, key: str) -> set[str]:
        """The ids of the partnerships one of whose folded names is exactly *key*."""
        if not _bindable(key):
            return set()
        return {row[1] for row in self._verified("index_names", NAME_COLUMNS, "key = ?", [key])}

    def linked(self, kind: str, slugs: Sequence[str] | None) -> tuple[str, list[Any]]:
        """The SQL condition on ``r`` keeping partnerships linked to one of *slugs* (any, when None).

        The link rows it selects are verified here: the query then reads rows known to be intact.
        """
        cond, params = "kind = ?", [kind]
        if slugs is not None:
            cond += f" AND slug IN ({_marks(slugs)})"
            params += list(slugs)
        self._verified("index_links", LINK_COLUMNS, cond, params)
        return f"r.id IN (SELECT id FROM index_links WHERE {cond})", params

    def users(self, kind: str, slug: str) -> set[str]:
        """The ids of the partnerships that name *slug* (a theme or network), themselves or in an event."""
        kinds = ("theme", "event-theme") if kind == "theme" else (kind,)
        found: set[str] = set()
        for one in kinds:
            found |= {row[2] for row in self._verified("index_links", LINK_COLUMNS, "kind = ? AND slug = ?",
                                                       [one, slug])}
        return found

    def check_links(self) -> None:
        """Check every link row against its hash (Damaged if one differs).

        ``users`` reads the rows of one slug, so a row moved to another slug goes unseen: a
        change to a vocabulary entry, which must rewrite every user, checks them all first.
        """
        self._verified("index_links", LINK_COLUMNS, "1", ())

    def narrowing(self, want: Wanted) -> tuple[str, list[Any]]:
        """The SQL condition on ``index_records r`` keeping a superset of what ``query.keeps`` keeps.

        SQL only narrows, through indexed columns; ``query.keeps`` then decides on
        the records, so the meaning of a filter is written once, in query.py.
        """
        where: list[str] = []
        params: list[Any] = []
        for name, sets in want.slugs.items():
            spec = table().get(name)
            if not spec.is_list:
                continue  # a one-value vocabulary field is compared by its key column, below
            assert spec.meta.vocab is not None
            for slugs in sets:
                cond, more = self.linked(spec.meta.vocab, sorted(slugs))
                where.append(cond)
                params += more
        for name, keys in want.keys().items():
            where.append(f"r.{name}_key IN ({_marks(keys)})")
            params += keys
        for name, value in want.folded().items():
            where.append(f"r.{name} = ?")
            params.append(value)
        involving = want.involving()
        if involving:
            either = []
            for spec, key in involving:
                if spec.meta.names:
                    # A city's names are rows of index_names: those read are verified first.
                    self._verified("index_names", NAME_COLUMNS, "key = ?", [key])
                    either.append("r.id IN (SELECT id FROM index_names WHERE key = ?)")
                else:
                    either.append(f"r.{spec.name}_key = ?")
                params.append(key)
            where.append("(" + " OR ".join(either) + ")")
        for spec in table().filters():
            if spec.meta.filter == "year":
                for bound, op in ((want.filters.since, ">="), (want.filters.until, "<=")):
                    if bound is not None:
                        where.append(f"r.{spec.name} {op} ?")
                        params.append(bound)
        return " AND ".join(where), params

    def containing(self, needle: str) -> dict[str, dict[str, Any]]:
        """{id: record} of the partnerships whose ``search.haystack`` holds *needle*."""
        if not _bindable(needle):
            return self.records()
        return self.records("instr(r.haystack, ?) > 0", [needle])

    def with_events(self) -> dict[str, dict[str, Any]]:
        """{id: record} of the partnerships that have events."""
        return self.records("r.events > 0")

    def records_of(self, pids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{id: record} of the given partnerships; all of them, or Damaged."""
        rows = self.records(f"r.id IN ({_marks(pids)})", list(pids))
        if set(rows) != set(pids):
            raise Damaged("index_records lacks a partnership its names resolve to")
        return rows

    def block_hash(self, pid: str) -> int:
        """The hash of partnership *pid*'s block, as recorded: compared with the file's bytes before use."""
        row = self.con.execute("SELECT hash FROM index_blocks WHERE id = ?", (pid,)).fetchone()
        if row is None or type(row[0]) is not int:
            raise Damaged(f"no block recorded for {pid!r}")
        return int(row[0])

    def distinct(self, name: str, limit: int) -> int:
        """How many different keys field *name*'s key column holds (``query.filter_key`` of the values the
        partnerships hold), counted up to *limit*: how many owners a registry has. It decides which columns
        ``list`` shows, never which records it returns."""
        if name not in key_fields():
            raise KeyError(name)
        rows = self.con.execute(f"SELECT 1 FROM index_records GROUP BY {name}_key LIMIT ?", (limit,))  # noqa: S608
        return len(rows.fetchall())

    def block_hashes(self) -> dict[str, int]:
        """Every partnership's recorded block hash (catching up with an outside change compares them all)."""
        return {pid: digest for pid, digest in self.con.execute("SELECT id, hash FROM index_blocks")}

    def has(self, pid: str) -> bool:
        """Whether the registry holds partnership *pid* (its block is recorded)."""
        return self.con.execute("SELECT 1 FROM index_blocks WHERE id = ?", (pid,)).fetchone() is not None

    def previous_id(self, pid: str) -> str | None:
        """The id before *pid* in sorted order, if any."""
        row = self.con.execute("SELECT max(id) FROM index_blocks WHERE id < ?", (pid,)).fetchone()
        return None if row is None else row[0]

    def next_ids(self, pid: str, limit: int) -> list[str]:
        """The ids after *pid* in sorted order (a new block goes before the first one still there)."""
        return [row[0] for row in self.con.execute("SELECT id FROM index_blocks WHERE id > ? ORDER BY id LIMIT ?",
                                                   (pid, limit))]


def _connect_ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, isolation_level=None,
                           timeout=LOCK_TIMEOUT, check_same_thread=False)


def open_current(path: Path, data: bytes, st: os.stat_result) -> Index | None:
    """The index of the registry at *path* if it was built for exactly these bytes and is intact, else None."""
    return _open(path, lambda meta: _matches(meta, data, st))


def _open(path: Path, wanted: Callable[[dict[str, Any]], bool]) -> Index | None:
    """The index of *path* if its meta is *wanted* and it is intact (in one read transaction), else None."""
    db = db_path(path)
    if not db.exists():
        return None
    con = None
    try:
        con = _connect_ro(db)
        # One read transaction: the key checked below and every row read later agree.
        con.execute("BEGIN")
        meta = dict(con.execute("SELECT key, value FROM index_meta"))
        if wanted(meta) and _intact(con, meta):
            return Index(con, meta)
    except (*FAULTS, OSError):
        pass
    if con is not None:
        con.close()
    return None


def open_stale(path: Path) -> Index | None:
    """The index of the registry at *path* whatever file it was built for, if intact, of this schema, and of a
    canonical file (so its block hashes say which blocks an outside change touched); else None."""
    return _open(path, lambda meta: meta.get("schema") == schema_version() and bool(meta.get("canonical")))


# --- building and keeping up ------------------------------------------------------------------

def _rows_of(snap: Snapshot, pid: str, rec: Mapping[str, Any]
             ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A partnership's rows of index_records, index_names and index_links, each with its hash first."""
    from partnerctl.core import query, search

    text = json.dumps(rec, ensure_ascii=False)
    keys = [query.filter_key(table().get(name), snap.value(rec, name)) for name in key_fields()]
    lists = {s.name for s in table().partnership if s.is_list}
    facts = [json.dumps(rec[k], ensure_ascii=False) if k in lists else rec[k] for k in facts_fields()]
    values = (pid, *keys, len(rec["events"]), search.haystack(rec, snap.themes, snap.networks), *facts,
              _text_hash(text))
    names = [(name, pid, k) for k, name in enumerate(query.names_of(pid, rec))]
    links = [(kind, slug, pid, i) for kind, field in (("theme", "themes"), ("network", "networks"))
             for i, slug in enumerate(rec[field])]
    event_themes = [slug for event in rec["events"] for slug in event["themes"]]
    links += [("event-theme", slug, pid, i) for i, slug in enumerate(event_themes)]
    return ((row_hash(values), *values, text),
            [(row_hash(row), *row) for row in names], [(row_hash(row), *row) for row in links])


def _insert(con: sqlite3.Connection, snap: Snapshot, pid: str, rec: Mapping[str, Any], block_hash: int) -> None:
    record_row, names, links = _rows_of(snap, pid, rec)
    con.execute(f"INSERT INTO index_records (h, {', '.join(record_columns())}, record) "
                f"VALUES ({_marks(record_row)})", record_row)
    con.executemany(f"INSERT INTO index_names (h, {', '.join(NAME_COLUMNS)}) VALUES (?, ?, ?, ?)", names)
    con.executemany(f"INSERT INTO index_links (h, {', '.join(LINK_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", links)
    con.execute("INSERT INTO index_blocks VALUES (?, ?)", (pid, block_hash))


def _snapshot(reg: Registry) -> Snapshot:
    from partnerctl.core.query import snapshot

    return snapshot(reg, {})


def _head_json(reg: Registry) -> str:
    from partnerctl.core.model import registry_data

    # Key order as in the file: the vocabularies in the order they were declared.
    data = registry_data(reg)
    for kind in ("themes", "networks", "regions", "countries"):
        if kind in data:
            data[kind] = dict(getattr(reg, kind))
    return json.dumps(data, ensure_ascii=False)


def _fill(con: sqlite3.Connection, reg: Registry, data: bytes, key: Key) -> None:
    from partnerctl.core.model import record
    from partnerctl.storage import toml

    snap = _snapshot(reg)
    parts = toml.dump_parts(reg)
    encoded = [text.encode("utf-8") for _, text in parts]
    # Blocks can be rewritten alone only when the file is exactly its canonical text.
    canonical = b"\n".join(encoded) == data
    blocks = {pid: bytes_hash(block) for (pid, _), block in zip(parts[1:], encoded[1:], strict=True)}
    for pid in sorted(reg.partnerships):
        _insert(con, snap, pid, record(pid, reg.partnerships[pid]), blocks[pid] if canonical else 0)
    _write_meta(con, {
        "schema": schema_version(), "size": key.size, "mtime_ns": key.mtime_ns, "digest": key.digest,
        "head_hash": bytes_hash(encoded[0]) if canonical else 0, "canonical": int(canonical),
        "head": _head_json(reg), "master": _master_hash(con),
        "checks": json.dumps({name: _aggregate(con, name) for name in _AGGREGATES})})


def _write_meta(con: sqlite3.Connection, meta: dict[str, Any]) -> None:
    """Write *meta* (every entry) with the hash that ``open_current`` checks it by."""
    con.executemany("INSERT OR REPLACE INTO index_meta VALUES (?, ?)",
                    [*meta.items(), ("check", _meta_hash(meta))])


def build_into(con: sqlite3.Connection, reg: Registry, data: bytes, st: os.stat_result) -> None:
    """Fill an empty database with the index of *reg*, the validated registry of bytes *data*."""
    # executescript commits first, so the schema comes before BEGIN.
    con.executescript(ddl())
    con.execute("BEGIN")
    _fill(con, reg, data, key_of(data, st))
    con.execute("COMMIT")


@contextmanager
def _db_lock(db: Path, timeout: float) -> Iterator[bool]:
    """Hold the database's lock; yields False when it could not be had within *timeout*."""
    fd = os.open(db.with_name(db.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
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


@dataclass(frozen=True)
class Update:
    """What a write changed, for ``apply``: the new head, and per partnership its new record (None: removed).

    *blocks* holds the hash of each changed partnership's new block; *head_hash*
    that of the new head's bytes.
    """

    head: Registry
    head_hash: int
    records: Mapping[str, Mapping[str, Any] | None]
    blocks: Mapping[str, int]


def apply(path: Path, old: Key, new: Key, update: Update) -> bool:
    """After a write that rewrote some blocks: replace those partnerships' rows, in one transaction.

    Applied only if the index is still the one for the file as it was (*old*);
    otherwise it is left stale, to be rebuilt by the next read. False when not applied.

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
                con.execute("PRAGMA synchronous = NORMAL")
                con.execute("BEGIN IMMEDIATE")
                if not _apply(con, old, new, update):
                    con.execute("ROLLBACK")
                    return False
                con.execute("COMMIT")
            finally:
                con.close()
        return True
    except (*FAULTS, OSError):
        return False


def _apply(con: sqlite3.Connection, old: Key, new: Key, update: Update) -> bool:
    meta = dict(con.execute("SELECT key, value FROM index_meta"))
    if (meta.get("check") != _meta_hash(meta) or meta.get("schema") != schema_version()
            or not meta.get("canonical")
            or (meta.get("size"), meta.get("mtime_ns"), meta.get("digest")) != (old.size, old.mtime_ns, old.digest)):
        return False
    pids = sorted(update.records)
    scope = (f"WHERE id IN ({_marks(pids)})", pids)
    # The rows replaced must be intact: deleting a damaged one (a row of another partnership moved
    # under one of these ids) would bury the damage with the sums made to agree. Raises Damaged.
    old_rows = Index(con, meta)
    old_rows._rows(f"r.id IN ({_marks(pids)})", pids, with_record=True)
    for name, columns in (("index_names", NAME_COLUMNS), ("index_links", LINK_COLUMNS)):
        old_rows._verified(name, columns, f"id IN ({_marks(pids)})", pids)
    before = {name: _aggregate(con, name, *scope) for name in _AGGREGATES}
    for name in _PARTNERSHIP_TABLES:
        con.execute(f"DELETE FROM {name} WHERE id IN ({_marks(pids)})", pids)  # noqa: S608 - fixed names
    snap = _snapshot(update.head)
    for pid in pids:
        rec = update.records[pid]
        if rec is not None:
            _insert(con, snap, pid, rec, update.blocks[pid])
    checks = json.loads(meta["checks"])
    for name in _AGGREGATES:
        after = _aggregate(con, name, *scope)
        checks[name] = [total + a - b for total, a, b in zip(checks[name], after, before[name], strict=True)]
    meta.update(size=new.size, mtime_ns=new.mtime_ns, digest=new.digest, head_hash=update.head_hash,
                head=_head_json(update.head), checks=json.dumps(checks))
    meta.pop("check", None)
    _write_meta(con, meta)
    return True


# --- the validators' schemas ------------------------------------------------------------------
#
# Building pydantic's schemas of the model costs more than a one-block write itself (~100 ms
# per process: importing pydantic's generator and running it). They are kept in the cache
# folder beside the indexes, pickled, under a name that is the hash of everything they are
# made from: the model's source, pydantic's and pydantic_core's versions, Python's. The
# unpickler takes nothing but the model's own classes and functions, so a damaged or
# planted file can at most fail to load, and any failure means building them again.

_SCHEMA_MODULE = "partnerctl.core.model"
_SCHEMA_BUILTINS = {("builtins", "dict"), ("builtins", "list")}


def _schema_key() -> str | None:
    """The hash that names the schemas of this model on this pydantic; None when it cannot be made."""
    import importlib.util
    import sys

    import pydantic_core

    from partnerctl.core import fields, model

    spec = importlib.util.find_spec("pydantic")
    if spec is None or spec.origin is None:
        return None
    h = blake2b(digest_size=16)
    for part in (Path(model.__file__), Path(fields.__file__), Path(spec.origin).parent / "version.py"):
        try:
            h.update(part.read_bytes())
        except OSError:
            return None
    h.update(f"{pydantic_core.__version__}|{sys.version}".encode())
    return h.hexdigest()


def _load_schemas(data: bytes) -> Any:
    """The schemas pickled in *data*, unpickling no global but the model's own; raises on anything else."""
    import io
    import pickle
    import types

    class _ModelOnly(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _SCHEMA_BUILTINS:
                return super().find_class(module, name)
            if module == _SCHEMA_MODULE and "." not in name and not name.startswith("_" * 2):
                found = super().find_class(module, name)
                # A class or a check function declared by the model itself, nothing it merely imported.
                if isinstance(found, type | types.FunctionType) and found.__module__ == _SCHEMA_MODULE:
                    return found
            raise pickle.UnpicklingError(f"{module}.{name} is not the model's")

    return _ModelOnly(io.BytesIO(data)).load()


def prepare_validators() -> None:
    """Make the model's validators ready for a write, from the schemas kept by an earlier run when they fit.

    A miss (no cache folder, no file, another key, a file that does not load or
    that pydantic refuses) builds them from the model and keeps them for next time.
    """
    from partnerctl.core import model

    if model.ready():
        return
    folder = cache_dir()
    key = _schema_key() if folder is not None else None
    if folder is None or key is None:
        model.prepare()
        return
    path = folder / f"schemas-{key}.pickle"
    cached = None
    with suppress(Exception):  # whatever the file holds, it is only a cache: build instead
        cached = _load_schemas(path.read_bytes())
    if isinstance(cached, dict) and model.prepare(cached):
        return
    import pickle

    from partnerctl.storage.files import write_atomic

    schemas = model.schemas()
    model.prepare(schemas)
    with suppress(Exception):  # a cache that cannot be written is only a slower next write
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, pickle.dumps(schemas, protocol=pickle.HIGHEST_PROTOCOL))
