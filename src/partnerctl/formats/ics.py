"""Export of key events as an iCalendar file (RFC 5545).

Only events with a full date become calendar entries (all-day events); events
dated by a year or a month only are counted and reported as skipped. The output
depends on the registry alone: UIDs come from the event and partnership ids and
DTSTAMP from the event's date, so two exports of the same registry are
byte-identical and a calendar that re-imports the file updates its entries
instead of duplicating them.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import BinaryIO

from partnerctl.core import dates
from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import _
from partnerctl.core.model import Event, Partnership, Registry, is_web_link
from partnerctl.core.text import counted
from partnerctl.storage import files

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


def _vevent(reg: Registry, pid: str, p: Partnership, event: Event) -> list[str]:
    start = datetime.date(*dates.parse(event.date))  # type: ignore[arg-type]
    last = start
    if event.end and dates.parse(event.end)[2] is not None:
        last = datetime.date(*dates.parse(event.end))  # type: ignore[arg-type]
    description = [dates.humanize_span(event.date, event.end)]
    if event.description:
        description.append(event.description.strip())
    description += event.links
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.id}.{pid}@partnerctl",
        # Fixed from the event's date, not the clock: exports stay byte-identical.
        f"DTSTAMP:{_ics_date(start)}T000000Z",
        f"DTSTART;VALUE=DATE:{_ics_date(start)}",
        f"DTEND;VALUE=DATE:{_ics_date(last + datetime.timedelta(days=1))}",
        f"SUMMARY:{escape_text(f'{p.city}: {event.title}')}",
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
    ]
    themes = event.themes or p.themes
    if themes:
        lines.append("CATEGORIES:" + ",".join(escape_text(reg.themes.get(t, t)) for t in themes))
    location = ", ".join(x for x in (p.city, p.country) if x)
    lines.append(f"LOCATION:{escape_text(location)}")
    # A URI is not TEXT and cannot be escaped: only plain web addresses go in.
    url = next((link for link in event.links if is_web_link(link)), None)
    if url:
        lines.append(f"URL:{url}")
    lines.append("END:VEVENT")
    return lines


def calendar_text(reg: Registry) -> tuple[str, int, int]:
    """The iCalendar text of every fully dated event, the number written and the number skipped."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{escape_text(f'{reg.registry.owner} international partnerships')}"]
    written = skipped = 0
    events = sorted(((pid, e) for pid in sorted(reg.partnerships) for e in reg.partnerships[pid].events),
                    key=lambda item: (dates.sort_key(item[1].date), item[0]))
    for pid, event in events:
        if dates.parse(event.date)[2] is None:
            skipped += 1
            continue
        lines += _vevent(reg, pid, reg.partnerships[pid], event)
        written += 1
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines), written, skipped


def export(reg: Registry, fmt: str, target: Path | None, out: BinaryIO) -> str:
    """Write the calendar to *target* (a file) or to *out* (stdout's bytes); return a one-line summary."""
    if fmt != "ics":
        raise InvalidInput(_("the ics exporter cannot write {fmt!r}").format(fmt=fmt))
    text, written, skipped = calendar_text(reg)
    data = text.encode("utf-8")
    if target is None:
        out.write(data)
        out.flush()
        where = "stdout"
    else:
        files.write_atomic(target, data)
        where = str(target)
    return _("wrote {count} to {where}; skipped {skipped} dated only by a year or a month").format(
        count=counted(written, "event"), where=where, skipped=counted(skipped, "event"))
