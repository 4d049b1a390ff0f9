"""Partial dates: parsing, validation, chronological order, display."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerctl.core import dates

MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("1991", (1991, None, None)),
        ("1991-04", (1991, 4, None)),
        ("1991-04-15", (1991, 4, 15)),
        ("2024-02-29", (2024, 2, 29)),
        ("2000-02-29", (2000, 2, 29)),
        ("0001", (1, None, None)),
        ("9999-12-31", (9999, 12, 31)),
    ],
)
def test_valid_partial_dates_parse(text: str, parts: tuple[int, int | None, int | None]) -> None:
    assert dates.parse(text) == parts
    assert dates.validate(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "2011-13",       # month 13
        "2011-00",       # month 0
        "2011-02-30",    # no such day
        "2023-02-29",    # not a leap year
        "1900-02-29",    # century, not a leap year
        "2011-04-31",
        "2011-01-00",
        "March 2011",
        "91",
        "2011-4",
        "2011-04-5",
        "20110415",
        "2011/04/15",
        "0000",          # no year 0
        "",
        " 1991",
        "1991 ",
        "1991-",
        "1991-04-15T10:00",
    ],
)
def test_invalid_partial_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="invalid date"):
        dates.parse(text)
    with pytest.raises(ValueError):
        dates.validate(text)


def test_refusal_message_names_the_text_and_the_reason() -> None:
    with pytest.raises(ValueError) as exc:
        dates.validate("2011-02-30")
    assert "'2011-02-30'" in str(exc.value)
    assert "February 2011 has no day 30" in str(exc.value)
    with pytest.raises(ValueError, match="month must be 01-12"):
        dates.validate("2011-13")
    with pytest.raises(ValueError, match="YYYY, YYYY-MM or YYYY-MM-DD"):
        dates.validate("March 2011")


def test_trailing_newline_is_refused() -> None:
    with pytest.raises(ValueError):
        dates.validate("1991\n")


def test_non_ascii_digits_are_refused() -> None:
    with pytest.raises(ValueError):
        dates.validate("\uff11\uff19\uff19\uff11")   # full-width "1991"


def test_sort_key_year_before_its_months_before_its_days() -> None:
    ordered = ["2011", "2011-01", "2011-01-01", "2011-01-31", "2011-02", "2011-03-01", "2011-12",
               "2011-12-31", "2012", "2012-05", "2012-05-16"]
    assert sorted(reversed(ordered), key=dates.sort_key) == ordered
    assert dates.sort_key("2012") < dates.sort_key("2012-01") < dates.sort_key("2012-05-16")
    assert dates.sort_key("2011-12-31") < dates.sort_key("2012")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1991", "1991"),
        ("1991-04", "April 1991"),
        ("2012-05-16", "16 May 2012"),
        ("2013-11-06", "6 November 2013"),
        ("2011-03", "March 2011"),
        ("2000-01-01", "1 January 2000"),
        ("2010-12", "December 2010"),
    ],
)
def test_humanize(text: str, shown: str) -> None:
    assert dates.humanize(text) == shown


def test_humanize_refuses_an_invalid_date() -> None:
    with pytest.raises(ValueError):
        dates.humanize("2011-13")


# --- properties -------------------------------------------------------------

full_dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@st.composite
def partial_dates(draw: st.DrawFn) -> str:
    d = draw(full_dates)
    precision = draw(st.sampled_from(["year", "month", "day"]))
    if precision == "year":
        return f"{d.year:04d}"
    if precision == "month":
        return f"{d.year:04d}-{d.month:02d}"
    return d.isoformat()


@settings(max_examples=200, deadline=None)
@given(partial_dates())
def test_any_valid_date_validates_and_humanizes(text: str) -> None:
    assert dates.validate(text) == text
    year, month, day = dates.parse(text)
    shown = dates.humanize(text)
    assert shown.endswith(str(year))
    if month is None:
        assert shown == str(year)
    elif day is None:
        assert shown == f"{MONTHS[month - 1]} {year}"
    else:
        assert shown == f"{day} {MONTHS[month - 1]} {year}"


@settings(max_examples=200, deadline=None)
@given(full_dates, full_dates)
def test_sort_key_matches_calendar_order_for_full_dates(a: dt.date, b: dt.date) -> None:
    ka, kb = dates.sort_key(a.isoformat()), dates.sort_key(b.isoformat())
    assert (ka < kb) == (a < b)
    assert (ka == kb) == (a == b)


@settings(max_examples=200, deadline=None)
@given(full_dates)
def test_a_date_sorts_after_its_month_and_year(d: dt.date) -> None:
    year, month = f"{d.year:04d}", f"{d.year:04d}-{d.month:02d}"
    assert dates.sort_key(year) < dates.sort_key(month) < dates.sort_key(d.isoformat())
    if d.year < 9999:
        assert dates.sort_key(d.isoformat()) < dates.sort_key(f"{d.year + 1:04d}")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=12),
       st.integers(min_value=1, max_value=31))
def test_day_accepted_exactly_when_it_exists(year: int, month: int, day: int) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}"
    try:
        dt.date(year, month, day)
    except ValueError:
        with pytest.raises(ValueError):
            dates.validate(text)
    else:
        assert dates.validate(text) == text
