"""partnerctl stats: counts by dimension, after the list filters, as JSON, rows and bar charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from partnerctl.cli import render

# Five partnerships: one without region, first year or status (and in a country whose default region, Asia,
# the registry does not declare).
STATS_TOML = """\
[registry]
owner = "Lyon"

[themes]
culture = "Culture"
food = "Good food"
mobility = "Urban mobility"

[networks]
delice = "Délice"
luci = "LUCI"

[regions]
africa = "Africa"
americas = "The Americas"
europe = "Europe"

[partnerships.a]
city = "A"
country = "IT"
region = "europe"
status = "active"
since = 1991
themes = ["culture", "food"]
networks = ["delice"]

[partnerships.b]
city = "B"
country = "IT"
region = "europe"
status = "active"
since = 1999
themes = ["culture"]
networks = ["delice", "luci"]

[partnerships.c]
city = "C"
country = "SN"
region = "africa"
status = "ended"
since = 2003
themes = ["culture", "mobility"]

[partnerships.d]
city = "D"
country = "CA"
region = "americas"
status = "suspended"
since = 1975
themes = ["mobility"]
networks = ["luci"]

[partnerships.e]
city = "E"
country = "JP"
"""


@pytest.fixture
def stats_registry(make_registry) -> Path:
    return make_registry(STATS_TOML)


def _counts(invoke, path: Path, *args: str) -> list[tuple[str, str | None, str, int]]:
    result = invoke(path, "stats", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [(r["by"], r["key"], r["label"], r["count"]) for r in json.loads(result.stdout)]


def test_counts_by_theme_most_used_first(invoke, stats_registry: Path) -> None:
    # e has no theme: it counts under unknown, last, as the README says.
    assert _counts(invoke, stats_registry, "--by", "theme") == [
        ("theme", "culture", "Culture", 3),
        ("theme", "mobility", "Urban mobility", 2),
        ("theme", "food", "Good food", 1),
        ("theme", None, "unknown", 1),
    ]


def test_partnerships_without_networks_count_under_unknown(invoke, stats_registry: Path) -> None:
    assert _counts(invoke, stats_registry, "--by", "network") == [
        ("network", "delice", "Délice", 2),
        ("network", "luci", "LUCI", 2),
        ("network", None, "unknown", 2),  # c and e
    ]


def test_regions_and_countries_count_by_slug_and_code(invoke, stats_registry: Path) -> None:
    assert _counts(invoke, stats_registry, "--by", "region", "--by", "country") == [
        ("region", "europe", "Europe", 2),
        ("region", "africa", "Africa", 1),
        ("region", "americas", "The Americas", 1),
        ("region", None, "unknown", 1),
        ("country", "IT", "Italy", 2),
        ("country", "CA", "Canada", 1),
        ("country", "JP", "Japan", 1),
        ("country", "SN", "Senegal", 1),
    ]


def test_decades_in_time_order_and_statuses_in_their_order(invoke, stats_registry: Path) -> None:
    assert _counts(invoke, stats_registry, "--by", "decade", "--by", "status") == [
        ("decade", "1970", "1970s", 1),
        ("decade", "1990", "1990s", 2),
        ("decade", "2000", "2000s", 1),
        ("decade", None, "unknown", 1),
        ("status", "active", "active", 2),
        ("status", "suspended", "suspended", 1),
        ("status", "ended", "ended", 1),
        ("status", None, "unknown", 1),
    ]


def test_filters_apply_before_counting(invoke, stats_registry: Path) -> None:
    assert _counts(invoke, stats_registry, "--by", "network", "--theme", "culture") == [
        ("network", "delice", "Délice", 2),
        ("network", "luci", "LUCI", 1),
        ("network", None, "unknown", 1),  # c
    ]
    assert _counts(invoke, stats_registry, "--by", "theme", "--region", "EUROPE", "--since", "1995") == [
        ("theme", "culture", "Culture", 1),
    ]


def test_default_is_every_dimension(invoke, stats_registry: Path) -> None:
    dims = [by for by, *_ in _counts(invoke, stats_registry)]
    assert list(dict.fromkeys(dims)) == ["theme", "network", "region", "country", "decade", "status"]


def test_piped_output_is_rows(invoke, stats_registry: Path) -> None:
    result = invoke(stats_registry, "stats", "--by", "network")
    assert result.exit_code == 0
    # The last column: the share of the partnerships counted (5 here), in percent.
    assert result.stdout == ("network\tdelice\tDélice\t2\t40.0\nnetwork\tluci\tLUCI\t2\t40.0\n"
                             "network\t\tunknown\t2\t40.0\n")


def test_unknown_dimension_is_a_usage_error(invoke, stats_registry: Path) -> None:
    result = invoke(stats_registry, "stats", "--by", "colour")
    assert result.exit_code == 2
    assert ("--by must be one of theme, network, region, country, decade, status, owner, owner-country"
            in result.stderr)
    assert result.stdout == ""


def test_bars_scale_to_the_largest_count() -> None:
    assert render.bar(10, 10, 40) == "█" * 40
    assert render.bar(5, 10, 40) == "█" * 20
    assert render.bar(1, 16, 4) == "▎"  # a quarter of a cell, in eighths
    assert render.bar(0, 10, 40) == ""


def test_bar_chart_on_a_terminal_shows_labels_bars_and_counts() -> None:
    from rich.console import Console

    con = Console(width=80, force_terminal=True, color_system=None)
    with con.capture() as captured:
        con.print(render.bar_charts(con, [("By theme", [("Culture", 4, 66.7), ("[red]x[/red]", 2, 33.3)])]))
    lines = captured.get().splitlines()
    assert lines[0].strip() == "By theme"
    assert "Culture" in lines[1] and "█" * 40 in lines[1] and lines[1].split()[-2:] == ["4", "66.7%"]
    # Labels are untrusted: markup-looking text is shown as it is.
    assert "[red]x[/red]" in lines[2] and "█" * 20 in lines[2] and "█" * 21 not in lines[2]


def test_json_percent_is_the_share_of_the_partnerships_counted(invoke, stats_registry: Path) -> None:
    result = invoke(stats_registry, "stats", "--by", "theme", "--by", "status", "--format", "json")
    rows = json.loads(result.stdout)
    assert all(set(r) == {"by", "key", "label", "count", "percent"} for r in rows)
    # 5 partnerships: each count's percent is count / 5, one decimal; themes may add up to more than 100.
    assert all(r["percent"] == round(100 * r["count"] / 5, 1) for r in rows)
    assert sum(r["percent"] for r in rows if r["by"] == "status") == pytest.approx(100)
    # Filters first: the share is of those kept.
    kept = json.loads(invoke(stats_registry, "stats", "--by", "status", "--region", "Europe",
                             "--format", "json").stdout)
    total = sum(r["count"] for r in kept)
    assert kept and total < 5
    assert [r["percent"] for r in kept] == [round(100 * r["count"] / total, 1) for r in kept]
