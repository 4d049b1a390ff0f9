"""`list`: filters, sort orders and output formats."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path

import pytest

LIST_COLUMNS = ["id", "city", "country", "region", "status", "kind", "since", "themes", "networks", "projects"]

SMALL_TSV = [
    "alder\tMarlow\tIT\teurope\tactive\ttwinning\t1991\turban-mobility,good-food\tdelice,eurocities\tCITYLOG",
    "birch\tKingsford\tCA\tamericas\tended\tcooperation\t1975\turban-planning\teurocities,luci\tOPTICITIES,CITYLOG",
    "cedar\tÉlan\tIT\teurope\tsuspended\t\t2003\turban-mobility,urban-planning\tdelice\t",
    "dune\tBakel\tSN\tafrica\t\t\t\tgood-food,culture\t\t",
]


def ids(invoke, path: Path, *args: str) -> list[str]:
    result = invoke(path, "list", *args, "--format", "ids")
    assert result.exit_code == 0, result.stderr
    return result.stdout.splitlines()


def shipped() -> dict:
    return tomllib.loads((Path(__file__).resolve().parents[1] / "data" / "registry.toml")
                         .read_text(encoding="utf-8"))["partnerships"]


# --- themes -----------------------------------------------------------------

def test_theme_mobility_on_lyon_registry(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "list", "--theme", "mobility", "--format", "json")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    got = [r["id"] for r in records]
    assert "turin" in got
    assert all("urban-mobility" in r["themes"] for r in records)
    expected = sorted(pid for pid, p in shipped().items() if "urban-mobility" in p.get("themes", []))
    assert got == expected
    assert "milan" not in got or "urban-mobility" in shipped()["milan"].get("themes", [])


def test_theme_urban_is_union_of_urban_themes_on_lyon_registry(invoke, registry_path: Path) -> None:
    urban = {"urban-mobility", "urban-planning", "urban-management"}
    expected = sorted(pid for pid, p in shipped().items() if urban & set(p.get("themes", [])))
    assert ids(invoke, registry_path, "--theme", "urban") == expected
    assert len(expected) > len(ids(invoke, registry_path, "--theme", "mobility"))


@pytest.mark.parametrize("term", ["mobility", "Mobility", "urban-mobility", "Urban mobility", "URBAN MOBILITY"])
def test_theme_mobility_small(invoke, small_registry: Path, term: str) -> None:
    assert ids(invoke, small_registry, "--theme", term) == ["alder", "cedar"]


@pytest.mark.parametrize("term", ["food", "Good food", "good-food", "GOOD"])
def test_theme_food_small(invoke, small_registry: Path, term: str) -> None:
    assert ids(invoke, small_registry, "--theme", term) == ["alder", "dune"]


def test_theme_urban_is_union_small(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--theme", "urban") == ["alder", "birch", "cedar"]


def test_two_themes_must_all_hold(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--theme", "mobility", "--theme", "planning") == ["cedar"]
    assert ids(invoke, small_registry, "-t", "food", "-t", "mobility") == ["alder"]
    assert ids(invoke, small_registry, "--theme", "food", "--theme", "planning") == []


def test_unknown_theme_is_usage_error_listing_declared(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--theme", "nonsense")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "nonsense" in result.stderr
    for slug in ("culture", "good-food", "urban-mobility", "urban-planning"):
        assert slug in result.stderr
    assert "Good food" in result.stderr


def test_unknown_theme_lists_declared_on_lyon_registry(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "list", "--theme", "nonsense")
    assert result.exit_code == 2
    for slug in ("cleantech", "urban-mobility", "water-sewerage", "youth"):
        assert slug in result.stderr


# --- networks, projects, place, status, years ---------------------------------

@pytest.mark.parametrize("term", ["delice", "Délice", "DÉLICE", "DELICE"])
def test_network_by_slug_or_accented_label(invoke, small_registry: Path, term: str) -> None:
    assert ids(invoke, small_registry, "--network", term) == ["alder", "cedar"]


def test_network_on_lyon_registry(invoke, registry_path: Path) -> None:
    expected = sorted(pid for pid, p in shipped().items() if "delice" in p.get("networks", []))
    assert "turin" in expected
    assert ids(invoke, registry_path, "--network", "Délice") == expected
    assert ids(invoke, registry_path, "--network", "delice") == expected


def test_two_networks_must_all_hold(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--network", "delice", "--network", "eurocities") == ["alder"]
    assert ids(invoke, small_registry, "-n", "luci") == ["birch"]


def test_unknown_network_is_usage_error(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--network", "nato")
    assert result.exit_code == 2
    assert "delice" in result.stderr and "eurocities" in result.stderr and "luci" in result.stderr


def test_project_filter(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--project", "CITYLOG") == ["alder", "birch"]
    assert ids(invoke, small_registry, "--project", "citylog") == ["alder", "birch"]
    assert ids(invoke, small_registry, "--project", "OPTICITIES") == ["birch"]
    assert ids(invoke, small_registry, "--project", "NOPE") == []


def test_project_filter_lyon(invoke, registry_path: Path) -> None:
    got = ids(invoke, registry_path, "--project", "OPTICITIES")
    assert "turin" in got
    assert got == sorted(pid for pid, p in shipped().items() if "OPTICITIES" in p.get("projects", []))


def test_country_filter(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--country", "Italy") == ["alder", "cedar"]
    assert ids(invoke, small_registry, "--country", "italy") == ["alder", "cedar"]
    assert ids(invoke, small_registry, "--country", "SÉNÉGAL") == ["dune"]
    assert ids(invoke, small_registry, "--country", "France") == []


def test_region_filter(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--region", "Europe") == ["alder", "cedar"]
    assert ids(invoke, small_registry, "--region", "the americas") == ["birch"]
    # Regions are declared: one the registry does not declare is a usage error listing those it does.
    result = invoke(small_registry, "list", "--region", "Asia")
    assert result.exit_code == 2
    assert result.stderr == ("partnerctl: error: unknown region 'Asia'; declared regions: africa (Africa), "
                             "americas (The Americas), europe (Europe)\n")


def test_region_filter_lyon(invoke, registry_path: Path) -> None:
    expected = sorted(pid for pid, p in shipped().items() if p.get("region") == "africa")
    assert "bamako" in expected
    assert ids(invoke, registry_path, "--region", "Africa") == expected


@pytest.mark.parametrize(("status", "expected"), [("active", ["alder"]), ("ended", ["birch"]),
                                                  ("suspended", ["cedar"])])
def test_status_filter(invoke, small_registry: Path, status: str, expected: list[str]) -> None:
    assert ids(invoke, small_registry, "--status", status) == expected


def test_bad_status_is_usage_error(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--status", "dormant")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "active" in result.stderr and "dormant" in result.stderr


def test_since_until_on_first_year(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--since", "1991") == ["alder", "cedar"]
    assert ids(invoke, small_registry, "--since", "1992") == ["cedar"]
    assert ids(invoke, small_registry, "--until", "1991") == ["alder", "birch"]
    assert ids(invoke, small_registry, "--until", "1990") == ["birch"]
    assert ids(invoke, small_registry, "--since", "1980", "--until", "2000") == ["alder"]
    assert ids(invoke, small_registry, "--since", "2004") == []


def test_since_lyon(invoke, registry_path: Path) -> None:
    expected = sorted(pid for pid, p in shipped().items() if p.get("since", 0) >= 2000)
    assert ids(invoke, registry_path, "--since", "2000") == expected
    assert "turin" not in expected


def test_filters_combine(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry, "--theme", "urban", "--country", "italy", "--network", "delice",
               "--since", "2000") == ["cedar"]
    assert ids(invoke, small_registry, "--theme", "mobility", "--status", "active") == ["alder"]


# --- sort -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("id", ["alder", "birch", "cedar", "dune"]),
        ("city", ["dune", "cedar", "birch", "alder"]),       # Bakel, Élan, Kingsford, Marlow
        ("country", ["birch", "cedar", "alder", "dune"]),    # Canada, Italy (Élan, Marlow), Senegal
        ("since", ["birch", "alder", "cedar", "dune"]),      # 1975, 1991, 2003, unknown last
    ],
)
def test_sort_orders(invoke, small_registry: Path, sort: str, expected: list[str]) -> None:
    assert ids(invoke, small_registry, "--sort", sort) == expected


def test_default_sort_is_id(invoke, small_registry: Path) -> None:
    assert ids(invoke, small_registry) == ["alder", "birch", "cedar", "dune"]


def test_sort_since_lyon(invoke, registry_path: Path) -> None:
    got = ids(invoke, registry_path, "--sort", "since")
    data = shipped()
    years = [data[pid].get("since") for pid in got]
    assert sorted(got) == sorted(data)
    assert years == sorted(years)
    assert got[0] == "birmingham"   # 1951


def test_bad_sort_is_usage_error(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--sort", "size")
    assert result.exit_code == 2
    assert result.stdout == ""


# --- formats ----------------------------------------------------------------

def test_default_piped_format_is_tsv_without_header(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list")
    assert result.exit_code == 0
    assert result.stdout == "\n".join(SMALL_TSV) + "\n"
    assert result.stderr == ""
    assert invoke(small_registry, "list", "--format", "tsv").stdout == result.stdout
    assert invoke(small_registry, "list", "-f", "tsv").stdout == result.stdout


def test_tsv_rows_have_one_cell_per_column(invoke, registry_path: Path) -> None:
    out = invoke(registry_path, "list").stdout
    rows = out.splitlines()
    assert len(rows) == len(shipped())
    assert all(len(row.split("\t")) == len(LIST_COLUMNS) for row in rows)
    turin = next(row.split("\t") for row in rows if row.startswith("turin\t"))
    assert turin[:7] == ["turin", "Turin", "IT", "europe", "", "bilateral cooperation agreements", "1991"]


def test_csv_has_header_and_rows(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == LIST_COLUMNS
    assert rows[1:] == [line.split("\t") for line in SMALL_TSV]


def test_csv_header_only_when_empty(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--country", "France", "--format", "csv")
    assert result.exit_code == 0
    assert list(csv.reader(io.StringIO(result.stdout))) == [LIST_COLUMNS]


def test_json_is_a_list_of_complete_records(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--format", "json", "--theme", "planning", "--sort", "since")
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == ["birch", "cedar"]
    birch = records[0]
    assert birch == {
        "id": "birch", "city": "Kingsford", "aliases": [], "country": "CA", "region": "americas",
        "owner": None, "owner_country": None, "status": "ended", "kind": "cooperation", "since": 1975,
        "since_note": None, "themes": ["urban-planning"], "networks": ["eurocities", "luci"],
        "projects": ["OPTICITIES", "CITYLOG"], "links": [], "summary": None, "lat": None, "lon": None, "notes": None,
        "events": [
            {"id": "1975-twinning", "date": "1975", "end": None, "title": "Twinning", "description": None,
             "themes": [], "links": [], "notes": None, "internal": False},
            {"id": "2010-03-planning-study", "date": "2010-03", "end": None, "title": "Joint planning study",
             "description": None, "themes": [], "links": [], "notes": None, "internal": False},
        ],
        "contacts": [],
    }


def test_json_events_are_in_date_order(invoke, small_registry: Path) -> None:
    alder = json.loads(invoke(small_registry, "list", "--json").stdout)[0]
    assert [e["date"] for e in alder["events"]] == ["1991", "1991-04", "2005", "2012-05-16"]
    assert alder["events"][2]["end"] == "2008"


def test_json_empty_result_is_empty_list_exit_0(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--country", "France", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "ids"])
def test_other_formats_empty_result_is_no_output_exit_0(invoke, small_registry: Path, fmt: str) -> None:
    result = invoke(small_registry, "list", "--country", "Japan", "--format", fmt)
    assert result.exit_code == 0
    assert result.stdout == ""


def test_jsonl_is_one_record_per_line_equal_to_json(invoke, small_registry: Path) -> None:
    as_json = json.loads(invoke(small_registry, "list", "--format", "json").stdout)
    result = invoke(small_registry, "list", "--format", "jsonl")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert [json.loads(line) for line in lines] == as_json


def test_ids_format(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--format", "ids", "--sort", "city")
    assert result.stdout == "dune\ncedar\nbirch\nalder\n"


def test_json_flag_equals_format_json(invoke, small_registry: Path) -> None:
    a = invoke(small_registry, "list", "--json", "--theme", "urban")
    b = invoke(small_registry, "list", "--format", "json", "--theme", "urban")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout
    assert invoke(small_registry, "list", "--json", "--format", "json", "--theme", "urban").stdout == b.stdout


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "ids", "table"])
def test_json_flag_with_other_format_is_usage_error(invoke, small_registry: Path, fmt: str) -> None:
    result = invoke(small_registry, "list", "--json", "--format", fmt)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--json" in result.stderr


def test_unknown_format_is_usage_error(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--format", "xml")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_table_format_when_piped_has_no_ansi(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--format", "table")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout
    for pid, city in (("alder", "Marlow"), ("birch", "Kingsford"), ("cedar", "Élan"), ("dune", "Bakel")):
        assert pid in result.stdout and city in result.stdout
