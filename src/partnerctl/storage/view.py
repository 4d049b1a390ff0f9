"""What the read commands ask of a registry, answered by query.py on plain records.

``show``, ``list``, ``timeline``, ``themes``, ``networks``, ``stats``,
``search`` and shell completion read through a View. Its records are the JSON
records of ``model.record`` (a dict per partnership, with attribute access so
query.py's functions read them as they read the model). They come from the
index when it is current, else from a full validated load, which also rebuilds
the index for the next read.

Whatever the source, query.py (and search.py, stats.py, completion.py) decides:
the index only chooses which records to hand over (those whose names start
with what was typed, those passing the filters' indexed columns, those with
events, those whose folded text holds the search text), always a superset of
what the question can concern, so a filter, search or resolution rule is
written once.

The index hands over only rows it has verified (see partnerctl.index). The
first time it turns out damaged, the View answers that question and every
later one from the file it was checked against, loaded in full, and rebuilds
the index: never a wrong answer, never a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from partnerctl.core import query

if TYPE_CHECKING:
    from partnerctl.storage.index import Index
    from partnerctl.core.model import Registry
    from partnerctl.core.search import Hit
    from partnerctl.core.stats import Count


class Rec(dict):  # type: ignore[type-arg]
    """A JSON record whose keys also read as attributes (``rec.city``), like the model's fields."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# One decoder for every record: json.loads with an object_hook builds a new decoder per call.
_decode = json.JSONDecoder(object_hook=Rec).decode


def _loads(text: str) -> Rec:
    return _decode(text)  # type: ignore[no-any-return]


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Rec((k, _wrap(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


@dataclass
class Light:
    """The parts of ``model.Registry`` that query.py reads, over records."""

    registry: Rec
    themes: dict[str, str]
    networks: dict[str, str]
    partnerships: dict[str, Rec]


class Source(Protocol):
    """Where a View's records come from; each method may return more than asked, never less."""

    # named, everyone, counted and with_links: the records may hold only their index.FACTS fields.
    def named(self, key: str) -> dict[str, Rec]: ...  # every partnership with a name starting with key
    def everyone(self) -> dict[str, Rec]: ...  # every partnership
    def filtered(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                 network_sets: Sequence[set[str]]) -> dict[str, Rec]: ...
    # As filtered, for query.select and stats.
    def counted(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                network_sets: Sequence[set[str]]) -> dict[str, Rec]: ...
    def containing(self, needle: str) -> dict[str, Rec]: ...  # every partnership search could find needle in
    def with_events(self) -> dict[str, Rec]: ...
    def with_links(self, kind: str) -> dict[str, Rec]: ...
    def records_of(self, pids: Sequence[str]) -> dict[str, Rec]: ...


class _Loaded:
    """Every record of a fully loaded registry: each question gets all of them."""

    def __init__(self, records: dict[str, Rec]) -> None:
        self.all = records

    def named(self, key: str) -> dict[str, Rec]:
        return self.all

    def everyone(self) -> dict[str, Rec]:
        return self.all

    def filtered(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                 network_sets: Sequence[set[str]]) -> dict[str, Rec]:
        return self.all

    def counted(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                network_sets: Sequence[set[str]]) -> dict[str, Rec]:
        return self.all

    def containing(self, needle: str) -> dict[str, Rec]:
        return self.all

    def with_events(self) -> dict[str, Rec]:
        return self.all

    def with_links(self, kind: str) -> dict[str, Rec]:
        return self.all

    def records_of(self, pids: Sequence[str]) -> dict[str, Rec]:
        return self.all


class _Indexed:
    """Records from the index, narrowed by its SQL to what a question can concern, each row verified.

    Raises what ``index.FAULTS`` lists when the index turns out damaged.
    """

    def __init__(self, idx: Index) -> None:
        self.idx = idx

    @staticmethod
    def _records(rows: list[tuple[str, str]]) -> dict[str, Rec]:
        return {pid: _loads(text) for pid, text in rows}

    def named(self, key: str) -> dict[str, Rec]:
        return dict(self.idx.named(key, Rec))

    def everyone(self) -> dict[str, Rec]:
        return dict(self.idx.facts(make=Rec))

    def filtered(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                 network_sets: Sequence[set[str]]) -> dict[str, Rec]:
        return self._records(self.idx.filtered(filters, theme_sets, network_sets))

    def counted(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                network_sets: Sequence[set[str]]) -> dict[str, Rec]:
        return dict(self.idx.counted(filters, theme_sets, network_sets, Rec))

    def containing(self, needle: str) -> dict[str, Rec]:
        return self._records(self.idx.containing(needle))

    def with_events(self) -> dict[str, Rec]:
        return self._records(self.idx.with_events())

    def with_links(self, kind: str) -> dict[str, Rec]:
        return dict(self.idx.with_links(kind, Rec))

    def records_of(self, pids: Sequence[str]) -> dict[str, Rec]:
        return self._records(self.idx.records_of(pids))


class _Guarded:
    """The index's answers until it turns out damaged; from then on the file's, loaded in full by *load*."""

    def __init__(self, indexed: _Indexed, load: Callable[[], _Loaded]) -> None:
        self._indexed = indexed
        self._load = load
        self._loaded: _Loaded | None = None

    def _ask(self, question: str, *args: Any) -> dict[str, Rec]:
        from partnerctl.storage import index

        if self._loaded is None:
            try:
                return getattr(self._indexed, question)(*args)  # type: ignore[no-any-return]
            except index.FAULTS:
                self._indexed.idx.close()
                self._loaded = self._load()
        return getattr(self._loaded, question)(*args)  # type: ignore[no-any-return]

    def named(self, key: str) -> dict[str, Rec]:
        return self._ask("named", key)

    def everyone(self) -> dict[str, Rec]:
        return self._ask("everyone")

    def filtered(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                 network_sets: Sequence[set[str]]) -> dict[str, Rec]:
        return self._ask("filtered", filters, theme_sets, network_sets)

    def counted(self, filters: query.Filters, theme_sets: Sequence[set[str]],
                network_sets: Sequence[set[str]]) -> dict[str, Rec]:
        return self._ask("counted", filters, theme_sets, network_sets)

    def containing(self, needle: str) -> dict[str, Rec]:
        return self._ask("containing", needle)

    def with_events(self) -> dict[str, Rec]:
        return self._ask("with_events")

    def with_links(self, kind: str) -> dict[str, Rec]:
        return self._ask("with_links", kind)

    def records_of(self, pids: Sequence[str]) -> dict[str, Rec]:
        return self._ask("records_of", pids)


class View:
    """A registry as the read commands see it; every answer is computed by query.py."""

    def __init__(self, owner: str, country: str | None, themes: dict[str, str], networks: dict[str, str],
                 source: Source) -> None:
        self.owner = owner
        self.themes = themes
        self.networks = networks
        self._head = Rec(owner=owner, country=country)
        self._source = source

    def _light(self, records: dict[str, Rec]) -> Light:
        return Light(self._head, self.themes, self.networks, records)

    def resolve(self, text: str) -> str:
        """``query.resolve``: the id *text* names (NotFound / Ambiguous otherwise)."""
        found = self._source.named(query.name_key(text))
        # Nothing starts with the text: the did-you-mean hint weighs every name.
        return query.resolve(self._light(found or self._source.everyone()), text)

    def record(self, pid: str) -> Rec:
        """The JSON record of partnership *pid* (``model.record``)."""
        return self._source.records_of([pid])[pid]

    def _filtered(self, filters: query.Filters, fetch: Any) -> Light:
        # The vocabulary terms are matched here too, to let the index narrow by slug.
        theme_sets = [query.match_vocab(self.themes, t, "theme") for t in filters.themes]
        network_sets = [query.match_vocab(self.networks, n, "network") for n in filters.networks]
        return self._light(fetch(filters, theme_sets, network_sets))

    def select(self, filters: query.Filters, sort: str = "id") -> list[Rec]:
        """``query.select``: the records that pass *filters*, in *sort* order."""
        light = self._filtered(filters, self._source.filtered)
        return [light.partnerships[pid] for pid in query.select(light, filters, sort)]

    def counts(self, filters: query.Filters, dimensions: Sequence[str]) -> tuple[int, dict[str, list[Count]]]:
        """``stats.counts`` of the partnerships ``query.select`` keeps, and how many those are."""
        from partnerctl.core import stats

        light = self._filtered(filters, self._source.counted)
        pids = query.select(light, filters)
        return len(pids), stats.counts(light, pids, dimensions)

    def search(self, text: str) -> list[tuple[Rec, Hit]]:
        """``search.search``: (partnership record, hit) for every field that holds *text*."""
        from partnerctl.core import search

        light = self._light(self._source.containing(search.needle(text)))
        return [(light.partnerships[hit.partner], hit) for hit in search.search(light, text)]

    def complete_partners(self, prefix: str) -> list[tuple[str, str]]:
        """``completion.partners``: ids starting with *prefix*, with their city."""
        from partnerctl.core import completion
        from partnerctl.core.names import fold

        # An id is a slug, its own folded name: one that starts with prefix has a name starting with it folded.
        return completion.partners(self._light(self._source.named(fold(prefix))), prefix)

    def complete_events(self, partner: str | None, prefix: str) -> list[tuple[str, str]]:
        """``completion.events``: event ids starting with *prefix*, of *partner* when it names one."""
        from partnerctl.core import completion

        pid = self.resolve(partner) if partner else None
        records = self._source.records_of([pid]) if pid else self._source.with_events()
        return completion.events(self._light(records), pid, prefix)

    def timeline(self, pids: Sequence[str] | None, since: int | None, until: int | None,
                 themes: Sequence[str]) -> list[tuple[Rec, Rec]]:
        """``query.timeline``: (partnership record, event record) in date order."""
        records = self._source.records_of(pids) if pids is not None else self._source.with_events()
        light = self._light(records)
        return [(light.partnerships[pid], event)
                for pid, event in query.timeline(light, pids, since, until, themes)]

    def usage(self, kind: str) -> list[tuple[str, str, int]]:
        """``query.usage``: (slug, label, partnerships using it) of a vocabulary."""
        return query.usage(self._light(self._source.with_links(kind)), kind)


def of_registry(reg: Registry) -> View:
    """A View of a registry loaded in full."""
    return View(reg.registry.owner, reg.registry.country, dict(reg.themes), dict(reg.networks), _loaded(reg))


def _loaded(reg: Registry) -> _Loaded:
    from partnerctl.core.model import record

    return _Loaded({pid: _wrap(record(pid, p)) for pid, p in reg.partnerships.items()})


def of_index(idx: Index, load: Callable[[], Registry] | None = None) -> View:
    """A View answered from a current index.

    With *load* (the registry the index was checked against, loaded in full),
    a damaged index makes the View answer from that instead; without it, the
    index's faults (``index.FAULTS``) reach the caller.
    """
    owner, country = idx.owner()
    indexed = _Indexed(idx)
    source: Source = indexed if load is None else _Guarded(indexed, lambda: _loaded(load()))
    return View(owner, country, idx.vocabulary("theme"), idx.vocabulary("network"), source)


def open_view(path: Path) -> View:
    """The registry at *path* for reading: from its index when current and intact, else loaded (and indexed)."""
    from partnerctl.storage import index
    from partnerctl.storage import store

    data, st = store.read_file(path)
    if index.enabled():
        idx = index.open_current(path, data, st)
        if idx is not None:
            return of_index(idx, lambda: _load(path, data, st))
    return of_registry(_load(path, data, st))


def _load(path: Path, data: bytes, st: os.stat_result) -> Registry:
    """The registry of bytes *data* read from *path*, validated; indexed again when the index is on."""
    from partnerctl.storage import index
    from partnerctl.storage import store

    reg = store.parse_valid(store.decode(data, path), str(path))
    if index.enabled():
        index.save(path, reg, data, st)
    return reg
