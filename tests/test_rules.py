"""Issue 9: one rule each, the same for every command and both read paths.

- An exact id always wins over other partnerships' cities and aliases.
- ``edit`` checks a city or alias like ``add`` does.
- ``validate`` reports type errors and undeclared references together.
- ``import`` of a bare JSON array says which themes/networks are undeclared and how to fix it.
- Vocabulary terms are matched against a vocabulary folded once per command.
- The import's write reports progress through its checking and writing stages.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import partnerctl.core.names
import partnerctl.core.query
from conftest import DATASET, SHIPPED_REGISTRY, needs_dataset
from partnerctl.core import model
from partnerctl.formats import exchange
from partnerctl.storage import reader, store

# Cities and aliases of some partnerships are other partnerships' ids: "Turin" is the
# city of turin and of milan-turin, "Milan" the city of milan and an alias of paris-milan,
# which also answers to "turin". The file is canonical, so one-partnership writes take
# the one-block path when the index is on.
CLASHING = """\
[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"

[networks]

[partnerships.milan]
city = "Milan"
country = "IT"

[[partnerships.milan.events]]
id = "2001-milan-meeting"
date = "2001"
title = "Milan meeting"

[partnerships.milan-turin]
city = "Turin"
country = "IT"
owner = "Milan"
owner_country = "IT"

[[partnerships.milan-turin.events]]
id = "1999-milan-turin-fair"
date = "1999"
title = "Milan-Turin fair"

[partnerships.paris-milan]
city = "Milan"
aliases = ["Turin"]
country = "IT"
owner = "Paris"
owner_country = "FR"

[partnerships.turin]
city = "Turin"
aliases = ["Torino"]
country = "IT"

[[partnerships.turin.events]]
id = "1991-turin-charter"
date = "1991"
title = "Turin charter"
"""


@pytest.fixture(params=["index", "no-index"])
def read_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the index on, then off (PARTNERCTL_NO_INDEX=1)."""
    if request.param == "no-index":
        monkeypatch.setenv("PARTNERCTL_NO_INDEX", "1")
    else:
        monkeypatch.delenv("PARTNERCTL_NO_INDEX", raising=False)
    return str(request.param)


def table(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["partnerships"]


# --------------------------------------------------------------- an exact id always wins


@pytest.mark.parametrize("typed", ["turin", "TURIN", "Turin", " turin "])
def test_show_an_id_that_is_also_other_partnerships_city(invoke: Callable[..., Any], make_registry: Any,
                                                         read_path: str, typed: str) -> None:
    reg = make_registry(CLASHING)
    invoke(reg, "list")  # builds the index when it is on
    result = invoke(reg, "show", typed, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "turin"


def test_every_command_taking_partner_acts_on_the_ids_partnership(invoke: Callable[..., Any], make_registry: Any,
                                                                 read_path: str) -> None:
    reg = make_registry(CLASHING)
    invoke(reg, "list")
    before = table(reg)

    result = invoke(reg, "timeline", "turin", "milan", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [e["id"] for e in json.loads(result.stdout)] == ["1991-turin-charter", "2001-milan-meeting"]

    assert invoke(reg, "set", "turin", "kind", "twinning").exit_code == 0
    result = invoke(reg, "add-event", "milan", "--date", "2020", "--title", "Visit")
    assert result.exit_code == 0, result.stderr
    after = table(reg)
    assert after["turin"]["kind"] == "twinning"
    assert [e["id"] for e in after["milan"]["events"]] == ["2001-milan-meeting", "2020-visit"]
    assert {pid: p for pid, p in after.items() if pid not in ("turin", "milan")} == {
        pid: p for pid, p in before.items() if pid not in ("turin", "milan")}

    result = invoke(reg, "remove", "--yes", "turin")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: removed partnership turin (Turin)\n"
    assert sorted(table(reg)) == ["milan", "milan-turin", "paris-milan"]


def test_a_name_that_is_no_id_is_still_ambiguous(invoke: Callable[..., Any], make_registry: Any,
                                                  read_path: str) -> None:
    reg = make_registry(CLASHING)
    invoke(reg, "list")
    result = invoke(reg, "show", "turi")  # a prefix of an id is no id
    assert result.exit_code == 1
    # Their owners differ: each candidate says whose relation it is.
    assert result.stderr == ("partnerctl: error: 'turi' is ambiguous: milan-turin (Milan → Turin, Italy), "
                             "paris-milan (Paris → Milan, Italy), turin (Lyon → Turin, Italy)\n")
    result = invoke(reg, "show", "Torino", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["id"]) == (0, "turin")


@pytest.mark.slow
@needs_dataset
def test_lyon_ids_after_importing_the_twin_towns_dataset(invoke: Callable[..., Any], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    reg = tmp_path / "registry.toml"
    shutil.copyfile(SHIPPED_REGISTRY, reg)
    lyon_ids = sorted(tomllib.loads(SHIPPED_REGISTRY.read_text(encoding="utf-8"))["partnerships"])
    assert invoke(reg, "import", str(DATASET)).exit_code == 0

    for pid in lyon_ids:  # through the index
        result = invoke(reg, "show", pid, "--format", "ids")
        assert (result.exit_code, result.stdout) == (0, f"{pid}\n"), result.stderr
    monkeypatch.setenv("PARTNERCTL_NO_INDEX", "1")
    result = invoke(reg, "timeline", "turin", "milan", "lodz", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert {e["partner"] for e in json.loads(result.stdout)} == {"turin", "milan", "lodz"}
    result = invoke(reg, "show", "turin", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["city"]) == (0, "Turin")


# --------------------------------------------------------------- edit checks names like add


@pytest.mark.parametrize(("replace", "problem"), [
    # An alias that is another partnership's city (in other case)...
    (['aliases = [\n    "Mårlø",\n]', 'aliases = [\n    "Mårlø",\n    "KINGSFORD",\n]'],
     "'KINGSFORD' already names partnership birch (Kingsford, Canada)"),
    # ... a city that is another partnership's id.
    (['city = "Marlow"', 'city = "Cedar"'], "'Cedar' already names partnership cedar (Élan, Italy)"),
])
def test_edit_refuses_a_name_of_another_partnership(invoke: Callable[..., Any], small_canonical: Path,
                                                    editor: Any, replace: list[str],
                                                    problem: str) -> None:
    editor({"replace": [replace]})
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit", "alder", input="a\n")
    assert result.exit_code == 2
    assert f"partnerctl: {problem}\n" in result.stderr
    assert result.stderr.endswith("partnerctl: error: aborted; alder is unchanged\n")
    assert small_canonical.read_bytes() == before


def test_edit_refuses_a_name_another_writer_took_meanwhile(invoke: Callable[..., Any], small_canonical: Path,
                                                           editor: Any, read_path: str) -> None:
    import sys

    other = [sys.executable, "-m", "partnerctl", "--registry", str(small_canonical),
             "add-to", "birch", "aliases", "Marlow Bay"]
    editor({"run": other, "replace": [['"Mårlø",', '"Mårlø",\n    "Marlow Bay",']]})
    result = invoke(small_canonical, "edit", "alder")
    assert result.exit_code == 2
    assert result.stderr == "partnerctl: error: 'Marlow Bay' already names partnership birch (Kingsford, Canada)\n"
    assert table(small_canonical)["alder"]["aliases"] == ["Mårlø"]
    assert table(small_canonical)["birch"]["aliases"] == ["Marlow Bay"]


def test_edit_keeps_a_city_other_partnerships_share(invoke: Callable[..., Any], make_registry: Any,
                                                     editor: Any, read_path: str) -> None:
    # Shared partner cities are normal in an imported registry: only new names are checked.
    reg = make_registry(CLASHING)
    editor({"replace": [['owner = "Milan"', 'kind = "twinning"\nowner = "Milan"']]})
    result = invoke(reg, "edit", "milan-turin")
    assert result.exit_code == 0, result.stderr
    assert table(reg)["milan-turin"]["kind"] == "twinning"


# --------------------------------------------------------------- validate reports everything


BOTH_KINDS = """\
[registry]
owner = "Lyon"

[themes]
culture = "Culture"

[partnerships.alder]
city = "Marlow"
country = "IT"
since = "1991"
themes = ["culture", "opera", 5]

[[partnerships.alder.events]]
id = "1991-charter"
date = "1991"
title = "Charter"
themes = ["sport"]

[partnerships.birch]
city = "Kingsford"
country = "CA"
networks = ["luci"]
"""


def test_validate_reports_type_errors_and_undeclared_references_together(invoke: Callable[..., Any],
                                                                          make_registry: Any) -> None:
    reg = make_registry(BOTH_KINDS)
    result = invoke(reg, "validate")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"{reg}: partnerships.alder.since:7: Input should be a valid integer",
        f"{reg}: partnerships.alder.themes[2]:7: Input should be a valid string",
        f"{reg}: partnerships.alder.themes:7: undeclared theme 'opera'",
        f"{reg}: partnerships.alder.events[0].themes:7: undeclared theme 'sport'",
        f"{reg}: partnerships.birch.networks:19: undeclared network 'luci'",
    ]
    result = invoke(reg, "validate", "--format", "json")
    assert result.exit_code == 3
    assert [(p["where"].removeprefix(f"{reg}: "), p["message"]) for p in json.loads(result.stdout)] == [
        ("partnerships.alder.since", "Input should be a valid integer"),
        ("partnerships.alder.themes[2]", "Input should be a valid string"),
        ("partnerships.alder.themes", "undeclared theme 'opera'"),
        ("partnerships.alder.events[0].themes", "undeclared theme 'sport'"),
        ("partnerships.birch.networks", "undeclared network 'luci'"),
    ]


def test_references_of_values_of_the_wrong_shape_are_skipped(make_registry: Any) -> None:
    reg = make_registry('[registry]\nowner = "Lyon"\nthemes = 3\n\n[partnerships]\nalder = 5\n'
                        '[partnerships.birch]\ncity = "K"\ncountry = "C"\nthemes = "culture"\nevents = [1, {}]\n')
    problems = reader.problems(reg)
    assert problems and not any("undeclared" in p.message for p in problems)


# --------------------------------------------------------------- import of list --format json


def test_import_of_a_list_array_says_what_to_declare(invoke: Callable[..., Any], small_registry: Path,
                                                      tmp_path: Path) -> None:
    listed = tmp_path / "small.json"
    listed.write_text(invoke(small_registry, "list", "--format", "json").stdout, encoding="utf-8")
    fresh = tmp_path / "fresh.toml"
    assert invoke(fresh, "init", str(fresh), "--owner", "Lyon", "--country", "France").exit_code == 0

    result = invoke(fresh, "import", str(listed))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"partnerctl: read 4 rows from {listed}: 1 imported, 0 updated, 0 skipped, 3 rejected "
        "(3 undeclared theme or network); 3 rows name undeclared networks (delice, eurocities, luci): "
        "declare them with 'partnerctl networks add SLUG LABEL', or import what "
        "'partnerctl export --format json' writes, which carries the vocabularies")
    assert "rejected (networks: undeclared networks 'delice', 'eurocities')" in result.stderr.splitlines()[0]

    # Doing what it says works.
    for slug in ("delice", "eurocities", "luci"):
        assert invoke(fresh, "networks", "add", slug, slug.upper()).exit_code == 0
    result = invoke(fresh, "import", str(listed))
    assert result.stderr.splitlines()[-1] == (
        f"partnerctl: read 4 rows from {listed}: 3 imported, 0 updated, 1 skipped (1 already in the registry), "
        "0 rejected")


# --------------------------------------------------------------- a vocabulary is folded once


def test_tag_with_many_terms_folds_the_vocabulary_once(invoke: Callable[..., Any], make_registry: Any,
                                                        monkeypatch: pytest.MonkeyPatch, read_path: str) -> None:
    vocab = 3000
    terms = 300
    themes = "\n".join(f't{i:04d} = "Thème {i} word{i % 7}"' for i in range(vocab))
    reg = make_registry(f'[registry]\nowner = "Lyon"\n\n[themes]\n{themes}\n\n[networks]\n\n'
                        '[partnerships.turin]\ncity = "Turin"\ncountry = "IT"\n')
    invoke(reg, "list")  # the index is built before counting
    calls = 0
    real_fold = partnerctl.core.names.fold

    def counting_fold(text: str) -> str:
        nonlocal calls
        calls += 1
        return real_fold(text)

    monkeypatch.setattr(partnerctl.core.names, "fold", counting_fold)
    monkeypatch.setattr(partnerctl.core.query, "fold", counting_fold)
    # Slugs and whole labels, in any case and accents.
    words = [f"t{i:04d}" if i % 2 else f"THEME {i} WORD{i % 7}" for i in range(terms)]
    result = invoke(reg, "tag", "turin", *words)

    assert result.exit_code == 0, result.stderr
    assert table(reg)["turin"]["themes"] == [f"t{i:04d}" for i in range(terms)]
    # Each label once and each term once, plus a few names: O(vocabulary + terms), not their product.
    assert calls <= vocab + terms + 50, calls


def test_list_timeline_add_and_add_event_match_terms_alike(invoke: Callable[..., Any], small_registry: Path) -> None:
    assert invoke(small_registry, "list", "--theme", "URBAN", "--format", "ids").stdout == "alder\nbirch\ncedar\n"
    assert invoke(small_registry, "list", "--theme", "food", "--network", "délice",
                  "--format", "ids").stdout == "alder\n"
    result = invoke(small_registry, "timeline", "--theme", "mobility", "--format", "json")
    assert [(e["partner"], e["id"]) for e in json.loads(result.stdout)] == [
        ("alder", "1991-first-contacts"), ("alder", "1991-04-charter"), ("alder", "2005-tram-exchange"),
        ("cedar", "2011-bike-plan")]
    result = invoke(small_registry, "add-event", "dune", "--date", "2020", "--title", "X", "--theme", "urban")
    assert result.exit_code == 2
    assert "theme 'urban' is ambiguous: urban-mobility, urban-planning" in result.stderr
    result = invoke(small_registry, "add", "Oslo", "--country", "Norway", "--theme", "planning", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["themes"] == ["urban-planning"]


def test_a_matcher_sees_a_vocabulary_changed_in_place() -> None:
    vocab = {"culture": "Culture"}
    assert partnerctl.core.query.match_vocab(vocab, "culture", "theme") == {"culture"}
    vocab["night-life"] = "Night life"
    assert partnerctl.core.query.match_vocab(vocab, "night", "theme") == {"night-life"}
    vocab["night-life"] = "Evenings"
    assert partnerctl.core.query.match_vocab(vocab, "evenings", "theme") == {"night-life"}


# --------------------------------------------------------------- import progress through every stage


def test_import_progress_ticks_while_checking_and_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          read_path: str) -> None:
    monkeypatch.setattr(model, "CHUNK", 2)
    reg = tmp_path / "world.toml"
    reg.write_text('[registry]\nowner = "World"\n', encoding="utf-8")
    rows = "".join(f"Town{i},France,City{i},Italy\n" for i in range(5))
    file = tmp_path / "twins.csv"
    file.write_text("city1,country1,city2,country2\n" + rows, encoding="utf-8")
    heard: list[tuple[str, int, int | None]] = []

    def record(stage: str, done: int, total: int | None) -> None:
        heard.append((stage, done, total))

    batch = exchange.load(str(file), None, record)
    store.write(store.Location(reg), store.Change(lambda draft: exchange.merge(draft.everything(), batch,
                                                                              progress=record), whole=True),
                progress=record)

    stages = list(dict.fromkeys(stage for stage, _, _ in heard))
    assert stages == [f"reading {file}", "reading the registry", "merging", "checking the new registry",
                      "writing the registry", *(["updating the index"] if read_path == "index" else [])]
    assert [(done, total) for stage, done, total in heard if stage == "checking the new registry"] == [
        (0, None), (2, 5), (4, 5), (5, 5)]
    assert len(table(reg)) == 5
