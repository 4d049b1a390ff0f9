"""Shared fixtures for the partnerctl tests.

- ``registry_path``: a private copy of the shipped Lyon registry (data/registry.toml).
- ``small_registry``: a tiny registry written from ``SMALL_REGISTRY_TOML`` below, with
  exactly known contents, for exact expectations.
- ``invoke``: ``invoke(path, *args, **kwargs)`` runs the CLI against the registry at
  *path* in-process and returns the click ``Result`` (``.stdout``/``.stderr`` apart).
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import partnerctl.cli

REPO = Path(__file__).resolve().parents[1]
SHIPPED_REGISTRY = REPO / "data" / "registry.toml"

# Four partnerships; ids, cities, countries and years chosen so every sort order differs:
#   by id:      alder, birch, cedar, dune
#   by city:    dune (Bakel), cedar (Élan), birch (Kingsford), alder (Marlow)
#   by country: birch (Canada), cedar (Italy, Élan), alder (Italy, Marlow), dune (Senegal)
#   by since:   birch (1975), alder (1991), cedar (2003), dune (no year: last)
# Theme use: culture 1, good-food 2, urban-mobility 2, urban-planning 2.
# Network use: delice 2, eurocities 2, luci 1.
# alder's events are deliberately out of date order in the file (1991-04 before 1991).
SMALL_REGISTRY_TOML = """\
[registry]
owner = "Lyon"
country = "France"

[themes]
culture = "Culture"
good-food = "Good food"
urban-mobility = "Urban mobility"
urban-planning = "Urban planning"

[networks]
delice = "Délice"
eurocities = "Eurocities"
luci = "LUCI"

[partnerships.alder]
city = "Marlow"
aliases = ["Mårlø"]
country = "Italy"
region = "Europe"
status = "active"
kind = "twinning"
since = 1991
themes = ["urban-mobility", "good-food"]
networks = ["delice", "eurocities"]
projects = ["CITYLOG"]
summary = "Marlow and Lyon twinned in April 1991."

[[partnerships.alder.events]]
id = "1991-04-charter"
date = "1991-04"
title = "Twinning charter signed"

[[partnerships.alder.events]]
id = "1991-first-contacts"
date = "1991"
title = "First contacts"

[[partnerships.alder.events]]
id = "2005-tram-exchange"
date = "2005"
end = "2008"
title = "Tram exchange programme"
themes = ["urban-mobility"]

[[partnerships.alder.events]]
id = "2012-05-16-food-fair"
date = "2012-05-16"
title = "Food fair"
themes = ["good-food"]

[[partnerships.alder.contacts]]
name = "Ann Exàmple"
role = "desk officer"
email = "ann@example.org"

[partnerships.birch]
city = "Kingsford"
country = "Canada"
region = "The Americas"
status = "ended"
kind = "cooperation"
since = 1975
themes = ["urban-planning"]
networks = ["eurocities", "luci"]
projects = ["OPTICITIES", "CITYLOG"]

[[partnerships.birch.events]]
id = "1975-twinning"
date = "1975"
title = "Twinning"

[[partnerships.birch.events]]
id = "2010-03-planning-study"
date = "2010-03"
title = "Joint planning study"

[partnerships.cedar]
city = "Élan"
country = "Italy"
region = "Europe"
status = "suspended"
since = 2003
themes = ["urban-mobility", "urban-planning"]
networks = ["delice"]

[[partnerships.cedar.events]]
id = "2003-01-15-agreement"
date = "2003-01-15"
title = "Agreement signed"
themes = ["urban-planning"]

[[partnerships.cedar.events]]
id = "2011-bike-plan"
date = "2011"
title = "Bike plan"
themes = ["urban-mobility"]

[partnerships.dune]
city = "Bakel"
country = "Senegal"
region = "Africa"
themes = ["good-food", "culture"]
"""

# Environment that would make Rich draw for a terminal, or point at another registry.
_ENV_TO_CLEAR = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "PARTNERCTL_REGISTRY", "COLUMNS")


@pytest.fixture(autouse=True)
def index_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own index cache folder (XDG_CACHE_HOME), never the user's.

    Outside tmp_path, so tests that list their folder see no cache. Run the suite with
    PARTNERCTL_NO_INDEX=1 as well to check every read without the index.
    """
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture
def registry_path(tmp_path: Path) -> Path:
    """A copy of the shipped Lyon registry in a temporary folder."""
    target = tmp_path / "registry.toml"
    shutil.copyfile(SHIPPED_REGISTRY, target)
    return target


@pytest.fixture
def small_registry(tmp_path: Path) -> Path:
    """The tiny registry of ``SMALL_REGISTRY_TOML`` as a file."""
    target = tmp_path / "small.toml"
    target.write_text(SMALL_REGISTRY_TOML, encoding="utf-8")
    return target


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``invoke(path, *args, **kwargs)``: run ``partnerctl --registry PATH *args``."""
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(path: Path | str, *args: str, **kwargs: Any) -> Any:
        result = runner.invoke(partnerctl.cli.app, ["--registry", str(path), *args], **kwargs)
        # Whatever the input, a user never sees a Python traceback.
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return run


@pytest.fixture
def make_registry(tmp_path: Path) -> Callable[[str], Path]:
    """``make_registry(toml_text)``: a registry file holding *toml_text*, built by the test itself."""

    def make(text: str, name: str = "registry.toml") -> Path:
        target = tmp_path / name
        target.write_text(text, encoding="utf-8")
        return target

    return make


@pytest.fixture
def small_canonical(small_registry: Path) -> Path:
    """The small registry rewritten in canonical form (no backup left): a write's diff then shows only its change."""
    from partnerctl.storage import store

    store.write(store.Location(small_registry), store.Change(lambda draft: None, whole=True), backup=False)
    return small_registry


# --- a fake $EDITOR (test_editor, test_rules) -------------------------------------------------

FAKE_EDITOR = '''\
import json, os, subprocess, sys
from pathlib import Path

plan = Path(os.environ["FAKE_EDITOR_PLAN"])
counter = plan.with_suffix(".count")
n = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(n + 1))
step = json.loads(plan.read_text())[n]
path = Path(sys.argv[1])
text = path.read_text(encoding="utf-8")
plan.with_name(f"seen-{n}.toml").write_text(text, encoding="utf-8")
plan.with_name(f"name-{n}.txt").write_text(path.name, encoding="utf-8")
if "run" in step:
    subprocess.run(step["run"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for old, new in step.get("replace", []):
    assert old in text, old
    text = text.replace(old, new)
path.write_text(text, encoding="utf-8")
sys.exit(step.get("exit", 0))
'''


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``editor(*steps)``: make $EDITOR the fake editor with that plan; returns its work folder."""
    work = tmp_path / "editor"
    work.mkdir()
    script = work / "fake_editor.py"
    script.write_text(FAKE_EDITOR, encoding="utf-8")
    monkeypatch.delenv("VISUAL", raising=False)

    def make(*steps: dict[str, Any]) -> Path:
        (work / "plan.json").write_text(json.dumps(list(steps)), encoding="utf-8")
        monkeypatch.setenv("FAKE_EDITOR_PLAN", str(work / "plan.json"))
        monkeypatch.setenv("EDITOR", shlex.join([sys.executable, str(script)]))
        return work

    return make


# --- the twin-towns dataset, when this machine has it ------------------------------------------

def _dataset() -> Path | None:
    for folder in (Path(__file__).resolve().parents[1].parent / "shared" / "data", Path("/work/shared/data")):
        if (folder / "twin_cities_raw.csv").is_file():
            return folder / "twin_cities_raw.csv"
    return None


DATASET = _dataset()
needs_dataset = pytest.mark.skipif(
    DATASET is None, reason="the twin-towns dataset ../shared/data/twin_cities_raw.csv is not on this machine")
