"""Duplicates caught (issue 11): the three Lyon relations the twin-towns dataset holds under other ids are
refused by ``add`` and reported by ``import``; ``duplicates`` lists pairs already in a registry;
``merge`` folds one into the other, keeping every event and contact of both, in one write.

Beersheba is Be'er Sheva by the offline gazetteer (GeoNames 295530), not by an alias: the
registry holds only names its sources give, and they give only "Be'er Sheva"."""

from __future__ import annotations

import json
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import DATASET, needs_dataset
from partnerctl.core import geo

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


SAME_PLACE = "the same place in the gazetteer (GeoNames 295530, Beersheba)"


@pytest.mark.parametrize("city", ["Beersheba", "Beer Sheva", "Bersabée"])
def test_add_refuses_a_city_the_gazetteer_puts_at_another(invoke: Callable[..., Any], registry_path: Path,
                                                           city: str) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add", city, "--country", "IL", "--id", "lyon-beersheba")
    assert result.exit_code == 2
    assert result.stderr == (f"partnerctl: error: {city!r} may be beer-sheva (Be'er Sheva, Israel): {SAME_PLACE}; "
                             f"if it is, give that one the name (partnerctl add-to beer-sheva aliases "
                             f"{shlex.quote(city)}); if not, add with --no-gazetteer\n")
    assert registry_path.read_bytes() == before


def test_add_with_no_gazetteer_adds_it(invoke: Callable[..., Any], registry_path: Path) -> None:
    result = invoke(registry_path, "add", "Beersheba", "--country", "IL", "--no-gazetteer")
    assert result.exit_code == 0, result.stderr
    assert partnerships(registry_path)["beersheba"]["city"] == "Beersheba"
    listed = invoke(registry_path, "duplicates", "--format", "json")
    assert json.loads(listed.stdout) == [{
        "partner": "beer-sheva", "other": "beersheba", "kind": "near", "owner": "Lyon", "city": "Be'er Sheva",
        "country": "IL", "why": f"same owner, partners \"Be'er Sheva\" and 'Beersheba': {SAME_PLACE}, country Israel"}]


@pytest.mark.parametrize(("city", "country"), [
    ("Beersheba", "JO"),                     # another country: the gazetteer has no Beersheba there
    ("Beersheba", "IL --owner Turin --owner-country IT"),  # another owner
    ("Haifa", "IL"),                         # another city of the same country
])
def test_add_takes_what_the_gazetteer_does_not_place_at_another(invoke: Callable[..., Any], registry_path: Path,
                                                                city: str, country: str) -> None:
    code, *more = country.split()
    result = invoke(registry_path, "add", city, "--country", code, *more, "--id", "new-one")
    assert result.exit_code == 0, result.stderr
    assert "new-one" in partnerships(registry_path)


@pytest.mark.parametrize("options", [("Oslo", "--country", "Norway"), ("Haifa", "--country", "IL", "--no-gazetteer")])
def test_add_reads_the_gazetteer_only_when_it_can_find_a_duplicate(
        invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch, options: tuple[str]) -> None:
    # No partnership in Norway: no duplicate to find there, so the gazetteer (0.6 s) is not read; nor with
    # --no-gazetteer.
    def unread() -> None:
        raise AssertionError("the gazetteer was read")

    monkeypatch.setattr(geo, "gazetteer", unread)
    result = invoke(registry_path, "add", *options)
    assert result.exit_code == 0, result.stderr


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
        f"partnerctl: {file} line 2: skipped (possible duplicate of beer-sheva (Be'er Sheva): {SAME_PLACE}): "
        "Lyon,France,Beersheba,Israel",
        f"partnerctl: {file} line 3: skipped (duplicate of birmingham: the same owner, partner and country): "
        'Lyon,France,Birmingham,"England, United Kingdom"',
        f"partnerctl: {file} line 4: skipped (already in the registry as st-louis): "
        "Lyon,France,St. Louis,United States",
    ]
    assert lines[-1] == (f"partnerctl: read 4 rows from {file}: 1 imported, 0 updated, 3 skipped "
                         "(1 already in the registry, 1 duplicate, 1 same place in the gazetteer), 0 rejected")
    assert set(partnerships(registry_path)) == before | {"lyon-elmshorn"}
    assert invoke(registry_path, "duplicates", "--format", "ids").stdout == ""


def test_import_fails_on_a_possible_duplicate_with_on_conflict_fail(
        invoke: Callable[..., Any], registry_path: Path, tmp_path: Path) -> None:
    file = tmp_path / "lyon.csv"
    file.write_text("city1,country1,city2,country2\nLyon,France,Haifa,Israel\nLyon,France,Beersheba,Israel\n",
                    encoding="utf-8")
    before = registry_path.read_bytes()
    result = invoke(registry_path, "import", str(file), "--on-conflict", "fail")
    assert result.exit_code == 2
    assert result.stderr == (f"partnerctl: error: {file} line 3: possible duplicate of beer-sheva (Be'er Sheva): "
                             f"{SAME_PLACE} (--on-conflict fail); nothing written\n")
    assert registry_path.read_bytes() == before


def test_import_compares_rows_of_one_file_through_the_gazetteer(
        invoke: Callable[..., Any], tmp_path: Path) -> None:
    registry = tmp_path / "world.toml"
    registry.write_text('[registry]\nname = "World"\n', encoding="utf-8")
    file = tmp_path / "twins.csv"
    file.write_text("city1,country1,city2,country2\nLyon,France,Be'er Sheva,Israel\nLyon,France,Beersheba,Israel\n"
                    "Turin,Italy,Beersheba,Israel\nLyon,France,Beersheba,Jordan\n", encoding="utf-8")
    result = invoke(registry, "import", str(file))
    assert result.stderr.splitlines() == [
        f"partnerctl: {file} line 3: skipped (possible duplicate of lyon-beer-sheva (Be'er Sheva): {SAME_PLACE}): "
        "Lyon,France,Beersheba,Israel",
        f"partnerctl: read 4 rows from {file}: 3 imported, 0 updated, 1 skipped (1 same place in the gazetteer), "
        "0 rejected"]


@needs_dataset
def test_the_dataset_adds_no_lyon_duplicate(invoke: Callable[..., Any], registry_path: Path) -> None:
    assert DATASET is not None
    result = invoke(registry_path, "import", str(DATASET), "--owner", "Lyon", "--dry-run")
    assert result.stderr.splitlines()[-1].endswith(
        ": 1 imported, 0 updated, 15 skipped (13 already in the registry, 1 duplicate, 1 same place in the "
        "gazetteer), 0 rejected, 26098 not selected by --owner (dry run: nothing written)")
    assert f"line 9420: skipped (possible duplicate of beer-sheva (Be'er Sheva): {SAME_PLACE}): " in result.stderr


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
