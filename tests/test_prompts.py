"""add, add-event and add-contact ask for what is missing on a terminal, never when piped.

The questions are driven on a real pseudo-terminal (pexpect: the process sees a
terminal on stdin, stdout and stderr, and prompt_toolkit draws on it); each step
waits for the text it answers, never for time. The registry written is compared,
byte for byte, with what the same command given as options writes.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pexpect
import pytest

from partnerctl.cli import prompts
from partnerctl.core.model import table
from partnerctl.storage.reader import open_registry

CTRL_C, CTRL_D, CTRL_U = "\x03", "\x04", "\x15"


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("PARTNERCTL_") and k != "PARTNERCTL_NO_INDEX")
           and k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "VISUAL", "EDITOR")}
    # (prompt_toolkit moves the cursor past a question's last space: expectations end at its colon.)
    # No cursor position request: pexpect is no terminal emulator that would answer one.
    env.update(TERM="xterm", LANG="C.UTF-8", PROMPT_TOOLKIT_NO_CPR="1", XDG_CACHE_HOME=str(cache))
    return env


@pytest.fixture
def terminal(index_cache: Path) -> Callable[..., Any]:
    """``terminal(registry, *args)``: partnerctl started on a pseudo-terminal of 40 rows and 120 columns."""
    children: list[Any] = []

    def spawn(registry: Path, *args: str) -> Any:
        child = pexpect.spawn(sys.executable, ["-m", "partnerctl", "-r", str(registry), *args], env=_env(index_cache),
                              encoding="utf-8", timeout=20, dimensions=(40, 120))
        children.append(child)
        return child

    yield spawn
    for child in children:
        child.close(force=True)


def _ended(child: Any) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def _as_options(invoke: Any, original: Path, tmp_path: Path, *args: str) -> bytes:
    """The registry's bytes after the same change given as options, on a copy of *original*."""
    copy = tmp_path / "as-options.toml"
    shutil.copyfile(original, copy)
    result = invoke(copy, *args)
    assert result.exit_code == 0, result.stderr
    return copy.read_bytes()


# --- on a real terminal ----------------------------------------------------------------------

def _converse(child: Any, *steps: tuple[str, str]) -> None:
    """For each step, wait for its text, then type its keys ("\\n" is Enter, "\\t" Tab)."""
    for text, keys in steps:
        child.expect_exact(text)
        child.send(keys)


def test_add_asks_for_each_missing_value(terminal: Any, invoke: Any, registry_path: Path, tmp_path: Path) -> None:
    original = tmp_path / "before.toml"
    shutil.copyfile(registry_path, original)
    # What completion shows beside a value, from the registry (the regions in use, counted).
    reader = open_registry(registry_path)
    europe = dict(reader.complete_field("partnership", "region"))["europe"]  # a region's slug, its label beside
    reader.close()
    child = terminal(registry_path, "add")
    _converse(
        child,
        ("City name:", "Zagreb\n"),
        ("Id [zagreb]:", "\n"),  # the default shown; Enter takes it
        ("Country:", ""),
        ("or an alias (required)", "Croatia\n"),  # the field's help, greyed where the answer goes
        ("World region:", "Eur"),
        (europe, "\t"),  # the declared regions completed, with their label ("Europe")
        ("europe", "\n"),
        ("Status:", "active\n"),
        ("Kind of relation:", "\n"),  # optional: left out
        ("First year of the partnership:", "nineteen\n"),
        # Refused as --since nineteen is, then asked again with the wrong answer to correct.
        ("partnerctl: since: 'nineteen' is not a year (digits, 1 to 9999, such as 1991)", ""),
        ("First year of the partnership:", CTRL_U + "1999\n"),
        ("Theme:", "mobil"),
        ("Urban mobility", "\t\n"),  # the theme's label beside its slug
        ("Theme:", "\n"),
        ("Network:", "eurocities\n"),
        ("Network:", "\n"),
        ("partnerctl: added partnership zagreb (Zagreb)", ""))
    assert _ended(child) == 0

    assert registry_path.read_bytes() == _as_options(
        invoke, original, tmp_path, "add", "Zagreb", "--country", "Croatia", "--region", "Europe", "--status",
        "active", "--since", "1999", "--theme", "urban-mobility", "--network", "eurocities")
    record = json.loads(invoke(registry_path, "show", "zagreb", "--json").stdout)
    assert {k: record[k] for k in ("id", "city", "country", "region", "status", "kind", "since", "themes",
                                   "networks")} == {
        "id": "zagreb", "city": "Zagreb", "country": "HR", "region": "europe", "status": "active",
        "kind": None, "since": 1999, "themes": ["urban-mobility"], "networks": ["eurocities"]}


def test_add_event_asks_for_the_partner_and_the_event(terminal: Any, invoke: Any, registry_path: Path,
                                                      tmp_path: Path) -> None:
    original = tmp_path / "before.toml"
    shutil.copyfile(registry_path, original)
    reader = open_registry(registry_path)
    turin = dict(reader.complete_partners("turi"))["turin"]
    reader.close()
    child = terminal(registry_path, "add-event")
    _converse(
        child,
        ("Partner:", "turi"),
        (turin, "\t\n"),  # partner ids completed, with their city ("Turin (Italy)")
        ("Date:", "2026-13\n"),
        ("partnerctl: invalid event: date:", ""),  # as --date 2026-13 is refused
        ("Date:", CTRL_U + "2026-11\n"),
        ("Title:", "Visit of the mayor\n"),
        ("Description:", "\n"),
        ("Theme:", "culture\n"),
        ("Theme:", "\n"),
        ("partnerctl: added event 2026-11-visit-of-the-mayor to turin", ""))
    assert _ended(child) == 0

    assert registry_path.read_bytes() == _as_options(
        invoke, original, tmp_path, "add-event", "turin", "--date", "2026-11", "--title", "Visit of the mayor",
        "--theme", "culture")
    events = json.loads(invoke(registry_path, "show", "turin", "--json").stdout)["events"]
    assert {"id": "2026-11-visit-of-the-mayor", "date": "2026-11", "end": None, "title": "Visit of the mayor",
            "description": None, "themes": ["culture"], "links": [], "notes": None, "internal": False} in events


def test_add_contact_asks_for_what_its_options_left_out(terminal: Any, invoke: Any, registry_path: Path,
                                                        tmp_path: Path) -> None:
    original = tmp_path / "before.toml"
    shutil.copyfile(registry_path, original)
    child = terminal(registry_path, "add-contact", "turin", "--role", "desk officer")
    _converse(
        child,
        ("Name:", "Ada Rossi\n"),
        ("Organisation:", "\n"),  # --role was given: not asked again
        ("E-mail:", "ada at example\n"),
        ("partnerctl: invalid contact: email: 'ada at example' is not an e-mail address", ""),
        ("E-mail:", CTRL_U + "ada@example.org\n"),
        ("Phone:", "\n"),
        ("partnerctl: added contact Ada Rossi to turin", ""))
    assert _ended(child) == 0

    assert registry_path.read_bytes() == _as_options(
        invoke, original, tmp_path, "add-contact", "turin", "--name", "Ada Rossi", "--role", "desk officer",
        "--email", "ada@example.org")


@pytest.mark.parametrize(("key", "at"), [(CTRL_C, "City name:"), (CTRL_D, "Country:"), (CTRL_C, "Theme:")],
                         ids=["ctrl-c", "ctrl-d", "ctrl-c-later"])
def test_ctrl_c_or_ctrl_d_aborts_and_writes_nothing(terminal: Any, registry_path: Path, key: str, at: str) -> None:
    before = registry_path.read_bytes()
    child = terminal(registry_path, "add")
    steps = [("City name:", "Zagreb"), ("Id [zagreb]:", ""), ("Country:", "Croatia"), ("World region:", ""),
             ("Status:", ""), ("Kind of relation:", ""), ("First year of the partnership:", ""), ("Theme:", "")]
    for question, answer in steps:
        child.expect_exact(question)
        if question == at:
            break
        child.sendline(answer)
    child.send(key)
    child.expect_exact("partnerctl: error: aborted")
    assert _ended(child) == 2
    assert registry_path.read_bytes() == before
    assert sorted(p.name for p in registry_path.parent.iterdir()) == ["registry.toml"]


def test_a_city_that_names_another_partnership_is_asked_again(terminal: Any, registry_path: Path) -> None:
    child = terminal(registry_path, "add")
    child.expect_exact("City name:")
    child.sendline("TURIN")
    child.expect_exact("partnerctl: 'TURIN' already names partnership turin (Turin, Italy)")
    child.expect_exact("City name:")
    child.sendline(CTRL_U + "Turku")
    child.expect_exact("Id [turku]:")
    child.sendline("turin")
    child.expect_exact("partnerctl: partnership 'turin' already exists (Turin, Italy); choose another id")
    child.expect_exact("Id [turku]:")
    child.send(CTRL_C)
    assert _ended(child) == 2


# --- never when piped ------------------------------------------------------------------------

MISSING = [
    (["add"], "partnerctl: error: missing argument 'CITY' (see 'partnerctl add --help')"),
    (["add", "Zagreb"], "partnerctl: error: missing option --country"),
    (["add-event"], "partnerctl: error: missing argument PARTNER (or give --from-jsonl FILE)"),
    (["add-event", "turin", "--date", "2026"], "partnerctl: error: missing option --title"),
    (["add-contact"], "partnerctl: error: missing argument 'PARTNER' (see 'partnerctl add-contact --help')"),
    (["add-contact", "turin"], "partnerctl: error: missing option --name"),
]


@pytest.mark.parametrize(("args", "line"), MISSING, ids=[" ".join(a) for a, _ in MISSING])
def test_piped_a_missing_value_is_a_usage_error(registry_path: Path, index_cache: Path, args: list[str],
                                                line: str) -> None:
    before = registry_path.read_bytes()
    done = subprocess.run([sys.executable, "-m", "partnerctl", "-r", str(registry_path), *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=_env(index_cache), timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n")
    assert registry_path.read_bytes() == before


@pytest.mark.parametrize("piped", ["stdin", "stdout"])
def test_half_a_terminal_asks_nothing(registry_path: Path, index_cache: Path, piped: str) -> None:
    # A person must be able to read the question and answer it: stdin and stdout both terminals.
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "partnerctl", "-r", str(registry_path), "add", "Zagreb"],
                              stdin=subprocess.DEVNULL if piped == "stdin" else follower,
                              stdout=subprocess.PIPE if piped == "stdout" else follower,
                              stderr=subprocess.PIPE, env=_env(index_cache), timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert done.stderr == b"partnerctl: error: missing option --country\n"


def test_no_prompt_library_on_the_read_path_nor_when_nothing_is_missing(registry_path: Path,
                                                                        index_cache: Path) -> None:
    for args in (["show", "turin", "--format", "json"],
                 ["add", "Zagreb", "--country", "Croatia", "--dry-run"]):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "partnerctl", "-r", str(registry_path),
                               *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=_env(index_cache), timeout=60)
        assert done.returncode == 0, done.stderr
        assert "prompt_toolkit" not in done.stderr


# --- on a forced terminal: the same questions as plain lines -----------------------------------

def test_forced_terminal_asks_in_plain_lines(invoke: Any, small_registry: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    result = invoke(small_registry, "add-event", "--title", "Tram visit",
                    input="nowhere\nbirch\n2011-3\n2011-03\n\nmobility\nzzz\n\n")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "Partner: \n"
        "partnerctl: no partnership 'nowhere'; 'partnerctl list' shows them all\n"
        "Partner: \n"
        "Date: \n"
        "partnerctl: invalid event: date: invalid date '2011-3': write YYYY, YYYY-MM or YYYY-MM-DD\n"
        "Date: \n"
        "Description: \n"
        "Theme: \n"
        "Theme: \n"
        "partnerctl: unknown theme 'zzz'; declared themes: culture (Culture), good-food (Good food), "
        "urban-mobility (Urban mobility), urban-planning (Urban planning)\n"
        "Theme: \n"
        "partnerctl: added event 2011-03-tram-visit to birch\n")
    assert json.loads(invoke(small_registry, "timeline", "birch", "--json").stdout)[-1]["themes"] == ["urban-mobility"]


def test_every_field_the_table_asks_for_is_asked(invoke: Any, small_registry: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The questions come from the table: its required fields and those marked ``ask``, in order."""
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    answers = {"city": "Zagreb", "country": "Croatia", "date": "2020", "title": "T", "name": "N"}
    for model, args in (("partnership", ["add"]), ("event", ["add-event", "dune"]),
                        ("contact", ["add-contact", "dune"])):
        asked = table().asked(model)
        # An optional field's empty answer leaves it out; a list's empty answer ends it.
        lines = [answers.get(spec.name, "") for spec in asked]
        if model == "partnership":
            lines.insert(1, "")  # the id: its default
        result = invoke(small_registry, *args, input="".join(line + "\n" for line in lines))
        assert result.exit_code == 0, result.stderr
        questions = [line.removesuffix(": ") for line in result.stderr.splitlines()[:-1]]
        expected = [prompts.label(spec) for spec in asked]
        if model == "partnership":
            expected.insert(1, "Id [zagreb]")
        assert questions == expected
        assert all(spec.required or spec.meta.ask for spec in asked)
        assert {s.name for s in table().of(model) if s.required and s.meta.edit != "none"} <= {s.name for s in asked}


def test_a_registry_that_cannot_be_written_fails_before_the_questions(invoke: Any, small_registry: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    small_registry.chmod(0o444)
    try:
        result = invoke(small_registry, "add", input="Zagreb\n")
    finally:
        small_registry.chmod(0o644)
    assert (result.exit_code, result.stderr) == (4, f"partnerctl: error: cannot write {small_registry}: the file is "
                                                    "read-only\n")
    bundled = subprocess.run([sys.executable, "-m", "partnerctl", "add-event"], input="turin\n", capture_output=True,
                             text=True, env={**_env(Path(os.environ["XDG_CACHE_HOME"])), "PARTNERCTL_FORCE_TTY": "1"},
                             cwd=small_registry.parent, timeout=60)
    assert bundled.returncode == 4
    assert bundled.stderr.startswith("partnerctl: error: the bundled Lyon registry")


# --- an answer is refused in the words its option's error uses ---------------------------------

ADD = ["add", "Zagreb", "--id", "zagreb"]
SAME_MESSAGE = [
    ("partnership", "country", "", [*ADD, "--country", ""]),
    ("partnership", "city", "Za\u200bgreb", ["add", "Za\u200bgreb", "--id", "zagreb", "--country", "Croatia"]),
    ("partnership", "since", "nineteen", [*ADD, "--country", "Croatia", "--since", "nineteen"]),
    ("partnership", "status", "dormant", [*ADD, "--country", "Croatia", "--status", "dormant"]),
    ("partnership", "themes", ["zzz"], [*ADD, "--country", "Croatia", "--theme", "zzz"]),
    ("partnership", "themes", ["urban"], [*ADD, "--country", "Croatia", "--theme", "urban"]),
    ("partnership", "networks", ["zzz"], [*ADD, "--country", "Croatia", "--network", "zzz"]),
    ("event", "date", "2026-13", ["add-event", "dune", "--date", "2026-13", "--title", "T"]),
    ("event", "title", " ", ["add-event", "dune", "--date", "2026", "--title", " "]),
    ("event", "themes", ["zzz"], ["add-event", "dune", "--date", "2026", "--title", "T", "--theme", "zzz"]),
    ("contact", "email", "ada at example", ["add-contact", "dune", "--name", "Ada", "--email", "ada at example"]),
    ("contact", "name", "", ["add-contact", "dune", "--name", ""]),
]


@pytest.mark.parametrize(("model", "name", "answer", "args"), SAME_MESSAGE,
                         ids=[f"{m}-{n}-{a}" for m, n, a, _ in SAME_MESSAGE])
def test_an_answer_is_refused_as_its_option_is(invoke: Any, small_registry: Path, model: str, name: str,
                                               answer: Any, args: list[str]) -> None:
    from partnerctl.core import edit
    from partnerctl.core.errors import PartnerctlError
    from partnerctl.storage import store

    draft = store.FullDraft(store.load(small_registry))
    spec = table().get(name, model)
    with pytest.raises(PartnerctlError) as refused:
        # A country or region answer is first resolved as its option is (prompts.field does so).
        if model == "partnership" and isinstance(answer, str) and (spec.meta.country or spec.meta.vocab):
            answer = edit.convert(draft, name, answer)
        # A partnership's errors name it; an event's and a contact's do not (as add-event, add-contact say them).
        edit.check_answer(draft, model, name, answer, "zagreb" if model == "partnership" else None)
    result = invoke(small_registry, *args)
    assert (result.exit_code, result.stderr) == (2, f"partnerctl: error: {refused.value}\n")


def test_forced_terminal_options_given_are_not_asked(invoke: Any, small_registry: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    before = small_registry.read_bytes()
    # The end of input at a question aborts, as at remove's.
    ended = invoke(small_registry, "add", "--country", "Croatia", input="")
    assert (ended.exit_code, ended.stderr) == (2, "City name: \npartnerctl: error: aborted\n")
    assert small_registry.read_bytes() == before
    # --id and --theme given: neither the id nor a theme is asked; the rest is, in the table's order.
    result = invoke(small_registry, "add", "--id", "zg", "--country", "Croatia", "--theme", "culture",
                    input="Zagreb\n\n\n\n\n\n")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("City name: \nWorld region: \nStatus: \nKind of relation: \n"
                             "First year of the partnership: \nNetwork: \npartnerctl: added partnership zg (Zagreb)\n")
    added = json.loads(invoke(small_registry, "show", "zg", "--json").stdout)
    # The country is held as its code; the region, not asked (left out), takes the country's default.
    assert (added["city"], added["country"], added["themes"]) == ("Zagreb", "HR", ["culture"])
