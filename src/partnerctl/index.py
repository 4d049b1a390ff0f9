"""The derived index: a SQLite copy of the validated registry in the user cache folder.

The TOML file stays the only source of truth. The index is a cache of it, one
database per registry (named after the registry's real path) in
``$XDG_CACHE_HOME/partnerctl/`` (default ``~/.cache/partnerctl``). It is
trusted only when the size, mtime and BLAKE2b hash of the file's bytes equal
the ones it was built for; anything else (a hand edit, a missing, stale,
corrupt or unreadable database, another schema version) makes it ignored and
rebuilt from a full, validated load. ``PARTNERCTL_NO_INDEX=1`` turns it off.

It holds the shared tables of ``sqlite_export`` plus its own: per partnership
its JSON record (``model.record``), folded keys for filtering, the folded
names that resolution matches, the folded text that search looks in
(``search.haystack``), and the byte span of its block in the file.

Concurrency: every change of the database file (renaming a fresh build over
it, or updating it in place after a one-block write) happens under an
exclusive ``flock`` on ``<db>.lock``; readers open it read-only inside one
read transaction, so the key they checked and the rows they read agree. A
stale rollback journal is removed, under that lock, before a new build is
renamed over the database, so a journal can never be replayed into the wrong file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from partnerctl.model import Partnership, Registry
    from partnerctl.query import Filters

SCHEMA_VERSION = 3
ENV_OFF = "PARTNERCTL_NO_INDEX"
LOCK_TIMEOUT = 2.0

INDEX_SCHEMA = """
CREATE TABLE index_meta (
    key TEXT PRIMARY KEY,
    value
);
CREATE TABLE index_records (
    id TEXT PRIMARY KEY REFERENCES partnerships(id),
    pos INTEGER NOT NULL,
    owner_key TEXT NOT NULL,
    country_key TEXT NOT NULL,
    region_key TEXT,
    search_first INTEGER NOT NULL,
    search_count INTEGER NOT NULL,
    haystack TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX index_records_pos ON index_records(pos);
CREATE INDEX index_records_owner ON index_records(owner_key);
CREATE INDEX index_records_country ON index_records(country_key);
CREATE INDEX index_records_region ON index_records(region_key);
CREATE TABLE index_names (
    key TEXT NOT NULL,
    id TEXT NOT NULL REFERENCES partnerships(id),
    pos INTEGER NOT NULL,
    k INTEGER NOT NULL,
    PRIMARY KEY (key, pos, k)
) WITHOUT ROWID;
CREATE INDEX index_names_id ON index_names(id);
CREATE TABLE index_blocks (
    id TEXT PRIMARY KEY REFERENCES partnerships(id),
    start INTEGER NOT NULL,
    stop INTEGER NOT NULL
) WITHOUT ROWID;
"""


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


def name_keys(pid: str, p: Any) -> list[str]:
    """The folded names a partnership answers to, in ``query.resolve``'s order."""
    from partnerctl import query

    return query.names_of(pid, p)


class Index:
    """An open, current index: read-only queries inside one read transaction."""

    def __init__(self, con: sqlite3.Connection, meta: dict[str, Any]) -> None:
        self.con = con
        self.meta = meta

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
        row = self.con.execute("SELECT owner, country FROM registry").fetchone()
        return row[0], row[1]

    def vocabulary(self, kind: str) -> dict[str, str]:
        """The theme or network vocabulary in the file's order."""
        table = "themes" if kind == "theme" else "networks"
        return dict(self.con.execute(f"SELECT slug, label FROM {table} ORDER BY rowid"))  # noqa: S608

    def named(self, key: str) -> list[tuple[str, str, str, str]]:
        """(id, city, aliases JSON, country) of partnerships with a folded name starting with *key*, in file order."""
        if not _bindable(key):
            return self.all_names()
        upper = _prefix_upper(key)
        cond, params = ("n.key >= ? AND n.key < ?", [key, upper]) if upper is not None else ("n.key >= ?", [key])
        return self.con.execute(
            "SELECT p.id, p.city, p.aliases, p.country FROM partnerships p JOIN index_records r ON r.id = p.id "
            f"WHERE p.id IN (SELECT n.id FROM index_names n WHERE {cond}) ORDER BY r.pos", params).fetchall()

    def all_names(self) -> list[tuple[str, str, str, str]]:
        """(id, city, aliases JSON, country) of every partnership, in file order."""
        return self.con.execute(
            "SELECT p.id, p.city, p.aliases, p.country FROM partnerships p JOIN index_records r ON r.id = p.id "
            "ORDER BY r.pos").fetchall()

    def records(self, where: str = "", params: Sequence[Any] = ()) -> list[tuple[str, str]]:
        """(id, record JSON) of the partnerships passing the SQL condition *where*, in file order."""
        return self._rows("r.id, r.record", where, params)

    def _rows(self, columns: str, where: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        sql = f"SELECT {columns} FROM index_records r JOIN partnerships p ON p.id = r.id"
        return self.con.execute(f"{sql} {'WHERE ' + where if where else ''} ORDER BY r.pos", params).fetchall()

    def records_of(self, pids: Sequence[str]) -> list[tuple[str, str]]:
        """(id, record JSON) of the given partnerships, in file order."""
        return self.records(f"r.id IN ({_marks(pids)})", list(pids))

    def filtered(self, filters: Filters, theme_sets: Sequence[set[str]],
                 network_sets: Sequence[set[str]]) -> list[tuple[str, str]]:
        """(id, record JSON) of a superset of what ``query.select`` keeps for *filters*.

        SQL only narrows, through indexed columns; ``query.select`` then decides
        on these records, so the meaning of a filter is written once, in
        query.py. Each condition here is implied by query.select's predicate.
        """
        return self.records(*_filter_where(filters, theme_sets, network_sets))

    def counted(self, filters: Filters, theme_sets: Sequence[set[str]],
                network_sets: Sequence[set[str]]) -> list[tuple[Any, ...]]:
        """The fields ``query.select`` and ``stats`` read, of the partnerships ``filtered`` hands over.

        (id, country, region, owner, status, since, projects JSON, themes, networks)
        in file order, from the shared tables: parsing 26,000 JSON records would
        cost more than the rest of a ``stats`` call.
        """
        rows = self._rows("r.id, p.country, p.region, p.owner, p.status, p.since, p.projects",
                          *_filter_where(filters, theme_sets, network_sets))
        links = {}
        for table, column in (("partnership_themes", "theme"), ("partnership_networks", "network")):
            slugs: dict[str, list[str]] = {}
            for pid, slug in self.con.execute(
                    f"SELECT partnership_id, {column} FROM {table} ORDER BY partnership_id, position"):
                slugs.setdefault(pid, []).append(slug)
            links[column] = slugs
        return [(*row, links["theme"].get(row[0], []), links["network"].get(row[0], [])) for row in rows]

    def containing(self, needle: str) -> list[tuple[str, str]]:
        """(id, record JSON) of the partnerships whose ``search.haystack`` holds *needle*."""
        if not _bindable(needle):
            return self.records()
        return self.records("instr(r.haystack, ?) > 0", [needle])

    def with_events(self) -> list[tuple[str, str]]:
        """(id, record JSON) of the partnerships that have events."""
        return self.records("r.id IN (SELECT partnership_id FROM events)")

    def with_links(self, kind: str) -> list[tuple[str, str]]:
        """(id, record JSON) of the partnerships that name a theme (or network)."""
        table = "partnership_themes" if kind == "theme" else "partnership_networks"
        return self.records(f"r.id IN (SELECT partnership_id FROM {table})")

    def block(self, pid: str) -> tuple[int, int]:
        """The byte span [start, stop) of the partnership's block in the file."""
        row = self.con.execute("SELECT start, stop FROM index_blocks WHERE id = ?", (pid,)).fetchone()
        if row is None:
            raise KeyError(pid)
        return row[0], row[1]


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


def _filter_where(filters: Filters, theme_sets: Sequence[set[str]],
                  network_sets: Sequence[set[str]]) -> tuple[str, list[Any]]:
    """The SQL condition (on ``index_records r`` joined with ``partnerships p``) that ``filtered`` narrows by."""
    from partnerctl.names import fold

    where: list[str] = []
    params: list[Any] = []
    for table, column, sets in (("partnership_themes", "theme", theme_sets),
                                ("partnership_networks", "network", network_sets)):
        for slugs in sets:
            where.append(f"r.id IN (SELECT partnership_id FROM {table} WHERE {column} IN ({_marks(slugs)}))")
            params += sorted(slugs)
    for column, value in (("owner_key", filters.owner), ("country_key", filters.country),
                          ("region_key", filters.region)):
        if value is not None:
            where.append(f"r.{column} = ?")
            params.append(fold(value))
    if filters.status is not None:
        where.append("p.status = ?")
        params.append(filters.status)
    if filters.since is not None:
        where.append("p.since >= ?")
        params.append(filters.since)
    if filters.until is not None:
        where.append("p.since <= ?")
        params.append(filters.until)
    return " AND ".join(where), params


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


def open_current(path: Path, data: bytes, st: os.stat_result) -> Index | None:
    """The index of the registry at *path* if it was built for exactly these bytes, else None."""
    db = db_path(path)
    if not db.exists():
        return None
    con = None
    try:
        con = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, isolation_level=None,
                              timeout=LOCK_TIMEOUT, check_same_thread=False)
        # One read transaction: the key checked below and every row read later agree.
        con.execute("BEGIN")
        meta = dict(con.execute("SELECT key, value FROM index_meta"))
        if _matches(meta, data, st):
            return Index(con, meta)
    except (sqlite3.Error, OSError):
        pass
    if con is not None:
        con.close()
    return None


# --- building -------------------------------------------------------------------------

def _insert(con: sqlite3.Connection, reg: Registry, pid: str, p: Partnership, pos: int, search_rowid: int) -> int:
    """Insert a partnership's rows, its search rows from rowid *search_rowid* on; returns how many those are."""
    from partnerctl import search, sqlite_export
    from partnerctl.model import record
    from partnerctl.names import fold

    found = sqlite_export.insert_partnership(con, pid, p, search_rowid)
    con.execute("INSERT INTO index_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, pos, fold(p.owner or reg.registry.owner), fold(p.country),
                 fold(p.region) if p.region is not None else None, search_rowid, found,
                 search.haystack(p), json.dumps(record(pid, p), ensure_ascii=False)))
    con.executemany("INSERT INTO index_names VALUES (?, ?, ?, ?)",
                    [(name, pid, pos, k) for k, name in enumerate(name_keys(pid, p))])
    return found


def _fill(con: sqlite3.Connection, reg: Registry, data: bytes, key: Key) -> None:
    from partnerctl import sqlite_export, tomlfile

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
            spans.append((pid, start, start + len(block)))
            start += len(block) + 1
        con.executemany("INSERT INTO index_blocks VALUES (?, ?, ?)", spans)
    _write_meta(con, key, head_end=len(encoded[0]), canonical=int(canonical), search_next=search_rowid)


def _write_meta(con: sqlite3.Connection, key: Key, **extra: Any) -> None:
    values = {"schema": SCHEMA_VERSION, "size": key.size, "mtime_ns": key.mtime_ns, "digest": key.digest,
              **extra}
    con.executemany("INSERT OR REPLACE INTO index_meta VALUES (?, ?)", values.items())


def build_into(con: sqlite3.Connection, reg: Registry, data: bytes, st: os.stat_result) -> None:
    """Fill an empty database with the index of *reg*, the validated registry of bytes *data*."""
    from partnerctl import sqlite_export

    # executescript commits first, so the schema comes before BEGIN.
    sqlite_export.create_schema(con)
    con.executescript(INDEX_SCHEMA)
    con.execute("BEGIN")
    _fill(con, reg, data, key_of(data, st))
    con.execute("COMMIT")


@contextmanager
def _db_lock(db: Path, timeout: float) -> Iterator[bool]:
    """Hold the database's lock; yields False when it could not be had within *timeout*."""
    from partnerctl.store import flock_within

    fd = os.open(db.with_name(db.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield flock_within(fd, timeout)
    finally:
        os.close(fd)


def save(path: Path, reg: Registry, data: bytes, st: os.stat_result) -> bool:
    """Build the index of *reg* (loaded from *data*) and put it in place; False if it could not be.

    Built in a temporary file and renamed over the old index, so a reader sees
    the old or the new database, never a part of one. Best effort: a cache
    that cannot be written only costs speed.
    """
    db = db_path(path)
    tmp = None
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{db.stem}.", suffix=".tmp", dir=db.parent)
        os.close(fd)
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
            tmp = None
        return True
    except (OSError, sqlite3.Error):
        return False
    finally:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)


def update_block(path: Path, old: Key, new: Key, reg: Registry, pid: str, span: tuple[int, int],
                 new_stop: int) -> bool:
    """After a one-block write: replace partnership *pid*'s rows and shift the later blocks.

    *reg* holds the head and the new partnership; *span* was its old block and
    ``[span[0], new_stop)`` is its new one. Applied in one transaction, and only
    if the index is still the one for the file as it was (*old*); otherwise it
    is left stale, to be rebuilt by the next read. False when not applied.
    """
    db = db_path(path)
    try:
        with _db_lock(db, LOCK_TIMEOUT) as locked:
            if not locked:
                return False
            con = sqlite3.connect(db, isolation_level=None, timeout=LOCK_TIMEOUT)
            try:
                con.execute("PRAGMA foreign_keys = ON")
                con.execute("PRAGMA synchronous = NORMAL")
                con.execute("BEGIN IMMEDIATE")
                meta = dict(con.execute("SELECT key, value FROM index_meta"))
                if (meta.get("schema") != SCHEMA_VERSION or not meta.get("canonical")
                        or (meta.get("size"), meta.get("mtime_ns"), meta.get("digest"))
                        != (old.size, old.mtime_ns, old.digest)):
                    con.execute("ROLLBACK")
                    return False
                pos, first, count = con.execute(
                    "SELECT pos, search_first, search_count FROM index_records WHERE id = ?", (pid,)).fetchone()
                _delete(con, pid, range(first, first + count))
                search_next = meta["search_next"]
                search_next += _insert(con, reg, pid, reg.partnerships[pid], pos, search_next)
                start, stop = span
                shift = new_stop - stop
                if shift:
                    # Blocks follow in id order (the file is canonical): the primary key finds the later ones.
                    con.execute("UPDATE index_blocks SET start = start + ?, stop = stop + ? WHERE id > ?",
                                (shift, shift, pid))
                con.execute("INSERT INTO index_blocks VALUES (?, ?, ?)", (pid, start, new_stop))
                _write_meta(con, new, search_next=search_next)
                con.execute("COMMIT")
            finally:
                con.close()
        return True
    except (OSError, sqlite3.Error, TypeError):
        return False


def _delete(con: sqlite3.Connection, pid: str, search_rowids: range) -> None:
    from partnerctl import sqlite_export

    for table in ("index_names", "index_records", "index_blocks"):
        con.execute(f"DELETE FROM {table} WHERE id = ?", (pid,))  # noqa: S608 - fixed names
    sqlite_export.delete_partnership(con, pid, search_rowids)
