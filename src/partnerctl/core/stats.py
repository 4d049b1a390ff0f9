"""Counts of partnerships by theme, network, region, country, decade, status, owner or owner's country.

The dimensions are the fields the field table marks ``stat``. It runs on
partnership records (``model.record``, or the part of them the index keeps as
columns) and reads only the fields of the dimensions asked for. Each counts the
value a partnership holds (``Snapshot.value``: a relation without an owner of its
own counts under the registry's, one without a region under its country's default
region); a country counts as its ISO 3166-1 country (England under the United Kingdom).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from partnerctl.core.errors import InvalidInput
from partnerctl.core.fields import FieldSpec
from partnerctl.core.i18n import N_, _
from partnerctl.core.model import table
from partnerctl.core.names import fold, fold_cached
from partnerctl.core.query import Record, Snapshot

UNKNOWN = N_("unknown")


@dataclass(frozen=True)
class Count:
    """How many of the partnerships counted fall under one key of a dimension.

    ``key`` is the slug, the value itself (region, country, status), the decade's
    first year as a string (``"1990"``), or None for partnerships that do not say.
    ``percent`` is the count's share of the partnerships counted, rounded to one
    decimal (a partnership counts under each of its themes: those add up to more than 100).
    """

    by: str
    key: str | None
    label: str
    count: int
    percent: float


def dimensions() -> tuple[str, ...]:
    """The ``stats --by`` dimensions, from the field table (``theme``, ``network``, ``region``...)."""
    return tuple(table().dimensions())


def check_dimensions(names: Sequence[str], many_owners: bool = True) -> list[str]:
    """The dimensions asked for, or InvalidInput for an unknown one. None asked: all of them, but those
    about owners only in a registry of several owners (*many_owners*)."""
    known = dimensions()
    for name in names:
        if name not in known:
            raise InvalidInput(_("--by must be one of {items}, not {name!r}").format(items=', '.join(known), name=name))
    return list(dict.fromkeys(names)) or list(table().default_dimensions(many_owners))


def percent(part: int, whole: int) -> float:
    """*part* as a percentage of *whole*, one decimal (0 of nothing is 0)."""
    return round(100 * part / whole, 1) if whole else 0.0


def shown_percent(value: float) -> str:
    """A percentage as people read it: ``40%``, ``12.5%``; in French ``12,5 %`` (a decimal comma, and a
    no-break space before the sign)."""
    from partnerctl.core.i18n import language

    shown = f"{value:.1f}".removesuffix(".0")
    return shown.replace(".", ",") + "\u00a0%" if language() == "fr" else shown + "%"


def shown_label(snap: Snapshot, count: Count) -> str:
    """A count's label as people read it, in the language in force (a Count keeps the English one, as
    the JSON has it): a vocabulary's label in that language, a country's name, a decade, a status."""
    from partnerctl.core.i18n import language

    spec = table().dimensions()[count.by]
    if count.key is None:
        return _(count.label)
    if spec.meta.vocab:
        return str(snap.labels(spec.meta.vocab).get(count.key, count.label))
    if spec.meta.stat == "decade":
        return _("{decade}s").format(decade=count.key)
    if spec.meta.country and language() != "en":
        from partnerctl.core import countries

        return countries.display(count.key, language())
    return _(count.label) if spec.choices else str(count.label)


@cache
def _dimension(by: str) -> FieldSpec:
    """The field dimension *by* counts: asked once per row, the field table built once per process."""
    return table().dimensions()[by]


def _keys(snap: Snapshot, rec: Record, by: str) -> Iterable[str | None]:
    spec = _dimension(by)
    value = snap.value(rec, spec.name)
    if spec.meta.stat == "each":
        # A partnership without themes (networks) counts under unknown, as one without a region does.
        return set(value) or [None]
    return [_key(by, value)]


def _key(by: str, value: Any) -> str | None:
    """The key a partnership counts under, from the dimension's field value (not a list): the decade of a
    year, the ISO 3166-1 country of a subdivision (``GB`` for ``GB-ENG``)."""
    spec = _dimension(by)
    if value is None:
        return None
    if spec.meta.stat == "decade":
        return str(value // 10 * 10)
    if spec.meta.country:
        from partnerctl.core import countries

        return countries.nation(value)
    return value  # type: ignore[no-any-return]


def _label(snap: Snapshot, by: str, key: str | None) -> str:
    if key is None:
        return UNKNOWN
    spec = _dimension(by)
    if spec.meta.stat == "decade":
        return f"{key}s"
    return snap.shown(spec.name, key, "en")


def _order(by: str, item: Count) -> tuple[object, ...]:
    # Time and enums read best in their own order; the rest from most to least used.
    spec = _dimension(by)
    if spec.meta.stat == "decade":
        return (item.key is None, item.key or "")
    if spec.choices:
        return (item.key is None, spec.choices.index(item.key) if item.key in spec.choices else 0)
    return (item.key is None, -item.count, fold(item.label))


def count(snap: Snapshot, pids: Sequence[str], by: str) -> list[Count]:
    """Counts of the partnerships *pids* by one dimension; a partnership counts once per key.

    Only keys that occur are listed. Free-text values (owners) are grouped case- and
    accent-insensitively (the first spelling met, in id order, names the group).
    """
    counter: Counter[str | None] = Counter()
    spelling: dict[str | None, str | None] = {}
    for pid in sorted(pids):
        for key in _keys(snap, snap.partnerships[pid], by):
            group = _group(by, key)
            spelling.setdefault(group, key)
            counter[group] += 1
    return _counts(snap, by, [(spelling[g], n) for g, n in counter.items()], len(pids))


def _group(by: str, key: str | None) -> str | None:
    # Free text is grouped case- and accent-insensitively.
    if key is None or _dimension(by).meta.filter != "folded":
        return key
    return fold_cached(key)


def _counts(snap: Snapshot, by: str, groups: Iterable[tuple[str | None, int]], total: int) -> list[Count]:
    """The Counts of (spelling, count) groups of one dimension among *total* partnerships, listed in the
    order they were first met."""
    items = [Count(by, key, _label(snap, by, key), n, percent(n, total)) for key, n in groups]
    return sorted(items, key=lambda item: _order(by, item))


def tallied(snap: Snapshot, by: str, rows: Iterable[tuple[Any, int, str]], total: int) -> list[Count]:
    """``count``'s answer from counts made elsewhere (the index's SQL) of *total* partnerships:
    (value, count, first id) rows.

    A row holds the partnerships with one value of the dimension's field (a slug for a list of
    them; None when they do not say) and the least id among them. Rows whose keys ``count`` groups
    together (two spellings of an owner, two years of a decade) are added up, under the spelling
    of the least id, as ``count`` does.
    """
    counter: Counter[str | None] = Counter()
    first: dict[str | None, tuple[str, str | None]] = {}
    each = _dimension(by).meta.stat == "each"
    for value, n, pid in rows:
        key = value if each else _key(by, value)
        group = _group(by, key)
        counter[group] += n
        if group not in first or pid < first[group][0]:
            first[group] = (pid, key)
    met = sorted(first, key=lambda g: (first[g][0], first[g][1] is None, first[g][1] or ""))
    return _counts(snap, by, [(first[g][1], counter[g]) for g in met], total)


def counts(snap: Snapshot, pids: Sequence[str], dimensions: Sequence[str],
           many_owners: bool = True) -> dict[str, list[Count]]:
    """``count`` for each of *dimensions*, in that order (``check_dimensions``)."""
    return {by: count(snap, pids, by) for by in check_dimensions(dimensions, many_owners)}
