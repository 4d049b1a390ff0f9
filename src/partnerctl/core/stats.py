"""Counts of partnerships by theme, network, region, country, decade or status.

The dimensions are the fields the field table marks ``stat``. It runs on
partnership records (``model.record``, or the part of them the index keeps as
columns) and reads only the fields of the dimensions asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from partnerctl.core.errors import InvalidInput
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
    """

    by: str
    key: str | None
    label: str
    count: int


def dimensions() -> tuple[str, ...]:
    """The ``stats --by`` dimensions, from the field table (``theme``, ``network``, ``region``...)."""
    return tuple(table().dimensions())


def check_dimensions(names: Sequence[str]) -> list[str]:
    """The dimensions asked for (all of them when none is), or InvalidInput for an unknown one."""
    known = dimensions()
    for name in names:
        if name not in known:
            raise InvalidInput(_("--by must be one of {items}, not {name!r}").format(items=', '.join(known), name=name))
    return list(dict.fromkeys(names)) or list(known)


def _keys(snap: Snapshot, rec: Record, by: str) -> Iterable[str | None]:
    spec = table().dimensions()[by]
    value = snap.value(rec, spec.name)
    if spec.meta.stat == "each":
        # A partnership without themes (networks) counts under unknown, as one without a region does.
        return set(value) or [None]
    if spec.meta.stat == "decade":
        return [None if value is None else str(value // 10 * 10)]
    return [value]


def _label(snap: Snapshot, by: str, key: str | None) -> str:
    if key is None:
        return UNKNOWN
    spec = table().dimensions()[by]
    if spec.meta.vocab:
        return snap.vocabulary(spec.meta.vocab).get(key, key)
    if spec.meta.stat == "decade":
        return f"{key}s"
    return key


def _order(by: str, item: Count) -> tuple[object, ...]:
    # Time and enums read best in their own order; the rest from most to least used.
    spec = table().dimensions()[by]
    if spec.meta.stat == "decade":
        return (item.key is None, item.key or "")
    if spec.choices:
        return (item.key is None, spec.choices.index(item.key) if item.key in spec.choices else 0)
    return (item.key is None, -item.count, fold(item.label))


def count(snap: Snapshot, pids: Sequence[str], by: str) -> list[Count]:
    """Counts of the partnerships *pids* by one dimension; a partnership counts once per key.

    Only keys that occur are listed. Free-text values (regions, countries) are grouped
    case- and accent-insensitively (the first spelling met, in id order, names the group).
    """
    folded = table().dimensions()[by].meta.filter == "folded"
    counter: Counter[str | None] = Counter()
    spelling: dict[str | None, str | None] = {}
    for pid in sorted(pids):
        for key in _keys(snap, snap.partnerships[pid], by):
            group = None if key is None else (fold_cached(key) if folded else key)
            spelling.setdefault(group, key)
            counter[group] += 1
    items = [Count(by, spelling[g], _label(snap, by, spelling[g]), n) for g, n in counter.items()]
    return sorted(items, key=lambda item: _order(by, item))


def counts(snap: Snapshot, pids: Sequence[str], dimensions: Sequence[str]) -> dict[str, list[Count]]:
    """``count`` for each of *dimensions*, in that order."""
    return {by: count(snap, pids, by) for by in check_dimensions(dimensions)}
