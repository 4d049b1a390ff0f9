"""Export of key events as an iCalendar file (RFC 5545).

Only events with a full date become calendar entries (all-day events); events
dated by a year or a month only are counted and reported as skipped. The output
depends on the registry alone: UIDs come from the event and partnership ids and
DTSTAMP from the event's date, so two exports of the same registry are
byte-identical and a calendar that re-imports the file updates its entries
instead of duplicating them.

Each SUMMARY names both cities (``Lyon – Turin: Parks charter``), so a calendar
holding the relations of several owners stays readable. Events and fields
marked internal are left out unless *include_internal*. With *anniversaries*
(years), the round anniversaries of those years whose day is known (those of
events dated to the day) are added as entries of their own (UID
``anniversary-<years>.<event-id>.<partnership-id>@partnerctl``); a partnership's
first year has no day, so its anniversaries are counted as skipped.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from partnerctl.core import anniversaries as dated
from partnerctl.core import dates
from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import _
from partnerctl.core.model import is_web_link
from partnerctl.core.query import Record, Snapshot
from partnerctl.core.query import snapshot as query_snapshot
from partnerctl.core.records import published
from partnerctl.core.text import counted
from partnerctl.storage import files

if TYPE_CHECKING:
    from partnerctl.storage.reader import Reader

CRLF = "\r\n"
MAX_OCTETS = 75
PRODID = "-//partnerctl//Partnership key dates//EN"


def escape_text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 3.3.11 says: backslash, semicolon, comma, newline."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold_line(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            # A continuation line starts with one space, which counts in its 75 octets.
            current, size, limit = "", 0, MAX_OCTETS - 1
        current += char
        size += width
    parts.append(current)
    return (CRLF + " ").join(parts)


def _ics_date(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def _day(text: str) -> datetime.date:
    year, month, day = dates.parse(text)
    assert month is not None and day is not None
    return datetime.date(year, month, day)


def _vevent(head: Snapshot, pid: str, rec: Record, event: Mapping[str, Any], *, uid: str | None = None,
            title: str | None = None, start: datetime.date | None = None) -> list[str]:
    start = start or _day(event["date"])
    last = start
    if uid is None and event["end"] and dates.parse(event["end"])[2] is not None:
        last = _day(event["end"])
    description = [dates.humanize_span(event["date"], event["end"])]
    if event["description"]:
        description.append(event["description"].strip())
    description += event["links"]
    # Both cities: a calendar of several owners' relations must say whose each entry is.
    summary = f"{head.value(rec, 'owner')} – {rec['city']}: {title or event['title']}"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid or event['id']}.{pid}@partnerctl",
        # Fixed from the event's date, not the clock: exports stay byte-identical.
        f"DTSTAMP:{_ics_date(start)}T000000Z",
        f"DTSTART;VALUE=DATE:{_ics_date(start)}",
        f"DTEND;VALUE=DATE:{_ics_date(last + datetime.timedelta(days=1))}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
    ]
    themes = event["themes"] or rec["themes"]
    if themes:
        lines.append("CATEGORIES:" + ",".join(escape_text(head.labels("theme").get(t, t)) for t in themes))
    from partnerctl.core.countries import display

    location = ", ".join(x for x in (rec["city"], display(rec["country"]) if rec["country"] else None) if x)
    lines.append(f"LOCATION:{escape_text(location)}")
    # A URI is not TEXT and cannot be escaped: only plain web addresses go in.
    url = next((link for link in event["links"] if is_web_link(link)), None)
    if url:
        lines.append(f"URL:{url}")
    lines.append("END:VEVENT")
    return lines


def calendar_text(source: Reader, *, include_internal: bool = False,
                  anniversaries: Sequence[int] = ()) -> tuple[str, int, int]:
    """The iCalendar text of every fully dated event (and the anniversaries of *anniversaries*),
    the number of entries written and the number skipped (no day to put in a calendar).

    The partnerships are read one at a time (``Reader.each_record``); only those
    with events are kept, to put their events in date order.
    """
    reg = source.head
    head = query_snapshot(reg, {})
    records = {}
    for pid, rec in source.each_record():
        if rec["events"]:
            records[pid] = rec if include_internal else published(rec)
    name = getattr(reg.registry, "name", None) or f"{reg.registry.owner} international partnerships"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{escape_text(name)}"]
    written = skipped = 0
    entries: list[tuple[tuple[int, int, int], str, list[str]]] = []
    for pid, rec in records.items():
        for event in rec["events"]:
            if dates.parse(event["date"])[2] is None:
                skipped += 1
                continue
            entries.append((dates.sort_key(event["date"]), pid, _vevent(head, pid, rec, event)))
    for year in anniversaries:
        for row in dated.anniversaries(records, year):
            if row["event"] is None:
                skipped += 1
                continue
            event = next(e for e in records[row["partner"]]["events"] if e["id"] == row["event"])
            entries.append((dates.sort_key(row["date"]), row["partner"], _vevent(
                head, row["partner"], records[row["partner"]], event, uid=f"anniversary-{row['years']}.{event['id']}",
                title=dated.describe(row), start=_day(row["date"]))))
    for _date, _order, vevent in sorted(entries, key=lambda entry: entry[:2]):
        lines += vevent
        written += 1
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines), written, skipped


def export(source: Reader, fmt: str, target: Path | None, out: BinaryIO, *, include_internal: bool = False,
           anniversaries: Sequence[int] = ()) -> str:
    """Write the calendar to *target* (a file) or to *out* (stdout's bytes); return a one-line summary."""
    if fmt != "ics":
        raise InvalidInput(_("the ics exporter cannot write {fmt!r}").format(fmt=fmt))
    text, written, skipped = calendar_text(source, include_internal=include_internal, anniversaries=anniversaries)
    data = text.encode("utf-8")
    if target is None:
        out.write(data)
        out.flush()
        where = "stdout"
    else:
        files.write_atomic(target, data)
        where = str(target)
    what = "entry" if anniversaries else "event"
    plural = "entries" if anniversaries else None
    return _("wrote {count} to {where}; skipped {skipped} dated only by a year or a month").format(
        count=counted(written, what, plural), where=where, skipped=counted(skipped, what, plural))
