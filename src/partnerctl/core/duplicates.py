"""Partnerships that are, or may be, one relation held twice: what ``partnerctl duplicates`` lists.

Two partnerships are a *duplicate* when they have the same owner (the one each holds:
its own, else the registry's), a name in common (city or alias, compared as names are
everywhere: case, accents and invisible characters aside) and countries that overlap
(the same code, or one within the other: ``GB`` and ``GB-ENG``). This is the rule
``add`` and ``import`` refuse a new relation by (``edit.check_name_free``,
``formats.exchange``). They are *near* duplicates when they have the same owner and a
name in common once punctuation and spacing are set aside too (``St. Louis`` and
``St Louis``), or the same name in countries that do not overlap (two Córdobas: maybe
two cities, maybe a wrong country): worth a look, not a certainty.

Each pair names the partnership to keep (the one holding more: fields, events,
contacts; then the shorter id) and the other, so ``partnerctl merge PARTNER OTHER``
follows from a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from partnerctl.core.names import fold, loose
from partnerctl.core.query import Record, Snapshot

Kind = Literal["duplicate", "near"]


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


def _pairs(snap: Snapshot) -> Iterator[tuple[str, str]]:
    """Every two partnerships of one owner (name and country) with a name in common, loosely compared; each
    pair once."""
    from partnerctl.core import countries

    groups: dict[tuple[str, str, str], list[str]] = {}
    for pid in sorted(snap.partnerships):
        rec = snap.partnerships[pid]
        # An owner is its name and its country (Córdoba in Argentina is not Córdoba in Mexico).
        owner_country = rec.get("owner_country") if rec.get("owner") else snap.country
        owner = (fold(snap.value(rec, "owner") or ""), countries.nation(owner_country) if owner_country else "")
        for key in {loose(name) for name in _names(rec)} - {""}:
            groups.setdefault((*owner, key), []).append(pid)
    seen: set[tuple[str, str]] = set()
    for pids in groups.values():
        for i, a in enumerate(pids):
            for b in pids[i + 1:]:
                if (a, b) not in seen:
                    seen.add((a, b))
                    yield a, b


def classify(snap: Snapshot, a: str, b: str) -> Pair:
    """Why partnerships *a* and *b* (of one owner, with a name in common loosely) are or may be one."""
    from partnerctl.core import countries

    ra, rb = snap.partnerships[a], snap.partnerships[b]
    same = {fold(n) for n in _names(ra)} & {fold(n) for n in _names(rb)}
    overlap = countries.overlap(ra["country"], rb["country"])
    keep, other = sorted((a, b), key=lambda pid: (-_weight(snap.partnerships[pid]), len(pid), pid))
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


def find(snap: Snapshot) -> list[Pair]:
    """Every pair of partnerships of *snap* that are or may be one relation: duplicates first, then near
    ones, each by the partnership to keep."""
    found = [classify(snap, a, b) for a, b in _pairs(snap)]
    return sorted(found, key=lambda p: (p.kind != "duplicate", p.partner, p.other))
