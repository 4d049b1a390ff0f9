"""Write commands on events and contacts: edit-event, remove-event, add-contact, edit-contact,
remove-contact, and add-event --from-jsonl (many events, all or nothing)."""

from __future__ import annotations

import difflib
import json
import tomllib
from pathlib import Path
from typing import Any


def partnership(path: Path, pid: str) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["partnerships"][pid]


def events(path: Path, pid: str) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in partnership(path, pid).get("events", [])}


def changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines()[2:] if line[:1] in "+-"]


# --- edit-event / remove-event ---------------------------------------------------------------

def test_edit_event_changes_fields_and_keeps_the_id(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "edit-event", "cedar", "2011-bike-plan", "--date", "2011-06",
                    "--title", "Bike plan adopted",
                    "--description", "Voted in June.", "--theme", "planning", "--link", "https://example.org/b",
                    "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: changed event 2011-bike-plan of cedar\n"
    expected = {"partner": "cedar", "city": "Élan", "id": "2011-bike-plan", "date": "2011-06", "end": None,
                "title": "Bike plan adopted", "description": "Voted in June.", "themes": ["urban-planning"],
                "links": ["https://example.org/b"], "notes": None, "internal": False}
    assert json.loads(result.stdout) == expected
    assert events(small_canonical, "cedar")["2011-bike-plan"] == {k: v for k, v in expected.items()
                                                       if k not in ("partner", "city") and v not in (None, False)}


def test_edit_event_by_prefix_and_unset(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "edit-event", "alder", "2005", "--unset", "end", "--unset", "themes")
    assert result.exit_code == 0, result.stderr
    assert events(small_canonical, "alder")["2005-tram-exchange"] == {"id": "2005-tram-exchange", "date": "2005",
                                                          "title": "Tram exchange programme"}


def test_edit_event_new_id(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "edit-event", "alder", "1991-04-charter", "--id", "1991-04-twinning-charter",
                    "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "1991-04-twinning-charter\n"
    assert "1991-04-charter" not in events(small_canonical, "alder")
    assert events(small_canonical, "alder")["1991-04-twinning-charter"]["title"] == "Twinning charter signed"


def test_edit_event_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit-event", "alder", "2012-05-16-food-fair", "--title", "Good food fair",
                    "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: would change event 2012-05-16-food-fair of alder\n"
    assert changed_lines(result.stdout) == ['-title = "Food fair"', '+title = "Good food fair"']
    assert small_canonical.read_bytes() == before


def test_remove_event(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "remove-event", "alder", "1991-first-contacts", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: removed event 1991-first-contacts from alder\n"
    assert json.loads(result.stdout)["title"] == "First contacts"
    assert list(events(small_canonical, "alder")) == ["1991-04-charter", "2005-tram-exchange", "2012-05-16-food-fair"]


def test_remove_event_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "remove-event", "cedar", "2011-bike-plan", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert '-id = "2011-bike-plan"' in changed_lines(result.stdout)
    assert small_canonical.read_bytes() == before


# --- contacts --------------------------------------------------------------------------------

def test_add_contact(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "add-contact", "kingsford", "--name", "Bo Smith", "--role", "mayor's office",
                    "--organisation", "City of Kingsford", "--email", "bo@example.org", "--phone", "+1 555 0100",
                    "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: added contact Bo Smith to birch\n"
    contact = {"name": "Bo Smith", "role": "mayor's office", "organisation": "City of Kingsford",
               "email": "bo@example.org", "phone": "+1 555 0100"}
    assert json.loads(result.stdout) == {"partner": "birch", **contact, "notes": None, "internal": False}
    assert partnership(small_canonical, "birch")["contacts"] == [contact]


def test_add_contact_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "add-contact", "dune", "--name", "Awa Diop", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "+Awa Diop" not in result.stdout  # a TOML line, not the bare name
    assert any("Awa Diop" in line for line in changed_lines(result.stdout))
    assert small_canonical.read_bytes() == before


def test_edit_contact_by_folded_name(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "edit-contact", "alder", "ann example", "--phone", "+39 0", "--unset", "role",
                    "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: changed contact Ann Exàmple of alder\n"
    assert partnership(small_canonical, "alder")["contacts"] == [
        {"name": "Ann Exàmple", "email": "ann@example.org", "phone": "+39 0"}]


def test_remove_contact(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "remove-contact", "alder", "ANN EXAMPLE", "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Ann Exàmple\n"
    assert "contacts" not in partnership(small_canonical, "alder")


def test_remove_contact_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "remove-contact", "alder", "Ann Exàmple", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("--- small.toml\n+++ small.toml (new)\n")
    assert small_canonical.read_bytes() == before


# --- add-event --from-jsonl ------------------------------------------------------------------

LINES = [
    {"partner": "alder", "date": "2020", "title": "Tram anniversary", "themes": ["mobility"]},
    {"partner": "Kingsford", "date": "2021-02", "title": "Planning visit", "end": None,
     "links": ["https://example.org/v"]},
    {"partner": "dune", "date": "2019-11-30", "title": "Food fair", "description": "In Bakel."},
]


def jsonl(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)


def test_from_jsonl_file_adds_every_event(invoke: Any, small_canonical: Path, tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(jsonl(LINES), encoding="utf-8")
    result = invoke(small_canonical, "add-event", "--from-jsonl", str(source), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"partnerctl: added 3 events from {source}\n"
    printed = json.loads(result.stdout)
    assert [(e["partner"], e["id"]) for e in printed] == [
        ("alder", "2020-tram-anniversary"), ("birch", "2021-02-planning-visit"), ("dune", "2019-11-30-food-fair")]
    assert events(small_canonical, "alder")["2020-tram-anniversary"]["themes"] == ["urban-mobility"]
    assert events(small_canonical, "birch")["2021-02-planning-visit"]["links"] == ["https://example.org/v"]
    assert events(small_canonical, "dune")["2019-11-30-food-fair"]["description"] == "In Bakel."


def test_from_jsonl_stdin_prints_rows_by_default(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "add-event", "--from-jsonl", "-", input="\n" + jsonl(LINES[:2]) + "\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["alder\t2020-tram-anniversary\t2020\t\tTram anniversary\turban-mobility",
                                          "birch\t2021-02-planning-visit\t2021-02\t\tPlanning visit\t"]


def test_from_jsonl_is_all_or_nothing(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    bad = jsonl(LINES[:2]) + '{"partner": "dune", "date": "2019-02-30", "title": "Bad day"}\n'
    result = invoke(small_canonical, "add-event", "--from-jsonl", "-", input=bad)
    assert result.exit_code == 2
    assert result.stderr == ("partnerctl: error: line 3: invalid event: date: invalid date '2019-02-30': "
                             "February 2019 has no day 30\n")
    assert result.stdout == ""
    assert small_canonical.read_bytes() == before


def test_from_jsonl_dry_run_prints_the_diff_of_the_real_write(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_text(encoding="utf-8")
    result = invoke(small_canonical, "add-event", "--from-jsonl", "-", "--dry-run", input=jsonl(LINES))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: would add 3 events from -\n"
    assert small_canonical.read_text(encoding="utf-8") == before

    assert invoke(small_canonical, "add-event", "--from-jsonl", "-", input=jsonl(LINES)).exit_code == 0
    after = small_canonical.read_text(encoding="utf-8")
    expected = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                    "small.toml", "small.toml (new)")
    assert result.stdout == "".join(expected)


def test_untrusted_text_in_messages_is_shown_literally(invoke: Any, small_canonical: Path) -> None:
    name = "Eve \x1b[31mRed\x1b[0m [bold]x[/bold]"
    result = invoke(small_canonical, "add-contact", "dune", "--name", name)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: added contact Eve \\x1b[31mRed\\x1b[0m [bold]x[/bold] to dune\n"
    diff = invoke(small_canonical, "edit-contact", "dune", name, "--role", "x", "--dry-run")
    assert diff.exit_code == 0, diff.stderr
    assert "\x1b" not in diff.stdout + diff.stderr
    assert partnership(small_canonical, "dune")["contacts"] == [{"name": name}]
