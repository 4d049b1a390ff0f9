"""anniversaries, timeline --upcoming's anniversaries, and export --format ics --anniversaries (issue 13 item 2).

The expected anniversaries are computed here from the registry file itself (tomllib), not from partnerctl's code.
"""

from __future__ import annotations

import datetime
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest


def _expected(path: Path, year: int, every: int = 5) -> set[tuple[str, int, str, str | None]]:
    """(partner, years, date, event id) of every round anniversary *year* holds, read from the TOML."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = set()
    for pid, p in data["partnerships"].items():
        since = p.get("since")
        if since is not None and year > since and (year - since) % every == 0:
            out.add((pid, year - since, str(year), None))
        for event in p.get("events", []):
            parts = event["date"].split("-")
            if len(parts) == 3 and year > int(parts[0]) and (year - int(parts[0])) % every == 0:
                out.add((pid, year - int(parts[0]), f"{year}-{parts[1]}-{parts[2]}", event["id"]))
    return out


def _json(invoke, path: Path, *args: str) -> list[dict[str, Any]]:
    result = invoke(path, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("year", [2026, 2001, 2031])
def test_the_year_lists_exactly_the_round_anniversaries_the_registry_implies(invoke, registry_path: Path,
                                                                              year: int) -> None:
    rows = _json(invoke, registry_path, "anniversaries", "--year", str(year))
    got = {(r["partner"], r["years"], r["date"], r["event"]) for r in rows}
    assert len(got) == len(rows)
    assert got == _expected(registry_path, year)
    assert all(r["jubilee"] == (r["years"] % 25 == 0) for r in rows)
    # Date order; a first year (no day) before the dated ones of its year.
    assert [r["date"] for r in rows] == sorted((r["date"] for r in rows), key=lambda d: (len(d) > 4, d))


def test_2026_holds_the_ones_the_issue_names(invoke, registry_path: Path) -> None:
    rows = _json(invoke, registry_path, "anniversaries", "--year", "2026")
    first_years = {(r["city"], r["years"], r["jubilee"]) for r in rows if r["event"] is None}
    assert {("Milan", 60, False), ("Birmingham", 75, True), ("Turin", 35, False), ("Łódź", 35, False),
            ("Barcelona", 25, True)} <= first_years


def test_every_and_named_partners(invoke, registry_path: Path) -> None:
    rows = _json(invoke, registry_path, "anniversaries", "turin", "milan", "--year", "2027", "--every", "1")
    assert {(r["partner"], r["event"]) for r in rows if r["event"] is None} == {("turin", None), ("milan", None)}
    assert {(r["partner"], r["years"], r["date"], r["event"]) for r in rows} == {
        row for row in _expected(registry_path, 2027, every=1) if row[0] in ("turin", "milan")}


def test_piped_and_terminal_output(invoke, small_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # alder: since 1991 and a food fair on 16 May 2012; 2016 is 25 years of one, 4 of the other (--every 1).
    result = invoke(small_registry, "anniversaries", "alder", "--year", "2016")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "alder\tMarlow\t2016\t25\tTrue\t1991\t\t\n"
    result = invoke(small_registry, "anniversaries", "alder", "--year", "2022", "--every", "10", "--format", "csv")
    assert result.stdout == ("partner,city,date,years,jubilee,since,event,title\n"
                             "alder,Marlow,2022-05-16,10,False,2012-05-16,2012-05-16-food-fair,Food fair\n")
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    result = invoke(small_registry, "anniversaries", "alder", "--year", "2016")
    assert "25 ★" in result.stdout and "25th anniversary of the partnership (1991)" in result.stdout
    result = invoke(small_registry, "anniversaries", "alder", "--year", "1992")
    assert result.exit_code == 0 and "no anniversaries" in result.stderr


def test_a_29_february_falls_on_the_28th(invoke, make_registry) -> None:
    path = make_registry('[registry]\nowner = "Lyon"\ncountry = "FR"\n\n[partnerships.x]\ncity = "X"\n'
                         'country = "IT"\n\n[[partnerships.x.events]]\nid = "leap"\ndate = "2000-02-29"\n'
                         'title = "Leap"\n')
    rows = _json(invoke, path, "anniversaries", "--year", "2005")
    assert [(r["date"], r["years"]) for r in rows] == [("2005-02-28", 5)]


def _agenda(make_registry, today: datetime.date) -> Path:
    """A partnership begun 35 years ago, with an event 25 years ago today and one 25 years ago yesterday."""
    back = today.replace(year=today.year - 25) if (today.month, today.day) != (2, 29) else today - datetime.timedelta(1)
    yesterday = back - datetime.timedelta(days=1)
    return make_registry(f'''[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"

[partnerships.x]
city = "Xanten"
country = "DE"
since = {today.year - 35}
themes = ["culture"]

[[partnerships.x.events]]
id = "today"
date = "{back.isoformat()}"
title = "Signed today"

[[partnerships.x.events]]
id = "yesterday"
date = "{yesterday.isoformat()}"
title = "Signed yesterday"
''')


def test_timeline_upcoming_lists_this_years_anniversaries(invoke, make_registry) -> None:
    today = datetime.date.today()
    if today.month == 1 and today.day == 1:
        pytest.skip("on 1 January, yesterday's anniversary is last year's")
    path = _agenda(make_registry, today)
    rows = _json(invoke, path, "timeline", "--upcoming")
    ids = [r["id"] for r in rows]
    # The first year's (all year long) and the event's of today; yesterday's is over; the events themselves are past.
    assert sorted(ids) == ["anniversary-35", "today-anniversary-25"]
    assert f"35th anniversary of the partnership ({today.year - 35})" in {r["title"] for r in rows}
    assert _json(invoke, path, "timeline", "--upcoming", "--no-anniversaries") == []


def test_ics_anniversaries_are_entries_of_their_own(invoke, make_registry, tmp_path: Path) -> None:
    today = datetime.date.today()
    path = _agenda(make_registry, today)
    out = tmp_path / "a.ics"
    result = invoke(path, "export", "--format", "ics", "--anniversaries", f"{today.year}-{today.year + 5}",
                    "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8").replace("\r\n ", "")
    uids = sorted(line for line in text.splitlines() if line.startswith("UID:anniversary"))
    assert uids == [f"UID:anniversary-{y}.{e}.x@partnerctl" for y in (25, 30) for e in ("today", "yesterday")]
    assert "SUMMARY:Lyon – Xanten: 25th anniversary: Signed today" in text
    # The same export twice: the same bytes.
    again = tmp_path / "b.ics"
    invoke(path, "export", "--format", "ics", "--anniversaries", f"{today.year}-{today.year + 5}", "-o", str(again))
    assert again.read_bytes() == out.read_bytes()
    bad = invoke(path, "export", "--format", "ics", "--anniversaries", "soon", "-o", str(tmp_path / "c.ics"))
    assert bad.exit_code == 2 and bad.stderr.startswith("partnerctl: error: ")
