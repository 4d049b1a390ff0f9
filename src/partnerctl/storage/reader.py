"""The one read API: ``open_registry(path)`` and what the read commands ask of it.

Every read opens the registry here: ``show``, ``list``, ``timeline``,
``themes``, ``networks``, ``stats``, ``search``, completion, and also
``export``, ``edit``, ``remove``'s question and ``validate``. The answers come
from the index when it is current and intact (``index.open_current``), else
from a full validated load of the file, which also rebuilds the index for the
next read. Whatever the source, the question is answered by the core
(query.py, search.py, stats.py, completion.py) on plain records (``model.record``);
the index only chooses which records to hand over (those whose names start
with what was typed, those passing the filters' indexed columns, those with
events, those whose folded text holds the search text), always a superset of
what the question can concern, so a rule is written once. An index found
damaged while answering is dropped and the file answers instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, overload

from partnerctl.core import query
from partnerctl.core.i18n import _
from partnerctl.core.model import table
from partnerctl.core.query import Record, Snapshot

if TYPE_CHECKING:
    from partnerctl.core.errors import Problem
    from partnerctl.core.model import Registry
    from partnerctl.core.search import Hit
    from partnerctl.core.stats import Count
    from partnerctl.storage.index import Index

Records = dict[str, Record]
Tallies = tuple[int, dict[str, list[tuple[Any, int, str]]]]


class Source(Protocol):
    """Where a Reader's records come from; each method may return more than asked, never less."""

    def named(self, key: str) -> Records: ...  # every partnership with a name starting with key (facts)
    def everyone(self) -> Records: ...  # every partnership (facts at least)
    def filtered(self, want: query.Wanted) -> Records: ...  # records that can pass the filters
    def counted(self, want: query.Wanted) -> Records: ...  # as filtered; facts are enough
    # How many pass want, and per dimension (value, count, least id) rows; None: count the records instead.
    def tallied(self, want: query.Wanted, dimensions: Sequence[str]) -> Tallies | None: ...
    def used(self, kind: str) -> dict[str, int] | None: ...  # {slug: users}; None: count the records instead
    def containing(self, needle: str) -> Records: ...  # records search could find needle in
    def with_events(self) -> Records: ...
    def with_links(self, kind: str) -> Records: ...  # facts at least
    def records_of(self, pids: Sequence[str]) -> Records: ...  # NotFound: one that the registry lacks
    def name_owners(self, key: str) -> set[str]: ...
    def near(self, key: str) -> dict[str, str]: ...  # {folded name: greatest id} the hint may offer
    def distinct(self, name: str, limit: int) -> int: ...  # keys of a keyed field (query.filter_key)


class _Loaded:
    """Every record of a fully loaded registry: each question gets all of them."""

    def __init__(self, reg: Registry) -> None:
        from partnerctl.core.model import record

        self.reg = reg
        self.all: Records = {pid: record(pid, reg.partnerships[pid]) for pid in sorted(reg.partnerships)}

    def named(self, key: str) -> Records:
        return self.all

    def everyone(self) -> Records:
        return self.all

    def filtered(self, want: query.Wanted) -> Records:
        return self.all

    def counted(self, want: query.Wanted) -> Records:
        return self.all

    def tallied(self, want: query.Wanted, dimensions: Sequence[str]) -> Tallies | None:
        return None

    def used(self, kind: str) -> dict[str, int] | None:
        return None

    def containing(self, needle: str) -> Records:
        return self.all

    def with_events(self) -> Records:
        return self.all

    def with_links(self, kind: str) -> Records:
        return self.all

    def records_of(self, pids: Sequence[str]) -> Records:
        return self.all

    def name_owners(self, key: str) -> set[str]:
        return {pid for pid, rec in self.all.items() if key in query.names_of(pid, rec)}

    def near(self, key: str) -> dict[str, str]:
        return {n: pid for pid, rec in self.all.items() for n in query.names_of(pid, rec)}

    def distinct(self, name: str, limit: int) -> int:
        snap = query.snapshot(self.reg, {})
        spec = table().get(name)
        return min(limit, len({query.filter_key(spec, snap.value(rec, name)) for rec in self.all.values()}))


class _Indexed:
    """Records from the index, narrowed by its SQL to what a question can concern."""

    def __init__(self, idx: Index) -> None:
        self.idx = idx

    def named(self, key: str) -> Records:
        return dict(self.idx.named(key))

    def everyone(self) -> Records:
        return dict(self.idx.facts())

    def filtered(self, want: query.Wanted) -> Records:
        return dict(self.idx.records(*self.idx.narrowing(want)))

    def counted(self, want: query.Wanted) -> Records:
        return dict(self.idx.facts(*self.idx.narrowing(want)))

    def tallied(self, want: query.Wanted, dimensions: Sequence[str]) -> Tallies | None:
        return self.idx.tallied(want, dimensions)

    def used(self, kind: str) -> dict[str, int] | None:
        return self.idx.usage(kind)

    def containing(self, needle: str) -> Records:
        return dict(self.idx.containing(needle))

    def with_events(self) -> Records:
        return dict(self.idx.with_events())

    def with_links(self, kind: str) -> Records:
        return dict(self.idx.facts(*self.idx.linked(kind, None)))

    def records_of(self, pids: Sequence[str]) -> Records:
        return dict(self.idx.records_of(pids))

    def name_owners(self, key: str) -> set[str]:
        return self.idx.name_owners(key)

    def near(self, key: str) -> dict[str, str]:
        return self.idx.near(key)

    def distinct(self, name: str, limit: int) -> int:
        return self.idx.distinct(name, limit)


class _Guarded:
    """The index's answers until it turns out damaged; from then on the file's, loaded in full by *load*."""

    def __init__(self, indexed: _Indexed, load: Callable[[], Registry]) -> None:
        self._indexed = indexed
        self._load = load
        self._loaded: _Loaded | None = None

    def source(self) -> _Indexed | _Loaded:
        """Where the answers come from now."""
        return self._loaded if self._loaded is not None else self._indexed

    def fall_back(self) -> _Loaded:
        """Drop the (damaged) index: from now on the file answers."""
        if self._loaded is None:
            self._indexed.idx.close()
            self._loaded = _Loaded(self._load())
        return self._loaded

    def ask(self, question: str, *args: Any) -> Any:
        from partnerctl.storage import index

        if self._loaded is None:
            try:
                return getattr(self._indexed, question)(*args)
            except index.FAULTS:
                self.fall_back()
        return getattr(self._loaded, question)(*args)


class Selected(Sequence[Record]):
    """Records in a given order, read a chunk at a time as they are gone through: only their ids are held,
    and with each id the hash its record is checked by (a 64-bit integer in an array: 8 bytes each).

    A slice is another ``Selected``; ``len`` needs no read. *fetch* gives the
    records of a list of ids, in that order, given their records' hashes.
    """

    CHUNK = 500

    def __init__(self, ids: Sequence[str], hashes: Sequence[int],
                 fetch: Callable[[list[str], Sequence[int]], list[Record]]) -> None:
        self.ids = ids
        self.hashes = hashes
        self._fetch = fetch

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, at: int) -> Record: ...
    @overload
    def __getitem__(self, at: slice) -> Selected: ...

    def __getitem__(self, at: int | slice) -> Record | Selected:
        if isinstance(at, slice):
            return Selected(self.ids[at], self.hashes[at], self._fetch)
        return self._fetch([self.ids[at]], [self.hashes[at]])[0]

    def __iter__(self) -> Iterator[Record]:
        for start in range(0, len(self.ids), self.CHUNK):
            stop = start + self.CHUNK
            yield from self._fetch(list(self.ids[start:stop]), self.hashes[start:stop])


class Reader:
    """A registry as the read commands see it; every answer is computed by the core on records."""

    def __init__(self, path: Path, head: Registry, guarded: _Guarded | None, loaded: _Loaded | None) -> None:
        self.path = path
        # The head alone (owner, vocabularies, country aliases): its partnerships are not in it.
        self.head = head
        self.owner = head.registry.owner
        self.country = head.registry.country
        self.themes = head.themes
        self.networks = head.networks
        self.translations: dict[Any, Any] = head.translations
        self._guarded = guarded
        self._loaded = loaded
        # The values in use of the free-text dimensions (countries, regions), once asked for.
        self._values: dict[str, list[Count]] | None = None

    def _ask(self, question: str, *args: Any) -> Any:
        if self._guarded is not None:
            return self._guarded.ask(question, *args)
        return getattr(self._loaded, question)(*args)

    def snapshot(self, records: Records) -> Snapshot:
        """The head with *records*: what the core's questions are asked of."""
        from partnerctl.storage import kept

        kept.keep_country_names()  # a snapshot is what shows countries by name
        return query.snapshot(self.head, records)

    def many_owners(self) -> bool:
        """Whether the partnerships have more than one owner (the registry's own counting as one): then
        ``list`` shows the owner's columns and ``stats`` counts by owner too."""
        owner = next(s.name for s in table().partnership if s.meta.inherit == "owner")
        return self._ask("distinct", owner, 2) > 1  # type: ignore[no-any-return]

    def duplicates(self) -> list[Any]:
        """``duplicates.find``: pairs of partnerships that are (or may be) one relation."""
        from partnerctl.core import duplicates

        return duplicates.find(self.snapshot(self._ask("everyone")))

    @property
    def indexed(self) -> bool:
        """Whether the answers come from the index (for messages and tests)."""
        return self._guarded is not None and isinstance(self._guarded.source(), _Indexed)

    def resolve(self, text: str) -> str:
        """``query.resolve``: the id *text* names (NotFound / Ambiguous otherwise)."""
        key = query.name_key(text)
        found = self._ask("named", key)
        if found:
            return query.resolve(self.snapshot(found), text)
        # No name starts with the text: weigh the names that may be close to it (all of them from a loaded
        # file; from the index, those its SQL finds may be), then read the records of those offered.
        close = query.suggest(key, self._ask("near", key))
        raise query.not_found(self.snapshot(self._ask("records_of", sorted(close)) if close else {}), text, close)

    def record(self, pid: str) -> Record:
        """The JSON record of partnership *pid* (``model.record``); NotFound when the registry lacks it
        (said by a current index without loading the file)."""
        from partnerctl.core.errors import NotFound

        found: Records = self._ask("records_of", [pid])
        if pid not in found:
            raise NotFound(_("no partnership {pid!r}").format(pid=pid))
        return found[pid]

    def name_owners(self, key: str) -> set[str]:
        """Ids of the partnerships one of whose folded names is exactly *key*."""
        return self._ask("name_owners", key)  # type: ignore[no-any-return]

    def select(self, filters: query.Filters, sort: str = "id") -> Sequence[Record]:
        """``query.select``: the records that pass *filters*, in *sort* order.

        From the index: their ids in order (``_selected``: the rows SQL narrows to,
        streamed, each checked against its hash), and the records read a chunk at a
        time as the caller goes through them (``Selected``), so that ``list`` of every
        partnership holds ids, not records. From a loaded file: its records.
        """
        from partnerctl.storage import index

        head = self.snapshot({})
        want = query.wanted(head, filters)
        source = self._guarded.source() if self._guarded is not None else None
        if isinstance(source, _Indexed):
            try:
                ids, hashes = self._selected(source.idx, head, want, sort)
            except index.FAULTS:
                pass
            else:
                return Selected(ids, hashes, self._checked)
        snap = self.snapshot(self._ask("filtered", want))
        return [snap.partnerships[pid] for pid in query.select(snap, filters, sort)]

    @staticmethod
    def _selected(idx: Index, head: Snapshot, want: query.Wanted, sort: str) -> tuple[list[str], Sequence[int]]:
        """The ids ``select`` keeps from the index, in *sort* order, and the hash of each one's record, read
        with its row when the row's own hash was checked (``Index.each_facts``): the record is then read
        alone and checked against it (``Index.checked_records``), so a row is hashed once per read."""
        from array import array
        from bisect import bisect_left
        from itertools import pairwise

        from partnerctl.storage import index

        where, params = idx.narrowing(want)
        hashes = array("q")
        # Where the SQL keeps exactly what the filters keep (``Index.exact``), query.keeps is not run again:
        # each row's verified columns are checked against what the SQL asked (``Index.admitting``).
        exact = idx.exact(want)
        admits = idx.admitting(want) if exact else None
        if exact and sort == "id":
            # Only the ids, in the SQL's order: SQLite orders text as UTF-8 bytes, which is code point
            # order, Python's (query.selected sorts them the same); checked as they come.
            ids: list[str] = []
            for pid, _facts, record_hash in idx.each_facts(where, params, lists=False, facts=False, admits=admits):
                if ids and pid <= ids[-1]:
                    raise index.Damaged("index_records did not come in id order")
                ids.append(pid)
                hashes.append(record_hash)
            return ids, hashes
        # The rows' ids in id order and their hashes beside them (a list and an array, not a dict: a
        # tenth of the memory); each id kept is then found there by bisection.
        order: list[str] = []
        read = array("q")

        def rows() -> Iterator[tuple[str, Record]]:
            for pid, facts, record_hash in idx.each_facts(where, params, lists=not exact, admits=admits):
                order.append(pid)
                read.append(record_hash)
                yield pid, facts

        ids = query.selected(head, want, rows(), sort, passed=exact)
        if any(a >= b for a, b in pairwise(order)):
            raise index.Damaged("index_records did not come in id order")
        hashes.extend(read[bisect_left(order, pid)] for pid in ids)
        return ids, hashes

    def _checked(self, pids: list[str], hashes: Sequence[int]) -> list[Record]:
        """The records of *pids* in that order: from the index, each checked against its record's hash
        in *hashes* (``Index.checked_records``); from the file once the index turned out damaged."""
        from partnerctl.storage import index

        assert self._guarded is not None
        source = self._guarded.source()
        if isinstance(source, _Indexed):
            try:
                return [*source.idx.checked_records(pids, hashes)]
            except index.FAULTS:
                self._guarded.fall_back()
        found = self._ask("records_of", pids)
        return [found[pid] for pid in pids]

    def counts(self, filters: query.Filters, dimensions: Sequence[str]) -> tuple[int, dict[str, list[Count]]]:
        """``stats.counts`` of the partnerships ``query.select`` keeps, and how many those are."""
        from partnerctl.core import stats

        want = query.wanted(self.snapshot({}), filters)
        asked = stats.check_dimensions(dimensions)
        # Counted by the index's SQL when it can count exactly; else by the core on the records.
        tallies: Tallies | None = self._ask("tallied", want, asked)
        if tallies is not None:
            head = self.snapshot({})
            return tallies[0], {by: stats.tallied(head, by, tallies[1][by], tallies[0]) for by in asked}
        snap = self.snapshot(self._ask("counted", want))
        pids = query.select(snap, filters)
        return len(pids), stats.counts(snap, pids, asked)

    def search(self, text: str) -> list[tuple[Record, Hit]]:
        """``search.search``: (partnership record, hit) for every field that holds *text*."""
        from partnerctl.core import search

        snap = self.snapshot(self._ask("containing", search.needle(text)))
        return [(snap.partnerships[hit.partner], hit) for hit in search.search(snap, text)]

    def complete_partners(self, prefix: str) -> list[tuple[str, str]]:
        """``completion.partners``: ids starting with *prefix*, with their city."""
        from partnerctl.core import completion
        from partnerctl.core.names import fold

        # An id is a slug, its own folded name: one that starts with prefix has a name starting with it folded.
        return completion.partners(self.snapshot(self._ask("named", fold(prefix))), prefix)

    def complete_events(self, partner: str | None, prefix: str) -> list[tuple[str, str]]:
        """``completion.events``: event ids starting with *prefix*, of *partner* when it names one."""
        from partnerctl.core import completion

        pid = self.resolve(partner) if partner else None
        records = self._ask("records_of", [pid]) if pid else self._ask("with_events")
        return completion.events(self.snapshot(records), pid, prefix)

    def complete_field(self, model: str, name: str) -> list[tuple[str, str]]:
        """``completion.field``: what a prompt for field *name* of *model* offers (with the values in use of a
        ``stats`` dimension counted over every partnership, such as the countries)."""
        from partnerctl.core import completion
        from partnerctl.core.model import table

        spec = table().get(name, model)
        used: Sequence[Count] = []
        if model == "partnership" and not spec.meta.vocab and not spec.choices:
            if self._values is None:
                # Every such dimension in one pass over the partnerships (a prompt asks for several).
                free = [by for by, dim in table().dimensions().items()
                        if dim.meta.stat == "value" and not dim.meta.vocab and not dim.choices]
                self._values = {table().dimensions()[by].name: found
                                for by, found in self.counts(query.Filters(), free)[1].items()}
            used = self._values.get(name, [])
        return completion.field(spec, self.snapshot({}), used)

    def timeline(self, pids: Sequence[str] | None, since: int | None, until: int | None,
                 themes: Sequence[str]) -> list[tuple[Record, Record]]:
        """``query.timeline``: (partnership record, event record) in date order."""
        records = self._ask("records_of", pids) if pids is not None else self._ask("with_events")
        snap = self.snapshot(records)
        return [(snap.partnerships[pid], event)
                for pid, event in query.timeline(snap, pids, since, until, themes)]

    def dated(self, pids: Sequence[str] | None = None) -> Records:
        """Records with what anniversaries read: every partnership's first year, and the events of
        those that have some (of *pids* only, when given)."""
        if pids is not None:
            # A loaded registry answers with every record: keep the named ones.
            found = self._ask("records_of", pids)
            return {pid: found[pid] for pid in pids}
        return {**self._ask("everyone"), **self._ask("with_events")}

    def anniversaries(self, year: int, every: int, pids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """``anniversaries.anniversaries`` of every (or the named) partnership in *year*."""
        from partnerctl.core import anniversaries

        return anniversaries.anniversaries(self.dated(pids), year, every)

    def usage(self, kind: str) -> list[tuple[str, str, int]]:
        """``query.usage``: (slug, label, partnerships using it) of a vocabulary."""
        if not table().get(query.vocabulary_field(kind)).is_list:
            # A one-value field (a region) has no link rows: it may hold its value by default, too.
            return query.usage(self.snapshot(self._ask("everyone")), kind)
        used: dict[str, int] | None = self._ask("used", kind)
        if used is not None:
            return query.usage_of(self.snapshot({}).vocabulary(kind), used)
        return query.usage(self.snapshot(self._ask("with_links", kind)), kind)

    def each_record(self) -> Iterator[tuple[str, Record]]:
        """(id, record) of every partnership in id order, one at a time: what a streamed export writes.

        From the index, whose rows are all checked first (a pass that keeps
        nothing), so that nothing is written from a damaged index: it then falls
        back to the file, as every read does. From a loaded file, its records.
        """
        from partnerctl.storage import index

        source = self._loaded if self._loaded is not None else self._guarded.source() if self._guarded else None
        if isinstance(source, _Indexed):
            try:
                for _ in source.idx.each_record():
                    pass
            except index.FAULTS:
                assert self._guarded is not None
                source = self._guarded.fall_back()
            else:
                yield from source.idx.each_record()
                return
        assert source is not None
        yield from source.all.items()  # already in id order

    def registry(self) -> Registry:
        """The whole registry as models (``export``, ``edit``): from the verified index, else the file."""
        if self._loaded is not None:
            return self._loaded.reg
        assert self._guarded is not None
        source = self._guarded.source()
        if isinstance(source, _Loaded):
            return source.reg
        from dataclasses import replace

        from partnerctl.core.model import partnership_of
        from partnerctl.storage import index

        try:
            records = source.idx.records()
        except index.FAULTS:
            return self._guarded.fall_back().reg
        return replace(self.head, partnerships={pid: partnership_of(rec) for pid, rec in records.items()})

    def close(self) -> None:
        """End the index's read transaction, if one is open."""
        if self._guarded is not None:
            source = self._guarded.source()
            if isinstance(source, _Indexed):
                source.idx.close()


class _File:
    """The registry file opened once: its stat at once, its bytes only when something needs them."""

    def __init__(self, path: Path) -> None:
        from partnerctl.storage import index
        from partnerctl.storage.location import open_file

        self.path = path
        # Before opening: what the index's key compares the file's last change with (index.key_of).
        self.started = index.clock()
        self._f = open_file(path)
        try:
            self.st = os.fstat(self._f.fileno())
        except OSError:
            self._f.close()
            raise
        self._read: tuple[bytes, os.stat_result] | None = None

    def read(self) -> tuple[bytes, os.stat_result]:
        """The file's bytes, and its stat after reading them (read once)."""
        from partnerctl.storage.location import read_open

        if self._read is None:
            with self._f:
                self._read = read_open(self._f, self.path)
        return self._read

    def close(self) -> None:
        self._f.close()

    def current_index(self) -> Index | None:
        """The index, when it was built for the file's bytes (``index.open_current``); the file is closed then."""
        from partnerctl.storage import index

        if not index.enabled():
            return None
        idx = index.open_current(self.path, self.st, self.read, self.started)
        if idx is not None:
            self.close()
        return idx

    def load(self) -> Registry:
        """The registry in the file, validated; indexed again when the index is on."""
        data, st = self.read()
        return _load(self.path, data, st, self.started)


def open_registry(path: Path) -> Reader:
    """The registry at *path* for reading: from its index when current and intact, else loaded (and indexed).

    An index left behind by a change made outside partnerctl catches up block by block (``catch_up``).
    """
    from partnerctl.storage import index

    f = _File(path)
    idx = f.current_index()
    if idx is None and index.enabled():
        data, st = f.read()
        # An index left behind by an outside change catches up; none (or one that cannot) is built again
        # a block at a time; a file that is not canonical, or not valid, is loaded whole below.
        if catch_up(path, data, st, f.started) or build_by_blocks(path, data, st, f.started):
            idx = f.current_index()
    if idx is not None:
        guarded = _Guarded(_Indexed(idx), lambda: _reload(path))
        return Reader(path, idx.registry_head(), guarded, None)
    reg = f.load()
    from dataclasses import replace

    return Reader(path, replace(reg, partnerships={}), None, _Loaded(reg))


def problems(path: Path) -> list[Problem]:
    """Every problem of the registry at *path* (``validate``): none when its index is current (it was valid).

    A conflict report a merge left beside it (``<registry>.conflicts.json``) is a problem until it is removed.
    """
    from partnerctl.core.errors import Problem
    from partnerctl.storage import history, store

    conflicts = [Problem(str(history.conflicts_path(path)), _("merge conflict: {line}").format(line=line))
                 for line in history.read_conflicts(path) or []]
    f = _File(path)
    idx = f.current_index()
    if idx is not None:
        idx.close()
        return conflicts
    data = f.read()[0]
    return conflicts + store.check_text(store.decode(data, path), str(path))[1]


class _NotCanonical(Exception):
    """The file is not cut into canonical blocks: the whole file must decide."""


def _head_end(data: bytes) -> int:
    """Where the head of the file ends: before the line that starts the first block (the file's end if none)."""
    start = data.find(b"\n[partnerships.")
    return start if start >= 0 else len(data)


def _blocks(data: bytes, head_end: int) -> Iterator[tuple[str, bytes]]:
    """(id, block bytes) of each partnership of a canonical file after its head, in order: each block
    starts at a header line, after one blank line; _NotCanonical when the file is not so cut or the ids
    are not in order."""
    at, last = head_end + 1, None
    while at < len(data):
        nxt = data.find(b"\n\n[partnerships.", at)
        stop = len(data) if nxt < 0 else nxt + 1
        block = data[at:stop]
        line = block[:block.find(b"\n")]
        if not (line.startswith(b"[partnerships.") and line.endswith(b"]")):
            raise _NotCanonical
        pid = line[len(b"[partnerships."):-1].decode("utf-8", "replace")
        if last is not None and pid <= last:
            raise _NotCanonical  # not in id order
        yield pid, block
        last, at = pid, stop + 1


def _block_record(pid: str, block: bytes, head: Registry) -> Record:
    """The record of partnership *pid* from its block alone, validated against *head*'s vocabularies;
    InvalidInput (or UnicodeDecodeError) when it is not valid, _NotCanonical when not in canonical form."""
    from partnerctl.core.model import record, vocabularies
    from partnerctl.storage import toml as tomlfile

    text = block.decode("utf-8")
    p = tomlfile.parse_block(pid, text, vocabularies(head), head.registry.owner is not None)
    if tomlfile.dump_block(pid, p) != text:
        raise _NotCanonical
    return record(pid, p)


def _canonical_head(data: bytes, head_end: int) -> Registry:
    """The head of the file, valid; _NotCanonical unless it is, and its text is the canonical one."""
    from partnerctl.core.model import Registry, check_references, validate
    from partnerctl.storage import toml as tomlfile

    try:
        parsed = tomlfile.loads(data[:head_end].decode("utf-8"))
        head = validate(Registry, parsed)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _NotCanonical from None
    # The head's own rules (its country aliases); the full load says what is wrong.
    if check_references(parsed) or tomlfile.dump_head(head).encode("utf-8") != data[:head_end]:
        raise _NotCanonical
    return head


def build_by_blocks(path: Path, data: bytes, st: os.stat_result, started: int | None = None) -> bool:
    """Index the registry of bytes *data* read from *path* a block at a time, without loading it whole (its
    memory does not grow with the file); False when it cannot (the whole file must then be loaded).

    For a canonical file: its head is validated, then each block alone (as ``catch_up`` does), which is
    what a full load checks too (every rule of the registry is one partnership's, against the head). A
    block found invalid, or not canonical, stops the build with nothing put in place.
    """
    from dataclasses import replace

    from partnerctl.core.errors import InvalidInput
    from partnerctl.storage import index
    from partnerctl.storage import toml as tomlfile

    index.prepare_validators()

    try:
        head_end = _head_end(data)
        head = _canonical_head(data, head_end)
        items = ((pid, _block_record(pid, block, head), tomlfile.bytes_hash(block))
                 for pid, block in _blocks(data, head_end))
        build = index.Build(replace(head, partnerships={}), items, tomlfile.bytes_hash(data[:head_end]), True)
        return index.save(path, build, data, st, started)
    except (_NotCanonical, InvalidInput, UnicodeDecodeError):
        return False


def catch_up(path: Path, data: bytes, st: os.stat_result, started: int | None = None) -> bool:
    """Bring a stale index up to date with a change made outside partnerctl (a pull, a checkout, a hand edit),
    re-reading only the blocks that changed; False when the whole file must decide (then nothing is changed).

    Only for a canonical file whose head is the one the index recorded: the file is
    cut where canonical blocks start; a block whose hash is the recorded one is
    unchanged; every other block must parse alone to exactly its partnership, be
    valid against the (unchanged) vocabularies and be canonical; ids must be in order.
    *st*: the file's stat after reading *data*; *started*: ``index.clock()`` before it was opened (the new key).
    """
    from dataclasses import replace

    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.model import Registry, validate
    from partnerctl.storage import index
    from partnerctl.storage import toml as tomlfile

    index.prepare_validators()  # a changed block is validated: from the kept schemas, not pydantic's generator

    idx = index.open_stale(path)
    if idx is None:
        return False
    try:
        head_end = _head_end(data)
        if tomlfile.bytes_hash(data[:head_end]) != idx.head_hash:
            return False
        recorded = idx.block_hashes()
        head = validate(Registry, tomlfile.loads(data[:head_end].decode("utf-8")))
        old_key = idx.key
    except (*index.FAULTS, ValueError, UnicodeDecodeError, RecursionError):
        return False
    finally:
        idx.close()
    records: dict[str, Any] = {}
    hashes: dict[str, int] = {}
    seen: set[str] = set()
    try:
        for pid, block in _blocks(data, head_end):
            seen.add(pid)
            digest = tomlfile.bytes_hash(block)
            if recorded.get(pid) != digest:
                records[pid], hashes[pid] = _block_record(pid, block, head), digest
    except (_NotCanonical, InvalidInput, UnicodeDecodeError):
        return False  # invalid: the whole file decides, and says where
    records.update({pid: None for pid in recorded if pid not in seen})
    if not records:
        return False
    update = index.Update(replace(head, partnerships={}),
                          tomlfile.bytes_hash(data[:head_end]), records, hashes)
    return index.apply(path, old_key, index.key_of(data, st, started), update)


def known_canonical(path: Path) -> bool:
    """Whether the index is current for the registry at *path* and knows it in canonical form
    (``fmt --check`` then needs no parse and no dump); False when it does not know."""
    f = _File(path)
    try:
        idx = f.current_index()
    finally:
        f.close()
    if idx is None:
        return False
    try:
        return idx.canonical
    finally:
        idx.close()


def _reload(path: Path) -> Registry:
    """The registry at *path* read again and loaded in full: the index turned out damaged while answering."""
    return _File(path).load()


def _load(path: Path, data: bytes, st: os.stat_result, started: int | None = None) -> Registry:
    """The registry of bytes *data* read from *path*, validated; indexed again when the index is on."""
    from partnerctl.storage import index, store

    reg = store.parse_valid(store.decode(data, path), str(path))
    if index.enabled():
        index.save(path, reg, data, st, started)
    return reg
