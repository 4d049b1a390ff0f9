"""Registry text is untrusted: no Rich markup interpretation, no terminal escapes passed through."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

# TOML escapes: \u001b is ESC, \u009b is the one-byte C1 CSI.
UNTRUSTED_TOML = r"""
[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"

[networks]
delice = "Délice"

[regions]
europe = "Europe"

[partnerships.evil]
city = "[bold red]X[/]"
aliases = ["[link=http://evil.example]Y[/link]"]
country = "IT"
region = "europe"
since = 2001
themes = ["culture"]
networks = ["delice"]
projects = ["[blink]P[/blink]"]
summary = "Summary \u001b]8;;http://evil.example\u0007link\u001b]8;;\u0007 and \u009b2J end."

[[partnerships.evil.events]]
id = "2001-red"
date = "2001"
title = "\u001b[31mRED\u001b[0m and \u009b2J"
description = "desc \u001b[2J cleared"

[[partnerships.evil.contacts]]
name = "[i]Eve[/i] \u001b[5m"
"""

RAW_TITLE = "\x1b[31mRED\x1b[0m and \x9b2J"
SHOWN_TITLE = r"\x1b[31mRED\x1b[0m and \x9b2J"


@pytest.fixture
def untrusted(tmp_path: Path) -> Path:
    path = tmp_path / "untrusted.toml"
    path.write_text(UNTRUSTED_TOML, encoding="utf-8")
    return path


def assert_safe(out: str) -> None:
    assert "\x1b" not in out
    assert "\x9b" not in out
    assert "\x07" not in out


@pytest.mark.parametrize(
    "args",
    [
        ["show", "evil"],
        ["show", "evil", "--format", "table"],
        ["show", "evil", "--format", "tsv"],
        ["list", "-f", "table"],
        ["list"],
        ["list", "--format", "csv"],
        ["timeline"],
        ["timeline", "-f", "table"],
        ["timeline", "evil", "--format", "csv"],
        ["list", "--format", "ids"],
    ],
)
def test_no_raw_escape_bytes_and_markup_kept_literally(invoke, untrusted: Path, args: list[str]) -> None:
    result = invoke(untrusted, *args)
    assert result.exit_code == 0, result.stderr
    assert_safe(result.stdout)
    assert_safe(result.stderr)
    if args[0] in ("show", "list") and "ids" not in args:
        assert "[bold red]X[/]" in result.stdout


@pytest.mark.parametrize(
    "args",
    [["show", "evil"], ["timeline", "-f", "table"], ["timeline"], ["show", "evil", "-f", "table"]],
)
def test_event_title_is_shown_escaped(invoke, untrusted: Path, args: list[str]) -> None:
    out = invoke(untrusted, *args).stdout
    assert SHOWN_TITLE in out
    assert r"desc \x1b[2J cleared" in out or args == ["timeline"]


def test_show_text_view_keeps_every_markup_literally(invoke, untrusted: Path) -> None:
    out = invoke(untrusted, "show", "evil").stdout
    assert "[bold red]X[/] (Italy)" in out
    assert "[link=http://evil.example]Y[/link]" in out
    assert "[blink]P[/blink]" in out
    assert "[i]Eve[/i] \\x1b[5m" in out
    assert "\\x1b]8;;http://evil.example\\x07link" in out
    assert "\\x9b2J end." in out


def test_list_table_keeps_city_markup(invoke, untrusted: Path) -> None:
    out = invoke(untrusted, "list", "-f", "table").stdout
    row = next(line for line in out.splitlines() if "evil" in line)
    assert "[bold red]X[/]" in row
    assert "Italy" in row


def test_timeline_tsv_escapes_title(invoke, untrusted: Path) -> None:
    out = invoke(untrusted, "timeline").stdout
    assert out == f"evil\t2001-red\t2001\t\t{SHOWN_TITLE}\t\n"


def test_csv_cells_escaped(invoke, untrusted: Path) -> None:
    rows = list(csv.reader(io.StringIO(invoke(untrusted, "timeline", "--format", "csv").stdout)))
    assert rows[1][4] == SHOWN_TITLE


def test_json_keeps_the_exact_data(invoke, untrusted: Path) -> None:
    # JSON is the complete data: the exact text, which a JSON reader gets back.
    rec = json.loads(invoke(untrusted, "show", "evil", "--json").stdout)
    assert rec["city"] == "[bold red]X[/]"
    assert rec["events"][0]["title"] == RAW_TITLE
    events = json.loads(invoke(untrusted, "timeline", "--json").stdout)
    assert events[0]["title"] == RAW_TITLE
    assert "\x1b" not in invoke(untrusted, "show", "evil", "--json").stdout   # escaped as \u001b


@pytest.mark.parametrize("args", [["show", "evil", "--json"], ["timeline", "--format", "jsonl"]])
def test_json_output_has_no_raw_c1_control(invoke, untrusted: Path, args: list[str]) -> None:
    out = invoke(untrusted, *args).stdout
    assert "\x9b" not in out


def test_error_messages_escape_control_characters(invoke, untrusted: Path) -> None:
    result = invoke(untrusted, "show", "\x1b[31mnobody\x9b")
    assert result.exit_code == 1
    assert_safe(result.stderr)
    assert result.stderr.count("\n") == 1


# --- the owner (registry.owner) is registry text too ---------------------------

OWNER_TOML = UNTRUSTED_TOML.replace('owner = "Lyon"', r'owner = "[bold red]O[/] \u001b[31mOWN"')


@pytest.fixture
def untrusted_owner(tmp_path: Path) -> Path:
    path = tmp_path / "owner.toml"
    path.write_text(OWNER_TOML, encoding="utf-8")
    return path


def test_show_owner_escape_not_passed_through(invoke, untrusted_owner: Path) -> None:
    out = invoke(untrusted_owner, "show", "evil").stdout
    assert "\x1b" not in out


def test_show_owner_markup_kept_literally(invoke, untrusted_owner: Path) -> None:
    out = invoke(untrusted_owner, "show", "evil").stdout
    labels = [line for line in out.splitlines() if "in common with" in line]
    assert len(labels) == 2
    assert all("[bold red]O[/]" in line for line in labels)


# --- on a terminal (Rich draws with styles: ESC is expected, but only Rich's own) ---------

@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    import partnerctl.cli.render
    import partnerctl.formats.output

    def console(file=None, stderr=False, terminal=None):
        return Console(file=file, stderr=stderr, force_terminal=True, color_system="truecolor", width=300,
                       highlight=False, emoji=False)

    monkeypatch.setattr(partnerctl.cli.render, "console", console)
    monkeypatch.delenv("NO_COLOR", raising=False)
    # choose() picks "table" when stdout is a terminal; here the format is asked for explicitly.


@pytest.mark.parametrize("args", [["show", "evil", "-f", "table"], ["list", "-f", "table"],
                                  ["timeline", "-f", "table"]])
def test_terminal_rendering_keeps_markup_literal_and_escapes_registry_controls(
        invoke, untrusted: Path, terminal: None, args: list[str]) -> None:
    result = invoke(untrusted, *args)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "\x1b[" in out                      # Rich did draw for a terminal
    assert "\x9b" not in out
    assert "\x1b[31mRED" not in out            # the registry's own sequence never passes
    assert "\x1b[2J" not in out
    if args[0] == "timeline":
        assert SHOWN_TITLE in out
    else:
        assert "[bold red]X[/]" in out
