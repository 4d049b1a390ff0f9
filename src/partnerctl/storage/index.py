"""The derived index: a SQLite cache of the validated registry in the user cache folder.

The TOML file stays the only source of truth. The index is a cache of it, one
database per registry (named after the registry's real path) in
``$XDG_CACHE_HOME/partnerctl/`` (default ``~/.cache/partnerctl``). It is used
only while the file's bytes are the ones it was built for (the key, below);
anything else (a hand edit, a missing, stale, corrupt or unreadable database,
another schema) makes it ignored and rebuilt from a full, validated load.
``PARTNERCTL_NO_INDEX=1`` turns it off.

The key: the SHA-256 of the file's bytes, and the file's stat (size, mtime,
ctime, inode, device) when they were read. Hashing 33 MB on every command
costs more than the answer, so the stat alone vouches for the bytes when the
key is *settled*: the bytes were read more than ``SETTLE_NS`` (3 s) after the
file's last change (its ctime, older than the clock read before the file was
opened, by that margin). Why that is sound: the kernel sets ctime to the
current time on every change of the file's bytes or metadata, and no call can
set it back (``touch`` and ``utime`` set mtime, not ctime); replacing the
file (an editor's or git's rename) gives another inode. So after a settled
read, any change of the bytes leaves a ctime later than the read, hence a
stat other than the recorded one, and the bytes are hashed again. The margin
is git's "racy" case: a change in the same timestamp tick as the one before
the read would keep the ctime; a read that came seconds after the last change
cannot have missed one that kept it. An unsettled key (a file read just after
it changed, or the bytes a write just wrote) is always checked by hashing
(a writer hashes in a thread while its change runs, and the change counts only
once the hash matches), and a reader that hashed bytes equal to the recorded
ones records the new stat (and whether it is now settled), so the next command
needs no hash. What
it assumes: the clock the file's timestamps come from and this process's
clock agree within the margin (a network file system's server clock running
more than 3 s behind), and the wall clock is not stepped back by more than
that between a read and the next change.

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
  then either SQLite's file change counter (header bytes 24-27, which every
  committed transaction of any SQLite client moves) equals the one partnerctl
  recorded with its last transaction, so nobody changed the database through
  SQLite since; or, per table, one aggregate (row count and a sum of row
  hashes) equals the one recorded: a dropped or altered table, a deleted or
  inserted row is seen there. The counter spares the aggregates' scan (every
  row of every table) on each command; what it does not see is a change of
  the file's bytes outside SQLite (a bad copy, bit rot), which the row hashes
  below still catch for every row a read returns.
- Every row a read returns: each ``index_records``, ``index_names`` and
  ``index_links`` row carries a hash of all its columns (the record through
  its own hash, checked when the record is read), recomputed and compared.
- What a read answers without returning rows: counts (``tallied``, ``usage``)
  and "no such partnership" (``lacks``) rest on the tables' row counts and hash
  sums, checked against those recorded (``check_tables``) once per read.
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
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from partnerctl.core.model import table
from partnerctl.storage.files import flock_within
from partnerctl.storage.toml import Damaged, blake2b, bytes_hash

if TYPE_CHECKING:
    from partnerctl.core.fields import FieldSpec
    from partnerctl.core.model import Registry
    from partnerctl.core.query import Snapshot, Wanted

__all__ = ["Build", "Damaged", "FAULTS", "Index", "Key", "apply", "discard", "enabled", "open_current", "save"]

ENV_OFF = "PARTNERCTL_NO_INDEX"
LOCK_TIMEOUT = 2.0
# Bumped when what a row holds changes without the schema changing (the schema's own
# changes are seen by its hash, below).
FORMAT = 9

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


@cache
def linked_fields() -> tuple[tuple[str, str], ...]:
    """(link kind, field) of the partnership fields whose slugs get ``index_links`` rows: those of a vocabulary."""
    return tuple((s.meta.vocab, s.name) for s in table().partnership if s.meta.vocab and s.is_list)


NAME_COLUMNS = ("key", "id", "k")
LINK_COLUMNS = ("kind", "slug", "id", "position")


@cache
def grouped_fields() -> tuple[str, ...]:
    """The fields ``stats`` counts by their value or decade (``Index.tallied``), each with an index of its own."""
    return tuple(s.name for s in table().partnership if s.meta.stat in ("value", "decade"))


@cache
def ddl() -> str:
    """The index's SQL schema, derived from the field table: its tables, then its indexes."""
    return ddl_tables() + ddl_indexes()


@cache
def ddl_indexes() -> str:
    """The indexes of the index's tables: created after the rows at a build, so their pages come out full.

    Each folded field has an index on its key (filters narrow by it); a field ``stats`` counts by
    its value or decade has one holding the key, the id and the value: ``tallied`` groups, picks the
    least id and its spelling from the index alone, without reading the records' pages.
    """
    lines = []
    for name in dict.fromkeys((*key_fields(), *grouped_fields())):
        if name not in grouped_fields():
            columns = f"{name}_key"
        else:
            columns = f"{name}_key, id, {name}" if name in key_fields() else f"{name}, id"
        lines.append(f"CREATE INDEX index_records_{name} ON index_records({columns});")
    return f"""CREATE INDEX index_records_h ON index_records(h);
{chr(10).join(lines)}
CREATE INDEX index_names_id ON index_names(id);
CREATE INDEX index_links_id ON index_links(id);
"""


@cache
def ddl_tables() -> str:
    """The index's tables, derived from the field table."""
    t = table()
    facts = ",\n    ".join(f"{name} {_SQL_TYPES[t.get(name).kind]}" for name in facts_fields())
    keys = ",\n    ".join(f"{name}_key TEXT" for name in key_fields())
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
CREATE TABLE index_names (
    key TEXT NOT NULL,
    id TEXT NOT NULL,
    k INTEGER NOT NULL,
    h INTEGER NOT NULL,
    PRIMARY KEY (key, id, k)
) WITHOUT ROWID;
CREATE TABLE index_links (
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    h INTEGER NOT NULL,
    PRIMARY KEY (kind, slug, id, position)
) WITHOUT ROWID;
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
# Row hashes are cut to 32 bits so the sum cannot overflow. The index on index_records(h) makes
# that table's sum a scan of a small index; the others are narrow tables, scanned as they are.
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


# How much older than the clock read before the file was opened its last change (ctime) must be for
# the file's stat alone to vouch for its bytes: more than a filesystem's timestamp step (2 s on FAT)
# plus the kernel's coarse clock tick. See "The key" in the module docstring.
SETTLE_NS = 3_000_000_000
_STAT = ("size", "mtime_ns", "ctime_ns", "ino", "dev")


def clock() -> int:
    """The wall clock file timestamps are taken from (read it before opening the registry: ``key_of``)."""
    return time.time_ns()


def content_hash(data: bytes) -> str:
    """The hash that names a registry's content in the key (SHA-256: OpenSSL's is the fastest here)."""
    # Imported here: loading OpenSSL costs a few ms that a read vouched for by a settled stat never pays.
    import hashlib

    return hashlib.sha256(data).hexdigest()


# How often ContentHash keeps the state of its SHA-256: a copy of the state is some 200 bytes, and a
# copied file's hash starts from the last one before the first byte it changes (at most this much before).
HASH_STEP = 1 << 20


class Background:
    """A function run in a thread of its own (hashing lets go of the GIL): ``result`` waits for it."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        import threading

        self._value: Any = None
        self._error: BaseException | None = None
        self._fn = fn
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that asks for the result
            self._error = exc

    def result(self) -> Any:
        """What the function returned (what it raised is raised here)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class ContentHash:
    """The ``content_hash`` of file bytes, computed when first asked, and that of a copy made of pieces.

    A write replaces a few spans of a 30 MB file: the new file's SHA-256 (the index's key and the
    journal entry's name) starts from the state the old file's hash had at the first byte that
    changes, when the old bytes were hashed (their stat did not vouch for them), so only the bytes
    from there on are hashed again; and it is computed once for both. The pieces are hashed as
    they are, never joined. ``start`` hashes the old bytes in a thread while the write goes on.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._hex: str | None = None
        self._states: list[Any] = []  # the state after data[:k * HASH_STEP], k = 0, 1, ...
        self._running: Background | None = None

    def start(self) -> None:
        """Hash the bytes in a thread of its own; ``hexdigest`` waits for it."""
        if self._hex is None and self._running is None:
            self._running = Background(self._hash)

    def hexdigest(self) -> str:
        """The SHA-256 of the bytes (``content_hash``), hashed once."""
        if self._running is not None:
            running, self._running = self._running, None
            with suppress(Exception):
                running.result()  # what failed there is done again here
        if self._hex is None:
            self._hash()
        assert self._hex is not None
        return self._hex

    def _hash(self) -> None:
        import hashlib

        h = hashlib.sha256()
        view = memoryview(self.data)
        states = []
        for at in range(0, len(view), HASH_STEP):
            states.append(h.copy())
            h.update(view[at:at + HASH_STEP])
        self._states, self._hex = states, h.hexdigest()

    def of_copy(self, pieces: Sequence[bytes | memoryview], same: int) -> str:
        """The SHA-256 of the bytes *pieces* make one after another, whose first *same* bytes are these."""
        import hashlib

        if self._running is not None:
            self.hexdigest()
        if self._states:
            k = min(same // HASH_STEP, len(self._states) - 1)
            h, at = self._states[k].copy(), k * HASH_STEP
        else:
            h, at = hashlib.sha256(), 0
        h.update(memoryview(self.data)[at:same])
        skip = same
        for piece in pieces:
            view = memoryview(piece)
            if skip >= len(view):
                skip -= len(view)
                continue
            h.update(view[skip:])
            skip = 0
        digest: str = h.hexdigest()
        return digest


def stat_key(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What the key compares of a file's stat: size, mtime, ctime, inode and device."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


@dataclass(frozen=True)
class Key:
    """What an index was built for: the file's content hash, and its stat when that content was read.

    *settled*: the content was read (and hashed) more than ``SETTLE_NS`` after the file's last
    change, so from then on the same stat means the same bytes (see the module docstring).
    """

    digest: str
    stat: tuple[int, int, int, int, int]
    settled: bool = False


def key_of(data: bytes, st: os.stat_result, started: int | None = None, digest: str | None = None) -> Key:
    """The key of file bytes *data*, whose stat after reading them is *st*.

    *started*: ``clock()`` read before the file was opened; without it (the bytes a writer just
    wrote) the key is not settled. *digest*: their ``content_hash`` when the caller has it already.
    """
    settled = (started is not None and st.st_size == len(data)
               and st.st_ctime_ns < started - SETTLE_NS)
    return Key(digest or content_hash(data), stat_key(st), settled)


def _meta_key(meta: dict[str, Any]) -> Key:
    return Key(meta["digest"], tuple(meta[name] for name in _STAT), bool(meta["settled"]))


# The entries of index_meta that say when the file and the database were last verified (settled,
# the change counter), not what they hold: two indexes of the same file may differ in them.
HISTORY_META = ("settled", "counter", "check")


def _key_meta(key: Key) -> dict[str, Any]:
    return {"digest": key.digest, **dict(zip(_STAT, key.stat, strict=True)), "settled": int(key.settled)}


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


def _file_counter(db: Path) -> int | None:
    """SQLite's file change counter of database *db* (header bytes 24-27), which every transaction
    that changes the database increments by one; None when the database is not in rollback-journal mode.

    Read through a descriptor of its own, opened and closed while no connection of this process
    holds a lock on *db*: closing any descriptor of a file drops the process's POSIX locks on it.
    """
    with open(db, "rb") as f:
        head = f.read(28)
    if len(head) < 28 or head[:16] != b"SQLite format 3\x00" or head[18:20] != b"\x01\x01":
        return None
    return int.from_bytes(head[24:28], "big")


def _data_version(con: sqlite3.Connection) -> int:
    return int(con.execute("PRAGMA data_version").fetchone()[0])


def _begin(con: sqlite3.Connection, db: Path, how: str = "BEGIN") -> tuple[dict[str, Any], int | None]:
    """Start a transaction on *con*: ``index_meta`` as it sees it, and the change counter of that state.

    The counter is read between two ``data_version`` readings: the same value both times means no
    other connection committed in between, so the counter read is the one of the state the
    transaction sees; otherwise it is None (unknown).
    """
    version = _data_version(con)
    counter = _file_counter(db)
    con.execute(how)
    meta = dict(con.execute("SELECT key, value FROM index_meta"))
    return meta, counter if _data_version(con) == version else None


def _next_counter(counter: int | None) -> int | None:
    """The change counter a transaction that started at *counter* leaves when it commits."""
    return None if counter is None else (counter + 1) % 2**32


def _intact(con: sqlite3.Connection, meta: dict[str, Any], counter: int | None) -> bool:
    """Whether the database is the one partnerctl built or updated last: its schema, then either SQLite's
    change counter as that writer left it (no other transaction since), or every table's aggregate."""
    if meta.get("master") != _master_hash(con):
        return False
    if counter is not None and meta.get("counter") == counter:
        return True
    checks = json.loads(meta["checks"])
    return all(_aggregate(con, name) == checks[name] for name in _AGGREGATES)


@cache
def _list_keys() -> tuple[str, ...]:
    """The keys of a partnership record that hold a list (left out of the stored text when empty)."""
    return tuple(s.name for s in table().partnership if s.is_list or s.kind == "records")


@cache
def _list_facts() -> tuple[str, ...]:
    """The ``FACTS`` columns that hold a list, kept as JSON text."""
    lists = {s.name for s in table().partnership if s.is_list}
    return tuple(name for name in facts_fields() if name in lists)


@cache
def _template() -> dict[str, Any]:
    """Every key of a partnership record, in the record's order, each None."""
    return dict.fromkeys(("id", *(s.name for s in table().partnership)))


def _stored(rec: Mapping[str, Any]) -> str:
    """The JSON text a record is kept as: without its unset fields and empty lists (a third of its size)."""
    return json.dumps({k: v for k, v in rec.items() if v is not None and v != []}, ensure_ascii=False)


# json's scanner (C), without json.loads' Python layers around it (a third of its time on a record).
_scan: Callable[[str, int], tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009 - not in the stubs


def _restored(text: str) -> dict[str, Any]:
    """The record kept as *text* (``_stored``), every field present again, in the record's order."""
    try:
        found, end = _scan(text, 0)
    except StopIteration:
        found, end = None, -1
    if end != len(text):  # not json.dumps' text of one value: json.loads says what it is
        found = json.loads(text)
    out = dict(_template())
    out.update(found)
    for key in _list_keys():
        if out[key] is None:
            out[key] = []
    return out


def _countable(spec: FieldSpec) -> bool:
    """Whether ``Index.tallied`` counts dimension *spec* in SQL, exactly as ``stats.count`` does: by links; by
    the key column, which holds the value as the core counts it (the field's own value, else the one it
    inherits or derives, made a key by ``query.filter_key``: a country's ISO 3166-1 code, a region's slug);
    by the stored value when it is a folded text (grouped by its key; an inherited value filled in from the
    head) or a field that neither inherits nor derives (a status, a year)."""
    if spec.meta.stat == "each":
        return spec.meta.vocab is not None and (spec.meta.vocab, spec.name) in linked_fields()
    if spec.meta.stat not in ("value", "decade") or spec.name not in grouped_fields():
        return False
    if spec.name in key_fields():
        return spec.meta.filter != "folded" or not spec.meta.default_from
    return not spec.meta.inherit and not spec.meta.default_from


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
        # The vocabularies' labels in other languages (``model.Registry.translations``).
        self.translations: dict[Any, Any] = dict(self.head.get("translations", {}))
        # The tables whose aggregates were checked in this transaction (``check_tables``).
        self._checked: set[str] = set()

    def registry_head(self) -> Registry:
        """The head recorded, as a Registry without partnerships (built from the verified meta, not validated
        again: it was, when the index was built)."""
        from partnerctl.core.model import Owner, Registry

        owner = Owner(name=self.name, owner=self.owner, country=self.country)
        return Registry(registry=owner, themes=self.themes, networks=self.networks, regions=self.regions,
                        countries=self.countries, translations=self.translations)

    @property
    def canonical(self) -> bool:
        """Whether the file is in canonical form, so blocks can be rewritten alone."""
        return bool(self.meta.get("canonical"))

    @property
    def key(self) -> Key:
        """The key it was built for, which is the file's as read (it was checked on opening)."""
        return _meta_key(self.meta)

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
        return {row[1]: _restored(row[-1]) for row in self._rows(where, params, with_record=True)}

    def each_record(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, record) of every partnership by id, verified, one row at a time (exports).

        Rows come from the cursor as they are read, so memory does not grow with
        the registry; a damaged row raises ``Damaged`` when it is reached.
        """
        names = record_columns()
        columns = ", ".join(f"r.{c}" for c in ("h", *names, "record"))
        for row in self.con.execute(f"SELECT {columns} FROM index_records r ORDER BY r.id"):  # noqa: S608
            values = row[1:len(names) + 1]
            if row_hash(values) != row[0] or _text_hash(row[-1]) != values[-1]:
                raise Damaged(f"index row of {values[0]!r} does not match its hash")
            yield row[1], _restored(row[-1])

    def facts(self, where: str = "", params: Sequence[Any] = ()) -> dict[str, dict[str, Any]]:
        """{id: the record's ``FACTS`` fields} of the partnerships passing *where*, by id."""
        return {pid: facts for pid, facts, _h in self.each_facts(where, params)}

    def each_facts(self, where: str = "", params: Sequence[Any] = (), lists: bool = True, facts: bool = True,
                   admits: Callable[[Sequence[Any]], bool] | None = None
                   ) -> Iterator[tuple[str, dict[str, Any], int]]:
        """(id, the record's ``FACTS`` fields, the hash of its record) of the partnerships passing *where*, by
        id, verified, one row at a time from the cursor (``list`` keeps a sort key of each, not its facts).

        *lists*: the fields that hold a list decoded (a sort key reads none of them); not *facts*: none
        of the fields (an empty dict: the ids alone are wanted). The record's hash, verified with the
        row, is what ``checked_records`` reads the record by, so that a row's hash is computed once
        per read, not again with its record. *admits* (``admitting``): a row's verified columns must
        pass it, else the index is Damaged (its SQL returned a row its condition does not keep).
        """
        names = record_columns()
        at = names.index(facts_fields()[0])
        decoded = _list_facts() if lists else ()
        columns = ", ".join(f"r.{c}" for c in ("h", *names))
        n = len(names)
        stop = 1 + at + len(facts_fields())
        for row in self.con.execute(f"SELECT {columns} FROM index_records r "  # noqa: S608
                                    f"{'WHERE ' + where if where else ''} ORDER BY r.id", params):
            if row_hash(row[1:n + 1]) != row[0]:
                raise Damaged(f"index row of {row[1]!r} does not match its hash")
            if admits is not None and not admits(row[1:n + 1]):
                raise Damaged(f"index row of {row[1]!r} returned by a condition it does not pass")
            if not facts:
                yield row[1], {}, row[n]
                continue
            held = dict(zip(facts_fields(), row[1 + at:stop], strict=True))
            for name in decoded:
                held[name] = json.loads(held[name])
            yield row[1], held, row[n]

    def checked_records(self, pids: Sequence[str], hashes: Sequence[int]) -> list[dict[str, Any]]:
        """The records of *pids*, in that order, each read with no other column and checked against its hash in
        *hashes* (the one ``each_facts`` verified with its row, in this read transaction)."""
        expected = dict(zip(pids, hashes, strict=True))
        found = {}
        for pid, text in self.con.execute(f"SELECT id, record FROM index_records WHERE id IN ({_marks(pids)})",  # noqa: S608
                                          list(pids)):
            if _text_hash(text) != expected.get(pid):
                raise Damaged(f"index record of {pid!r} does not match its hash")
            found[pid] = text
        if len(found) != len(expected):
            raise Damaged("index_records lost a row it returned in this read")
        return [_restored(found[pid]) for pid in pids]

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

    def near(self, key: str) -> dict[str, str]:
        """{folded name: the greatest id holding it} of the names that may be close enough to *key* for the
        did-you-mean hint (``query.suggest``): a superset, found by SQL over the names table.

        ``difflib``'s ratio of two texts is at most its ``quick_ratio``: twice the characters they have
        in common (as multisets) over their summed lengths. SQL computes that bound for each name (in C:
        a name's count of a character is its length less that of the name without it) and keeps those
        that reach the cutoff; the core then weighs only those, as it would weigh every name, so the
        hint is the same. No record is read but those of the (up to three) names offered.
        """
        from collections import Counter

        from partnerctl.core.query import HINT_CUTOFF

        cond, params = "1", []
        if key and _bindable(key):
            length, chars = len(key), Counter(key)
            # A hair below the cutoff: SQLite's float arithmetic must never drop a name Python would keep.
            cutoff = HINT_CUTOFF - 1e-9
            # First a looser bound that needs no copy of the name (each character counted as often as
            # *key* has it, if the name has it at all), then the bound itself.
            loose = " + ".join(f"{n} * (instr(key, ?) > 0)" for n in chars.values())
            tight = " + ".join(f"min({n}, length(key) - length(replace(key, ?, '')))" for n in chars.values())
            cond = (f"length(key) BETWEEN ? AND ? AND 2.0 * ({loose}) >= ? * (length(key) + ?) "
                    f"AND 2.0 * ({tight}) >= ? * (length(key) + ?)")
            params = [int(length * cutoff / (2 - cutoff)), int(length * (2 - cutoff) / cutoff) + 1,
                      *chars, cutoff, length, *chars, cutoff, length]
        out: dict[str, str] = {}
        for name, pid, _ in self._verified("index_names", NAME_COLUMNS, cond, params):
            if pid > out.get(name, ""):
                out[name] = pid
        return out

    def lacks(self, pid: str) -> bool:
        """Whether the registry holds no partnership *pid*: neither a record nor a block recorded for it,
        in tables whose row counts and hash sums are the ones recorded (``check_tables``: a row deleted
        by hand is seen). Then a read can say "not found" without loading the file."""
        self.check_tables("index_records", "index_blocks")
        return not self.has(pid) and self.con.execute("SELECT 1 FROM index_records WHERE id = ?",
                                                      (pid,)).fetchone() is None

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

    def admitting(self, want: Wanted) -> Callable[[Sequence[Any]], bool]:
        """What ``narrowing(want)``'s SQL asks, as a check of a row's verified columns (``record_columns()``),
        for a *want* that ``exact`` holds: a row that fails it was returned by a damaged SQLite index.

        Where ``exact`` lets ``list`` take the SQL's rows without ``query.keeps``, this keeps the answer
        resting on verified values only, for a few comparisons a row. The link rows a list vocabulary
        filter asks for are read and verified (as ``linked`` does).
        """
        names = record_columns()
        at = {name: i for i, name in enumerate(names)}
        members: list[tuple[int, set[Any]]] = []
        for name, sets in want.slugs.items():
            spec = table().get(name)
            if spec.is_list:
                for slugs in sets:
                    cond = f"kind = ? AND slug IN ({_marks(slugs)})"
                    rows = self._verified("index_links", LINK_COLUMNS, cond, [spec.meta.vocab, *sorted(slugs)])
                    members.append((at["id"], {row[2] for row in rows}))
        members += [(at[f"{name}_key"], set(keys)) for name, keys in want.keys().items()]
        members += [(at[name], {value}) for name, value in want.folded().items()]
        bounds = [(at[spec.name], want.filters.since, want.filters.until) for spec in table().filters()
                  if spec.meta.filter == "year" and (want.filters.since is not None or want.filters.until is not None)]

        def admits(row: Sequence[Any]) -> bool:
            if not all(row[i] in held for i, held in members):
                return False
            for i, low, high in bounds:
                value = row[i]
                if value is None or (low is not None and value < low) or (high is not None and value > high):
                    return False
            return True

        return admits

    def exact(self, want: Wanted) -> bool:
        """Whether ``narrowing(want)`` keeps exactly what ``query.keeps`` keeps, so SQL alone can count.

        It does for vocabulary filters (link rows for a list, the key column for one value), folded
        texts and countries (key columns: a country asked as an ISO 3166-1 country, not a subdivision,
        whose key is exactly what ``countries.within`` compares), enums and years. ``--involving``, a
        subdivision, another kind of filter asked for (a project), or text SQLite cannot take, leave
        the records to decide.
        """
        if want.filters.involving is not None:
            return False
        for spec in table().filters():
            asked = want.filters.get(spec.name)
            kind = spec.meta.filter
            if kind in ("folded", "enum"):
                if asked is not None and not _bindable(asked):
                    return False
            elif kind == "country":
                code = want.codes.get(spec.name)
                if code is not None and (spec.name not in key_fields() or "-" in code or not _bindable(code)):
                    return False
            elif kind == "vocab":
                if spec.is_list and (spec.meta.vocab, spec.name) not in linked_fields():
                    return False
                if not spec.is_list and spec.name not in key_fields():
                    return False
            elif kind != "year" and asked:
                return False
        return True

    def check_tables(self, *names: str) -> None:
        """Check tables *names* against the row count and hash sum recorded for each (Damaged if one differs).

        What an answer counted by SQL rests on, since it reads no row (``tallied``, ``usage``):
        no row of those tables was added, removed, or had its hash changed since partnerctl wrote them.
        """
        checks = json.loads(self.meta["checks"])
        for name in names:
            if name not in self._checked:
                if _aggregate(self.con, name) != checks[name]:
                    raise Damaged(f"{name} does not hold the rows recorded")
                self._checked.add(name)

    def tallied(self, want: Wanted, dimensions: Sequence[str]
                ) -> tuple[int, dict[str, list[tuple[Any, int, str]]]] | None:
        """How many partnerships pass *want*, and per dimension their (value, count, least id) rows
        (``stats.tallied``), counted by SQL; None when SQL cannot count them exactly (``exact``)."""
        specs = table().dimensions()
        if not self.exact(want) or not all(_countable(specs[by]) for by in dimensions):
            return None
        where, params = self.narrowing(want)
        # The link rows are what a vocabulary's count or filter reads; a count by country reads none.
        links = "index_links" in where or any(specs[by].meta.stat == "each" for by in dimensions)
        self.check_tables("index_records", *(["index_links"] if links else []))
        cond = f"WHERE {where or 1}"
        if where:
            total = self.con.execute(f"SELECT count(*) FROM index_records r {cond}", params).fetchone()[0]  # noqa: S608
        else:  # every partnership: check_tables has just counted them
            total = json.loads(self.meta["checks"])["index_records"][0]
        out: dict[str, list[tuple[Any, int, str]]] = {}
        for by in dimensions:
            spec = specs[by]
            name = spec.name
            if spec.meta.stat == "each":
                out[by] = self._tally_links(str(spec.meta.vocab), total, cond, params)
                continue
            value, args, group = f"r.{name}", params, f"r.{name}"
            if name in key_fields():
                group = f"r.{name}_key"
                if spec.meta.filter != "folded":
                    value = group  # the value as the core counts it (``_countable``)
                elif spec.meta.inherit:
                    value, args = f"coalesce(r.{name}, ?)", [self.head_value(spec.meta.inherit), *params]
            # SQLite takes a bare column from the row min() picked: the spelling of the least id.
            # Years, not decades: the core makes decades of them (stats.tallied), and the index's order
            # groups them without a sort.
            out[by] = self.con.execute(f"SELECT {value}, count(*), min(r.id) FROM index_records r {cond} "  # noqa: S608
                                       f"GROUP BY {group}", args).fetchall()
        return total, out

    def _tally_links(self, kind: str, total: int, cond: str, params: list[Any]) -> list[tuple[str | None, int, str]]:
        """Per slug of link *kind*, how many of the *total* partnerships passing *cond* name it, and the
        least id; then those naming none (unknown, which sorts last: its least id does not matter)."""
        # The link rows counted are checked against their hashes first (a slug moved).
        self._verified("index_links", LINK_COLUMNS, "kind = ?", [kind])
        within = f"AND l.id IN (SELECT r.id FROM index_records r {cond})" if params else ""
        rows: list[tuple[str | None, int, str]] = self.con.execute(
            f"SELECT l.slug, count(DISTINCT l.id), min(l.id) FROM index_links l WHERE l.kind = ? {within} "  # noqa: S608
            "GROUP BY l.slug", [kind, *params]).fetchall()
        named = self.con.execute(f"SELECT count(DISTINCT l.id) FROM index_links l WHERE l.kind = ? {within}",  # noqa: S608
                                 [kind, *params]).fetchone()[0]
        return [*rows, (None, total - named, "")] if total > named else rows

    def head_value(self, name: str) -> Any:
        """A field of the registry's head (``owner``, ``country``)."""
        return {"owner": self.owner, "country": self.country}.get(name)

    def usage(self, kind: str) -> dict[str, int]:
        """{slug: partnerships naming it} of a vocabulary's link kind, counted by SQL (``check_tables``;
        the link rows of that kind checked against their hashes first: a slug moved)."""
        self.check_tables("index_links")
        self._verified("index_links", LINK_COLUMNS, "kind = ?", [kind])
        return dict(self.con.execute("SELECT slug, count(DISTINCT id) FROM index_links WHERE kind = ? GROUP BY slug",
                                     [kind]).fetchall())

    def containing(self, needle: str) -> dict[str, dict[str, Any]]:
        """{id: record} of the partnerships whose ``search.haystack`` holds *needle*."""
        if not _bindable(needle):
            return self.records()
        return self.records("instr(r.haystack, ?) > 0", [needle])

    def with_events(self) -> dict[str, dict[str, Any]]:
        """{id: record} of the partnerships that have events."""
        return self.records("r.events > 0")

    def records_of(self, pids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{id: record} of the given partnerships: all of them; NotFound for one the registry lacks
        (``lacks``), Damaged for one it holds but the index lost."""
        rows = self.records(f"r.id IN ({_marks(pids)})", list(pids))
        missing = sorted(set(pids) - set(rows))
        if missing:
            if not self.lacks(missing[0]):
                raise Damaged("index_records lacks a partnership its names resolve to")
            from partnerctl.core.errors import NotFound
            from partnerctl.core.i18n import _

            raise NotFound(_("no partnership {pid!r}").format(pid=missing[0]))
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


def open_current(path: Path, st: os.stat_result, read: Callable[[], tuple[bytes, os.stat_result]],
                 started: int | None = None, hasher: Callable[[bytes], str | None] = content_hash) -> Index | None:
    """The index of the registry at *path* if it was built for exactly its bytes and is intact, else None.

    *st* is the file's stat now; *read* gives its bytes and their stat, called only when the stat
    alone cannot vouch for them (``Key.settled``). *started*: ``clock()`` before the file was opened.
    A reader passes it, and then records what it verified (a new stat for the same bytes, or that
    they are now settled), so the next command needs no hash; a writer, about to change the file, does not.
    *hasher*: what hashes those bytes (a writer's ``ContentHash``, which the new file's hash then starts from).
    A writer's *hasher* may return None: it hashes the bytes meanwhile, and must compare that hash with the
    index's key before it trusts anything the index said (``store.BlockDraft.stale``).
    """
    def current(con: sqlite3.Connection, db: Path) -> Index | None:
        # One read transaction: the key checked below and every row read later agree.
        meta, counter = _begin(con, db)
        key = _vouch(meta, st, read, started, hasher)
        if key is None or not _intact(con, meta, counter):
            return None
        if started is None or key == _meta_key(meta):
            return Index(con, meta)
        con.execute("COMMIT")
        _rekey(db, meta, key)
        meta, counter = _begin(con, db)
        if (meta.get("check") == _meta_hash(meta) and meta.get("digest") == key.digest
                and meta.get("schema") == schema_version() and _intact(con, meta, counter)):
            return Index(con, meta)
        return None

    return _open(path, current)


def _open(path: Path, take: Callable[[sqlite3.Connection, Path], Index | None]) -> Index | None:
    """The Index *take* makes of the database of the registry at *path*, opened read-only; None when it
    makes none, there is no database, or reading it fails (then the connection is closed)."""
    db = db_path(path)
    if not db.exists():
        return None
    con = None
    try:
        con = _connect_ro(db)
        found = take(con, db)
        if found is not None:
            return found
    except (*FAULTS, OSError):
        pass
    if con is not None:
        con.close()
    return None


def _vouch(meta: dict[str, Any], st: os.stat_result, read: Callable[[], tuple[bytes, os.stat_result]],
           started: int | None, hasher: Callable[[bytes], str | None]) -> Key | None:
    """The key of the file as it is if the index was built for its bytes (None if not): the recorded one when
    its stat vouches for them, else one made from the bytes (*read*) whose hash is the recorded one."""
    if meta.get("schema") != schema_version() or meta.get("check") != _meta_hash(meta):
        return None
    recorded = _meta_key(meta)
    if recorded.settled and stat_key(st) == recorded.stat:
        return recorded
    data, after = read()
    digest = hasher(data)
    if digest is None:
        assert started is None  # a reader records the key it verifies: only a writer checks it later
        return recorded
    key = key_of(data, after, started, digest)
    if key.digest != recorded.digest:
        return None
    return recorded if key.stat == recorded.stat and recorded.settled else key


def _rekey(db: Path, meta: dict[str, Any], key: Key) -> None:
    """Record *key* (the same bytes, verified: a new stat, or now settled) in the index whose meta is *meta*.

    Best effort, and only if nobody changed the index since *meta* was read; the change counter stays
    the fast check only if it was (no other transaction since partnerctl's last).
    """
    with suppress(*FAULTS, OSError), _db_lock(db, 0) as locked:
        if not locked:
            return
        con = sqlite3.connect(db, isolation_level=None, timeout=0)
        try:
            con.execute("PRAGMA synchronous = NORMAL")
            now, counter = _begin(con, db, "BEGIN IMMEDIATE")
            if now != meta:
                con.execute("ROLLBACK")
                return
            now.pop("check")
            now.update(_key_meta(key), counter=_next_counter(counter) if now.get("counter") == counter else None)
            _write_meta(con, now)
            con.execute("COMMIT")
        finally:
            con.close()


def open_stale(path: Path) -> Index | None:
    """The index of the registry at *path* whatever file it was built for, if intact, of this schema, and of a
    canonical file (so its block hashes say which blocks an outside change touched); else None."""
    def stale(con: sqlite3.Connection, db: Path) -> Index | None:
        meta, counter = _begin(con, db)
        if (meta.get("check") == _meta_hash(meta) and meta.get("schema") == schema_version()
                and meta.get("canonical") and _intact(con, meta, counter)):
            return Index(con, meta)
        return None

    return _open(path, stale)


# --- building and keeping up ------------------------------------------------------------------

def _rows_of(snap: Snapshot, pid: str, rec: Mapping[str, Any]
             ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A partnership's rows of index_records, index_names and index_links, each with its hash first."""
    from partnerctl.core import query, search

    text = _stored(rec)
    keys = [query.filter_key(table().get(name), snap.value(rec, name)) for name in key_fields()]
    lists = {s.name for s in table().partnership if s.is_list}
    facts = [json.dumps(rec[k], ensure_ascii=False) if k in lists else rec[k] for k in facts_fields()]
    values = (pid, *keys, len(rec["events"]), search.haystack(rec, snap.themes, snap.networks), *facts,
              _text_hash(text))
    names = [(name, pid, k) for k, name in enumerate(query.names_of(pid, rec))]
    links = [(kind, slug, pid, i) for kind, field in linked_fields() for i, slug in enumerate(rec[field])]
    event_themes = [slug for event in rec["events"] for slug in event["themes"]]
    links += [("event-theme", slug, pid, i) for i, slug in enumerate(event_themes)]
    return ((row_hash(values), *values, text),
            [(row_hash(row), *row) for row in names], [(row_hash(row), *row) for row in links])


def _insert(con: sqlite3.Connection, snap: Snapshot, pid: str, rec: Mapping[str, Any], block_hash: int) -> None:
    _insert_rows(con, [(pid, rec, block_hash)], snap)


def _insert_rows(con: sqlite3.Connection, items: Iterable[tuple[str, Mapping[str, Any], int]],
                 snap: Snapshot, build: bool = False) -> None:
    """Insert the rows of partnerships (id, record, block hash, in id order), in batches.

    A *build* (every partnership, into empty tables) puts each table's rows in in its key's order,
    so SQLite appends to the last page instead of splitting pages: the database comes out packed.
    Records come in id order; the name and link rows, ordered otherwise, go through temporary
    tables that SQLite copies over sorted (its sorter spills to disk: memory stays flat).
    """
    names_table, links_table = ("temp.build_names", "temp.build_links") if build else ("index_names", "index_links")
    if build:
        con.execute(f"CREATE TEMP TABLE build_names AS SELECT h, {', '.join(NAME_COLUMNS)} FROM index_names")
        con.execute(f"CREATE TEMP TABLE build_links AS SELECT h, {', '.join(LINK_COLUMNS)} FROM index_links")
    insert_record = f"INSERT INTO index_records (h, {', '.join(record_columns())}, record) VALUES ({{}})"
    batch = iter(items)
    while chunk := list(islice(batch, 2000)):
        records, names, links = [], [], []
        for pid, rec, _ in chunk:
            record_row, name_rows, link_rows = _rows_of(snap, pid, rec)
            records.append(record_row)
            names += name_rows
            links += link_rows
        con.executemany(insert_record.format(_marks(records[0])), records)
        con.executemany(f"INSERT INTO {names_table} (h, {', '.join(NAME_COLUMNS)}) VALUES (?, ?, ?, ?)", names)
        con.executemany(f"INSERT INTO {links_table} (h, {', '.join(LINK_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", links)
        con.executemany("INSERT INTO index_blocks VALUES (?, ?)", [(pid, h) for pid, _, h in chunk])
    if build:
        for table_name, temp, columns in (("index_names", names_table, NAME_COLUMNS),
                                          ("index_links", links_table, LINK_COLUMNS)):
            con.execute(f"INSERT INTO {table_name} (h, {', '.join(columns)}) "  # noqa: S608 - fixed names
                        f"SELECT h, {', '.join(columns)} FROM {temp} ORDER BY {', '.join(columns)}")
            con.execute(f"DROP TABLE {temp}")


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
    if reg.translations:
        data["translations"] = reg.translations
    return json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True)
class Build:
    """What a new index is filled from: the head, and per partnership in id order (id, record, the hash of
    its block, 0 when the file is not canonical), given as they are made (a build holds a few at a time)."""

    head: Registry
    items: Iterable[tuple[str, Mapping[str, Any], int]]
    head_hash: int
    canonical: bool


def _of_registry(reg: Registry, data: bytes) -> Build:
    """The Build of *reg*, loaded in full from *data*: canonical when *data* is exactly its canonical text."""
    from partnerctl.core.model import record
    from partnerctl.storage import toml

    parts = toml.dump_parts(reg)
    encoded = [text.encode("utf-8") for _, text in parts]
    # Blocks can be rewritten alone only when the file is exactly its canonical text.
    canonical = b"\n".join(encoded) == data
    blocks = {pid: bytes_hash(block) for (pid, _), block in zip(parts[1:], encoded[1:], strict=True)}
    items = ((pid, record(pid, reg.partnerships[pid]), blocks[pid] if canonical else 0)
             for pid in sorted(reg.partnerships))
    return Build(reg, items, bytes_hash(encoded[0]) if canonical else 0, canonical)


def _fill(con: sqlite3.Connection, build: Build, key: Key, counter: int | None, registry: Path | None) -> None:
    _insert_rows(con, build.items, _snapshot(build.head), build=True)
    for statement in ddl_indexes().split(";"):
        if statement.strip():
            con.execute(statement)
    _write_meta(con, {
        "schema": schema_version(), **_key_meta(key), "counter": counter,
        # Whose index it is (``prune``): the registry's real path, as bytes (it may not be UTF-8).
        "path": None if registry is None else os.fsencode(os.path.realpath(registry)),
        "head_hash": build.head_hash if build.canonical else 0, "canonical": int(build.canonical),
        "head": _head_json(build.head), "master": _master_hash(con),
        "checks": json.dumps({name: _aggregate(con, name) for name in _AGGREGATES})})


def _write_meta(con: sqlite3.Connection, meta: dict[str, Any]) -> None:
    """Write *meta* (every entry) with the hash that ``open_current`` checks it by."""
    con.executemany("INSERT OR REPLACE INTO index_meta VALUES (?, ?)",
                    [*meta.items(), ("check", _meta_hash(meta))])


def build_into(con: sqlite3.Connection, reg: Registry | Build, data: bytes, st: os.stat_result,
               started: int | None = None, registry: Path | None = None, digest: str | None = None) -> None:
    """Fill an empty database with the index of *reg*, the validated registry of bytes *data* (or what a
    ``Build`` makes of them, block by block).

    *st* is the file's stat after reading *data*; *started*, ``clock()`` before it was opened;
    *registry*, the file's path (recorded for ``prune``); *digest*, the bytes' ``content_hash`` if known.
    The database is private to the caller (nobody else writes it while it is built).
    """
    build = reg if isinstance(reg, Build) else _of_registry(reg, data)
    # executescript commits first, so the tables come before BEGIN; their indexes come after the rows (_fill).
    con.executescript(ddl_tables())
    db = Path(con.execute("PRAGMA database_list").fetchone()[2])
    counter = _file_counter(db)
    con.execute("BEGIN")
    _fill(con, build, key_of(data, st, started, digest), _next_counter(counter), registry)
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


def prune(folder: Path) -> None:
    """Remove the indexes in *folder* of registries that no longer exist (deleted, or moved away).

    Run whenever an index is built. Each index records its registry's real path; one whose path
    names no file any more goes, with its lock file. An index that records no path (built by
    another version) or that cannot be read is left to the version that built it.
    """
    for db in folder.glob("*.sqlite"):
        try:
            # No waiting: an index being written is in use, so its registry exists.
            con = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, isolation_level=None, timeout=0)
            try:
                row = con.execute("SELECT value FROM index_meta WHERE key = 'path'").fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            continue
        if row is None or not isinstance(row[0], bytes) or os.path.lexists(os.fsdecode(row[0])):
            continue
        with suppress(OSError), _db_lock(db, 0) as locked:
            if locked:
                # The lock file last, while held. Only a command on that very (missing) registry
                # could be waiting on it; at worst it loses its index, which is rebuilt.
                for stale in (db.with_name(db.name + "-journal"), db, db.with_name(db.name + ".lock")):
                    with suppress(FileNotFoundError):
                        os.unlink(stale)


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


def save(path: Path, reg: Registry | Build, data: bytes, st: os.stat_result, started: int | None = None,
         digest: str | None = None) -> bool:
    """Build the index of *reg* (loaded from *data*, or a ``Build`` of it) and put it in place; False if it
    could not be. *st*, *started* and *digest* as for ``build_into``. What a ``Build`` raises while it is read (a
    block found invalid) is raised, and nothing is put in place.

    Built in a temporary file and renamed over the old index, so a reader sees
    the old or the new database, never a part of one. Best effort: a cache
    that cannot be written only costs speed.
    """
    db = db_path(path)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        sweep(db.parent)
        prune(db.parent)
        with _temp_db(db) as tmp:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                # Private until renamed: no journal needed; a crash leaves only a temp file.
                con.execute("PRAGMA journal_mode = OFF")
                con.execute("PRAGMA synchronous = OFF")
                build_into(con, reg, data, st, started, path, digest)
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

    Applied only if the index is still the one for the file as it was (*old*: its content hash);
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
                meta, counter = _begin(con, db, "BEGIN IMMEDIATE")
                if not _apply(con, meta, counter, old, new, update):
                    con.execute("ROLLBACK")
                    return False
                con.execute("COMMIT")
            finally:
                con.close()
        return True
    except (*FAULTS, OSError):
        return False


def _apply(con: sqlite3.Connection, meta: dict[str, Any], counter: int | None, old: Key, new: Key,
           update: Update) -> bool:
    if (meta.get("check") != _meta_hash(meta) or meta.get("schema") != schema_version()
            or not meta.get("canonical") or meta.get("digest") != old.digest):
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
    # The change counter stays the fast check at open only if nobody else changed the database since
    # partnerctl last did (see _intact).
    meta.update(_key_meta(new), counter=_next_counter(counter) if meta.get("counter") == counter else None,
                head_hash=update.head_hash, head=_head_json(update.head), checks=json.dumps(checks))
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
    return inputs_key([Path(model.__file__), Path(fields.__file__), Path(spec.origin).parent / "version.py"],
                      f"{pydantic_core.__version__}|{sys.version}")


def inputs_key(inputs: Sequence[Path], extra: str = "") -> str | None:
    """The hash that names what a run keeps in the cache folder built from these files (and *extra*): any
    change to one of them is another name, so a miss; None when one cannot be read."""
    h = blake2b(digest_size=16)
    for path in inputs:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        h.update(f"{path.name}\0{len(data)}\0".encode())
        h.update(data)
    h.update(extra.encode())
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
    """Make the model's validators ready (for a write, a catch-up or a full read), from the schemas kept by an
    earlier run when they fit.

    A miss (no cache folder, no file, another key, a file that does not load or
    that pydantic refuses) builds them from the model and keeps them for next time.
    """
    from partnerctl.core import model

    if model.ready():
        return
    # PARTNERCTL_NO_INDEX=1 writes no cache at all (tests/test_index.py): the schemas are built each time.
    folder = cache_dir() if enabled() else None
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
