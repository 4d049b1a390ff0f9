"""`timeline`, `themes`, `networks` and `validate` (and read commands on a broken registry)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import SMALL_REGISTRY_TOML

ALL_EVENTS = [
    ("birch", "1975-twinning"),
    ("alder", "1991-first-contacts"),
    ("alder", "1991-04-charter"),
    ("cedar", "2003-01-15-agreement"),
    ("alder", "2005-tram-exchange"),
    ("birch", "2010-03-planning-study"),
    ("cedar", "2011-bike-plan"),
    ("alder", "2012-05-16-food-fair"),
]


def events(invoke, path: Path, *args: str) -> list[tuple[str, str]]:
    result = invoke(path, "timeline", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [(e["partner"], e["id"]) for e in json.loads(result.stdout)]


# --- timeline ---------------------------------------------------------------

def test_timeline_all_in_date_order_year_before_month(invoke, small_registry: Path) -> None:
    assert events(invoke, small_registry) == ALL_EVENTS


def test_timeline_tsv_exact(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "timeline")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "birch\t1975-twinning\t1975\t\tTwinning\t",
        "alder\t1991-first-contacts\t1991\t\tFirst contacts\t",
        "alder\t1991-04-charter\t1991-04\t\tTwinning charter signed\t",
        "cedar\t2003-01-15-agreement\t2003-01-15\t\tAgreement signed\turban-planning",
        "alder\t2005-tram-exchange\t2005\t2008\tTram exchange programme\turban-mobility",
        "birch\t2010-03-planning-study\t2010-03\t\tJoint planning study\t",
        "cedar\t2011-bike-plan\t2011\t\tBike plan\turban-mobility",
        "alder\t2012-05-16-food-fair\t2012-05-16\t\tFood fair\tgood-food",
    ]


def test_timeline_json_records(invoke, small_registry: Path) -> None:
    records = json.loads(invoke(small_registry, "timeline", "cedar", "--json").stdout)
    assert records == [
        {"partner": "cedar", "city": "Élan", "id": "2003-01-15-agreement", "date": "2003-01-15", "end": None,
         "title": "Agreement signed", "description": None, "themes": ["urban-planning"], "links": [],
         "notes": None, "internal": False},
        {"partner": "cedar", "city": "Élan", "id": "2011-bike-plan", "date": "2011", "end": None,
         "title": "Bike plan", "description": None, "themes": ["urban-mobility"], "links": [],
         "notes": None, "internal": False},
    ]


def test_timeline_one_partner_by_alias(invoke, small_registry: Path) -> None:
    expected = [e for e in ALL_EVENTS if e[0] == "alder"]
    assert events(invoke, small_registry, "alder") == expected
    assert events(invoke, small_registry, "Mårlø") == expected
    assert events(invoke, small_registry, "marlow") == expected


def test_timeline_several_partners(invoke, small_registry: Path) -> None:
    assert events(invoke, small_registry, "cedar", "birch") == [e for e in ALL_EVENTS if e[0] in ("birch", "cedar")]


def test_timeline_partner_without_events_is_empty_not_error(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "timeline", "dune", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_timeline_unknown_partner_exits_1(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "timeline", "alder", "nowhere")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nowhere" in result.stderr


def test_timeline_same_partner_named_twice_lists_events_once(invoke, small_registry: Path) -> None:
    assert events(invoke, small_registry, "alder", "marlow") == [e for e in ALL_EVENTS if e[0] == "alder"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # the 2005-2008 period overlaps 2006..2010
        (("--since", "2006", "--until", "2010"), [("alder", "2005-tram-exchange"), ("birch", "2010-03-planning-study")]),
        (("--since", "2008", "--until", "2008"), [("alder", "2005-tram-exchange")]),
        (("--since", "2009",), [("birch", "2010-03-planning-study"), ("cedar", "2011-bike-plan"),
                                ("alder", "2012-05-16-food-fair")]),
        (("--until", "1991",), [("birch", "1975-twinning"), ("alder", "1991-first-contacts"),
                                ("alder", "1991-04-charter")]),
        (("--since", "1991", "--until", "1991"), [("alder", "1991-first-contacts"), ("alder", "1991-04-charter")]),
        (("--since", "2013",), []),
    ],
)
def test_timeline_since_until_overlap(invoke, small_registry: Path, args: tuple[str, ...],
                                      expected: list[tuple[str, str]]) -> None:
    assert events(invoke, small_registry, *args) == expected


def test_timeline_theme_uses_event_themes_else_partnership_themes(invoke, small_registry: Path) -> None:
    # alder's untagged events count with alder's themes (mobility, food); its food fair is food only.
    assert events(invoke, small_registry, "--theme", "mobility") == [
        ("alder", "1991-first-contacts"), ("alder", "1991-04-charter"),
        ("alder", "2005-tram-exchange"), ("cedar", "2011-bike-plan"),
    ]
    assert events(invoke, small_registry, "--theme", "planning") == [
        ("birch", "1975-twinning"), ("cedar", "2003-01-15-agreement"), ("birch", "2010-03-planning-study"),
    ]
    assert events(invoke, small_registry, "--theme", "food") == [
        ("alder", "1991-first-contacts"), ("alder", "1991-04-charter"), ("alder", "2012-05-16-food-fair"),
    ]


def test_timeline_theme_with_partner_and_years(invoke, small_registry: Path) -> None:
    assert events(invoke, small_registry, "alder", "cedar", "--theme", "mobility", "--since", "2000") == [
        ("alder", "2005-tram-exchange"), ("cedar", "2011-bike-plan"),
    ]


def test_timeline_unknown_theme_exits_2(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "timeline", "--theme", "nonsense")
    assert result.exit_code == 2
    assert "urban-mobility" in result.stderr


def test_timeline_lyon_turin_in_date_order(invoke, registry_path: Path) -> None:
    from partnerctl.core import dates

    result = invoke(registry_path, "timeline", "turin", "--format", "json")
    items = json.loads(result.stdout)
    got = [e["date"] for e in items]
    assert got == sorted(got, key=dates.sort_key)
    assert got.index("2011") < got.index("2011-03")
    assert got.index("2012") < got.index("2012-05")
    assert {e["partner"] for e in items} == {"turin"}


def test_timeline_table_when_piped_humanizes_dates(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "timeline", "alder", "--format", "table")
    assert result.exit_code == 0
    out = result.stdout
    assert "\x1b" not in out
    assert "April 1991" in out and "16 May 2012" in out
    assert out.index("First contacts") < out.index("Twinning charter signed") < out.index("Food fair")


# --- themes / networks ----------------------------------------------------------

def test_themes_json_counts(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "themes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"slug": "culture", "label": "Culture", "partnerships": 1},
        {"slug": "good-food", "label": "Good food", "partnerships": 2},
        {"slug": "urban-mobility", "label": "Urban mobility", "partnerships": 2},
        {"slug": "urban-planning", "label": "Urban planning", "partnerships": 2},
    ]


def test_themes_tsv_counts(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "themes")
    assert result.exit_code == 0
    assert result.stdout == ("culture\tCulture\t1\n"
                             "good-food\tGood food\t2\n"
                             "urban-mobility\tUrban mobility\t2\n"
                             "urban-planning\tUrban planning\t2\n")


def test_networks_json_and_tsv_counts(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "networks", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"slug": "delice", "label": "Délice", "partnerships": 2},
        {"slug": "eurocities", "label": "Eurocities", "partnerships": 2},
        {"slug": "luci", "label": "LUCI", "partnerships": 1},
    ]
    tsv = invoke(small_registry, "networks", "--format", "tsv")
    assert tsv.stdout == "delice\tDélice\t2\neurocities\tEurocities\t2\nluci\tLUCI\t1\n"
    assert invoke(small_registry, "networks", "--format", "ids").stdout == "delice\neurocities\nluci\n"


def test_vocab_counts_on_lyon_registry_match_list(invoke, registry_path: Path) -> None:
    rows = json.loads(invoke(registry_path, "themes", "--json").stdout)
    counts = {r["slug"]: r["partnerships"] for r in rows}
    assert len(counts) == 27
    for slug in ("urban-mobility", "good-food", "light"):
        listed = invoke(registry_path, "list", "--theme", slug, "--format", "ids").stdout.splitlines()
        assert counts[slug] == len(listed) > 0


# --- validate ---------------------------------------------------------------

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def line_no(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def test_validate_shipped_registry_exit_0(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "validate")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "valid" in result.stderr
    assert "error" not in result.stderr


def test_validate_shipped_registry_json_is_empty(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "validate", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_validate_small_registry_exit_0(invoke, small_registry: Path) -> None:
    assert invoke(small_registry, "validate").exit_code == 0


def test_validate_malformed_toml_names_the_line(invoke, tmp_path: Path) -> None:
    text = SMALL_REGISTRY_TOML.replace('kind = "cooperation"', 'kind = "cooperation')
    path = write(tmp_path, text)
    result = invoke(path, "validate")
    assert result.exit_code == 3
    expected_line = line_no(text, 'kind = "cooperation')
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert re.search(rf"\b{expected_line}\b", lines[0]), (expected_line, lines[0])
    assert "TOML" in lines[0]


def test_validate_malformed_toml_json_has_line(invoke, tmp_path: Path) -> None:
    text = SMALL_REGISTRY_TOML.replace("since = 2003", "since = = 2003")
    path = write(tmp_path, text)
    result = invoke(path, "validate", "--format", "json")
    assert result.exit_code == 3
    [problem] = json.loads(result.stdout)
    assert problem["line"] == line_no(text, "since = = 2003")
    assert "TOML" in problem["message"]


@pytest.mark.parametrize(
    ("old", "new", "key_path", "words"),
    [
        ("since = 1975", 'since = "1975"', "partnerships.birch.since", "integer"),
        ('kind = "cooperation"', 'kind = "cooperation"\ncolour = "blue"', "partnerships.birch.colour", "unknown key"),
        ('themes = ["urban-planning"]', 'themes = ["urban-planning", "sport"]', "partnerships.birch.themes",
         "undeclared theme 'sport'"),
        ('networks = ["delice"]', 'networks = ["nato"]', "partnerships.cedar.networks", "undeclared network 'nato'"),
        ('date = "1975"', 'date = "1975-02-30"', "partnerships.birch.events[0].date", "invalid date"),
        ('date = "2010-03"', 'date = "March 2010"', "partnerships.birch.events[1].date", "invalid date"),
        ('end = "2008"', 'end = "2004"', "partnerships.alder.events[2]", "before"),
        ('status = "ended"', 'status = "closed"', "partnerships.birch.status", ""),
        ('city = "Bakel"\n', '', "partnerships.dune.city", "missing"),
        ('email = "ann@example.org"', 'email = "ann at example"', "partnerships.alder.contacts[0].email",
         "e-mail"),
    ],
)
def test_validate_schema_errors_name_the_key_path(invoke, tmp_path: Path, old: str, new: str,
                                                  key_path: str, words: str) -> None:
    assert old in SMALL_REGISTRY_TOML
    path = write(tmp_path, SMALL_REGISTRY_TOML.replace(old, new, 1))
    result = invoke(path, "validate")
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert str(path) in lines[0]
    assert key_path in lines[0]
    assert words in lines[0]


def test_validate_schema_error_line_is_in_the_partnership(invoke, tmp_path: Path) -> None:
    text = SMALL_REGISTRY_TOML.replace("since = 1975", 'since = "1975"')
    path = write(tmp_path, text)
    result = invoke(path, "validate", "--format", "json")
    assert result.exit_code == 3
    [problem] = json.loads(result.stdout)
    assert problem["where"].endswith("partnerships.birch.since")
    assert line_no(text, "[partnerships.birch]") <= problem["line"] <= line_no(text, 'since = "1975"')


def test_validate_reports_every_problem(invoke, tmp_path: Path) -> None:
    text = (SMALL_REGISTRY_TOML.replace("since = 1975", 'since = "1975"')
            .replace("since = 2003", "since = 2003\nmayor = \"X\""))
    path = write(tmp_path, text)
    result = invoke(path, "validate")
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert any("partnerships.birch.since" in line for line in lines)
    assert any("partnerships.cedar.mayor" in line and "unknown key" in line for line in lines)


def test_validate_missing_file_exits_3(invoke, tmp_path: Path) -> None:
    result = invoke(tmp_path / "nope.toml", "validate")
    assert result.exit_code == 3
    assert "nope.toml" in result.stderr
    assert "Traceback" not in result.stderr


BROKEN = {
    "toml": ('kind = "cooperation"', 'kind = "cooperation'),
    "type": ("since = 1975", 'since = "1975"'),
    "unknown-key": ("since = 1975", "since = 1975\nfounded = 1975"),
    "undeclared-theme": ('themes = ["urban-planning"]', 'themes = ["sport"]'),
    "event-date": ('date = "1975"', 'date = "1975-13"'),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
@pytest.mark.parametrize("command", [["list"], ["show", "alder"], ["timeline"], ["themes"], ["networks"],
                                     ["list", "--format", "json"]])
def test_read_commands_on_invalid_registry_exit_3_one_line(invoke, tmp_path: Path, broken: str,
                                                           command: list[str]) -> None:
    old, new = BROKEN[broken]
    path = write(tmp_path, SMALL_REGISTRY_TOML.replace(old, new, 1))
    result = invoke(path, *command)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("partnerctl: error: ")
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)
    if broken != "toml":
        assert "partnerships.birch" in result.stderr


def test_read_command_on_non_utf8_registry_exits_3(invoke, tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(SMALL_REGISTRY_TOML.encode("latin-1", errors="replace"))
    result = invoke(path, "list")
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert "UTF-8" in result.stderr


@pytest.mark.parametrize("bad", ["1975\\n", "\uff11\uff19\uff17\uff15"])
def test_validate_refuses_dates_that_are_not_ascii_yyyy(invoke, tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, SMALL_REGISTRY_TOML.replace('date = "1975"', f'date = "{bad}"'))
    result = invoke(path, "validate")
    assert result.exit_code == 3
    assert "partnerships.birch.events[0].date" in result.stderr
