"""Hostile registry text (issue 9): spreadsheet formulas, bidirectional and invisible characters,
mailto links with a query, labels on two lines, nested values in cells, search in labels."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from partnerctl.core.model import Contact, record
from partnerctl.core.names import fold
from partnerctl.formats import site, templating
from partnerctl.storage import store

# --- 1. spreadsheet formulas --------------------------------------------------------------

HOSTILE_HEAD = """\
[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "=Culture"

[networks]
delice = "@Délice"
"""

HOSTILE_TOML = HOSTILE_HEAD + """
[partnerships.evil]
city = "=HYPERLINK(\\"http://evil.example\\",\\"click\\")"
aliases = ["'=already quoted", "+cmd|' /C calc'!A0"]
country = "IT"
kind = "@SUM(1+1)"
since = 2001
since_note = "'just a quote"
themes = ["culture"]
networks = ["delice"]
projects = ["-minus", "plain"]
summary = "\\tTabbed =1+2"

[[partnerships.evil.events]]
id = "2001-dde"
date = "2001"
title = "=DDE(\\"cmd\\";\\"/C calc\\";\\"A0\\")"
themes = ["culture"]

[[partnerships.evil.contacts]]
name = "Eve"
phone = "+39 011 000 0000"
"""

# What a spreadsheet would run: a cell starting with one of these.
FORMULA_START = re.compile(r"[=+\-@\t\r]")


@pytest.fixture
def hostile(make_registry) -> Path:
    return make_registry(HOSTILE_TOML)


def _out(invoke, path: Path, *args: str) -> str:
    result = invoke(path, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_csv_cells_are_neutralised_and_raw_keeps_them(invoke, hostile: Path) -> None:
    fields = "--fields", "id,city,aliases,country,kind,since,since_note,projects"
    assert _out(invoke, hostile, "list", "--format", "csv", *fields) == (
        "id,city,aliases,country,kind,since,since_note,projects\n"
        "evil,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",\"''=already quoted,+cmd|' /C calc'!A0\","
        "IT,'@SUM(1+1),2001,'just a quote,\"'-minus,plain\"\n")
    assert _out(invoke, hostile, "list", "--format", "csv", "--raw", *fields) == (
        "id,city,aliases,country,kind,since,since_note,projects\n"
        "evil,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",\"'=already quoted,+cmd|' /C calc'!A0\","
        "IT,@SUM(1+1),2001,'just a quote,\"-minus,plain\"\n")


def test_tsv_cells_are_neutralised_piped_and_raw_keeps_them(invoke, hostile: Path) -> None:
    assert _out(invoke, hostile, "list") == (
        "evil\t'=HYPERLINK(\"http://evil.example\",\"click\")\tIT\t\t\t'@SUM(1+1)\t2001\tculture\tdelice"
        "\t'-minus,plain\n")
    assert _out(invoke, hostile, "timeline") == "evil\t2001-dde\t2001\t\t'=DDE(\"cmd\";\"/C calc\";\"A0\")\tculture\n"
    assert _out(invoke, hostile, "timeline", "--raw") == (
        "evil\t2001-dde\t2001\t\t=DDE(\"cmd\";\"/C calc\";\"A0\")\tculture\n")
    assert _out(invoke, hostile, "themes") == "culture\t'=Culture\t1\n"
    assert _out(invoke, hostile, "networks", "--raw") == "delice\t@Délice\t1\n"
    assert _out(invoke, hostile, "stats", "--by", "theme", "--by", "network", "--format", "csv") == (
        "by,key,label,count,percent\ntheme,culture,'=Culture,1,100.0\nnetwork,delice,'@Délice,1,100.0\n")


@pytest.mark.parametrize("args", [
    ["show", "evil", "--format", "csv"], ["show", "evil", "--format", "tsv"], ["list", "--format", "csv"],
    ["list", "--format", "csv", "--fields", "id,city,aliases,since_note,summary,contacts"],
    ["timeline", "--format", "csv"], ["search", "=", "--format", "csv"], ["search", "-", "--format", "tsv"],
    ["stats", "--format", "csv"], ["themes", "--format", "csv"], ["networks", "--format", "tsv"],
    ["export", "--format", "csv"],
    # A write command's changed object, printed as CSV, too.
    ["set", "evil", "kind", "=1+1", "--dry-run", "--format", "csv"],
])
def test_no_cell_starts_a_formula(invoke, hostile: Path, args: list[str]) -> None:
    out = _out(invoke, hostile, *args)
    rows = list(csv.reader(io.StringIO(out), delimiter="\t" if "tsv" in args else ","))
    cells = [c for row in rows for c in row]
    assert cells and not [c for c in cells if FORMULA_START.match(c)]


def test_validate_csv_cells_are_neutralised(invoke, make_registry) -> None:
    path = make_registry(HOSTILE_HEAD.replace("[networks]", '[networks]\n"=x" = "X"'))
    result = invoke(path, "validate", "--format", "csv")
    assert result.exit_code == 3
    message = "'=x' is not a slug (lower-case letters and digits joined by hyphens)"
    assert list(csv.reader(io.StringIO(result.stdout)))[1][2] == "'" + message
    raw = invoke(path, "validate", "--format", "csv", "--raw").stdout
    assert list(csv.reader(io.StringIO(raw)))[1][2] == message


def test_export_csv_neutralises_and_import_round_trips_exactly(
        invoke, hostile: Path, make_registry, tmp_path: Path) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert invoke(hostile, "export", "--format", "csv", "-o", str(first)).exit_code == 0
    assert first.read_text(encoding="utf-8").splitlines()[1] == (
        "evil,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",''=already quoted;+cmd|' /C calc'!A0,"
        "IT,,,,,'@SUM(1+1),2001,'just a quote,culture,delice,'-minus;plain,,'\tTabbed =1+2,,,")
    raw = _out(invoke, hostile, "export", "--format", "csv", "--raw")
    assert raw.splitlines()[1] == (
        "evil,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",'=already quoted;+cmd|' /C calc'!A0,"
        "IT,,,,,@SUM(1+1),2001,'just a quote,culture,delice,-minus;plain,,\tTabbed =1+2,,,")
    empty = make_registry(HOSTILE_HEAD, "empty.toml")
    imported = invoke(empty, "import", str(first))
    assert imported.exit_code == 0, imported.stderr
    assert invoke(empty, "export", "--format", "csv", "-o", str(second)).exit_code == 0
    assert second.read_bytes() == first.read_bytes()
    # The data too, every field the CSV carries: the quotes export added are gone, the registry's own stay.
    before = json.loads(_out(invoke, hostile, "show", "evil", "--json"))
    after = json.loads(_out(invoke, empty, "show", "evil", "--json"))
    assert after == {**before, "events": [], "contacts": []}
    assert after["aliases"] == ["'=already quoted", "+cmd|' /C calc'!A0"]
    assert after["since_note"] == "'just a quote"


def test_raw_changes_nothing_but_csv_and_tsv_cells(invoke, hostile: Path) -> None:
    for args in (["export"], ["export", "--format", "jsonl"], ["list", "--format", "json"]):
        assert _out(invoke, hostile, *args, "--raw") == _out(invoke, hostile, *args)


# --- 2. bidirectional and invisible characters ----------------------------------------------

BIDI_TOML = """\
[registry]
owner = "Lyon"

[partnerships.spoof]
city = "Spoof"
country = "IT"
summary = "Pay to \\u202eKCOL\\u202c now; Tu\\u200brin"

[[partnerships.spoof.events]]
id = "2001-x"
date = "2001"
title = "Title"
description = "desc \\u2066x\\u2069 \\ufeff end"
"""
RAW_SUMMARY = "Pay to \u202eKCOL\u202c now; Tu\u200brin"
SHOWN_SUMMARY = r"Pay to \u202eKCOL\u202c now; Tu\u200brin"
HIDDEN = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff\u00ad]")


@pytest.fixture
def bidi(make_registry) -> Path:
    return make_registry(BIDI_TOML)


@pytest.mark.parametrize("args", [
    ["show", "spoof"], ["show", "spoof", "--format", "table"], ["show", "spoof", "--format", "tsv", "--fields",
                                                                  "id,summary"],
    ["list", "--fields", "id,summary"], ["list", "--format", "csv", "--fields", "id,summary"],
    ["search", "pay"], ["search", "pay", "--format", "csv"], ["export", "--format", "csv"],
])
def test_text_outputs_show_them_escaped(invoke, bidi: Path, args: list[str]) -> None:
    out = _out(invoke, bidi, *args)
    assert not HIDDEN.search(out)
    assert SHOWN_SUMMARY in out


def test_timeline_shows_them_escaped(invoke, bidi: Path) -> None:
    out = _out(invoke, bidi, "timeline", "--format", "csv", "--fields", "title,description")
    assert out == "title,description\nTitle,desc \\u2066x\\u2069 \\ufeff end\n"


@pytest.mark.parametrize("args", [["show", "spoof", "--json"], ["list", "--format", "jsonl"],
                                  ["search", "pay", "--format", "json"], ["export"]])
def test_json_escapes_them_and_keeps_the_data(invoke, bidi: Path, args: list[str]) -> None:
    out = _out(invoke, bidi, *args)
    assert not HIDDEN.search(out)
    assert "\\u202e" in out and "\\u200b" in out
    assert RAW_SUMMARY in json.dumps(json.loads(out.splitlines()[0] if "jsonl" in args else out),
                                     ensure_ascii=False)


def test_terminal_table_shows_them_escaped(invoke, bidi: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    import partnerctl.cli.render

    monkeypatch.setattr(partnerctl.cli.render, "console", lambda file=None, stderr=False, terminal=None: Console(
        file=file, stderr=stderr, force_terminal=True, width=300, highlight=False, emoji=False))
    out = _out(invoke, bidi, "show", "spoof", "--format", "table")
    assert not HIDDEN.search(out)
    assert SHOWN_SUMMARY in out


def test_a_name_with_a_zero_width_space_is_refused(invoke, registry_path: Path) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add", "Tu\u200brin", "--country", "Italy", "--id", "turin-zw")
    assert result.exit_code == 2
    # Folded, it is Turin's name; the message shows the character, escaped.
    assert result.stderr == ("partnerctl: error: 'Tu\\u200brin' is already in the registry as turin (Turin, Italy): "
                             "the same relation (same owner, partner and country); change that one, or merge two "
                             "with 'partnerctl merge KEEP OTHER'\n")
    assert registry_path.read_bytes() == before
    assert fold("Tu\u200brin") == fold("Turin") == "turin"


@pytest.mark.parametrize(("args", "message"), [
    (["add", "Gre\u200bnoble", "--country", "France"],
     "invalid partnership grenoble: city: must not hold invisible or bidirectional control characters (U+200B)"),
    (["add", "Grenoble", "--country", "Fr\u202eance"], "country: must not hold invisible"),
    (["add", "Grenoble", "--country", "France", "--alias", "\ufeffGre"], "aliases[0]: must not hold invisible"),
    (["set", "turin", "owner", "Ly\u2066on"], "owner: must not hold invisible"),
    (["set", "turin", "owner_country", "Fr\u00adance"], "owner_country: must not hold invisible"),
    (["add-contact", "turin", "--name", "A\u202eB"], "name: must not hold invisible"),
    (["themes", "add", "night", "Ni\u200bght"], "theme label must be one line of text"),
])
def test_names_refuse_them(invoke, registry_path: Path, args: list[str], message: str) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert not HIDDEN.search(result.stderr)
    assert registry_path.read_bytes() == before


def test_a_registry_with_one_in_a_name_is_invalid(invoke, make_registry) -> None:
    path = make_registry(BIDI_TOML.replace('city = "Spoof"', 'city = "Sp\\u200boof"'))
    result = invoke(path, "validate")
    assert result.exit_code == 3
    assert "partnerships.spoof.city:4: must not hold invisible or bidirectional control characters (U+200B)" \
        in result.stderr


# --- 3. mailto --------------------------------------------------------------------------------

HOSTILE_MAIL = "ann@example.org?bcc=boss@example.org&body=Send%20the%20files"


class _Links(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_mailto_with_a_query_is_plain_text(registry_path: Path) -> None:
    reg = store.load(registry_path)
    # As if the model had let it in (it does not: next test): the page still links only a plain address.
    reg.partnerships["turin"].contacts = [Contact(name="Ann", email=HOSTILE_MAIL),
                                          Contact(name="Bob", email="bob@example.org")]
    drawn = site.make_site(reg, templating.environment(), templating.Branding())
    page = _Links(site.page(drawn, "turin", record("turin", reg.partnerships["turin"])))
    mailtos = [h for h in page.hrefs if h.startswith("mailto:")]
    assert mailtos == ["mailto:bob@example.org"]
    assert HOSTILE_MAIL in "".join(page.text)


@pytest.mark.parametrize("email", [HOSTILE_MAIL, "ann@example.org?subject=x", "ann@example.org#x",
                                   "a\"b@example.org", "ann@example.org/x", "ann%40x@example.org",
                                   "<ann@example.org>", "ann@exa mple.org", "mailto:ann@example.org"])
def test_the_model_takes_only_a_plain_address(invoke, registry_path: Path, email: str) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add-contact", "turin", "--name", "Ann", "--email", email)
    assert result.exit_code == 2, result.stderr
    assert "is not an e-mail address" in result.stderr
    assert registry_path.read_bytes() == before


# --- 4. labels are one line -----------------------------------------------------------------

@pytest.mark.parametrize("args", [["themes", "add", "x", "a\rb"], ["networks", "add", "x", "a\rb"],
                                  ["themes", "rename", "culture", "culture", "--label", "a\rb"],
                                  ["networks", "rename", "luci", "luci", "--label", "a\nb"]])
def test_a_label_with_a_line_break_is_refused(invoke, registry_path: Path, args: list[str]) -> None:
    before = registry_path.read_bytes()
    result = invoke(registry_path, *args)
    assert result.exit_code == 2, result.stderr
    assert "label must be one line of text" in result.stderr
    assert registry_path.read_bytes() == before


def test_a_registry_with_a_label_on_two_lines_is_invalid(invoke, make_registry) -> None:
    path = make_registry(HOSTILE_HEAD.replace('"=Culture"', '"Cul\\rture"'))
    result = invoke(path, "validate")
    assert result.exit_code == 3
    assert "themes.culture: must be a single line" in result.stderr


# --- 5. nested values in a cell ---------------------------------------------------------------

def test_nested_values_in_a_cell_are_compact_json(invoke, small_registry: Path) -> None:
    out = _out(invoke, small_registry, "show", "alder", "--fields", "id,events,contacts,themes", "--format", "csv")
    row = list(csv.reader(io.StringIO(out)))[1]
    rec = json.loads(_out(invoke, small_registry, "show", "alder", "--json"))
    assert json.loads(row[1]) == rec["events"] and json.loads(row[2]) == rec["contacts"]
    assert row[1].startswith('[{"id":"1991-first-contacts","date":"1991","end":null,')
    assert row[3] == "urban-mobility,good-food"  # a list of strings keeps its form
    tsv = _out(invoke, small_registry, "list", "--fields", "id,contacts")
    assert tsv.splitlines()[0] == ('alder\t[{"name":"Ann Exàmple","role":"desk officer","organisation":null,'
                                   '"email":"ann@example.org","phone":null,"notes":null,"internal":false}]')


# --- 7. search in theme and network labels; ids once ---------------------------------------------

def _hits(invoke, path: Path, text: str) -> list[dict[str, Any]]:
    return json.loads(_out(invoke, path, "search", text, "--format", "json"))


def test_search_finds_network_and_theme_labels(invoke, small_registry: Path) -> None:
    hits = _hits(invoke, small_registry, "delice")
    assert [(h["partner"], h["field"], h["text"], h["spans"]) for h in hits] == [
        ("alder", "networks[0]", "Délice", [[0, 6]]), ("cedar", "networks[0]", "Délice", [[0, 6]])]
    assert {(h["partner"], h["field"]) for h in _hits(invoke, small_registry, "good food")} == {
        ("alder", "themes[1]"), ("dune", "themes[0]")}


def test_search_delice_in_the_lyon_registry(invoke, registry_path: Path) -> None:
    reg = store.load(registry_path)
    members = {pid for pid, p in reg.partnerships.items() if "delice" in p.networks}
    hits = _hits(invoke, registry_path, "delice")
    found = {h["partner"] for h in hits}
    # Every member, by its network's label; besides them only Guangzhou, whose event names Délice.
    assert members and found == members | {"guangzhou"}
    assert {h["partner"] for h in hits if h["field"].startswith("networks[")} == members


def test_search_finds_a_new_label_after_a_relabel(invoke, small_registry: Path) -> None:
    assert _hits(invoke, small_registry, "tasty") == []  # the index (if on) is built here
    assert invoke(small_registry, "networks", "rename", "delice", "delice", "--label", "Tasty").exit_code == 0
    assert {h["partner"] for h in _hits(invoke, small_registry, "tasty")} == {"alder", "cedar"}


def test_search_ids_are_one_per_partnership(invoke, registry_path: Path) -> None:
    ids = _out(invoke, registry_path, "search", "lyon", "--format", "ids").splitlines()
    partners = [h["partner"] for h in _hits(invoke, registry_path, "lyon")]
    assert len(partners) > len(set(partners))  # several hits in a partnership
    assert ids == list(dict.fromkeys(partners))
