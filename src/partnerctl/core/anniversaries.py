"""Round anniversaries: of each partnership's first year and of its key events with a full date.

A partnership that began in 1991 has its 35th anniversary in 2026; an event of
16 May 2001 its 25th on 16 May 2026. An anniversary is *round* when its number
of years is a multiple of ``every`` (5 by default), and a *jubilee* when it is
a multiple of 25 (25, 50, 75, 100). Only events dated to the day count: a
month or a year alone gives no day to celebrate, and the partnership's first
year already stands for its beginning.

Pure: it runs on partnership records (``model.record``, or the facts of the
index plus the events of those that have some) and returns anniversary rows,
the ``anniversary`` shape of ``records.shapes``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from partnerctl.core import dates
from partnerctl.core.i18n import _, language
from partnerctl.core.names import fold
from partnerctl.core.query import Record

JUBILEE = 25
DEFAULT_EVERY = 5


def is_jubilee(years: int) -> bool:
    """Whether an anniversary of *years* is a jubilee (25, 50, 75, 100...)."""
    return years > 0 and years % JUBILEE == 0


def _on(year: int, month: int, day: int) -> datetime.date:
    # 29 February falls on the 28th in a year without one.
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return datetime.date(year, month, day - 1)


def anniversaries(records: Mapping[str, Record], year: int, every: int = DEFAULT_EVERY,
                  *, skip_internal: bool = False) -> list[dict[str, Any]]:
    """The round anniversaries of *records* (id to record) falling in *year*, in date order (a
    first-year anniversary, which has no day, before the dated ones of its year), then the most
    years first, then by city.

    Each row: ``partner``, ``city``, ``date`` (``"2026"`` for a first year, ``"2026-05-16"`` for
    an event), ``years``, ``jubilee``, ``since`` (the date celebrated), ``event`` (the event's id,
    or None for the partnership's first year) and ``title`` (the event's, or None).
    *skip_internal* leaves out events marked internal (for a published calendar).
    """
    if every < 1:
        raise ValueError(_("every must be at least 1"))
    rows = []
    for pid, rec in records.items():
        since = rec.get("since")
        if isinstance(since, int) and year > since and (year - since) % every == 0:
            rows.append(_row(pid, rec, str(year), year - since, str(since), None))
        for event in rec.get("events") or []:
            if skip_internal and event.get("internal"):
                continue
            start, month, day = dates.parse(event["date"])
            if month is None or day is None or year <= start or (year - start) % every:
                continue
            rows.append(_row(pid, rec, _on(year, month, day).isoformat(), year - start, event["date"], event))
    return sorted(rows, key=lambda r: (dates.sort_key(r["date"]), -r["years"], fold(r["city"]), r["partner"],
                                       r["event"] or ""))


def _row(pid: str, rec: Record, date: str, years: int, since: str, event: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"partner": pid, "city": rec["city"], "date": date, "years": years, "jubilee": is_jubilee(years),
            "since": since, "event": event["id"] if event else None, "title": event["title"] if event else None}


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``35th``, ``111th`` (in French ``1er``, ``35e``)."""
    if language() == "fr":
        return "1er" if n == 1 else f"{n}e"
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{({1: 'st', 2: 'nd', 3: 'rd'}).get(n % 10, 'th')}"


def describe(row: Mapping[str, Any]) -> str:
    """An anniversary in words: ``35th anniversary of the partnership (1991)``,
    ``25th anniversary: Agreement signed (15 January 2001)``."""
    if row["event"] is None:
        return _("{nth} anniversary of the partnership ({since})").format(nth=ordinal(row["years"]),
                                                                           since=row["since"])
    return _("{nth} anniversary: {title} ({date})").format(nth=ordinal(row["years"]), title=row["title"],
                                                             date=dates.humanize(row["since"]))


def as_event(row: Mapping[str, Any], rec: Record) -> dict[str, Any]:
    """An anniversary as an event row of ``timeline`` (the ``event`` shape): its id is
    ``anniversary-35`` for the partnership's, ``<event-id>-anniversary-25`` for an event's."""
    event = next((e for e in rec.get("events") or [] if e["id"] == row["event"]), None)
    eid = f"anniversary-{row['years']}" if event is None else f"{event['id']}-anniversary-{row['years']}"
    return {"partner": row["partner"], "city": row["city"], "id": eid, "date": row["date"], "end": None,
            "title": describe(row), "description": None,
            "themes": list(event["themes"]) if event else [], "links": []}


def next_anniversary(pid: str, rec: Record, today: datetime.date, every: int = DEFAULT_EVERY,
                     horizon: int = 100) -> dict[str, Any] | None:
    """The first round anniversary of *rec* not over before *today* (a first-year one lasts its whole
    year), or None when there is none in the next *horizon* years."""
    for year in range(today.year, today.year + horizon):
        for row in anniversaries({pid: rec}, year, every):
            if dates.bounds(row["date"])[1] >= today:
                return row
    return None
