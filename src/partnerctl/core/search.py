"""Case- and accent-insensitive text search across the partnerships of a registry.

A hit carries the text searched and the spans of each match *in that text*
(Python string indices), so a renderer can highlight the original words
(``Délice``) that a folded query (``delice``) matched.

It runs on the JSON records of ``model.record`` (events in date order), with
attribute access as ``partnerctl.view`` hands them over; the index narrows the
records to those whose ``haystack`` holds the folded query, never more.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from partnerctl.core.errors import InvalidInput
from partnerctl.core.names import fold, fold_cached

if TYPE_CHECKING:
    from partnerctl.storage.view import Light


@dataclass(frozen=True)
class Hit:
    """One field of one partnership where the query was found."""

    partner: str
    field: str
    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)


def _fields(p: Any, themes: Mapping[str, str], networks: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(field path, text) of every searchable string of a partnership record, in page order.

    Themes and networks are searched by their labels in the vocabularies *themes* and *networks*.
    """
    yield "city", p.city
    for i, alias in enumerate(p.aliases):
        yield f"aliases[{i}]", alias
    for i, slug in enumerate(p.themes):
        yield f"themes[{i}]", themes.get(slug, slug)
    for i, slug in enumerate(p.networks):
        yield f"networks[{i}]", networks.get(slug, slug)
    for i, project in enumerate(p.projects):
        yield f"projects[{i}]", project
    if p.summary:
        yield "summary", p.summary
    for event in p.events:  # a record lists them in date order
        # Events are named by id, which stays put when other events are added.
        yield f"events.{event.id}.title", event.title
        if event.description:
            yield f"events.{event.id}.description", event.description
    for i, contact in enumerate(p.contacts):
        for key in ("name", "role", "organisation", "email", "phone"):
            value = getattr(contact, key)
            if value:
                yield f"contacts[{i}].{key}", value


def _folded_with_origins(text: str) -> tuple[str, list[int]]:
    """*text* folded character by character, and for each folded character the index it came from."""
    out: list[str] = []
    origins: list[int] = []
    for i, char in enumerate(text):
        folded = fold_cached(char)
        out.append(folded)
        origins.extend([i] * len(folded))
    return "".join(out), origins


def haystack(p: Any, themes: Mapping[str, str], networks: Mapping[str, str]) -> str:
    """The folded text of every searchable field of *p*, one per line (a record or a model Partnership;
    *themes* and *networks* are the registry's vocabularies).

    ``find_spans`` finds a match in a field only where its folded text holds the
    folded query, so a partnership whose haystack does not hold it has no hit:
    the index keeps this to narrow a search, and search() still decides.
    """
    return "\n".join(_folded_with_origins(text)[0] for _, text in _fields(p, themes, networks))


def needle(query: str) -> str:
    """What ``search`` looks for in folded text: the trimmed query, folded (may fold to nothing)."""
    if not query.strip():
        raise InvalidInput("the search text must not be empty")
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


def search(reg: Light, query: str) -> list[Hit]:
    """Every field of every partnership record that contains *query*, by partnership id then page order."""
    needle(query)  # an empty query is a usage error
    hits = []
    for pid in sorted(reg.partnerships):
        for path, text in _fields(reg.partnerships[pid], reg.themes, reg.networks):
            spans = find_spans(text, query.strip())
            if spans:
                hits.append(Hit(pid, path, text, spans))
    return hits
