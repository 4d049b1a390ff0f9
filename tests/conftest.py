"""Shared fixtures for the partnerctl tests.

- ``registry_path``: a private copy of the shipped Lyon registry (data/registry.toml).
- ``small_registry``: a tiny registry written from ``SMALL_REGISTRY_TOML`` below, with
  exactly known contents, for exact expectations.
- ``invoke``: ``invoke(path, *args, **kwargs)`` runs the CLI against the registry at
  *path* in-process and returns the click ``Result`` (``.stdout``/``.stderr`` apart).
- ``editor``: ``editor(*steps)`` makes $EDITOR a fake editor following that plan.
- ``DATASET``, ``needs_dataset``: the twin-towns dataset, when this machine has it.
- ``index_on``: the index on, even in a run with ``PARTNERCTL_NO_INDEX=1``; with the
  plain functions below, what the tests comparing the index with the file share.
"""

from __future__ import annotations

import errno
import gc
import io
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
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
# A registry of the relations of several owner cities (the site's owner filters).
MULTI_OWNER_TOML = """\
[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"

[regions]
americas = "The Americas"
europe = "Europe"

[partnerships.turin]
city = "Turin"
country = "IT"
region = "europe"
since = 1991
themes = ["culture"]

[partnerships.milan-lyon]
city = "Milan"
country = "IT"
since = 1966

[partnerships.munich-edinburgh]
owner = "Munich"
owner_country = "DE"
city = "Edinburgh"
country = "GB"
since = 1954

[partnerships.bordeaux-quebec]
owner = "Bordeaux"
owner_country = "FR"
city = "Québec"
country = "CA"
region = "americas"
since = 1962
"""


SMALL_REGISTRY_TOML = """\
[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"
good-food = "Good food"
urban-mobility = "Urban mobility"
urban-planning = "Urban planning"

[networks]
delice = "Délice"
eurocities = "Eurocities"
luci = "LUCI"

[regions]
africa = "Africa"
americas = "The Americas"
europe = "Europe"

[partnerships.alder]
city = "Marlow"
aliases = ["Mårlø"]
country = "IT"
region = "europe"
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
country = "CA"
region = "americas"
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
country = "IT"
region = "europe"
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
country = "SN"
region = "africa"
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
    # Nor the user's settings (partnerctl use): a config folder of its own, empty.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    return cache


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in English whatever the machine's locale or settings say (tests/test_i18n.py
    removes it to test the choice of language)."""
    monkeypatch.setenv("PARTNERCTL_LANG", "en")


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


# --- what a failed write must leave as it was ----------------------------------------------

ENOSPC = os.strerror(errno.ENOSPC)


def snapshot(folder: Path) -> dict[str, Any]:
    """Every entry under *folder*, without following links: file bytes, link targets, folders."""
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = path.read_bytes()
    return out


class FullDisk(io.RawIOBase):
    """A file on a disk with *room* bytes left (shared by every file written): then ENOSPC."""

    def __init__(self, fd: int, room: list[int]) -> None:
        self.fd, self.room = fd, room

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        if len(data) > self.room[0]:
            if self.room[0] == 0:
                raise OSError(errno.ENOSPC, ENOSPC)
            data = data[:self.room[0]]
        self.room[0] -= len(data)
        return os.write(self.fd, data)


# --- the index compared with the file ------------------------------------------------------

@pytest.fixture
def index_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The index on, even in a run with PARTNERCTL_NO_INDEX=1: for the tests about the index."""
    monkeypatch.delenv("PARTNERCTL_NO_INDEX", raising=False)


def outputs(invoke: Callable[..., Any], path: Path, args: tuple[str, ...]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``partnerctl --registry PATH *args``."""
    result = invoke(path, *args)
    return result.exit_code, result.stdout, result.stderr


def no_full_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on a full parse of a registry fails the test: only the index (and single blocks) may answer.

    Every full load goes through ``store.parse_valid``: a read without the index, and a
    write on the full path (a block write checks only the blocks it writes).
    """
    from partnerctl.storage import store

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the registry was parsed in full")

    monkeypatch.setattr(store, "parse_valid", refuse)


def damage_every_row(db: Path) -> None:
    """Alter every row a read can be handed, keeping it valid and where the filters find it: only hashes tell."""
    # A connection is freed by the cycle collector (it and its statement cache refer to each other):
    # an in-process read may still hold its read transaction.
    gc.collect()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("UPDATE index_records SET record = replace(record, '\"city\": \"', '\"city\": \"X'), "
                "city = 'X' || city")
    # Every name pointed at the first partnership (k moved so that no two rows share a key).
    con.execute("UPDATE index_names SET id = (SELECT min(id) FROM index_records), "
                "k = k + 1000 * (SELECT count(*) FROM index_records r WHERE r.id < index_names.id)")
    con.execute("UPDATE index_links SET position = position + 1000")
    con.close()


def assert_same_with_and_without_index(invoke: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch,
                                       args: tuple[str, ...]) -> None:
    """Exit code, stdout and stderr: without the index, while building it, answered by it, and by it damaged."""
    from partnerctl.storage import index

    monkeypatch.setenv(index.ENV_OFF, "1")
    without = outputs(invoke, path, args)
    monkeypatch.delenv(index.ENV_OFF)
    first = outputs(invoke, path, args)  # builds the index
    assert index.db_path(path).exists()
    second = outputs(invoke, path, args)  # answered by it
    assert first == without
    assert second == without
    damage_every_row(index.db_path(path))
    assert outputs(invoke, path, args) == without  # the damage seen, answered from the file


def index_contents(db: Path | str) -> dict[str, list[str]]:
    """Every row of every table of an index database, and its schema, sorted: to compare two indexes."""
    from partnerctl.storage import index

    con = sqlite3.connect(db)
    try:
        tables = [name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {table: sorted(map(repr, con.execute(f"SELECT * FROM {table}"))) for table in tables}  # noqa: S608
        # What says how and when the file and the database were last verified, not what they hold.
        rows["index_meta"] = sorted(repr(row) for row in con.execute("SELECT * FROM index_meta")
                                    if row[0] not in index.HISTORY_META)
        rows["sqlite_master"] = sorted(map(repr, con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")))
        return rows
    finally:
        con.close()


def fresh_index_contents(path: Path, folder: Path) -> dict[str, list[str]]:
    """``index_contents`` of an index built from scratch (in *folder*) for the registry file as it is now."""
    from partnerctl.storage import index, store

    data, st = store.read_file(path)
    target = folder / "fresh.sqlite"
    target.unlink(missing_ok=True)
    con = sqlite3.connect(target, isolation_level=None)
    try:
        con.execute("PRAGMA synchronous = OFF")
        reg, problems = store.check_text(data.decode("utf-8"), str(path))  # not parse_valid: see no_full_load
        assert reg is not None, problems
        index.build_into(con, reg, data, st, registry=path)
    finally:
        con.close()
    return index_contents(target)


def completion_context(registry: Path | None, **params: str) -> typer.Context:
    """A command's context under the root one that holds --registry, as during shell completion."""
    command = typer.main.get_command(partnerctl.cli.app)
    root = typer.Context(command, info_name="partnerctl")
    root.params = {"registry": registry}
    ctx = typer.Context(command, parent=root, info_name="show")
    ctx.params = dict(params)
    return ctx


# Runs partnerctl with the arguments it is given, then says what it loaded that costs: Rich,
# the terminal renderer, a validator of the model (the model's classes alone are cheap).
_PROBE = """\
import sys
from partnerctl.cli import main
try:
    main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "rich" or m == "partnerctl.cli.render")
model = sys.modules.get("partnerctl.core.model")
loaded += [f"validator of {t}" for t in (model._ADAPTERS if model else ())]
sys.stderr.write("LOADED=" + ",".join(loaded) + "\\n")
"""


def costly_loads(registry: Path, args: tuple[str, ...], cache: Path) -> tuple[str, str, list[str]]:
    """Run ``partnerctl -r REGISTRY *args`` twice in real processes, the index on (the first run builds it).

    Returns both runs' stdout and what the second one loaded that costs (see ``_PROBE``).
    """
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("PARTNERCTL_NO_INDEX", None)
    argv = [sys.executable, "-c", _PROBE, "-r", str(registry), *args]
    first, second = (subprocess.run(argv, env=env, capture_output=True, text=True, check=True) for _ in "12")
    loaded = second.stderr.rsplit("LOADED=", 1)[1].strip()
    return first.stdout, second.stdout, loaded.split(",") if loaded else []


# --- a fake $EDITOR (partnerctl edit) ------------------------------------------------------

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


# --- the twin-towns dataset ----------------------------------------------------------------

def _dataset() -> Path | None:
    for folder in (Path(__file__).resolve().parents[1].parent / "shared" / "data", Path("/work/shared/data")):
        if (folder / "twin_cities_raw.csv").is_file():
            return folder / "twin_cities_raw.csv"
    return None


DATASET = _dataset()
needs_dataset = pytest.mark.skipif(
    DATASET is None, reason="the twin-towns dataset ../shared/data/twin_cities_raw.csv is not on this machine")


# --- the installed program, run as a user runs it (shared by the process tests) ---------------

VENV_BIN = Path(sys.executable).parent


def partnerctl_exe() -> str:
    """The installed console script: on PATH, with this interpreter's bin folder first."""
    path = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])
    found = shutil.which("partnerctl", path=path)
    return found or str(VENV_BIN / "partnerctl")


PARTNERCTL = partnerctl_exe()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PARTNERCTL_REGISTRY", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
                        "COLUMNS", "LINES", "CLICOLOR_FORCE")}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.update(extra)
    return env


# --- Alice's and Bob's edits of Turin (the semantic merge and the team's git tests) -------------

ALICE_EVENT = {"id": "2026-10-alice-visit", "date": "2026-10", "title": "Alice's visit to Turin"}
BOB_EVENT = {"id": "2026-11-bob-visit", "date": "2026-11", "title": "Bob's visit to Turin"}


def canonical(doc: dict[str, Any]) -> str:
    """The canonical text of a document, which must be a valid registry."""
    from partnerctl.core.model import validate_registry
    from partnerctl.storage import toml as tomlfile

    reg, problems = validate_registry(doc)
    assert problems == []
    return tomlfile.dump(reg)


# --- a large registry built through the model (crash and kill tests) ---------------------------

# Fifty countries, as ISO 3166 codes (a registry stores the code).
_COUNTRIES = ("AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GB", "GR", "HR", "HU", "IE", "IS",
              "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK", "AL", "BA", "ME",
              "MK", "RS", "UA", "MD", "BY", "GE", "AM", "AZ", "TR", "IL", "MA", "TN", "DZ", "EG", "SN", "CA")


def large_registry(n: int) -> Any:
    """*n* partnerships with events and contacts, built through the model."""
    from partnerctl.core.model import Contact, Event, Owner, Partnership, Registry

    themes = {"culture": "Culture", "good-food": "Good food", "urban-mobility": "Urban mobility"}
    partnerships = {
        f"city-{i:05d}": Partnership(
            city=f"City {i}", country=_COUNTRIES[i % len(_COUNTRIES)], region="europe", since=1950 + i % 70,
            themes=["culture", "urban-mobility"] if i % 2 else ["good-food"],
            summary=f"Partnership number {i}.\nIts second line.",
            events=[Event(id=f"{1990 + j}-event-{j}", date=str(1990 + j), title=f"Event {j} of city {i}",
                          links=[f"https://example.org/{i}/{j}"]) for j in range(3)],
            contacts=[Contact(name=f"Person {i}", email=f"p{i}@example.org")])
        for i in range(n)
    }
    return Registry(registry=Owner(owner="Lyon", country="FR"), themes=themes, regions={"europe": "Europe"},
                    partnerships=partnerships)


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """Run *args* with stdout and stderr on a pseudo-terminal; everything it wrote (exit 0 asserted)."""
    import pty
    import select
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        proc.wait(timeout=30)
    assert proc.returncode == 0, out
    return out


# --- a team's repository (tests/test_git_team.py, tests/test_git_comments.py) ---------------------------

def in_team_repo(repo: Path, *args: str, who: str = "Alice", date: str = "2026-11-29T10:00:00+01:00",
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """``git`` (when args start with it) or ``partnerctl -r registry.toml``, as *who*, in *repo*."""
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": f"{who.lower()}@example.org",
           "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": f"{who.lower()}@example.org",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_CONFIG_NOSYSTEM": "1", "PARTNERCTL_REGISTRY": ""}
    env.pop("PARTNERCTL_REGISTRY")
    command = list(args) if args[0] == "git" else [sys.executable, "-m", "partnerctl", "-r", "registry.toml", *args]
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, check=False)
    if check:
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def team_turin(repo: Path) -> dict[str, object]:
    """Turin's table in the team repository's registry."""
    return tomllib.loads((repo / "registry.toml").read_text(encoding="utf-8"))["partnerships"]["turin"]
