"""partnerctl export --format ics, checked line by line against RFC 5545."""

from __future__ import annotations

from pathlib import Path

import pytest

from partnerctl.formats import ics

ICS_TOML = """\
[registry]
owner = "Lyon"

[themes]
culture = "Culture"
parks = "Parks, rivers; lakes"

[partnerships.turin]
city = "Turin"
country = "IT"
themes = ["culture"]

[[partnerships.turin.events]]
id = "1991-04-official-relations"
date = "1991-04"
title = "Official relations"

[[partnerships.turin.events]]
id = "2011-03-15-parks-charter"
date = "2011-03-15"
title = "Charter; parks, rivers \\\\ lakes"
description = "First line\\nsecond line"
themes = ["parks"]
links = ["https://example.org/charter?a=1;b=2", "javascript:alert(1)"]

[[partnerships.turin.events]]
id = "2013-10-03-festival"
date = "2013-10-03"
end = "2013-10-05"
title = "Festival"

[[partnerships.turin.events]]
id = "2014-05-01-long"
date = "2014-05-01"
end = "2014-06"
title = "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé€€€€€€€€€€€€€€€€€€€€€€€€"

[partnerships.bamako]
city = "Bamako"
country = "ML"

[[partnerships.bamako.events]]
id = "2003"
date = "2003"
title = "Cooperation"
"""


@pytest.fixture
def ics_registry(make_registry) -> Path:
    return make_registry(ICS_TOML)


def _export(invoke, path: Path, target: Path) -> bytes:
    result = invoke(path, "export", "--format", "ics", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return target.read_bytes()


def _unfold(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def _events(lines: list[str]) -> list[dict[str, str]]:
    events, current = [], None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return events


def test_every_line_is_crlf_terminated_and_at_most_75_octets(invoke, ics_registry: Path, tmp_path: Path) -> None:
    data = _export(invoke, ics_registry, tmp_path / "out.ics")
    assert data.endswith(b"\r\n")
    physical = data.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(physical) and b"\r" not in b"".join(physical)
    for line in physical:
        assert len(line) <= 75, line
        line.decode("utf-8")  # never cut inside a multi-byte character
    # The long title really was folded (so the check above checked something).
    assert any(line.startswith(b" ") for line in physical)


def test_calendar_envelope_and_one_all_day_event_per_full_date(invoke, ics_registry: Path, tmp_path: Path) -> None:
    lines = _unfold(_export(invoke, ics_registry, tmp_path / "out.ics"))
    assert lines[:3] == ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{ics.PRODID}"]
    assert lines[-1] == "END:VCALENDAR"
    events = _events(lines)
    assert [(e["UID"], e["DTSTART;VALUE=DATE"], e["DTEND;VALUE=DATE"], e["DTSTAMP"]) for e in events] == [
        ("2011-03-15-parks-charter.turin@partnerctl", "20110315", "20110316", "20110315T000000Z"),
        # A full end date: DTEND is the day after it (exclusive end).
        ("2013-10-03-festival.turin@partnerctl", "20131003", "20131006", "20131003T000000Z"),
        # An end that is only a month: a one-day event.
        ("2014-05-01-long.turin@partnerctl", "20140501", "20140502", "20140501T000000Z"),
    ]


def test_text_values_are_escaped(invoke, ics_registry: Path, tmp_path: Path) -> None:
    [charter, *_] = _events(_unfold(_export(invoke, ics_registry, tmp_path / "out.ics")))
    assert charter["SUMMARY"] == "Lyon – Turin: Charter\\; parks\\, rivers \\\\ lakes"
    assert charter["DESCRIPTION"] == ("15 March 2011\\nFirst line\\nsecond line\\n"
                                      "https://example.org/charter?a=1\\;b=2\\njavascript:alert(1)")
    # One category whose label holds a comma and a semicolon: escaped, not split.
    assert charter["CATEGORIES"] == "Parks\\, rivers\\; lakes"
    assert charter["LOCATION"] == "Turin\\, Italy"
    # Only a web address becomes the URL property.
    assert charter["URL"] == "https://example.org/charter?a=1;b=2"


def test_uids_stable_and_exports_byte_identical(invoke, ics_registry: Path, tmp_path: Path) -> None:
    first = _export(invoke, ics_registry, tmp_path / "one.ics")
    second = _export(invoke, ics_registry, tmp_path / "two.ics")
    assert first == second
    uids = [line for line in _unfold(first) if line.startswith("UID:")]
    assert len(uids) == len(set(uids)) == 3


def test_partial_dates_are_counted_as_skipped(invoke, ics_registry: Path, tmp_path: Path) -> None:
    result = invoke(ics_registry, "export", "--format", "ics", "-o", str(tmp_path / "out.ics"))
    assert result.exit_code == 0
    assert "wrote 3 events" in result.stderr
    assert "skipped 2 events dated only by a year or a month" in result.stderr


def test_stdout_when_no_file_is_named(invoke, ics_registry: Path, tmp_path: Path) -> None:
    result = invoke(ics_registry, "export", "--format", "ics")
    assert result.exit_code == 0
    assert result.stdout_bytes == _export(invoke, ics_registry, tmp_path / "out.ics")


def test_a_folder_is_not_a_calendar_file(invoke, ics_registry: Path, tmp_path: Path) -> None:
    result = invoke(ics_registry, "export", "--format", "ics", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


@pytest.mark.parametrize("line", [
    "SUMMARY:" + "a" * 200,
    "SUMMARY:" + "é" * 100,
    "SUMMARY:" + "€" * 60 + "a",
    "SUMMARY:" + "x" * 66 + "😀" * 10,
])
def test_folding_keeps_every_line_short_and_characters_whole(line: str) -> None:
    folded = ics.fold_line(line).encode("utf-8")
    parts = folded.split(b"\r\n")
    assert all(len(p) <= 75 for p in parts)
    assert all(p.startswith(b" ") for p in parts[1:])
    assert [p.decode("utf-8") for p in parts]
    assert folded.decode("utf-8").replace("\r\n ", "") == line
