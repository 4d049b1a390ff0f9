"""`show`: resolving a partner by id, name, alias or prefix, and what it prints."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

TURIN_THEMES = ["culture", "education", "good-food", "green-spaces", "heritage", "smart-city",
                "social-cohesion", "territorial-marketing", "tourism", "urban-mobility",
                "urban-planning", "youth"]
TURIN_THEME_LABELS = ["Culture", "Education, early childhood", "Good food", "Green spaces", "Heritage",
                      "Smart city", "Social cohesion", "Territorial marketing", "Tourism",
                      "Urban mobility", "Urban planning", "Youth"]
BOX_DRAWING = re.compile(r"[\u2500-\u257f]")


def show_json(invoke, path: Path, name: str) -> dict:
    result = invoke(path, "show", name, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", ["turin", "Turin", "TURIN", "tur", "TUR", " turin "])
def test_show_resolves_names_aliases_and_prefixes_to_turin(invoke, registry_path: Path, name: str) -> None:
    reference = show_json(invoke, registry_path, "turin")
    assert reference["id"] == "turin"
    result = invoke(registry_path, "show", name, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == invoke(registry_path, "show", "turin", "--format", "json").stdout
    assert json.loads(result.stdout) == reference


@pytest.mark.parametrize("name", ["torino", "Torino", "TORINO", "tor"])
def test_show_resolves_an_alias_and_its_prefix(invoke, registry_path: Path, name: str) -> None:
    # The shipped registry gives Turin no alias (its sources give none): this copy gets one.
    assert invoke(registry_path, "add-to", "turin", "aliases", "Torino").exit_code == 0
    assert show_json(invoke, registry_path, name)["id"] == "turin"


@pytest.mark.parametrize("name", ["lodz", "LODZ", "Łódź", "łódź", "Lódz", "lod"])
def test_show_lodz_without_accents_finds_lodz(invoke, registry_path: Path, name: str) -> None:
    rec = show_json(invoke, registry_path, name)
    assert rec["id"] == "lodz"
    assert rec["city"] == "Łódź"


@pytest.mark.parametrize("name", ["marlo", "Mårlø", "MARLØ", "marlow", "MAR", "alder"])
def test_show_resolves_accented_alias_in_small_registry(invoke, small_registry: Path, name: str) -> None:
    assert show_json(invoke, small_registry, name)["id"] == "alder"


def test_show_accented_city_without_accents(invoke, small_registry: Path) -> None:
    assert show_json(invoke, small_registry, "elan")["id"] == "cedar"
    assert show_json(invoke, small_registry, "ÉLAN")["id"] == "cedar"


def test_ambiguous_prefix_exits_1_listing_candidates(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "show", "b")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("partnerctl: error: ")
    assert "ambiguous" in lines[0]
    for pid in ("bamako", "barcelona", "beer-sheva", "beirut", "birmingham"):
        assert pid in lines[0]
    for other in ("turin", "milan", "lodz", "frankfurt"):
        assert other not in lines[0]


def test_ambiguous_prefix_narrower(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "show", "be")
    assert result.exit_code == 1
    assert "beer-sheva" in result.stderr and "beirut" in result.stderr
    assert "bamako" not in result.stderr and "birmingham" not in result.stderr


def test_unknown_name_exits_1_with_did_you_mean(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "show", "turn")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("partnerctl: error: ")
    assert "did you mean" in result.stderr
    assert "turin" in result.stderr


def test_unknown_name_far_from_everything_still_exits_1(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "show", "zzzzzz")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "zzzzzz" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_turin_json_has_the_facts_of_the_seed_page(invoke, registry_path: Path) -> None:
    rec = show_json(invoke, registry_path, "turin")
    assert rec["id"] == "turin"
    assert rec["city"] == "Turin"
    assert rec["aliases"] == []  # "Torino": not in the registry's sources
    assert rec["country"] == "IT"
    assert rec["region"] == "europe"
    assert rec["since"] == 1991
    assert sorted(rec["themes"]) == TURIN_THEMES
    assert len(rec["themes"]) == 12
    assert sorted(rec["networks"]) == ["delice", "eurocities", "iaec", "luci", "uclg"]
    assert sorted(rec["projects"]) == ["CITYLOG", "OPTICITIES"]
    assert [c["name"] for c in rec["contacts"]] == ["Juliette Cantau"]
    event_dates = [e["date"] for e in rec["events"]]
    for date in ("1991-04", "2009", "2010", "2011-03", "2012", "2012-05"):
        assert date in event_dates
    # JSON dates are partial-date strings, in chronological order
    from partnerctl.core import dates

    assert event_dates == sorted(event_dates, key=dates.sort_key)
    assert event_dates[0] == "1991-04"


def test_show_json_matches_the_registry_file(invoke, registry_path: Path) -> None:
    raw = tomllib.loads(registry_path.read_text(encoding="utf-8"))["partnerships"]["turin"]
    rec = show_json(invoke, registry_path, "turin")
    assert "aliases" not in raw and rec["aliases"] == []
    for key in ("city", "country", "region", "kind", "since", "themes", "networks", "projects", "links"):
        assert rec[key] == raw[key], key
    assert sorted(e["id"] for e in rec["events"]) == sorted(e["id"] for e in raw["events"])


def test_show_json_has_every_field_even_empty(invoke, small_registry: Path) -> None:
    rec = show_json(invoke, small_registry, "dune")
    assert rec == {
        "id": "dune", "city": "Bakel", "aliases": [], "country": "SN", "region": "africa",
        "owner": None, "owner_country": None, "status": None, "kind": None, "since": None,
        "since_note": None, "themes": ["good-food", "culture"], "networks": [], "projects": [],
        "links": [], "summary": None, "lat": None, "lon": None, "notes": None, "events": [], "contacts": [],
    }


def test_show_turin_text_view_when_piped(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "show", "turin")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Turin" in out
    assert "April 1991" in out
    assert "March 2011" in out
    assert "May 2012" in out
    assert "Juliette Cantau" in out
    for label in TURIN_THEME_LABELS:
        assert label in out, label
    for network in ("Délice", "Eurocities", "IAEC", "LUCI", "UCLG"):
        assert network in out
    assert "CITYLOG" in out and "OPTICITIES" in out
    assert "\x1b" not in out
    assert not BOX_DRAWING.search(out), BOX_DRAWING.search(out)
    # raw partial dates are humanized in the timeline, not shown as 1991-04
    assert "1991-04 " not in out
    # no trailing blanks (the piped view strips them)
    assert all(line == line.rstrip() for line in out.splitlines())


def test_show_text_view_lists_events_in_date_order(invoke, small_registry: Path) -> None:
    out = invoke(small_registry, "show", "alder").stdout
    positions = [out.index(title) for title in
                 ("First contacts", "Twinning charter signed", "Tram exchange programme", "Food fair")]
    assert positions == sorted(positions)
    assert "April 1991" in out and "16 May 2012" in out
    assert "Ann Exàmple" in out and "ann@example.org" in out
    assert "Urban mobility" in out and "Good food" in out
    # theme labels, not slugs, on the "treated" line
    treated = next(line for line in out.splitlines() if line.startswith("Partnership treated"))
    assert "urban-mobility" not in treated


@pytest.mark.parametrize("pid", ["turin", "lodz", "yerevan", "st-louis", "gothenburg"])
def test_show_json_equals_list_json_element(invoke, registry_path: Path, pid: str) -> None:
    listed = invoke(registry_path, "list", "--format", "json")
    assert listed.exit_code == 0
    by_id = {rec["id"]: rec for rec in json.loads(listed.stdout)}
    assert show_json(invoke, registry_path, pid) == by_id[pid]


def test_show_json_equals_list_json_for_every_small_partnership(invoke, small_registry: Path) -> None:
    listed = json.loads(invoke(small_registry, "list", "--json").stdout)
    assert [rec["id"] for rec in listed] == ["alder", "birch", "cedar", "dune"]
    for rec in listed:
        assert show_json(invoke, small_registry, rec["id"]) == rec


def test_show_json_flag_equals_format_json(invoke, small_registry: Path) -> None:
    a = invoke(small_registry, "show", "alder", "--json")
    b = invoke(small_registry, "show", "alder", "--format", "json")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout


def test_show_json_and_other_format_is_usage_error(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "show", "alder", "--json", "--format", "csv")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_show_tsv_is_the_list_row(invoke, small_registry: Path) -> None:
    shown = invoke(small_registry, "show", "alder", "--format", "tsv")
    listed = invoke(small_registry, "list", "--format", "tsv")
    assert shown.exit_code == 0
    assert shown.stdout == listed.stdout.splitlines(keepends=True)[0]
