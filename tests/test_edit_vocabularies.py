"""`themes add|rename|remove` and `networks add|rename|remove`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any


def data(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_themes_add(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "themes", "add", "night-life", "Night life", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: added theme night-life\n"
    assert json.loads(result.stdout) == {"slug": "night-life", "label": "Night life", "partnerships": 0}
    assert data(small_canonical)["themes"]["night-life"] == "Night life"
    # The new theme is usable at once.
    assert invoke(small_canonical, "tag", "dune", "night").exit_code == 0
    assert data(small_canonical)["partnerships"]["dune"]["themes"] == ["good-food", "culture", "night-life"]


def test_networks_add_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "networks", "add", "aimf", "AIMF", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: would add network aimf\n"
    assert [line for line in result.stdout.splitlines()[2:] if line[:1] in "+-"] == ['+aimf = "AIMF"']
    assert small_canonical.read_bytes() == before


def test_themes_rename_updates_partnerships_and_events(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "themes", "rename", "urban-mobility", "mobility", "--label", "Mobility", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: renamed theme urban-mobility to mobility\n"
    assert json.loads(result.stdout) == {"slug": "mobility", "label": "Mobility", "partnerships": 2}
    d = data(small_canonical)
    assert "urban-mobility" not in d["themes"] and d["themes"]["mobility"] == "Mobility"
    assert d["partnerships"]["alder"]["themes"] == ["mobility", "good-food"]  # same place in the list
    assert d["partnerships"]["cedar"]["themes"] == ["mobility", "urban-planning"]
    tram = [e for e in d["partnerships"]["alder"]["events"] if e["id"] == "2005-tram-exchange"][0]
    assert tram["themes"] == ["mobility"]
    assert "urban-mobility" not in small_canonical.read_text(encoding="utf-8")


def test_themes_relabel_keeps_the_slug(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "themes", "rename", "culture", "culture", "--label", "Culture and arts")
    assert result.exit_code == 0, result.stderr
    assert data(small_canonical)["themes"]["culture"] == "Culture and arts"


def test_networks_rename(invoke: Any, small_canonical: Path) -> None:
    result = invoke(small_canonical, "networks", "rename", "luci", "luci-association")
    assert result.exit_code == 0, result.stderr
    d = data(small_canonical)
    assert d["networks"]["luci-association"] == "LUCI"
    assert d["partnerships"]["birch"]["networks"] == ["eurocities", "luci-association"]


def test_themes_rename_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "themes", "rename", "good-food", "food", "--dry-run")
    assert result.exit_code == 0, result.stderr
    changed = [line for line in result.stdout.splitlines()[2:] if line[:1] in "+-"]
    assert '-good-food = "Good food"' in changed and '+food = "Good food"' in changed
    assert small_canonical.read_bytes() == before


def test_unused_theme_is_removed(invoke: Any, small_canonical: Path) -> None:
    assert invoke(small_canonical, "themes", "add", "sport", "Sport").exit_code == 0
    result = invoke(small_canonical, "themes", "remove", "sport", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: removed theme sport\n"
    assert json.loads(result.stdout) == {"slug": "sport", "label": "Sport", "partnerships": 0}
    assert "sport" not in data(small_canonical)["themes"]


def test_theme_in_use_is_refused_and_force_removes_it_everywhere(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    refused = invoke(small_canonical, "themes", "remove", "urban-planning")
    assert refused.exit_code == 2
    assert refused.stderr == ("partnerctl: error: theme 'urban-planning' is used by 2 partnerships (birch, cedar) "
                              "and 1 event; --force removes it from them too\n")
    assert small_canonical.read_bytes() == before

    forced = invoke(small_canonical, "themes", "remove", "urban-planning", "--force", "--json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout) == {"slug": "urban-planning", "label": "Urban planning", "partnerships": 2}
    d = data(small_canonical)
    assert "urban-planning" not in d["themes"]
    assert "themes" not in d["partnerships"]["birch"]
    assert d["partnerships"]["cedar"]["themes"] == ["urban-mobility"]
    agreement = d["partnerships"]["cedar"]["events"][0]
    assert agreement["id"] == "2003-01-15-agreement" and "themes" not in agreement
    assert "urban-planning" not in small_canonical.read_text(encoding="utf-8")


def test_network_remove_force(invoke: Any, small_canonical: Path) -> None:
    assert invoke(small_canonical, "networks", "remove", "delice").exit_code == 2
    result = invoke(small_canonical, "networks", "remove", "delice", "--force")
    assert result.exit_code == 0, result.stderr
    d = data(small_canonical)
    assert "delice" not in d["networks"]
    assert d["partnerships"]["alder"]["networks"] == ["eurocities"]
    assert "networks" not in d["partnerships"]["cedar"]


def test_vocab_remove_dry_run(invoke: Any, small_canonical: Path) -> None:
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "networks", "remove", "luci", "--force", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert '-luci = "LUCI"' in result.stdout.splitlines()
    assert small_canonical.read_bytes() == before
