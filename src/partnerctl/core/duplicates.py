"""Partnerships that are, or may be, one relation held twice: what ``partnerctl duplicates`` lists.

Two partnerships are a *duplicate* when they have the same owner (the one each holds:
its own, else the registry's), a name in common (city or alias, compared as names are
everywhere: case, accents and invisible characters aside) and countries that overlap
(the same code, or one within the other: ``GB`` and ``GB-ENG``). This is the rule
``add`` and ``import`` refuse a new relation by (``edit.check_name_free``,
``formats.exchange``). They are *near* duplicates when they have the same owner and a
name in common once punctuation and spacing are set aside too (``St. Louis`` and
``St Louis``), or the same name in countries that do not overlap (two Córdobas: maybe
two cities, maybe a wrong country): worth a look, not a certainty. They are near
duplicates too when the offline gazetteer (``core/geo.py``: GeoNames' names and
alternate names) resolves both, each to one city only, to the same city, in countries
that overlap: ``Be'er Sheva`` and ``Beersheba`` in Israel are GeoNames 295530. A
source that keeps the world's names, rather than an alias the registry would have
to invent; a guess all the same (an alternate name may be an old or a local one), so
near, not certain.

Each pair names the partnership to keep (the one holding more: fields, events,
contacts; then the shorter id) and the other, so ``partnerctl merge PARTNER OTHER``
follows from a row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from partnerctl.core import geo
from partnerctl.core.names import fold, loose
from partnerctl.core.query import Record, Snapshot

Kind = Literal["duplicate", "near"]

# (city, country code, aliases) -> the gazetteer's city (``geo.Match``) or None: ``geo.locate``, or a test's.
Place = Callable[[str, str, Sequence[str]], "geo.Match | None"]


def one_place(place: Place, city: str, country: str, aliases: Sequence[str] = ()) -> geo.Match | None:
    """The gazetteer city *city* (with *aliases*) in *country* is, when the gazetteer finds exactly one: a name
    several cities bear (the most populous is only a guess) is no ground for a duplicate."""
    match = place(city, country, list(aliases))
    return match if match is not None and not match.ambiguous else None


def same_place(match: geo.Match) -> str:
    """Why two partnerships may be one, said the same by ``duplicates``, ``import`` and ``add``."""
    return f"the same place in the gazetteer (GeoNames {match.geonameid}, {match.name})"


@dataclass(frozen=True)
class Pair:
    """Two partnerships that are (``duplicate``) or may be (``near``) one relation, and why."""

    partner: str  # the one to keep
    other: str
    kind: Kind
    owner: str
    city: str
    country: str
    why: str

    def row(self) -> dict[str, Any]:
        """The record ``duplicates`` prints (``records.DUPLICATE``)."""
        return {"partner": self.partner, "other": self.other, "kind": self.kind, "owner": self.owner,
                "city": self.city, "country": self.country, "why": self.why}


def _names(rec: Record) -> list[str]:
    return [rec["city"], *(rec.get("aliases") or [])]


def _weight(rec: Record) -> int:
    """How much a partnership holds: its fields with a value, and its events and contacts."""
    return sum(1 for v in rec.values() if v not in (None, [], "")) + len(rec.get("events") or []) \
        + len(rec.get("contacts") or [])


def _owner(snap: Snapshot, rec: Record) -> tuple[str, str]:
    """A partnership's owner as pairs are grouped: its name folded, and its country's nation (Córdoba in
    Argentina is not Córdoba in Mexico)."""
    from partnerctl.core import countries

    owner_country = rec.get("owner_country") if rec.get("owner") else snap.country
    return fold(snap.value(rec, "owner") or ""), countries.nation(owner_country) if owner_country else ""


def _pairs(snap: Snapshot) -> Iterator[tuple[str, str]]:
    """Every two partnerships of one owner (name and country) with a name in common, loosely compared; each
    pair once."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for pid in sorted(snap.partnerships):
        rec = snap.partnerships[pid]
        owner = _owner(snap, rec)
        for key in {loose(name) for name in _names(rec)} - {""}:
            groups.setdefault((*owner, key), []).append(pid)
    seen: set[tuple[str, str]] = set()
    for pids in groups.values():
        for i, a in enumerate(pids):
            for b in pids[i + 1:]:
                if (a, b) not in seen:
                    seen.add((a, b))
                    yield a, b


def _places(snap: Snapshot, place: Place) -> Iterator[tuple[str, str, geo.Match]]:
    """Every two partnerships of one owner that the gazetteer puts in the same city, in countries that
    overlap, with that city. Only partnerships sharing an owner and a nation with another are looked up."""
    from partnerctl.core import countries

    groups: dict[tuple[str, str, str], list[str]] = {}
    for pid in sorted(snap.partnerships):
        rec = snap.partnerships[pid]
        groups.setdefault((*_owner(snap, rec), countries.nation(rec["country"])), []).append(pid)
    for pids in groups.values():
        if len(pids) < 2:
            continue
        found: dict[int, list[tuple[str, geo.Match]]] = {}
        for pid in pids:
            rec = snap.partnerships[pid]
            match = one_place(place, rec["city"], rec["country"], rec.get("aliases") or [])
            if match is not None:
                found.setdefault(match.geonameid, []).append((pid, match))
        for same in found.values():
            for i, (a, match) in enumerate(same):
                for b, _ in same[i + 1:]:
                    if countries.overlap(snap.partnerships[a]["country"], snap.partnerships[b]["country"]):
                        yield a, b, match


def _keep(snap: Snapshot, a: str, b: str) -> tuple[str, str]:
    """The one of *a* and *b* to keep (the one holding more; then the shorter id), and the other."""
    keep, other = sorted((a, b), key=lambda pid: (-_weight(snap.partnerships[pid]), len(pid), pid))
    return keep, other


def classify(snap: Snapshot, a: str, b: str) -> Pair:
    """Why partnerships *a* and *b* (of one owner, with a name in common loosely) are or may be one."""
    from partnerctl.core import countries

    ra, rb = snap.partnerships[a], snap.partnerships[b]
    same = {fold(n) for n in _names(ra)} & {fold(n) for n in _names(rb)}
    overlap = countries.overlap(ra["country"], rb["country"])
    keep, other = _keep(snap, a, b)
    rk = snap.partnerships[keep]
    name = next((n for n in _names(rk) if fold(n) in same), rk["city"])
    shown = (snap.shown("country", ra["country"], "en") if ra["country"] == rb["country"]
             else f"{ra['country']} and {rb['country']}")
    if same and overlap:
        kind: Kind = "duplicate"
        why = f"same owner, partner {name!r} and country ({shown})"
    elif same:
        kind = "near"
        why = f"same owner and partner {name!r}, in countries that differ ({shown})"
    else:
        kind = "near"
        names = sorted({n for n in _names(ra) + _names(rb)
                        if loose(n) in {loose(m) for m in _names(ra)} & {loose(m) for m in _names(rb)}})
        why = f"same owner, partners spelled alike ({', '.join(map(repr, names))}), country {shown}"
    return Pair(keep, other, kind, snap.value(rk, "owner") or "", rk["city"], rk["country"], why)


def _same_place(snap: Snapshot, a: str, b: str, match: geo.Match) -> Pair:
    """Partnerships *a* and *b* as a near pair: the gazetteer puts both in the city *match*."""
    keep, other = _keep(snap, a, b)
    rk, ro = snap.partnerships[keep], snap.partnerships[other]
    shown = (snap.shown("country", rk["country"]) if rk["country"] == ro["country"]
             else f"{rk['country']} and {ro['country']}")
    return Pair(keep, other, "near", snap.value(rk, "owner") or "", rk["city"], rk["country"],
                f"same owner, partners {rk['city']!r} and {ro['city']!r}: {same_place(match)}, country {shown}")


def find(snap: Snapshot, place: Place | None = None) -> list[Pair]:
    """Every pair of partnerships of *snap* that are or may be one relation: duplicates first, then near
    ones, each by the partnership to keep. *place* looks cities up (default: the offline gazetteer,
    ``geo.locate``)."""
    found = [classify(snap, a, b) for a, b in _pairs(snap)]
    named = {frozenset((p.partner, p.other)) for p in found}
    found += [_same_place(snap, a, b, match) for a, b, match in _places(snap, place or geo.locate)
              if frozenset((a, b)) not in named]
    return sorted(found, key=lambda p: (p.kind != "duplicate", p.partner, p.other))
