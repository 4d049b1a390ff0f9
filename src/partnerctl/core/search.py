"""Case- and accent-insensitive text search across the partnerships of a registry.

A hit carries the text searched and the spans of each match *in that text*
(Python string indices), so a renderer can highlight the original words
(``Délice``) that a folded query (``delice``) matched.

It runs on the JSON records of ``model.record`` (events in date order) as the
read API hands them over; the index narrows the records to those whose
``haystack`` holds the folded query, never more. The fields searched are those
the field table marks ``search``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import _
from partnerctl.core.model import table
from partnerctl.core.names import fold, fold_cached
from partnerctl.core.query import Record, Snapshot


@dataclass(frozen=True)
class Hit:
    """One field of one partnership where the query was found."""

    partner: str
    field: str
    text: str
    spans: list[tuple[int, int]] = dataclasses.field(default_factory=list)


def _fields(p: Record, themes: Mapping[str, str], networks: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(field path, text) of every searchable string of a partnership record, in page order.

    The fields are those the field table marks ``search``; themes and networks are
    searched by their labels in the vocabularies *themes* and *networks*.
    """
    vocabularies = {"theme": themes, "network": networks}
    spec = table()
    for f in spec.with_("search"):
        value = p[f.name]
        if f.kind == "records":
            continue
        if f.meta.vocab:
            labels = vocabularies[f.meta.vocab]
            yield from ((f"{f.name}[{i}]", labels.get(slug, slug)) for i, slug in enumerate(value))
        elif isinstance(value, list):
            yield from ((f"{f.name}[{i}]", item) for i, item in enumerate(value))
        elif value:
            yield f.name, value
    for event in p["events"]:  # a record lists them in date order
        # Events are named by id, which stays put when other events are added.
        for f in spec.with_("search", "event"):
            if event[f.name]:
                yield f"events.{event['id']}.{f.name}", event[f.name]
    for i, contact in enumerate(p["contacts"]):
        for f in spec.with_("search", "contact"):
            if contact[f.name]:
                yield f"contacts[{i}].{f.name}", contact[f.name]


def _folded_with_origins(text: str) -> tuple[str, list[int]]:
    """*text* folded character by character, and for each folded character the index it came from."""
    out: list[str] = []
    origins: list[int] = []
    for i, char in enumerate(text):
        folded = fold_cached(char)
        out.append(folded)
        origins.extend([i] * len(folded))
    return "".join(out), origins


def haystack(p: Record, themes: Mapping[str, str], networks: Mapping[str, str]) -> str:
    """The folded text of every searchable field of the record *p*, one per line (*themes* and
    *networks* are the registry's vocabularies).

    ``find_spans`` finds a match in a field only where its folded text holds the
    folded query, so a partnership whose haystack does not hold it has no hit:
    the index keeps this to narrow a search, and search() still decides.
    """
    return "\n".join(_folded_with_origins(text)[0] for _, text in _fields(p, themes, networks))


def needle(query: str) -> str:
    """What ``search`` looks for in folded text: the trimmed query, folded (may fold to nothing)."""
    if not query.strip():
        raise InvalidInput(_("the search text must not be empty"))
    return fold(query.strip())


def find_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Non-overlapping spans of *text* that match *query*, ignoring case and accents."""
    needle = fold(query)
    if not needle:
        return []
    folded, origins = _folded_with_origins(text)
    spans: list[tuple[int, int]] = []
    start = folded.find(needle)
    while start != -1:
        first, last = origins[start], origins[start + len(needle) - 1] + 1
        # Take in combining marks that follow the match (decomposed "e\u0301").
        while last < len(text) and not fold_cached(text[last]):
            last += 1
        spans.append((first, last))
        start = folded.find(needle, start + len(needle))
    return spans


def search(reg: Snapshot, query: str) -> list[Hit]:
    """Every field of every partnership record that contains *query*, by partnership id then page order."""
    needle(query)  # an empty query is a usage error
    hits = []
    for pid in sorted(reg.partnerships):
        for path, text in _fields(reg.partnerships[pid], reg.themes, reg.networks):
            spans = find_spans(text, query.strip())
            if spans:
                hits.append(Hit(pid, path, text, spans))
    return hits
