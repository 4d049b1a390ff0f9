"""--fields on list/show/timeline, and timeline --upcoming [--days N]."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from partnerctl.core import query
from partnerctl.storage.reader import open_registry


def test_list_fields_choose_json_keys_in_order(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--fields", "since,id", "--format", "json", "--sort", "since")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"since": 1975, "id": "birch"}, {"since": 1991, "id": "alder"},
                                         {"since": 2003, "id": "cedar"}, {"since": None, "id": "dune"}]


def test_list_fields_choose_csv_and_tsv_columns(invoke, small_registry: Path) -> None:
    csv_out = invoke(small_registry, "list", "--fields", "id,city,networks", "--format", "csv").stdout
    assert csv_out.splitlines() == ["id,city,networks", "alder,Marlow,\"delice,eurocities\"",
                                    "birch,Kingsford,\"eurocities,luci\"", "cedar,Élan,delice", "dune,Bakel,"]
    tsv_out = invoke(small_registry, "list", "--fields", "city", "--theme", "food").stdout
    assert tsv_out == "Marlow\nBakel\n"
    jsonl = invoke(small_registry, "list", "--fields", "id", "--format", "jsonl", "--status", "ended").stdout
    assert jsonl == '{"id": "birch"}\n'


def test_show_fields(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "show", "alder", "--fields", "id,aliases,contacts", "--json")
    assert json.loads(result.stdout) == {"id": "alder", "aliases": ["Mårlø"], "contacts": [
        {"name": "Ann Exàmple", "role": "desk officer", "organisation": None, "email": "ann@example.org",
         "phone": None, "notes": None, "internal": False}]}
    assert invoke(small_registry, "show", "alder", "--fields", "city,since", "-f", "tsv").stdout == "Marlow\t1991\n"


def test_timeline_fields(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "timeline", "cedar", "--fields", "date,city,title", "--format", "csv")
    assert result.stdout.splitlines() == ["date,city,title", "2003-01-15,Élan,Agreement signed", "2011,Élan,Bike plan"]


@pytest.mark.parametrize("command", [["list"], ["show", "alder"], ["timeline"]])
def test_unknown_field_is_a_usage_error_listing_the_valid_ones(invoke, small_registry: Path,
                                                               command: list[str]) -> None:
    result = invoke(small_registry, *command, "--fields", "id,colour", "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown field 'colour'" in result.stderr
    valid = "partner, city, id, date, end, title" if command == ["timeline"] else "id, city, aliases, country"
    assert f"valid fields: {valid}" in result.stderr


def test_every_record_key_is_a_valid_field(invoke, small_registry: Path) -> None:
    record = json.loads(invoke(small_registry, "show", "alder", "--json").stdout)
    assert invoke(small_registry, "list", "--fields", ",".join(record), "--json").exit_code == 0
    event = json.loads(invoke(small_registry, "timeline", "--json").stdout)[0]
    assert invoke(small_registry, "timeline", "--fields", ",".join(event), "--json").exit_code == 0


AGENDA_TOML = """\
[registry]
owner = "Lyon"

[partnerships.alder]
city = "Marlow"
country = "IT"
"""


def _agenda(make_registry, today: datetime.date) -> Path:
    """A registry whose events are placed around *today*."""
    day = datetime.timedelta(days=1)
    events = [
        ("yesterday", (today - day).isoformat(), None),
        ("today", today.isoformat(), None),
        ("in-ten-days", (today + 10 * day).isoformat(), None),
        ("in-hundred-days", (today + 100 * day).isoformat(), None),
        ("last-year", str(today.year - 1), None),
        ("running-period", str(today.year - 3), str(today.year + 1)),
    ]
    text = AGENDA_TOML + "".join(
        f'\n[[partnerships.alder.events]]\nid = "{eid}"\ndate = "{date}"\ntitle = "{eid}"\n'
        + (f'end = "{end}"\n' if end else "") for eid, date, end in events)
    return make_registry(text)


def _ids(invoke, path: Path, *args: str) -> list[str]:
    result = invoke(path, "timeline", *args, "--fields", "id", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()[1:]


def test_upcoming_from_today_on(invoke, make_registry) -> None:
    path = _agenda(make_registry, datetime.date.today())
    assert _ids(invoke, path, "--upcoming") == ["running-period", "today", "in-ten-days", "in-hundred-days"]
    assert _ids(invoke, path, "--upcoming", "--days", "30") == ["running-period", "today", "in-ten-days"]
    assert _ids(invoke, path, "--days", "0") == ["running-period", "today"]


def test_negative_days_is_a_usage_error(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "timeline", "--upcoming", "--days", "-1")
    assert result.exit_code == 2


def test_partial_dates_last_until_their_last_day(small_registry: Path) -> None:
    reader = open_registry(small_registry)
    items = query.timeline(reader.snapshot({pid: reader.record(pid) for pid in ("alder", "birch", "cedar", "dune")}))  # alder: 1991-04, 1991, 2005..2008, 2012-05-16; birch 2010-03 ...
    on = {e["id"] for _, e in query.upcoming(items, datetime.date(1991, 4, 30))}
    assert {"1991-04-charter", "1991-first-contacts"} <= on
    on = {e["id"] for _, e in query.upcoming(items, datetime.date(1991, 5, 1))}
    assert "1991-04-charter" not in on and "1991-first-contacts" in on
    on = {e["id"] for _, e in query.upcoming(items, datetime.date(2008, 12, 31), days=0)}
    assert on == {"2005-tram-exchange"}
