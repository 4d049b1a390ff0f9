"""Partial dates: ``1991``, ``1991-04`` or ``1991-04-15``, kept as strings."""

from __future__ import annotations

import datetime
import re

from partnerctl.core.i18n import _

# ASCII digits only, and fullmatch: no trailing newline slips through.
_DATE_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_MONTHS = ("January February March April May June July August September "
           "October November December").split()


def _month_days(year: int, month: int) -> int:
    """How many days month *month* of *year* has (``calendar.monthrange`` without importing calendar)."""
    if month == 12:
        return 31
    return (datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)).day


def parse(text: str) -> tuple[int, int | None, int | None]:
    """Split a partial date into (year, month, day); raise ValueError if it is not one."""
    m = _DATE_RE.fullmatch(text)
    if not m:
        raise ValueError(_("invalid date {text!r}: write YYYY, YYYY-MM or YYYY-MM-DD").format(text=text))
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if year < 1:
        raise ValueError(_("invalid date {text!r}: no year 0").format(text=text))
    if month is not None and not 1 <= month <= 12:
        raise ValueError(_("invalid date {text!r}: month must be 01-12").format(text=text))
    if day is not None and not 1 <= day <= _month_days(year, month or 1):
        raise ValueError(_("invalid date {text!r}: {value} {year} has no day {day}").format(
            text=text, value=_MONTHS[(month or 1) - 1], year=year, day=day))
    return year, month, day


def validate(text: str) -> str:
    """Return *text* unchanged if it is a valid partial date, else raise ValueError."""
    parse(text)
    return text


def sort_key(text: str) -> tuple[int, int, int]:
    """Chronological key: a year sorts before its months, a month before its days."""
    year, month, day = parse(text)
    return year, month or 0, day or 0


def _localized(year: int, month: int, day: int | None) -> str:
    """A month (``avril 1991``) or a day (``26 novembre 2013``) in the language in force, through Babel.

    Only called for a language other than English: Babel (tens of milliseconds to
    import) stays off the English path, whose dates are the ones above.
    """
    from babel.dates import format_date

    from partnerctl.core.i18n import language

    pattern = "MMMM y" if day is None else "d MMMM y"
    shown = str(format_date(datetime.date(year, month, day or 1), pattern, locale=language()))
    # French writes the first of the month as an ordinal: "1er août 2013".
    return "1er" + shown[1:] if day == 1 and language() == "fr" else shown


def _english() -> bool:
    from partnerctl.core.i18n import language

    return language() == "en"


def humanize(text: str) -> str:
    """The date as people write it: ``1991``, ``April 1991``, ``16 May 2012`` (``avril 1991`` in French)."""
    year, month, day = parse(text)
    if month is not None and not _english():
        return _localized(year, month, day)
    if month is None:
        return str(year)
    if day is None:
        return f"{_MONTHS[month - 1]} {year}"
    return f"{day} {_MONTHS[month - 1]} {year}"


def humanize_span(start: str, end: str | None) -> str:
    """A date or a period: ``April 1991``, ``2001 – 2008``, ``3–4 October 2013``."""
    if not end:
        return humanize(start)
    (y1, m1, d1), (y2, m2, d2) = parse(start), parse(end)
    if not _english() and d1 and d2 and m1 and m2 and y1 == y2:
        # "3–4 octobre 2013", "3 octobre – 4 novembre 2013": the end in full, the start as short as it can be.
        first = str(d1) if m1 == m2 else _localized(y1, m1, d1).rsplit(" ", 1)[0]
        return f"{first}{'–' if m1 == m2 else ' – '}{_localized(y2, m2, d2)}"
    if d1 and d2 and m1 and m2 and (y1, m1) == (y2, m2):
        return f"{d1}–{d2} {_MONTHS[m2 - 1]} {y2}"
    if d1 and d2 and m1 and m2 and y1 == y2:
        return f"{d1} {_MONTHS[m1 - 1]} – {d2} {_MONTHS[m2 - 1]} {y2}"
    return f"{humanize(start)} – {humanize(end)}"


def bounds(text: str) -> tuple[datetime.date, datetime.date]:
    """First and last day a partial date can mean: ``2012-05`` -> 1 May 2012 .. 31 May 2012."""
    year, month, day = parse(text)
    if day is not None:
        exact = datetime.date(year, month or 1, day)
        return exact, exact
    if month is not None:
        return datetime.date(year, month, 1), datetime.date(year, month, _month_days(year, month))
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


# The ``since`` of a partnership and the years of --since/--until: 1 to 9999, what a date can hold.
MIN_YEAR, MAX_YEAR = 1, 9999
# --days: far enough for any agenda, near enough that today plus that many days is a date.
MAX_DAYS = 1_000_000


def _whole_number(text: str, low: int, high: int) -> int | None:
    """*text* as a whole number in [low, high] written in ASCII digits (spaces around allowed), else None.

    ``int()`` would also take ``1_991``, ``+1991`` and other scripts' digits (``١٩٩١``).
    """
    digits = text.strip(" \t")
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits.lstrip("0")) > len(str(high)):
        return None
    value = int(digits)
    return value if low <= value <= high else None


def parse_year(text: str) -> int:
    """A year written in ASCII digits, 1 to 9999; ValueError saying so otherwise."""
    year = _whole_number(text, MIN_YEAR, MAX_YEAR)
    if year is None:
        raise ValueError(_("{text!r} is not a year (digits, {MIN_YEAR} to {MAX_YEAR}, such as 1991)").format(
            text=text, MIN_YEAR=MIN_YEAR, MAX_YEAR=MAX_YEAR))
    return year


def parse_days(text: str) -> int:
    """A number of days written in ASCII digits, 0 to MAX_DAYS; ValueError saying so otherwise."""
    days = _whole_number(text, 0, MAX_DAYS)
    if days is None:
        raise ValueError(_("{text!r} is not a number of days (digits, 0 to {MAX_DAYS})").format(
            text=text, MAX_DAYS=MAX_DAYS))
    return days
