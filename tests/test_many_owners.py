"""A registry of many owners (issue 11): built with the commands a coordinator types, and every surface
names the relation's owner: show, list's columns, --owner-country, --involving, stats --by owner, and
the resolution of a partner (an exact id wins; candidates are told apart by owner and country)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# (id, city, country, owner, owner's country), as typed: codes, English and French names, a place and its country.
RELATIONS = [
    ("krakow", "Kraków", "PL", "Edinburgh", "Scotland, United Kingdom"),
    ("edinburgh", "Edinburgh", "GB-SCT", "Kraków", "Pologne"),
    ("lyon-edinburgh", "Edinburgh", "United Kingdom", "Lyon", "France"),
    ("lodz", "Łódź", "Poland", "Lyon", "FR"),
    ("lodz-lyon", "Lyon", "France", "Łódź", "PL"),
    ("turin", "Turin", "Italie", "Lyon", "France"),
]


@pytest.fixture
def world(tmp_path: Path, invoke: Callable[..., Any]) -> Path:
    path = tmp_path / "world.toml"
    made = invoke(path, "init", str(path), "--name", "Twin towns of Europe")
    assert made.exit_code == 0, made.stderr
    for pid, city, country, owner, owner_country in RELATIONS:
        added = invoke(path, "add", city, "--id", pid, "--country", country, "--owner", owner,
                       "--owner-country", owner_country)
        assert added.exit_code == 0, added.stderr
    return path


def ids(invoke: Callable[..., Any], path: Path, *args: str) -> list[str]:
    result = invoke(path, "list", *args, "--format", "ids")
    assert result.exit_code == 0, result.stderr
    return result.stdout.split()


def test_the_registry_has_a_name_and_no_owner(world: Path) -> None:
    text = world.read_text(encoding="utf-8")
    assert text.startswith('[registry]\nname = "Twin towns of Europe"\n\n')
    assert '\n[partnerships.edinburgh]\ncity = "Edinburgh"\ncountry = "GB-SCT"\nowner = "Kraków"\n' \
           'owner_country = "PL"\n' in text


def test_each_partnership_names_its_owner(world: Path, invoke: Callable[..., Any]) -> None:
    refused = invoke(world, "add", "Milan", "--country", "IT")
    assert refused.exit_code == 2
    assert "no owner of its own" in refused.stderr and "--owner" in refused.stderr
    world.write_text(world.read_text(encoding="utf-8") + '\n[partnerships.milan]\ncity = "Milan"\ncountry = "IT"\n',
                     encoding="utf-8")
    checked = invoke(world, "validate", "--format", "json")
    assert checked.exit_code == 3
    assert [p["where"] for p in json.loads(checked.stdout)] == [f"{world}: partnerships.milan.owner"]


def test_show_names_the_partnerships_owner(world: Path, invoke: Callable[..., Any]) -> None:
    shown = invoke(world, "show", "krakow").stdout.splitlines()
    assert shown[0] == "International relations, Edinburgh - Kraków (Poland)"
    assert shown[2].split() == ["Owner", "Edinburgh", "(Scotland", "(United", "Kingdom))"]
    assert [line.split("  ")[0] for line in shown if "in common with" in line] == [
        "International networks in common with Edinburgh", "European projects in common with Edinburgh"]
    assert "Lyon" not in "\n".join(shown)


def test_an_exact_id_beats_a_city_name(world: Path, invoke: Callable[..., Any]) -> None:
    # Two partnerships have the city Edinburgh; 'edinburgh' is one's id, in any case.
    for typed in ("edinburgh", "Edinburgh", "EDINBURGH"):
        assert invoke(world, "show", typed).stdout.startswith("International relations, Kraków - Edinburgh")
    ambiguous = invoke(world, "show", "edinb")
    assert ambiguous.exit_code == 1
    assert ambiguous.stderr == ("partnerctl: error: 'edinb' is ambiguous: edinburgh (Kraków → Edinburgh, Scotland "
                                "(United Kingdom)), lyon-edinburgh (Lyon → Edinburgh, United Kingdom)\n")


def test_list_carries_the_owner_columns(world: Path, invoke: Callable[..., Any], small_registry: Path) -> None:
    rows = invoke(world, "list", "--format", "csv", "--owner", "Lyon").stdout.splitlines()
    assert rows[0] == "id,city,country,region,owner,owner_country,status,kind,since,themes,networks,projects"
    # The registry decides, not the result: one owner's rows still carry the columns.
    assert rows[1:] == ["lodz,Łódź,PL,,Lyon,FR,,,,,,", "lyon-edinburgh,Edinburgh,GB,,Lyon,FR,,,,,,",
                        "turin,Turin,IT,,Lyon,FR,,,,,,"]
    assert invoke(world, "list").stdout.splitlines()[0].split("\t") == [
        "edinburgh", "Edinburgh", "GB-SCT", "", "Kraków", "PL", "", "", "", "", "", ""]
    # A registry of one owner keeps its columns.
    one = invoke(small_registry, "list", "--format", "csv").stdout.splitlines()[0]
    assert one == "id,city,country,region,status,kind,since,themes,networks,projects"


def test_list_table_shows_owner_and_country_names(world: Path, invoke: Callable[..., Any]) -> None:
    table = invoke(world, "list", "--format", "table", "--owner", "Kraków", env={"COLUMNS": "200"}).stdout
    *header, row = table.splitlines()
    # Headings wrap at spaces within their column (OWNER'S / COUNTRY, FIRST / YEAR): two header lines.
    assert " ".join(header).split() == ["ID", "CITY", "COUNTRY", "REGION", "OWNER", "OWNER'S", "KIND", "FIRST",
                                        "THEMES", "NETWORKS", "COUNTRY", "YEAR"]
    # Names, not codes; the region the partnership is in (its country's, by default).
    assert row.split() == ["edinburgh", "Edinburgh", "Scotland", "(United", "Kingdom)", "Europe", "Kraków", "Poland",
                           "—", "—", "0", "—"]


def test_owner_country_and_involving(world: Path, invoke: Callable[..., Any]) -> None:
    assert ids(invoke, world, "--owner-country", "Poland") == ["edinburgh", "lodz-lyon"]
    assert ids(invoke, world, "--owner-country", "GB") == ["krakow"]  # Scotland is in the United Kingdom
    assert ids(invoke, world, "--country", "united kingdom") == ["edinburgh", "lyon-edinburgh"]
    assert ids(invoke, world, "--country", "GB-ENG") == []
    # Either side: the partner's country or the owner's; a city as partner (by name or alias) or owner.
    assert ids(invoke, world, "--involving", "Poland") == ["edinburgh", "krakow", "lodz", "lodz-lyon"]
    assert ids(invoke, world, "--involving", "PL") == ["edinburgh", "krakow", "lodz", "lodz-lyon"]
    assert ids(invoke, world, "--involving", "Edinburgh") == ["edinburgh", "krakow", "lyon-edinburgh"]
    assert ids(invoke, world, "--involving", "lodz") == ["lodz", "lodz-lyon"]
    assert ids(invoke, world, "--involving", "Lyon") == ["lodz", "lodz-lyon", "lyon-edinburgh", "turin"]
    assert ids(invoke, world, "--involving", "Lyon", "--country", "IT") == ["turin"]
    assert ids(invoke, world, "--involving", "Nowhere") == []


def test_stats_by_owner_and_owner_country(world: Path, invoke: Callable[..., Any]) -> None:
    result = invoke(world, "stats", "--by", "owner", "--by", "owner-country", "--format", "json")
    got = [(c["by"], c["key"], c["label"], c["count"]) for c in json.loads(result.stdout)]
    assert got == [("owner", "Lyon", "Lyon", 3), ("owner", "Edinburgh", "Edinburgh", 1),
                   ("owner", "Kraków", "Kraków", 1), ("owner", "Łódź", "Łódź", 1),
                   ("owner-country", "FR", "France", 3), ("owner-country", "PL", "Poland", 2),
                   ("owner-country", "GB", "United Kingdom", 1)]
    counted = invoke(world, "stats", "--by", "country", "--involving", "Poland", "--format", "json")
    assert [(c["key"], c["count"]) for c in json.loads(counted.stdout)] == [("PL", 2), ("FR", 1), ("GB", 1)]
    # Without --by: the owner dimensions only where there are several owners.
    every = {c["by"] for c in json.loads(invoke(world, "stats", "--format", "json").stdout)}
    assert {"owner", "owner-country"} <= every


def test_a_registry_of_one_owner_counts_no_owners(small_registry: Path, invoke: Callable[..., Any]) -> None:
    every = {c["by"] for c in json.loads(invoke(small_registry, "stats", "--format", "json").stdout)}
    assert not {"owner", "owner-country"} & every
