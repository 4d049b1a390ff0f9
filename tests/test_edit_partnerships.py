"""Write commands on partnerships: add, set, unset, tag/untag, add-to/remove-from, rename, remove.

Each runs through CliRunner against the small_canonical registry (made canonical first, so a
diff shows only the change) and checks what users rely on: the exit code, the
message on stderr, the object printed with --json, the file's new content, and
that --dry-run prints a diff and writes nothing.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest


def partnership(path: Path, pid: str) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["partnerships"][pid]


def show(invoke: Any, path: Path, pid: str) -> dict[str, Any]:
    result = invoke(path, "show", pid, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# --- add -------------------------------------------------------------------------------------

def test_add_with_every_option_prints_the_record_and_writes_it(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "add", "Łódź", "--country", "Poland", "--region", "Europe", "--since", "1991",
                    "--kind", "twinning", "--status", "active", "--theme", "mobility", "--theme", "food",
                    "--network", "luci", "--project", "CITYLOG", "--alias", "Lodzia",
                    "--link", "https://example.org/lodz", "--summary", "Twinned in 1991.",
                    "--notes", "Ask the desk officer.", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: added partnership lodz (Łódź)\n"
    expected = {
        "id": "lodz", "city": "Łódź", "aliases": ["Lodzia"], "country": "PL", "region": "europe",
        "owner": None, "owner_country": None, "status": "active", "kind": "twinning", "since": 1991,
        "since_note": None, "themes": ["urban-mobility", "good-food"], "networks": ["luci"],
        "projects": ["CITYLOG"], "links": ["https://example.org/lodz"], "summary": "Twinned in 1991.",
        "lat": None, "lon": None, "notes": "Ask the desk officer.", "events": [], "contacts": [],
    }
    assert json.loads(result.stdout) == expected
    assert show(invoke, small_canonical, "lodz") == expected
    assert show(invoke, small_canonical, "LODZIA")["id"] == "lodz"


def test_add_is_quiet_on_stdout_without_a_format(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "add", "Sète", "--country", "France")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert partnership(small_canonical, "sete") == {"city": "Sète", "country": "FR"}


def test_add_with_explicit_id(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "add", "Saint-Louis", "--country", "Senegal", "--id", "st-louis-sn",
                    "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "st-louis-sn\n"
    assert partnership(small_canonical, "st-louis-sn")["city"] == "Saint-Louis"


def test_add_id_clash_names_the_existing_partnership(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "add", "Alder", "--country", "Italy")
    assert result.exit_code == 2
    assert "partnership 'alder' already exists (Marlow, Italy)" in result.stderr
    assert small_canonical.read_bytes() == before


def test_add_dry_run_prints_the_diff_and_writes_nothing(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "add", "Zagreb", "--country", "Croatia", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: would add partnership zagreb (Zagreb)\n"
    assert result.stdout.endswith(
        " ]\n+\n+[partnerships.zagreb]\n+city = \"Zagreb\"\n+country = \"HR\"\n")
    assert result.stdout.startswith("--- small.toml\n+++ small.toml (new)\n@@ ")
    assert small_canonical.read_bytes() == before
    assert not small_canonical.with_name("small.toml.bak").exists()


# --- set / unset -----------------------------------------------------------------------------

def test_set_converts_since_to_an_integer(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "set", "marlow", "since", "1990", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: set since of alder\n"
    assert json.loads(result.stdout)["since"] == 1990
    assert partnership(small_canonical, "alder")["since"] == 1990
    assert "since = 1990\n" in small_canonical.read_text(encoding="utf-8")


@pytest.mark.parametrize(("field", "value", "stored"), [
    ("city", "Great Marlow", None), ("country", "United Kingdom", "GB"), ("region", "The Americas", "americas"),
    ("owner", "Villeurbanne", None), ("owner_country", "France", "FR"), ("status", "ended", None),
    ("kind", "friendship", None), ("since_note", "the charter says 1990", None),
    ("summary", "First line.\nSecond line.", None), ("lat", "45.07", 45.07), ("lon", "-7", -7.0),
])
def test_set_each_text_field(invoke: Any, small_canonical: Path, field: str, value: str, stored: Any) -> None:
    # Countries are stored as their code, regions as their slug, coordinates as numbers.
    result = invoke(small_canonical, "set", "alder", field, value)
    assert result.exit_code == 0, result.stderr
    assert partnership(small_canonical, "alder")[field] == (value if stored is None else stored)
    assert show(invoke, small_canonical, "alder")[field] == (value if stored is None else stored)


def test_set_dry_run_diff_is_exactly_the_changed_line(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "set", "alder", "kind", "friendship", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: would set kind of alder\n"
    lines = result.stdout.splitlines()
    assert lines[:2] == ["--- small.toml", "+++ small.toml (new)"]
    assert [line for line in lines[2:] if line[:1] in "+-"] == ['-kind = "twinning"', '+kind = "friendship"']
    assert small_canonical.read_bytes() == before


def test_set_same_value_writes_nothing(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "set", "alder", "since", "1991")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: no changes\n"
    assert small_canonical.read_bytes() == before
    assert not small_canonical.with_name("small.toml.bak").exists()


def test_unset_removes_the_key(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "unset", "alder", "kind", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: unset kind of alder\n"
    assert json.loads(result.stdout)["kind"] is None
    assert "kind" not in partnership(small_canonical, "alder")


def test_unset_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "unset", "alder", "since", "--dry-run")
    assert result.exit_code == 0
    assert [line for line in result.stdout.splitlines()[2:] if line[:1] in "+-"] == ["-since = 1991"]
    assert small_canonical.read_bytes() == before


# --- list fields -----------------------------------------------------------------------------

def test_tag_resolves_terms_and_appends(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "tag", "dune", "mobility", "Urban planning", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: added to themes of dune: mobility, Urban planning\n"
    themes = ["good-food", "culture", "urban-mobility", "urban-planning"]
    assert json.loads(result.stdout)["themes"] == themes
    assert partnership(small_canonical, "dune")["themes"] == themes


def test_untag_removes_by_label_word(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "untag", "alder", "food")
    assert result.exit_code == 0, result.stderr
    assert partnership(small_canonical, "alder")["themes"] == ["urban-mobility"]


def test_untag_the_last_theme_leaves_no_key(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "untag", "birch", "urban-planning")
    assert result.exit_code == 0, result.stderr
    assert "themes" not in partnership(small_canonical, "birch")


@pytest.mark.parametrize(("field", "values", "expected"), [
    ("themes", ["culture"], ["urban-mobility", "good-food", "culture"]),
    ("networks", ["LUCI"], ["delice", "eurocities", "luci"]),
    ("projects", ["OPTICITIES", "URBACT"], ["CITYLOG", "OPTICITIES", "URBACT"]),
    ("aliases", ["Great Marlow"], ["Mårlø", "Great Marlow"]),
    ("links", ["https://example.org/a"], ["https://example.org/a"]),
])
def test_add_to_each_list_field(invoke: Any, small_canonical: Path, field: str, values: list[str],
                                expected: list[str]) -> None:
    result = invoke(small_canonical, "add-to", "alder", field, *values, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[field] == expected
    assert partnership(small_canonical, "alder")[field] == expected


@pytest.mark.parametrize(("field", "values", "expected"), [
    ("themes", ["urban-mobility"], ["good-food"]),
    ("networks", ["délice"], ["eurocities"]),
    ("projects", ["citylog"], None),
    ("aliases", ["marlo"], None),
])
def test_remove_from_each_list_field(invoke: Any, small_canonical: Path, field: str, values: list[str],
                                     expected: list[str] | None) -> None:
    result = invoke(small_canonical, "remove-from", "alder", field, *values)
    assert result.exit_code == 0, result.stderr
    assert partnership(small_canonical, "alder").get(field) == expected


def test_add_to_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "add-to", "birch", "networks", "delice", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: would add to networks of birch: delice\n"
    assert [line for line in result.stdout.splitlines()[2:] if line[:1] in "+-"] == ['+    "delice",']
    assert small_canonical.read_bytes() == before


def test_new_alias_resolves(invoke: Any, small_canonical: Path) -> None:
    assert invoke(small_canonical, "add-to", "cedar", "aliases", "Elan-sur-Mer").exit_code == 0
    assert show(invoke, small_canonical, "elan-sur-mer")["id"] == "cedar"


# --- rename / remove -------------------------------------------------------------------------

def test_rename_moves_the_whole_partnership(invoke: Any, small_canonical: Path) -> None:
    old = partnership(small_canonical, "alder")
    result = invoke(small_canonical, "rename", "Marlow", "marlow", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: renamed alder to marlow\n"
    assert json.loads(result.stdout)["id"] == "marlow"
    data = tomllib.loads(small_canonical.read_text(encoding="utf-8"))["partnerships"]
    assert "alder" not in data
    assert data["marlow"] == old
    # Canonical order: partnerships sorted by id, so marlow now comes after dune.
    assert list(data) == ["birch", "cedar", "dune", "marlow"]


def test_rename_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "rename", "dune", "bakel", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "-[partnerships.dune]\n" in result.stdout
    assert "+[partnerships.bakel]\n" in result.stdout
    assert small_canonical.read_bytes() == before


def test_remove_with_yes(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "remove", "cedar", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: removed partnership cedar (Élan)\n"
    assert json.loads(result.stdout)["id"] == "cedar"
    assert "cedar" not in tomllib.loads(small_canonical.read_text(encoding="utf-8"))["partnerships"]
    assert "[partnerships.cedar" not in small_canonical.read_text(encoding="utf-8")


def test_remove_dry_run_needs_no_confirmation(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "remove", "dune", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "-[partnerships.dune]\n" in result.stdout
    assert small_canonical.read_bytes() == before


def test_remove_asks_on_a_terminal(invoke: Any, small_canonical: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    before = small_canonical.read_bytes()
    declined = invoke(small_canonical, "remove", "cedar", input="n\n")
    assert declined.exit_code == 2
    assert "Remove cedar (Élan, Italy) with its 2 events and 0 contacts?" in declined.stderr
    assert "not removed: cedar" in declined.stderr
    assert small_canonical.read_bytes() == before

    accepted = invoke(small_canonical, "remove", "cedar", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert "partnerctl: removed partnership cedar (Élan)\n" in accepted.stderr
    assert "cedar" not in tomllib.loads(small_canonical.read_text(encoding="utf-8"))["partnerships"]


def test_remove_refuses_without_a_terminal_or_yes(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "remove", "cedar")
    assert result.exit_code == 2
    assert result.stderr == "partnerctl: error: refusing to remove without --yes when not on a terminal\n"
    assert small_canonical.read_bytes() == before
