"""partnerctl search: case- and accent-insensitive, with spans on the original words, shown safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from partnerctl.cli import render
from partnerctl.core.search import find_spans

SEARCH_TOML = """\
[registry]
owner = "Lyon"

[themes]
culture = "Culture"

[networks]
delice = "Délice"

[partnerships.alder]
city = "Marlow"
aliases = ["Mårlø"]
country = "IT"
projects = ["DELICE-PLUS"]
summary = "Member of the Délice network since 2007; [bold red]not markup[/bold red] <b>nor html</b>."

[[partnerships.alder.events]]
id = "2012-05-16-food-fair"
date = "2012-05-16"
title = "Food fair of the delice cities"
description = "Second line\\nwith a bell \\u0007 and Délice"

[[partnerships.alder.contacts]]
name = "Ann Délicé"
email = "ann@example.org"

[partnerships.birch]
city = "Kingsford"
country = "CA"
summary = "Nothing to find here."
"""


@pytest.fixture
def search_registry(make_registry) -> Path:
    return make_registry(SEARCH_TOML)


def _hits(invoke, path: Path, text: str) -> list[dict]:
    result = invoke(path, "search", text, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_accent_and_case_insensitive_with_spans_on_the_original_words(invoke, search_registry: Path) -> None:
    hits = _hits(invoke, search_registry, "delice")
    assert [(h["partner"], h["field"]) for h in hits] == [
        ("alder", "projects[0]"),
        ("alder", "summary"),
        ("alder", "events.2012-05-16-food-fair.title"),
        ("alder", "events.2012-05-16-food-fair.description"),
        ("alder", "contacts[0].name"),
    ]
    matched = [h["text"][s:e] for h in hits for s, e in h["spans"]]
    assert matched == ["DELICE", "Délice", "delice", "Délice", "Délicé"]
    assert _hits(invoke, search_registry, "DÉLICE") == hits


def test_aliases_and_letters_without_decomposition(invoke, search_registry: Path) -> None:
    hits = _hits(invoke, search_registry, "marlo")
    assert [(h["field"], h["text"]) for h in hits] == [("city", "Marlow"), ("aliases[0]", "Mårlø")]
    assert hits[1]["spans"] == [[0, 5]]


def test_spans_take_in_combining_marks_of_decomposed_text() -> None:
    text = "De\u0301lice and DELICE"
    assert [text[s:e] for s, e in find_spans(text, "délice")] == ["De\u0301lice", "DELICE"]
    assert find_spans("Straße", "strasse") == [(0, 6)]


def test_no_hit_is_an_empty_result_not_an_error(invoke, search_registry: Path) -> None:
    assert _hits(invoke, search_registry, "zanzibar") == []
    result = invoke(search_registry, "search", "zanzibar")
    assert result.exit_code == 0 and result.stdout == ""
    assert "0 hits" in result.stderr


def test_empty_text_is_a_usage_error(invoke, search_registry: Path) -> None:
    result = invoke(search_registry, "search", "  ")
    assert result.exit_code == 2
    assert "must not be empty" in result.stderr


def test_piped_rows_show_markup_literally(invoke, search_registry: Path) -> None:
    result = invoke(search_registry, "search", "markup")
    assert result.exit_code == 0
    assert result.stdout == ("alder\tsummary\tMember of the Délice network since 2007; "
                             "[bold red]not markup[/bold red] <b>nor html</b>.\n")


def test_terminal_highlight_is_literal_and_on_the_match() -> None:
    text = "[bold red]not markup[/bold red] and Délice"
    hit = {"partner": "alder", "field": "summary", "text": text, "spans": find_spans(text, "delice")}
    con = Console(width=200, force_terminal=True, color_system=None)
    with con.capture() as captured:
        con.print(render.search_hits(con, [hit]))
    assert "[bold red]not markup[/bold red] and Délice" in captured.get()


def test_highlight_survives_control_characters() -> None:
    text = "bell \x07 then Délice"
    shown = render.highlighted(text, find_spans(text, "delice"))
    # The bell is shown as a visible escape, and the highlight still covers exactly the match.
    assert shown.plain == "bell \\x07 then Délice"
    [span] = shown.spans
    assert shown.plain[span.start:span.end] == "Délice"


def test_long_text_is_shown_around_the_match() -> None:
    text = "x" * 300 + " Délice " + "y" * 300
    shown, spans = render.excerpt(text, find_spans(text, "delice"))
    assert len(shown) < 220 and shown.startswith("…") and shown.endswith("…")
    assert [shown[s:e] for s, e in spans] == ["Délice"]
