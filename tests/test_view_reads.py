"""``stats``, ``search`` and shell completion read through the read API: same answers as a full load, cheaply."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    assert_same_with_and_without_index,
    completion_context,
    costly_loads,
    damage_every_row,
    no_full_load,
    outputs,
)
from partnerctl.cli import complete
from partnerctl.core import query
from partnerctl.storage import index, reader

pytestmark = pytest.mark.usefixtures("index_on")


# Text that folds in every way search.py folds: decomposed accents, letters without a
# decomposition, ß, ligatures, full-width letters, a NUL, a multi-line description, and
# events out of date order in the file.
SEARCH_TOML = r'''[registry]
owner = "Lyon"

[themes]
culture = "Culture"

[partnerships.alpha]
city = "Straße"
aliases = ["Łódź", "De\u0301lice"]
country = "DE"
projects = ["ÆON"]
summary = "Line one\nnul \u0000 here; Œuvre"

[[partnerships.alpha.events]]
id = "2010-late"
date = "2010"
title = "Later event, first in the file"
description = "Délice again"

[[partnerships.alpha.events]]
id = "1990-early"
date = "1990"
title = "Early délice"

[[partnerships.alpha.contacts]]
name = "Ann Délicé"
role = "desk officer"
organisation = "Ville de Lyon"
email = "ann@example.org"
phone = "+33 4 72"

[partnerships.beta]
city = "Ｌｙｏｎ"
country = "FR"
summary = "straße"

[partnerships.gamma]
city = "Plain"
country = "FR"
'''

QUERIES = ["strasse", "STRASSE", "ss", "łodz", "lodz", "delice", "e\u0301", "\u0301", "ae", "aeon", "oeuvre",
           "\u0000", "nul \u0000", "one\nnul", "lyon", "LYON", "zzz", "ann@", "+33", " e ", "  ",
           # In the index's text of alpha across two fields, in no field: still no hit.
           "strasse\nlodz"]


@pytest.mark.parametrize("text", QUERIES, ids=ascii)
@pytest.mark.parametrize("fmt", ["json", "tsv"])
def test_search_through_the_index_equals_search_of_the_file(
    invoke: Callable[..., Any], make_registry: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    text: str, fmt: str
) -> None:
    assert_same_with_and_without_index(invoke, make_registry(SEARCH_TOML), monkeypatch,
                                       ("search", text, "--format", fmt))


@pytest.mark.parametrize("args", [("show", "\udcff"), ("show", "tur\udcff"), ("search", "\udcff")], ids=ascii)
def test_undecodable_command_line_bytes_are_refused_with_or_without_the_index(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    # ``partnerctl show $'\xff'``: Python hands over a lone surrogate; it is refused before anything is read.
    monkeypatch.setenv(index.ENV_OFF, "1")
    without = outputs(invoke, registry_path, args)
    monkeypatch.delenv(index.ENV_OFF)
    invoke(registry_path, "list")  # builds the index
    assert outputs(invoke, registry_path, args) == without
    assert without[0] == 2 and "is not UTF-8 text" in without[2]


def test_search_finds_the_folded_forms(invoke: Callable[..., Any], make_registry: Callable[..., Path]) -> None:
    path = make_registry(SEARCH_TOML)
    invoke(path, "list")  # builds the index
    result = invoke(path, "search", "strasse", "--format", "json")
    assert [(h["partner"], h["field"], h["spans"]) for h in json.loads(result.stdout)] == [
        ("alpha", "city", [[0, 6]]), ("beta", "summary", [[0, 6]])]
    assert result.stderr == "partnerctl: 2 hits in 2 partnerships\n"


def test_search_and_stats_from_a_current_index_do_not_parse_the_file(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [("search", "tram", "--format", "json"), ("stats", "--format", "json")]
    expected = [invoke(registry_path, *a).stdout for a in args]
    no_full_load(monkeypatch)
    assert [invoke(registry_path, *a).stdout for a in args] == expected


def test_the_facts_the_index_answers_with_are_the_records_fields(
    invoke: Callable[..., Any], registry_path: Path, small_registry: Path
) -> None:
    # stats, resolution and completion read only the fact columns (no record JSON): they must
    # say exactly what the JSON records say.
    for path in (registry_path, small_registry):
        invoke(path, "list")
        r = reader.open_registry(path)
        try:
            assert r.indexed
            source = r._guarded.source()  # type: ignore[union-attr]
            want = query.wanted(r.snapshot({}), query.Filters())
            full = source.filtered(want)
            assert list(full) == sorted(full) and len(full) == len(r.registry().partnerships)
            for partial in (source.counted(want), source.everyone(), source.named(""), source.with_links("theme")):
                assert set(partial) <= set(full)
                assert all(partial[pid] == {k: full[pid][k] for k in partial[pid]} for pid in partial)
            assert set(source.counted(want)) == set(full)
        finally:
            r.close()


def _candidates(path: Path) -> list[Any]:
    out = []
    for prefix in ("", "t", "tu", "T", "é", "zz", "a-"):
        out.append(complete.partner(completion_context(path), prefix))
        out.append(complete.theme(completion_context(path), prefix))
        out.append(complete.network(completion_context(path), prefix))
        for partner in ("", "turin", "Turin", "m", "nowhere"):
            out.append(complete.event(completion_context(path, partner=partner), prefix[:1]))
    return out


def test_completion_through_the_index_equals_completion_from_the_file(
    registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(index.ENV_OFF, "1")
    without = _candidates(registry_path)
    monkeypatch.delenv(index.ENV_OFF)
    assert _candidates(registry_path) == without  # builds the index
    damage_every_row(index.db_path(registry_path))
    assert _candidates(registry_path) == without  # the damage seen: from the file, and the index rebuilt
    no_full_load(monkeypatch)
    assert _candidates(registry_path) == without
    assert ("turin", "Turin (Italy)") in complete.partner(completion_context(registry_path), "tu")
    assert complete.event(completion_context(registry_path, partner="Turin"), "")


@pytest.mark.parametrize("args", [("search", "lyon", "--format", "json"), ("stats", "--format", "json")])
def test_piped_search_and_stats_load_no_rich_and_validate_nothing(
    registry_path: Path, index_cache: Path, args: tuple[str, ...]
) -> None:
    first, second, loaded = costly_loads(registry_path, args, index_cache)
    assert loaded == []
    assert second == first and json.loads(second)
