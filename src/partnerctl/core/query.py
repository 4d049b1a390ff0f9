"""Questions asked of a registry: which partnership, which themes, which rows."""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from partnerctl.core import dates
from partnerctl.core.errors import Ambiguous, InvalidInput, NotFound
from partnerctl.core.names import fold

if TYPE_CHECKING:
    # Only for hints: the read commands run these functions on plain records from
    # the index (partnerctl.view), without paying for the pydantic model's import.
    from partnerctl.core.model import Event, Partnership, Registry

SORT_KEYS = ("id", "city", "country", "since")
# A partnership's status, in the order they read best (model.Partnership checks it).
STATUSES = ("active", "suspended", "ended")


def names_of(pid: str, p: Partnership) -> list[str]:
    """The folded names a partnership answers to: its id, city and aliases."""
    return [fold(pid), fold(p.city), *(fold(a) for a in p.aliases)]


def name_key(text: str) -> str:
    """What ``resolve`` compares with those names: *text* trimmed and folded."""
    return fold(text.strip())


def _describe(reg: Registry, pids: Iterable[str]) -> str:
    return ", ".join(f"{pid} ({reg.partnerships[pid].city})" for pid in sorted(pids))


def resolve(reg: Registry, text: str) -> str:
    """The id of the partnership *text* names: id, city or alias, any case or accents, or a unique prefix.

    An exact id always wins: *text* folded equal to an id names that partnership,
    whatever other partnerships' cities or aliases are (an imported registry holds
    many relations with partner "Turin"; ``turin`` is still Lyon's). Then an exact
    city or alias, then a prefix of any of these.
    """
    key = name_key(text)
    if key in reg.partnerships:
        return key
    exact = {pid for pid, p in reg.partnerships.items() if key in names_of(pid, p)}
    if len(exact) == 1:
        return exact.pop()
    if exact:
        raise Ambiguous(f"{text!r} names several partnerships: {_describe(reg, exact)}")
    prefixed = {pid for pid, p in reg.partnerships.items()
                if key and any(n.startswith(key) for n in names_of(pid, p))}
    if len(prefixed) == 1:
        return prefixed.pop()
    if prefixed:
        raise Ambiguous(f"{text!r} is ambiguous: {_describe(reg, prefixed)}")
    by_name = {n: pid for pid, p in reg.partnerships.items() for n in names_of(pid, p)}
    close = {by_name[n] for n in difflib.get_close_matches(key, by_name, n=3, cutoff=0.6)}
    hint = f"; did you mean {_describe(reg, close)}?" if close else "; 'partnerctl list' shows them all"
    raise NotFound(f"no partnership {text!r}{hint}")


_WORD = re.compile(r"[a-z0-9]+")


class Matcher:
    """A vocabulary folded once, so each term costs a look-up, not a pass over every label.

    A term names the entries whose slug, whole label, any word of the label or any
    word of the slug it equals, ignoring case and accents.
    """

    def __init__(self, vocab: dict[str, str], kind: str) -> None:
        self.vocab = vocab
        self.kind = kind
        self._slugs: dict[str, set[str]] = {}
        for slug, label in vocab.items():
            folded = fold(label)
            for key in {slug, folded, *_WORD.findall(folded), *slug.split("-")}:
                self._slugs.setdefault(key, set()).add(slug)

    def match(self, term: str) -> set[str]:
        """Slugs *term* names; none is InvalidInput listing the declared entries."""
        found = self._slugs.get(fold(term.strip()))
        if not found:
            declared = ", ".join(f"{slug} ({label})" for slug, label in sorted(self.vocab.items())) or "none"
            raise InvalidInput(f"unknown {self.kind} {term!r}; declared {self.kind}s: {declared}")
        return set(found)

    def one(self, term: str) -> str:
        """The one slug *term* names (for a write command); several is InvalidInput."""
        found = self.match(term)
        if len(found) > 1:
            raise InvalidInput(f"{self.kind} {term!r} is ambiguous: {', '.join(sorted(found))}")
        return found.pop()


def matcher(vocab: dict[str, str], kind: str) -> Matcher:
    """The Matcher of *vocab*, folded once and reused while the vocabulary stays the same."""
    return _matcher(tuple(vocab.items()), kind)


@lru_cache(maxsize=8)
def _matcher(items: tuple[tuple[str, str], ...], kind: str) -> Matcher:
    # Keyed by the entries themselves: a vocabulary changed in place (themes add) gets a new one.
    return Matcher(dict(items), kind)


def match_vocab(vocab: dict[str, str], term: str, kind: str) -> set[str]:
    """Slugs of *vocab* that *term* names: the slug, the whole label or any word of it (``Matcher``)."""
    return matcher(vocab, kind).match(term)


def resolve_themes(reg: Registry, terms: Sequence[str]) -> list[str]:
    """Theme slugs for terms given to a write command: each term must name exactly one theme."""
    return resolve_terms(reg.themes, terms, "theme")


def resolve_terms(vocab: dict[str, str], terms: Sequence[str], kind: str) -> list[str]:
    """Slugs of *vocab* for terms given to a write command: each must name exactly one entry."""
    m = matcher(vocab, kind)
    return [m.one(term) for term in terms]


@dataclass
class Filters:
    """What ``list`` keeps: every given filter must hold."""

    themes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    country: str | None = None
    region: str | None = None
    status: str | None = None
    owner: str | None = None
    since: int | None = None
    until: int | None = None


def select(reg: Registry, filters: Filters, sort: str = "id") -> list[str]:
    """Ids of the partnerships that pass every filter, in the requested order."""
    theme_sets = [match_vocab(reg.themes, t, "theme") for t in filters.themes]
    network_sets = [match_vocab(reg.networks, n, "network") for n in filters.networks]
    project_keys = [fold(p) for p in filters.projects]

    def keep(p: Partnership) -> bool:
        return (
            all(wanted & set(p.themes) for wanted in theme_sets)
            and all(wanted & set(p.networks) for wanted in network_sets)
            and all(k in {fold(x) for x in p.projects} for k in project_keys)
            and _same(filters.country, p.country)
            and _same(filters.region, p.region)
            and _same(filters.owner, p.owner or reg.registry.owner)
            and (filters.status is None or p.status == filters.status)
            and (filters.since is None or (p.since is not None and p.since >= filters.since))
            and (filters.until is None or (p.since is not None and p.since <= filters.until))
        )

    pids = [pid for pid, p in reg.partnerships.items() if keep(p)]
    return sorted(pids, key=lambda pid: _sort_key(pid, reg.partnerships[pid], sort))


def _same(wanted: str | None, value: str | None) -> bool:
    return wanted is None or (value is not None and fold(wanted) == fold(value))


def _sort_key(pid: str, p: Partnership, sort: str) -> tuple[object, ...]:
    if sort == "city":
        return (fold(p.city), pid)
    if sort == "country":
        return (fold(p.country), fold(p.city), pid)
    if sort == "since":
        # Unknown first years go last.
        return (p.since is None, p.since or 0, pid)
    return (pid,)


def timeline(
    reg: Registry,
    pids: Sequence[str] | None = None,
    since: int | None = None,
    until: int | None = None,
    themes: Sequence[str] = (),
) -> list[tuple[str, Event]]:
    """Events of the named (or all) partnerships in date order.

    An event is on a theme if it names it, or, when it names none, if its
    partnership does. ``since``/``until`` keep events whose period overlaps those years.
    """
    theme_sets = [match_vocab(reg.themes, t, "theme") for t in themes]
    out = []
    for pid in pids if pids is not None else sorted(reg.partnerships):
        p = reg.partnerships[pid]
        for event in p.events:
            start = dates.parse(event.date)[0]
            end = dates.parse(event.end)[0] if event.end else start
            on = set(event.themes or p.themes)
            if ((since is None or end >= since) and (until is None or start <= until)
                    and all(wanted & on for wanted in theme_sets)):
                out.append((pid, event))
    return sorted(out, key=lambda item: (dates.sort_key(item[1].date), item[0]))


def usage(reg: Registry, kind: str) -> list[tuple[str, str, int]]:
    """(slug, label, number of partnerships using it) for the theme or network vocabulary."""
    vocab = reg.themes if kind == "theme" else reg.networks
    counts = {slug: 0 for slug in vocab}
    for p in reg.partnerships.values():
        for slug in set(p.themes if kind == "theme" else p.networks):
            if slug in counts:
                counts[slug] += 1
    return [(slug, vocab[slug], counts[slug]) for slug in sorted(vocab)]


def upcoming(items: Sequence[tuple[str, Event]], today: datetime.date,
             days: int | None = None) -> list[tuple[str, Event]]:
    """The events of *items* not over before *today*, starting within *days* days when given.

    A partial date lasts until its last day (``2026-12`` until 31 December 2026)
    and a period until its end, so this month's and this year's events, and
    periods still running, are on the agenda.
    """
    horizon = None if days is None else today + datetime.timedelta(days=days)
    return [(pid, event) for pid, event in items
            if dates.bounds(event.end or event.date)[1] >= today
            and (horizon is None or dates.bounds(event.date)[0] <= horizon)]
