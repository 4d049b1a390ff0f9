"""Counts of partnerships by theme, network, region, country, decade or status.

It runs on partnership records (``model.record``, with attribute access) as
``partnerctl.view`` hands them over, and reads only the fields ``_keys`` names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from partnerctl.core.errors import InvalidInput
from partnerctl.core.names import fold, fold_cached
from partnerctl.core.query import STATUSES

if TYPE_CHECKING:
    from partnerctl.storage.view import Light

DIMENSIONS = ("theme", "network", "region", "country", "decade", "status")
UNKNOWN = "unknown"


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


def check_dimensions(names: Sequence[str]) -> list[str]:
    """The dimensions asked for (all of them when none is), or InvalidInput for an unknown one."""
    for name in names:
        if name not in DIMENSIONS:
            raise InvalidInput(f"--by must be one of {', '.join(DIMENSIONS)}, not {name!r}")
    return list(dict.fromkeys(names)) or list(DIMENSIONS)


def _keys(p: Any, by: str) -> Iterable[str | None]:
    # A partnership without themes (networks) counts under unknown, as one without a region does.
    if by == "theme":
        return set(p.themes) or [None]
    if by == "network":
        return set(p.networks) or [None]
    if by == "region":
        return [p.region]
    if by == "country":
        return [p.country]
    if by == "decade":
        return [None if p.since is None else str(p.since // 10 * 10)]
    return [p.status]


def _label(reg: Light, by: str, key: str | None) -> str:
    if key is None:
        return UNKNOWN
    if by == "theme":
        return reg.themes.get(key, key)
    if by == "network":
        return reg.networks.get(key, key)
    if by == "decade":
        return f"{key}s"
    return key


def _order(by: str, item: Count) -> tuple[object, ...]:
    # Time and status read best in their own order; the rest from most to least used.
    if by == "decade":
        return (item.key is None, item.key or "")
    if by == "status":
        return (item.key is None, STATUSES.index(item.key) if item.key in STATUSES else 0)
    return (item.key is None, -item.count, fold(item.label))


def count(reg: Light, pids: Sequence[str], by: str) -> list[Count]:
    """Counts of the partnerships *pids* by one dimension; a partnership counts once per key.

    Only keys that occur are listed. Regions and countries are grouped case- and
    accent-insensitively (the first spelling met names the group).
    """
    counter: Counter[str | None] = Counter()
    spelling: dict[str | None, str | None] = {}
    for pid in pids:
        for key in _keys(reg.partnerships[pid], by):
            group = None if key is None else (fold_cached(key) if by in ("region", "country") else key)
            spelling.setdefault(group, key)
            counter[group] += 1
    items = [Count(by, spelling[g], _label(reg, by, spelling[g]), n) for g, n in counter.items()]
    return sorted(items, key=lambda item: _order(by, item))


def counts(reg: Light, pids: Sequence[str], dimensions: Sequence[str]) -> dict[str, list[Count]]:
    """``count`` for each of *dimensions*, in that order."""
    return {by: count(reg, pids, by) for by in check_dimensions(dimensions)}
