"""Duplicates caught (issue 11): the three Lyon relations the twin-towns dataset holds under other ids are
refused by ``add`` and reported by ``import``; ``duplicates`` lists pairs already in a registry;
``merge`` folds one into the other, keeping every event and contact of both, in one write."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import DATASET, needs_dataset

# The Lyon rows of the twin-towns dataset that are relations the Lyon registry holds under another id.
LYON_DUPLICATES_CSV = """\
city1,country1,city2,country2
Lyon,France,Beersheba,Israel
Lyon,France,Birmingham,"England, United Kingdom"
Lyon,France,St. Louis,United States
Lyon,France,Elmshorn,Germany
"""


def partnerships(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["partnerships"]


@pytest.mark.parametrize(("city", "country", "existing", "shown"), [
    ("Beersheba", "Israel", "beer-sheva", "Be'er Sheva, Israel"),
    ("Birmingham", "England, United Kingdom", "birmingham", "Birmingham, United Kingdom"),
    ("St. Louis", "USA", "st-louis", "St. Louis, United States"),
])
def test_add_refuses_a_lyon_duplicate_naming_it(invoke: Callable[..., Any], registry_path: Path, city: str,
                                                country: str, existing: str, shown: str) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add", city, "--country", country, "--id", f"lyon-{existing}")
    assert result.exit_code == 2
    assert result.stderr == (f"partnerctl: error: {city!r} is already in the registry as {existing} ({shown}): the "
                             "same relation (same owner, partner and country); change that one, or merge two with "
                             "'partnerctl merge KEEP OTHER'\n")
    assert registry_path.read_bytes() == before


def test_add_allows_the_name_for_another_owner(invoke: Callable[..., Any], registry_path: Path) -> None:
    result = invoke(registry_path, "add", "Birmingham", "--country", "GB-ENG", "--id", "turin-birmingham",
                    "--owner", "Turin", "--owner-country", "Italie")
    assert result.exit_code == 0, result.stderr
    assert partnerships(registry_path)["turin-birmingham"]["owner_country"] == "IT"


def test_import_reports_the_lyon_duplicates(invoke: Callable[..., Any], registry_path: Path, tmp_path: Path) -> None:
    file = tmp_path / "lyon.csv"
    file.write_text(LYON_DUPLICATES_CSV, encoding="utf-8")
    before = set(partnerships(registry_path))
    result = invoke(registry_path, "import", str(file))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"partnerctl: {file} line 2: skipped (duplicate of beer-sheva: the same owner, partner and country): "
        "Lyon,France,Beersheba,Israel",
        f"partnerctl: {file} line 3: skipped (duplicate of birmingham: the same owner, partner and country): "
        'Lyon,France,Birmingham,"England, United Kingdom"',
        f"partnerctl: {file} line 4: skipped (already in the registry as st-louis): "
        "Lyon,France,St. Louis,United States",
    ]
    assert lines[-1] == (f"partnerctl: read 4 rows from {file}: 1 imported, 0 updated, 3 skipped "
                         "(1 already in the registry, 2 duplicate), 0 rejected")
    assert set(partnerships(registry_path)) == before | {"lyon-elmshorn"}
    assert invoke(registry_path, "duplicates", "--format", "ids").stdout == ""


@needs_dataset
def test_the_dataset_adds_no_lyon_duplicate(invoke: Callable[..., Any], registry_path: Path) -> None:
    assert DATASET is not None
    result = invoke(registry_path, "import", str(DATASET), "--owner", "Lyon", "--dry-run")
    assert result.stderr.splitlines()[-1].endswith(
        ": 1 imported, 0 updated, 15 skipped (13 already in the registry, 2 duplicate), 0 rejected, "
        "26098 not selected by --owner (dry run: nothing written)")
    assert "line 9420: skipped (duplicate of beer-sheva" in result.stderr


@pytest.fixture
def doubled(invoke: Callable[..., Any], small_registry: Path) -> Path:
    """alder (Marlow, Italy) and its double alder-2 (Marlow., Italy), with an event, a contact and a theme."""
    text = small_registry.read_text(encoding="utf-8")
    text += ('\n[partnerships.alder-2]\ncity = "Marlow."\ncountry = "IT"\nsince = 1990\nthemes = ["culture"]\n'
             'projects = ["CITYLOG", "URBACT"]\n\n'
             '[[partnerships.alder-2.events]]\nid = "1991-04-charter"\ndate = "1991-04"\ntitle = "Twinning charter"\n\n'
             '[[partnerships.alder-2.events]]\nid = "2020-visit"\ndate = "2020"\ntitle = "Visit"\n\n'
             '[[partnerships.alder-2.contacts]]\nname = "Bo Other"\nphone = "+39 1"\n\n'
             '[[partnerships.alder-2.contacts]]\nname = "ann exàmple"\nphone = "+39 2"\n')
    small_registry.write_text(text, encoding="utf-8")
    assert invoke(small_registry, "fmt").exit_code == 0
    return small_registry


def test_duplicates_lists_near_duplicates(invoke: Callable[..., Any], doubled: Path) -> None:
    result = invoke(doubled, "duplicates", "--format", "json")
    assert json.loads(result.stdout) == [{
        "partner": "alder", "other": "alder-2", "kind": "near", "owner": "Lyon", "city": "Marlow", "country": "IT",
        "why": "same owner, partners spelled alike ('Marlow', 'Marlow.'), country Italy"}]
    assert result.stderr == ("partnerctl: 0 duplicates, 1 near duplicate; fold one into the other with: "
                             "partnerctl merge PARTNER OTHER\n")


def test_merge_refuses_a_conflict_and_writes_nothing(invoke: Callable[..., Any], doubled: Path) -> None:
    before = doubled.read_bytes()
    result = invoke(doubled, "merge", "alder", "alder-2")
    assert result.exit_code == 2
    assert result.stderr == ("partnerctl: error: alder and alder-2 differ in since (1991 / 1990): choose with "
                             "--take FIELD=keep or --take FIELD=other (repeatable)\n")
    assert doubled.read_bytes() == before


def test_merge_keeps_every_event_and_contact_of_both(invoke: Callable[..., Any], doubled: Path) -> None:
    before = partnerships(doubled)
    result = invoke(doubled, "merge", "alder", "alder-2", "--take", "since=other")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("partnerctl: merged alder-2 into alder (2 events, 2 contacts brought over); event "
                             "1991-04-charter is now 1991-04-charter-2\n")
    after = partnerships(doubled)
    assert "alder-2" not in after
    merged = after["alder"]
    # Every event of both (one whose id alder used gets another), every contact (one person once).
    titles = sorted(e["title"] for e in merged["events"])
    assert titles == sorted([e["title"] for e in before["alder"]["events"]]
                            + [e["title"] for e in before["alder-2"]["events"]])
    assert "1991-04-charter-2" in {e["id"] for e in merged["events"]}
    assert [(c["name"], c.get("phone")) for c in merged["contacts"]] == [("Ann Exàmple", "+39 2"),
                                                                        ("Bo Other", "+39 1")]
    assert merged["since"] == 1990
    assert merged["themes"] == ["urban-mobility", "good-food", "culture"]
    assert merged["projects"] == ["CITYLOG", "URBACT"]
    assert merged["aliases"] == ["Mårlø", "Marlow."]
    assert invoke(doubled, "validate").exit_code == 0
    assert invoke(doubled, "show", "Marlow.").stdout.startswith("International relations, Lyon - Marlow (Italy)")
