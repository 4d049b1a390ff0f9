"""`add-event` on a copy of the shipped Lyon registry: what it prints, writes and refuses."""

from __future__ import annotations

import difflib
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from partnerctl.storage import reader

CITIES = {"turin": "Turin", "milan": "Milan", "lodz": "Łódź"}


def event(partner: str, id: str, date: str, title: str, *, end: str | None = None,
          description: str | None = None, themes: list[str] | None = None,
          links: list[str] | None = None, notes: str | None = None, internal: bool = False) -> dict[str, Any]:
    """The JSON object add-event prints for the event it added: as timeline prints events (with the city)."""
    return {"partner": partner, "city": CITIES[partner], "id": id, "date": date, "end": end, "title": title,
            "description": description, "themes": themes or [], "links": links or [], "notes": notes,
            "internal": internal}


def turin_events(invoke, path: Path) -> list[dict[str, Any]]:
    result = invoke(path, "show", "turin", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["events"]


def test_add_event_prints_the_event_and_says_what_it_did(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-03", "--title", "Joint light festival",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == event("turin", "2011-03-joint-light-festival", "2011-03",
                                               "Joint light festival")
    assert result.stderr == "partnerctl: added event 2011-03-joint-light-festival to turin\n"


def test_added_event_shows_with_its_partial_date(invoke, registry_path: Path) -> None:
    before = turin_events(invoke, registry_path)
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-03", "--title", "Joint light festival")
    assert result.exit_code == 0, result.stderr
    after = turin_events(invoke, registry_path)
    added = {"id": "2011-03-joint-light-festival", "date": "2011-03", "end": None,
             "title": "Joint light festival", "description": None, "themes": [], "links": [],
             "notes": None, "internal": False}
    assert added in after
    assert [e for e in after if e not in before] == [added]
    # In date order: after the existing 2011-03 event (same date keeps file order), before 2012.
    ids = [e["id"] for e in after]
    assert ids.index("2011-03-parks-twinning-charter") < ids.index(added["id"]) < ids.index("2012-one-off-events-sncf")


def test_event_id_is_date_and_title_words_and_repeats_get_a_suffix(invoke, registry_path: Path) -> None:
    args = ("add-event", "turin", "--date", "2011-03", "--title", "Joint light festival", "--format", "ids")
    first = invoke(registry_path, *args)
    second = invoke(registry_path, *args)
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert first.stdout == "2011-03-joint-light-festival\n"
    assert second.stdout == "2011-03-joint-light-festival-2\n"
    ids = [e["id"] for e in turin_events(invoke, registry_path)]
    assert ids.count("2011-03-joint-light-festival") == 1
    assert ids.count("2011-03-joint-light-festival-2") == 1


def test_id_taken_by_an_existing_event_gets_a_suffix(invoke, registry_path: Path) -> None:
    # The shipped registry already has 2011-03-parks-twinning-charter for Turin.
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-03", "--title", "Parks twinning charter",
                 "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "2011-03-parks-twinning-charter-2\n"


def test_id_uses_only_the_first_five_title_words_folded(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "add-event", "turin", "--date", "2013-11-26",
                 "--title", "Signature à l'Hôtel de Ville, Łódź style", "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "2013-11-26-signature-a-lhotel-de-ville\n"


def test_theme_word_resolves_to_its_slug(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "add-event", "turin", "--date", "2014", "--title", "Bike sharing exchange",
                 "--theme", "mobility", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == event("turin", "2014-bike-sharing-exchange", "2014",
                                               "Bike sharing exchange", themes=["urban-mobility"])
    stored = [e for e in turin_events(invoke, registry_path) if e["id"] == "2014-bike-sharing-exchange"]
    assert stored[0]["themes"] == ["urban-mobility"]


def test_all_options_are_stored(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "add-event", "turin", "--date", "2012", "--end", "2014-06", "--title", "Rail link studies",
                 "--description", "Two lines:\nfirst, \"quoted\" and a back\\slash.",
                 "--theme", "green spaces", "--theme", "urban-planning",
                 "--link", "https://example.org/a", "--link", "https://example.org/b",
                 "--notes", "Dates from one source.", "--internal", "--format", "json")
    assert result.exit_code == 0, result.stderr
    expected = event("turin", "2012-rail-link-studies", "2012", "Rail link studies", end="2014-06",
                     description="Two lines:\nfirst, \"quoted\" and a back\\slash.",
                     themes=["green-spaces", "urban-planning"],
                     links=["https://example.org/a", "https://example.org/b"],
                     notes="Dates from one source.", internal=True)
    assert json.loads(result.stdout) == expected
    data = tomllib.loads(registry_path.read_text(encoding="utf-8"))
    stored = [e for e in data["partnerships"]["turin"]["events"] if e["id"] == expected["id"]]
    assert stored == [{k: v for k, v in expected.items() if k not in ("partner", "city")}]


def test_ambiguous_theme_is_a_usage_error(invoke, registry_path: Path) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add-event", "turin", "--date", "2014", "--title", "Something", "--theme", "urban")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("partnerctl: error: theme 'urban' is ambiguous: "
                             "urban-management, urban-mobility, urban-planning\n")
    assert registry_path.read_bytes() == before


def test_end_before_date_is_a_usage_error(invoke, registry_path: Path) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-05", "--end", "2011-04", "--title", "Backwards")
    assert result.exit_code == 2
    assert result.stderr.startswith("partnerctl: error: ")
    assert "end 2011-04 is before date 2011-05" in result.stderr
    assert result.stderr.count("\n") == 1
    assert registry_path.read_bytes() == before


def test_dry_run_prints_the_event_and_writes_nothing(invoke, registry_path: Path) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-03", "--title", "Joint light festival",
                 "--theme", "light", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == event("turin", "2011-03-joint-light-festival", "2011-03",
                                               "Joint light festival", themes=["light"])
    assert result.stderr == "partnerctl: would add event 2011-03-joint-light-festival to turin\n"
    assert registry_path.read_bytes() == before
    assert "2011-03-joint-light-festival" not in [e["id"] for e in turin_events(invoke, registry_path)]


def test_dry_run_still_validates(invoke, registry_path: Path) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-13", "--title", "Bad month", "--dry-run")
    assert result.exit_code == 2
    assert "month must be 01-12" in result.stderr
    assert result.stdout == ""
    assert registry_path.read_bytes() == before


@pytest.mark.parametrize("name", ["torino", "Torino", "TURIN", "tur"])
def test_partner_resolved_by_alias_name_or_prefix(invoke, registry_path: Path, name: str) -> None:
    # The shipped registry gives Turin no alias (its sources give none): this copy gets one.
    assert invoke(registry_path, "add-to", "turin", "aliases", "Torino").exit_code == 0
    result = invoke(registry_path, "add-event", name, "--date", "2016", "--title", "Found by name", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["partner"] == "turin"
    assert result.stderr == "partnerctl: added event 2016-found-by-name to turin\n"
    assert "2016-found-by-name" in [e["id"] for e in turin_events(invoke, registry_path)]


def test_written_file_reparses_validates_and_diff_only_adds_lines(invoke, registry_path: Path) -> None:
    old_text = registry_path.read_text(encoding="utf-8")
    result = invoke(registry_path, "add-event", "Turin", "--date", "2011-03", "--title", "Joint light festival",
                 "--theme", "light", "--link", "https://example.org/x")
    assert result.exit_code == 0, result.stderr
    new_text = registry_path.read_text(encoding="utf-8")

    data = tomllib.loads(new_text)
    assert len(data["partnerships"]) == len(tomllib.loads(old_text)["partnerships"])
    assert reader.problems(registry_path) == []
    check = invoke(registry_path, "validate")
    assert check.exit_code == 0, check.stderr
    assert check.stderr == f"partnerctl: {registry_path}: valid\n"

    block = "\n".join([
        "[[partnerships.turin.events]]",
        'id = "2011-03-joint-light-festival"',
        'date = "2011-03"',
        'title = "Joint light festival"',
        "themes = [",
        '    "light",',
        "]",
        "links = [",
        '    "https://example.org/x",',
        "]",
        "",
        "",
    ])
    # The new block sits in Turin's events in date order: after the existing 2011-03 event.
    marker = '[[partnerships.turin.events]]\nid = "2012-one-off-events-sncf"\n'
    assert old_text.count(marker) == 1
    assert new_text == old_text.replace(marker, block + marker)

    diff = list(difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), lineterm="", n=0))
    removed = [line for line in diff[2:] if line.startswith("-")]
    added = [line[1:] for line in diff[2:] if line.startswith("+")]
    assert removed == []
    assert sorted(added) == sorted(block.split("\n")[:-1])
    assert len([line for line in diff if line.startswith("@@")]) == 1


def test_other_partnerships_untouched(invoke, registry_path: Path) -> None:
    old = tomllib.loads(registry_path.read_text(encoding="utf-8"))
    result = invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "Later event")
    assert result.exit_code == 0, result.stderr
    new = tomllib.loads(registry_path.read_text(encoding="utf-8"))
    assert {k: v for k, v in new.items() if k != "partnerships"} == {k: v for k, v in old.items() if k != "partnerships"}
    for pid in old["partnerships"]:
        if pid != "turin":
            assert new["partnerships"][pid] == old["partnerships"][pid]
    assert new["partnerships"]["turin"]["events"][:-1] == old["partnerships"]["turin"]["events"]
    assert new["partnerships"]["turin"]["events"][-1] == {"id": "2020-later-event", "date": "2020",
                                                          "title": "Later event"}
