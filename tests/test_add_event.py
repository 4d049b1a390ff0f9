"""`add-event` on a copy of the shipped Lyon registry: what it prints, writes and refuses."""

from __future__ import annotations

import difflib
import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import partnerctl.cli
from partnerctl import store

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "registry.toml"
ENV_TO_CLEAR = ("PARTNERCTL_REGISTRY", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "NO_COLOR")


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    """A private copy of the shipped registry."""
    target = tmp_path / "registry.toml"
    shutil.copyfile(SHIPPED, target)
    return target


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    """run(path, *args): partnerctl --registry PATH *args, in-process."""
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def _run(path: Path, *args: str) -> Any:
        result = runner.invoke(partnerctl.cli.app, ["--registry", str(path), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return _run


def event(partner: str, id: str, date: str, title: str, *, end: str | None = None,
          description: str | None = None, themes: list[str] | None = None,
          links: list[str] | None = None) -> dict[str, Any]:
    """The JSON object add-event prints for the event it added."""
    return {"partner": partner, "id": id, "date": date, "end": end, "title": title,
            "description": description, "themes": themes or [], "links": links or []}


def turin_events(run, path: Path) -> list[dict[str, Any]]:
    result = run(path, "show", "turin", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["events"]


def test_add_event_prints_the_event_and_says_what_it_did(run, reg: Path) -> None:
    result = run(reg, "add-event", "turin", "--date", "2011-03", "--title", "Joint light festival",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == event("turin", "2011-03-joint-light-festival", "2011-03",
                                               "Joint light festival")
    assert result.stderr == "partnerctl: added event 2011-03-joint-light-festival to turin\n"


def test_added_event_shows_with_its_partial_date(run, reg: Path) -> None:
    before = turin_events(run, reg)
    result = run(reg, "add-event", "turin", "--date", "2011-03", "--title", "Joint light festival")
    assert result.exit_code == 0, result.stderr
    after = turin_events(run, reg)
    added = {"id": "2011-03-joint-light-festival", "date": "2011-03", "end": None,
             "title": "Joint light festival", "description": None, "themes": [], "links": []}
    assert added in after
    assert [e for e in after if e not in before] == [added]
    # In date order: after the existing 2011-03 event (same date keeps file order), before 2012.
    ids = [e["id"] for e in after]
    assert ids.index("2011-03-parks-twinning-charter") < ids.index(added["id"]) < ids.index("2012-one-off-events-sncf")


def test_event_id_is_date_and_title_words_and_repeats_get_a_suffix(run, reg: Path) -> None:
    args = ("add-event", "turin", "--date", "2011-03", "--title", "Joint light festival", "--format", "ids")
    first = run(reg, *args)
    second = run(reg, *args)
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert first.stdout == "2011-03-joint-light-festival\n"
    assert second.stdout == "2011-03-joint-light-festival-2\n"
    ids = [e["id"] for e in turin_events(run, reg)]
    assert ids.count("2011-03-joint-light-festival") == 1
    assert ids.count("2011-03-joint-light-festival-2") == 1


def test_id_taken_by_an_existing_event_gets_a_suffix(run, reg: Path) -> None:
    # The shipped registry already has 2011-03-parks-twinning-charter for Turin.
    result = run(reg, "add-event", "turin", "--date", "2011-03", "--title", "Parks twinning charter",
                 "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "2011-03-parks-twinning-charter-2\n"


def test_id_uses_only_the_first_five_title_words_folded(run, reg: Path) -> None:
    result = run(reg, "add-event", "turin", "--date", "2013-11-26",
                 "--title", "Signature à l'Hôtel de Ville, Łódź style", "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "2013-11-26-signature-a-lhotel-de-ville\n"


def test_theme_word_resolves_to_its_slug(run, reg: Path) -> None:
    result = run(reg, "add-event", "turin", "--date", "2014", "--title", "Bike sharing exchange",
                 "--theme", "mobility", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == event("turin", "2014-bike-sharing-exchange", "2014",
                                               "Bike sharing exchange", themes=["urban-mobility"])
    stored = [e for e in turin_events(run, reg) if e["id"] == "2014-bike-sharing-exchange"]
    assert stored[0]["themes"] == ["urban-mobility"]


def test_all_options_are_stored(run, reg: Path) -> None:
    result = run(reg, "add-event", "turin", "--date", "2012", "--end", "2014-06", "--title", "Rail link studies",
                 "--description", "Two lines:\nfirst, \"quoted\" and a back\\slash.",
                 "--theme", "green spaces", "--theme", "urban-planning",
                 "--link", "https://example.org/a", "--link", "https://example.org/b", "--format", "json")
    assert result.exit_code == 0, result.stderr
    expected = event("turin", "2012-rail-link-studies", "2012", "Rail link studies", end="2014-06",
                     description="Two lines:\nfirst, \"quoted\" and a back\\slash.",
                     themes=["green-spaces", "urban-planning"],
                     links=["https://example.org/a", "https://example.org/b"])
    assert json.loads(result.stdout) == expected
    data = tomllib.loads(reg.read_text(encoding="utf-8"))
    stored = [e for e in data["partnerships"]["turin"]["events"] if e["id"] == expected["id"]]
    assert stored == [{k: v for k, v in expected.items() if k != "partner"}]


def test_ambiguous_theme_is_a_usage_error(run, reg: Path) -> None:
    before = reg.read_bytes()
    result = run(reg, "add-event", "turin", "--date", "2014", "--title", "Something", "--theme", "urban")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("partnerctl: error: theme 'urban' is ambiguous: "
                             "urban-management, urban-mobility, urban-planning\n")
    assert reg.read_bytes() == before


def test_end_before_date_is_a_usage_error(run, reg: Path) -> None:
    before = reg.read_bytes()
    result = run(reg, "add-event", "turin", "--date", "2011-05", "--end", "2011-04", "--title", "Backwards")
    assert result.exit_code == 2
    assert result.stderr.startswith("partnerctl: error: ")
    assert "end 2011-04 is before date 2011-05" in result.stderr
    assert result.stderr.count("\n") == 1
    assert reg.read_bytes() == before


def test_dry_run_prints_the_event_and_writes_nothing(run, reg: Path) -> None:
    before = reg.read_bytes()
    result = run(reg, "add-event", "turin", "--date", "2011-03", "--title", "Joint light festival",
                 "--theme", "light", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == event("turin", "2011-03-joint-light-festival", "2011-03",
                                               "Joint light festival", themes=["light"])
    assert result.stderr == "partnerctl: would add event 2011-03-joint-light-festival to turin\n"
    assert reg.read_bytes() == before
    assert "2011-03-joint-light-festival" not in [e["id"] for e in turin_events(run, reg)]


def test_dry_run_still_validates(run, reg: Path) -> None:
    before = reg.read_bytes()
    result = run(reg, "add-event", "turin", "--date", "2011-13", "--title", "Bad month", "--dry-run")
    assert result.exit_code == 2
    assert "month must be 01-12" in result.stderr
    assert result.stdout == ""
    assert reg.read_bytes() == before


@pytest.mark.parametrize("name", ["torino", "Torino", "TURIN", "tur"])
def test_partner_resolved_by_alias_name_or_prefix(run, reg: Path, name: str) -> None:
    result = run(reg, "add-event", name, "--date", "2016", "--title", "Found by name", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["partner"] == "turin"
    assert result.stderr == "partnerctl: added event 2016-found-by-name to turin\n"
    assert "2016-found-by-name" in [e["id"] for e in turin_events(run, reg)]


def test_written_file_reparses_validates_and_diff_only_adds_lines(run, reg: Path) -> None:
    old_text = reg.read_text(encoding="utf-8")
    result = run(reg, "add-event", "torino", "--date", "2011-03", "--title", "Joint light festival",
                 "--theme", "light", "--link", "https://example.org/x")
    assert result.exit_code == 0, result.stderr
    new_text = reg.read_text(encoding="utf-8")

    data = tomllib.loads(new_text)
    assert len(data["partnerships"]) == len(tomllib.loads(old_text)["partnerships"])
    assert store.check(reg) == []
    check = run(reg, "validate")
    assert check.exit_code == 0, check.stderr
    assert check.stderr == f"partnerctl: {reg}: valid\n"

    block = "\n".join([
        "[[partnerships.turin.events]]",
        'id = "2011-03-joint-light-festival"',
        'date = "2011-03"',
        'title = "Joint light festival"',
        "themes = [",
        '    "light",',
        "]",
        "links = [",
        '    "https://example.org/x",',
        "]",
        "",
        "",
    ])
    # The new block sits in Turin's events in date order: after the existing 2011-03 event.
    marker = '[[partnerships.turin.events]]\nid = "2012-one-off-events-sncf"\n'
    assert old_text.count(marker) == 1
    assert new_text == old_text.replace(marker, block + marker)

    diff = list(difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), lineterm="", n=0))
    removed = [line for line in diff[2:] if line.startswith("-")]
    added = [line[1:] for line in diff[2:] if line.startswith("+")]
    assert removed == []
    assert sorted(added) == sorted(block.split("\n")[:-1])
    assert len([line for line in diff if line.startswith("@@")]) == 1


def test_other_partnerships_untouched(run, reg: Path) -> None:
    old = tomllib.loads(reg.read_text(encoding="utf-8"))
    result = run(reg, "add-event", "turin", "--date", "2020", "--title", "Later event")
    assert result.exit_code == 0, result.stderr
    new = tomllib.loads(reg.read_text(encoding="utf-8"))
    assert {k: v for k, v in new.items() if k != "partnerships"} == {k: v for k, v in old.items() if k != "partnerships"}
    for pid in old["partnerships"]:
        if pid != "turin":
            assert new["partnerships"][pid] == old["partnerships"][pid]
    assert new["partnerships"]["turin"]["events"][:-1] == old["partnerships"]["turin"]["events"]
    assert new["partnerships"]["turin"]["events"][-1] == {"id": "2020-later-event", "date": "2020",
                                                          "title": "Later event"}
