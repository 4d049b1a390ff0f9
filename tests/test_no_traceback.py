"""Never a traceback (issue 9): every command, in every environment a user can give it.

The table ``MINIMAL`` holds, for every command of the app (a test checks it names
them all, so a new command must be added), arguments with which it works on the
small registry. Each command then runs, as a real process (``python -m partnerctl``),
against: a registry nested too deeply, a non-UTF-8 argument, an output encoding that
cannot hold the registry's letters, a closed stdout and a full one (/dev/full); the
commands that take a year or a number of days also get one too large, with and
without the index. Each time: the documented exit code, one line on stderr, no
traceback, and the registry folder byte for byte as it was (or, when the write
landed, as the same write leaves it in a normal run), with no file left behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main

import partnerctl.cli
from conftest import SMALL_REGISTRY_TOML

# The small registry with, in every partnership, label and output, a letter Latin-1 lacks (the en dash,
# Ł): an output encoding without them must show every command's output escaped, never crash.
PLACE_TOML = SMALL_REGISTRY_TOML
for _old, _new in [('"Marlow and Lyon twinned', '"Marlow and Lyon – twinned'),
                   ('"Tram exchange programme"', '"Tram exchange – programme"'),
                   ('culture = "Culture"', 'culture = "Kultura – Łódź"'), ('luci = "LUCI"', 'luci = "ŁUCI"'),
                   ('kind = "twinning"', 'kind = "twinning – jumelage"'),
                   ('role = "desk officer"', 'role = "desk officer – Lyon"'),
                   ('city = "Kingsford"\n', 'city = "Kingsford"\nsummary = "Kingsford – Lyon"\n'),
                   ('city = "Élan"\n', 'city = "Élan"\nsummary = "Élan – Lyon"\n'),
                   ('city = "Bakel"\n', 'city = "Bakel"\nsummary = "Bakel – Lyon"\n'),
                   ('[regions]\n', '[countries]\n"Kosova – Kosovë" = "XK"\n\n[regions]\n')]:
    assert PLACE_TOML.count(_old) == 1, _old
    PLACE_TOML = PLACE_TOML.replace(_old, _new)

ERROR_LINE = re.compile(r"\Apartnerctl: error: [^\n]+\n\Z")
WRITTEN_BUT = "partnerctl: warning: the registry was written, but cannot write to stdout"
DEEP = 20_000  # arrays nested far beyond what a recursive parser's stack holds

# Command path -> arguments that work on the small registry ({new}: a new file; {jsonl}: a JSON-lines file).
# Writes print the changed object (--json), so a failed output after a landed write is exercised.
MINIMAL: dict[tuple[str, ...], list[str]] = {
    ("show",): ["show", "mårlø"],
    ("list",): ["list"],
    ("timeline",): ["timeline"],
    ("stats",): ["stats"],
    ("anniversaries",): ["anniversaries", "--every", "1"],
    ("brief",): ["brief", "mårlø"],
    ("search",): ["search", "élan"],
    ("validate",): ["validate"],
    ("export",): ["export"],
    ("themes",): ["themes"],
    ("networks",): ["networks"],
    ("add-event",): ["add-event", "alder", "--date", "2020", "--title", "Żółć fair"],
    ("import",): ["import", "{jsonl}"],
    ("init",): ["init", "{new}", "--sample", "--json"],
    ("add",): ["add", "Łódź", "--country", "Poland", "--since", "1991", "--json"],
    ("set",): ["set", "alder", "kind", "jumelage à l'ancienne", "--json"],
    ("unset",): ["unset", "alder", "kind", "--json"],
    ("tag",): ["tag", "dune", "urban-planning", "--json"],
    ("untag",): ["untag", "alder", "good-food", "--json"],
    ("add-to",): ["add-to", "alder", "projects", "URBACT", "--json"],
    ("remove-from",): ["remove-from", "alder", "projects", "CITYLOG", "--json"],
    ("edit-event",): ["edit-event", "alder", "2005-tram-exchange", "--title", "Tram – échange", "--json"],
    ("remove-event",): ["remove-event", "alder", "2005-tram-exchange", "--json"],
    ("add-contact",): ["add-contact", "dune", "--name", "Awa Łucja Ndiaye", "--json"],
    ("edit-contact",): ["edit-contact", "alder", "Ann Exàmple", "--role", "head – desk", "--json"],
    ("remove-contact",): ["remove-contact", "alder", "ann example", "--json"],
    ("rename",): ["rename", "alder", "aldergrove", "--json"],
    ("remove",): ["remove", "cedar", "--yes", "--json"],
    ("edit",): ["edit", "alder", "--json"],
    ("fmt",): ["fmt", "--json"],
    ("themes", "add"): ["themes", "add", "sport", "Sport – santé", "--json"],
    ("themes", "rename"): ["themes", "rename", "culture", "arts", "--json"],
    ("themes", "remove"): ["themes", "remove", "culture", "--force", "--json"],
    ("networks", "add"): ["networks", "add", "open", "Öpen – cities", "--json"],
    ("networks", "rename"): ["networks", "rename", "luci", "light", "--json"],
    ("networks", "remove"): ["networks", "remove", "luci", "--force", "--json"],
    ("regions",): ["regions"],
    ("regions", "add"): ["regions", "add", "oceania", "Océanie – îles", "--json"],
    ("regions", "rename"): ["regions", "rename", "europe", "europe", "--label", "Europe – UE", "--json"],
    ("regions", "remove"): ["regions", "remove", "africa", "--force", "--json"],
    ("countries",): ["countries"],
    ("countries", "add"): ["countries", "add", "Kosovo – Ł", "XK", "--json"],
    ("countries", "remove"): ["countries", "remove", "Kosova – Kosovë", "--json"],
    ("duplicates",): ["duplicates", "--format", "json"],
    ("merge",): ["merge", "alder", "cedar", "--take", "status=other", "--take", "since=keep", "--take",
                 "summary=keep", "--json"],
    ("locate",): ["locate", "alder", "--json"],
    ("upgrade",): ["upgrade", "--json"],
    ("use",): ["use"],
    ("diff",): ["diff", "{registry}", "{registry}", "--format", "json"],
    ("merge-file",): ["merge-file", "{registry}", "{registry}", "{registry}"],
    ("log",): ["log", "--json"],
    ("git-setup",): ["git-setup"],
    ("undo",): ["undo"],
}
# What cannot run in a folder holding only a registry, and why (tests/test_git_team.py runs them in real
# processes, in a git repository and after writes).
NOT_HERE = {("log",): "needs a git repository", ("git-setup",): "needs a git repository",
            ("undo",): "needs a write to undo"}
# What the registry is not read by (it makes a new file).
NOT_READING = {("init",), ("use",)}
# What prints nothing on stdout (its report is on stderr).
NO_STDOUT = {("validate",), ("import",), ("merge-file",)}
IDS = ["-".join(path) for path in MINIMAL]

JSONL = '{"id": "elm", "city": "Elmshorn", "country": "Germany", "summary": "Zwölf Brücken"}\n'
# The editor `edit` runs: a change to alder's block (its contact's role).
EDITOR = "sed -i s/desk/help/"


def command_paths() -> set[tuple[str, ...]]:
    """Every command of the app, sub-commands of groups included (a group is a command too)."""
    found: set[tuple[str, ...]] = set()

    def walk(group: object, prefix: tuple[str, ...]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            found.add((*prefix, name))
            walk(command, (*prefix, name))

    walk(typer.main.get_command(partnerctl.cli.app), ())
    return found


def test_the_table_names_every_command() -> None:
    assert set(MINIMAL) == command_paths()


# --- running a real process ------------------------------------------------------------------

@dataclass
class Run:
    code: int
    stdout: bytes
    stderr: str
    folder: dict[str, bytes]


def clean_env(**extra: str) -> dict[str, str]:
    # PARTNERCTL_NO_INDEX stays: a run of the suite with the index off runs these without it too.
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("PARTNERCTL_", "LC_", "PYTHONIO")) and k != "PARTNERCTL_NO_INDEX") and k not in (
               "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "PYTHONUTF8", "LANG")}
    env.update(LANG="C.UTF-8", PARTNERCTL_NO_BACKUP="1", EDITOR=EDITOR)
    env.pop("VISUAL", None)
    env.update(extra)
    return env


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of *folder* with its bytes; lock files may appear."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if not p.name.endswith(".lock") and p.name != ".partnerctl"}  # the lock, the undo journal


class Place:
    """A folder holding only the registry (``reg/registry.toml``), with the files the commands name beside it."""

    def __init__(self, root: Path, text: str = PLACE_TOML) -> None:
        self.root = root
        self.folder = root / "reg"
        self.folder.mkdir(parents=True)
        self.registry = self.folder / "registry.toml"
        self.registry.write_text(text, encoding="utf-8")
        (root / "events.jsonl").write_text(JSONL, encoding="utf-8")
        self.cache = root / "cache"

    def args(self, args: list[str]) -> list[str]:
        places = {"new": str(self.folder / "new.toml"), "jsonl": str(self.root / "events.jsonl"),
                  "registry": str(self.registry)}
        return [a.format(**places) if a.startswith("{") else a for a in args]

    def run(self, args: list[str | bytes], *, stdout: str = "pipe", env: dict[str, str] | None = None) -> Run:
        command: list[str | bytes] = [sys.executable, "-m", "partnerctl", "--registry", str(self.registry), *args]
        full = None
        if stdout == "closed":
            command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
            out: object = None
        elif stdout == "full":
            full = open("/dev/full", "wb")  # noqa: SIM115 - closed below
            out = full
        else:
            out = subprocess.PIPE
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
                                  env=env or clean_env(XDG_CACHE_HOME=str(self.cache)), timeout=120)
        finally:
            if full is not None:
                full.close()
        return Run(done.returncode, done.stdout or b"", done.stderr.decode("utf-8", "replace"),
                   snapshot(self.folder))


def skip_if_not_here(path: tuple[str, ...]) -> None:
    if path in NOT_HERE:
        pytest.skip(NOT_HERE[path])


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr and "Error:" not in run.stderr, run.stderr
    assert "Exception ignored" not in run.stderr, run.stderr


@dataclass
class Normal:
    """A command run normally, in a folder of its own (*root*): what the other runs are compared with."""

    run: Run
    root: Path

    def text(self, text: str, root: Path) -> str:
        """*text* of this run as a run in *root* says it (init and fmt name their file)."""
        return text.replace(str(self.root), str(root))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Callable[[tuple[str, ...]], Normal]:
    """``reference(path)``: the command run normally, once for the whole module."""
    runs: dict[tuple[str, ...], Normal] = {}

    def get(path: tuple[str, ...]) -> Normal:
        if path not in runs:
            place = Place(tmp_path_factory.mktemp("reference"))
            done = place.run(place.args(MINIMAL[path]))
            assert done.code == 0, done.stderr
            runs[path] = Normal(done, place.root)
        return runs[path]

    return get


# --- every command, once as it should run --------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("path", MINIMAL, ids=IDS)
def test_every_command_works_with_its_minimal_arguments(reference: Callable[..., Normal],
                                                       path: tuple[str, ...]) -> None:
    skip_if_not_here(path)
    done = reference(path).run
    no_traceback(done)
    if path in NO_STDOUT:
        assert done.stdout == b""
    else:
        assert done.stdout, "the command prints nothing: the output cases would test nothing"
        if "--json" in MINIMAL[path] or path == ("export",):
            json.loads(done.stdout)


# --- a registry nested too deeply --------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("path", MINIMAL, ids=IDS)
def test_a_registry_nested_too_deeply_is_exit_3(tmp_path: Path, path: tuple[str, ...]) -> None:
    skip_if_not_here(path)
    place = Place(tmp_path, PLACE_TOML + "\n[deep]\nx = " + "[" * DEEP + "]" * DEEP + "\n")
    before = snapshot(place.folder)
    done = place.run(place.args(MINIMAL[path]))
    no_traceback(done)
    if path in NOT_READING:
        assert done.code == 0, done.stderr
        made = {"new.toml"} if path == ("init",) else set()
        assert set(done.folder) == {*before, *made} and done.folder["registry.toml"] == before["registry.toml"]
        return
    assert done.code == 3, done.stderr
    if path == ("validate",):  # its report: one problem a line, with where it is
        assert done.stderr == f"{place.registry}: invalid TOML: arrays or tables nested too deeply\n"
    else:
        assert ERROR_LINE.match(done.stderr), done.stderr
        assert "invalid TOML: arrays or tables nested too deeply" in done.stderr
    assert done.stdout == b""
    assert done.folder == before


def test_inline_tables_nested_too_deeply_are_exit_3(invoke: object, make_registry: object) -> None:
    registry = make_registry(SMALL_REGISTRY_TOML + "\n[deep]\nx = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n")
    before = registry.read_bytes()
    result = invoke(registry, "list")
    assert result.exit_code == 3
    assert ERROR_LINE.match(result.stderr) and "nested too deeply" in result.stderr
    assert registry.read_bytes() == before


def test_a_number_too_long_for_python_is_exit_3(invoke: object, make_registry: object) -> None:
    registry = make_registry(SMALL_REGISTRY_TOML + "\n[deep]\nx = " + "7" * 5000 + "\n")
    result = invoke(registry, "show", "alder")
    assert result.exit_code == 3
    assert result.stderr.endswith(": invalid TOML: a number with too many digits\n")
    assert ERROR_LINE.match(result.stderr)


# --- an argument that is not UTF-8 ---------------------------------------------------------------

def spoiled(args: list[str]) -> tuple[list[str | bytes], int]:
    """*args* with bytes that are not UTF-8 added to the last one that is not an option; and its position."""
    at = max(i for i, a in enumerate(args) if not a.startswith("-"))
    out: list[str | bytes] = list(args)
    out[at] = args[at].encode() + b"\xff"
    return out, at + 3  # after --registry PATH


@pytest.mark.slow
@pytest.mark.parametrize("path", MINIMAL, ids=IDS)
def test_an_argument_that_is_not_utf8_is_refused(tmp_path: Path, path: tuple[str, ...]) -> None:
    skip_if_not_here(path)
    place = Place(tmp_path)
    before = snapshot(place.folder)
    args, position = spoiled(place.args(MINIMAL[path]))
    done = place.run(args)
    no_traceback(done)
    assert done.code == 2, done.stderr
    assert ERROR_LINE.match(done.stderr), done.stderr
    assert f"argument {position} is not UTF-8 text: '" in done.stderr
    assert "\\xff'" in done.stderr
    assert done.stdout == b""
    assert done.folder == before


@pytest.mark.parametrize("args", [
    ["set", "alder", "city", b"T\xff"],
    ["list", "--country", b"\xff"],
    ["add-event", "alder", "--date", "2020", "--title", b"ab\xff"],
    ["search", b"caf\xe9"],  # Latin-1, not UTF-8
], ids=["set-city", "list-country", "add-event-title", "search-latin1"])
def test_the_message_names_the_argument(tmp_path: Path, args: list[str | bytes]) -> None:
    place = Place(tmp_path)
    before = snapshot(place.folder)
    done = place.run(args)
    assert done.code == 2
    bad = next(i for i, a in enumerate(args) if isinstance(a, bytes))
    shown = args[bad].decode("utf-8", "backslashreplace")
    after = f" (after {args[bad - 1]})" if args[bad - 1].startswith("-") else ""
    assert done.stderr == f"partnerctl: error: argument {bad + 3} is not UTF-8 text: '{shown}'{after}\n"
    assert done.folder == before


def test_under_the_c_locale_utf8_arguments_are_read_as_utf8(tmp_path: Path) -> None:
    # LC_ALL=C without UTF-8 mode: Python decodes arguments as ASCII; partnerctl reads their bytes as UTF-8.
    place = Place(tmp_path)
    done = place.run(["show", "Mårlø", "--format", "ids"],
                     env=clean_env(LC_ALL="C", PYTHONUTF8="0", XDG_CACHE_HOME=str(place.cache)))
    assert (done.code, done.stdout, done.stderr) == (0, b"alder\n", "")


@pytest.mark.parametrize(("args", "text"), [
    (["import", "é.json"], '[{"id": "elm", "city": "Elmshorn", "country": "Germany"}]\n'),
    (["add-event", "--from-jsonl", "é.json"], '{"partner": "alder", "date": "2020", "title": "Fair"}\n'),
], ids=["import", "jsonl"])
def test_under_the_c_locale_a_file_named_in_utf8_still_opens(tmp_path: Path, args: list[str], text: str) -> None:
    # The arguments are read as UTF-8 text, and the file they name is opened by its UTF-8 bytes.
    place = Place(tmp_path)
    (tmp_path / "é.json").write_text(text, encoding="utf-8")
    command = [sys.executable, "-m", "partnerctl", "--registry", str(place.registry), *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env=clean_env(LC_ALL="C", PYTHONUTF8="0", XDG_CACHE_HOME=str(place.cache)))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    data = place.registry.read_bytes()
    assert b"[partnerships.elm]" in data if args[0] == "import" else b'title = "Fair"' in data


# --- an output encoding that cannot hold the text ----------------------------------------------

ENCODINGS = {
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "latin-1": {"PYTHONIOENCODING": "latin-1"},
    "c-locale": {"LC_ALL": "C", "PYTHONUTF8": "0"},
}


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("path", MINIMAL, ids=IDS)
def test_an_output_encoding_without_the_letters_prints_escapes(tmp_path: Path, reference: Callable[..., Normal],
                                                                 path: tuple[str, ...], encoding: str) -> None:
    skip_if_not_here(path)
    normal = reference(path)
    place = Place(tmp_path / "run")
    done = place.run(place.args(MINIMAL[path]), env=clean_env(XDG_CACHE_HOME=str(place.cache), **ENCODINGS[encoding]))
    no_traceback(done)
    assert done.code == 0, done.stderr
    assert done.folder == normal.run.folder  # the same write, whatever the terminal
    codec = "latin-1" if encoding == "latin-1" else "ascii"
    text = done.stdout.decode(codec)  # the output is in the encoding asked for
    if "--json" in MINIMAL[path] or path == ("export",):
        # Escaped as JSON escapes \uXXXX: still JSON, and the same data.
        assert json.loads(text) == json.loads(normal.text(normal.run.stdout.decode(), place.root))
    else:
        assert bool(text) == bool(normal.run.stdout)


@pytest.mark.parametrize("args", [["show", "alder"], ["list"], ["search", "élan"], ["stats"], ["themes"]],
                         ids=["show", "list", "search", "stats", "themes"])
@pytest.mark.parametrize("encoding", ["ascii", "c-locale"])
def test_rich_on_a_terminal_that_lacks_the_letters(tmp_path: Path, args: list[str], encoding: str) -> None:
    from conftest import run_on_a_terminal  # asserts exit 0

    place = Place(tmp_path)
    out = run_on_a_terminal([sys.executable, "-m", "partnerctl", "--registry", str(place.registry), *args],
                             clean_env(XDG_CACHE_HOME=str(place.cache), COLUMNS="120", **ENCODINGS[encoding]))
    assert b"Traceback" not in out
    out.decode("ascii")  # nothing but what the terminal's encoding holds
    assert b"\\u" in out  # the letters it lacks, escaped


def test_a_landed_write_under_ascii_prints_what_it_can_and_exits_0(tmp_path: Path) -> None:
    # The case: the event was added; exit 1 there made a retrying script add it twice.
    place = Place(tmp_path)
    done = place.run(["add-event", "alder", "--date", "2020", "--title", "Żółć"],
                     env=clean_env(PYTHONIOENCODING="ascii", XDG_CACHE_HOME=str(place.cache)))
    assert done.code == 0, done.stderr
    assert done.stdout == b"alder\t2020-zolc\t2020\t\t\\u017b\\u00f3\\u0142\\u0107\t\n"
    assert done.stderr == "partnerctl: added event 2020-zolc to alder\n"
    assert 'title = "Żółć"' in done.folder["registry.toml"].decode()


# --- stdout closed or full -----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("stdout", ["closed", "full"])
@pytest.mark.parametrize("path", MINIMAL, ids=IDS)
def test_an_output_that_cannot_be_written(tmp_path: Path, reference: Callable[..., Normal],
                                          path: tuple[str, ...], stdout: str) -> None:
    skip_if_not_here(path)
    normal = reference(path)
    place = Place(tmp_path / "run")
    before = snapshot(place.folder)
    done = place.run(place.args(MINIMAL[path]), stdout=stdout)
    no_traceback(done)
    why = "it is closed" if stdout == "closed" else "No space left on device"
    lines = done.stderr.splitlines()
    if path in NO_STDOUT:
        assert done.code == 0 and done.folder == normal.run.folder
        assert done.stderr == normal.text(normal.run.stderr, place.root)
    elif done.folder != before:
        # The write landed: exit 0, what it did, then the notice (documented in the README).
        assert done.folder == normal.run.folder
        assert done.code == 0, done.stderr
        assert lines[-1] == f"{WRITTEN_BUT}: {why}", done.stderr
        assert [line for line in lines if "error" in line] == []
        assert lines[:-1] == normal.text(normal.run.stderr, place.root).splitlines()
    else:
        # A read: exit 4, and one error line, the last (a read may have said how much it found first).
        assert done.code == 4, done.stderr
        assert lines[-1] == f"partnerctl: error: cannot write to stdout: {why}"
        assert sum(line.startswith("partnerctl: error:") for line in lines) == 1
        assert all(line.startswith("partnerctl: ") for line in lines)
        assert path not in {("init",)} and not any(a == "--json" for a in MINIMAL[path]), \
            "a write that did not land"


def test_set_json_to_dev_full_is_exit_0_with_the_notice(tmp_path: Path) -> None:
    place = Place(tmp_path)
    done = place.run(["set", "alder", "since", "1992", "--json"], stdout="full")
    assert done.code == 0
    assert done.stderr == ("partnerctl: set since of alder\n"
                           f"{WRITTEN_BUT}: No space left on device\n")
    assert "since = 1992" in done.folder["registry.toml"].decode()


def test_list_to_dev_full_is_exit_4(tmp_path: Path) -> None:
    place = Place(tmp_path)
    done = place.run(["list"], stdout="full")
    assert (done.code, done.stderr) == (4, "partnerctl: error: cannot write to stdout: No space left on device\n")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["list", "--help"]], ids=["help", "version", "list-help"])
@pytest.mark.parametrize("stdout", ["closed", "full"])
def test_help_and_version_that_cannot_be_written(tmp_path: Path, args: list[str], stdout: str) -> None:
    # click probes the stream with an empty write first: that must not hide the failure of the real one.
    place = Place(tmp_path)
    done = place.run(args, stdout=stdout)
    why = "it is closed" if stdout == "closed" else "No space left on device"
    assert (done.code, done.stderr) == (4, f"partnerctl: error: cannot write to stdout: {why}\n")


def test_a_reader_that_leaves_is_still_a_quiet_exit_0(tmp_path: Path) -> None:
    place = Place(tmp_path)
    command = [sys.executable, "-m", "partnerctl", "--registry", str(place.registry), "export", "--format", "jsonl"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=clean_env(XDG_CACHE_HOME=str(place.cache))) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()  # the reader leaves (as `head -c 10` does)
        err = proc.stderr.read().decode()
        code = proc.wait()
    assert code == 0 and "Traceback" not in err


def test_closed_stdin_and_stderr(tmp_path: Path) -> None:
    place = Place(tmp_path)
    command = ["sh", "-c", 'exec "$@" <&- 2>&-', "sh", sys.executable, "-m", "partnerctl",
               "--registry", str(place.registry)]
    env = clean_env(XDG_CACHE_HOME=str(place.cache))
    shown = subprocess.run([*command, "show", "alder", "--format", "ids"], capture_output=True, env=env)
    assert (shown.returncode, shown.stdout) == (0, b"alder\n")
    # An error with nowhere to say it still has its exit code; stdin closed reads as empty.
    missing = subprocess.run([*command, "show", "atlantis"], capture_output=True, env=env)
    assert (missing.returncode, missing.stdout) == (1, b"")
    nothing = subprocess.run([*command, "add-event", "--from-jsonl", "-", "--json"], capture_output=True, env=env)
    assert (nothing.returncode, json.loads(nothing.stdout)) == (0, [])


# --- integers too large: one year parser, --days bounded ---------------------------------------

HUGE = "99999999999999999999"
BIG_INTEGERS = [
    ("list-since", ["list", "--since", HUGE], "--since"),
    ("list-until", ["list", "--until", HUGE], "--until"),
    ("stats-since", ["stats", "--since", HUGE], "--since"),
    ("stats-until", ["stats", "--until", HUGE], "--until"),
    ("timeline-since", ["timeline", "--since", HUGE], "--since"),
    ("timeline-until", ["timeline", "--until", HUGE], "--until"),
    ("timeline-days", ["timeline", "--days", "3000000"], "--days"),
    ("timeline-upcoming-days", ["timeline", "--upcoming", "--days", HUGE], "--days"),
    ("set-since", ["set", "alder", "since", HUGE], "since"),
    ("add-since", ["add", "Zagreb", "--country", "Croatia", "--since", HUGE], "since"),
]


@pytest.mark.slow
@pytest.mark.parametrize("indexed", [True, False], ids=["index", "no-index"])
@pytest.mark.parametrize(("args", "name"), [pytest.param(*row[1:], id=row[0]) for row in BIG_INTEGERS])
def test_an_integer_too_large_is_a_usage_error(tmp_path: Path, args: list[str], name: str, indexed: bool) -> None:
    place = Place(tmp_path)
    env = clean_env(XDG_CACHE_HOME=str(place.cache))
    env.pop("PARTNERCTL_NO_INDEX", None)
    if indexed:
        assert place.run(["list"], env=env).code == 0  # builds the index: the read below goes through it
        assert any(place.cache.rglob("*.sqlite"))
    else:
        env["PARTNERCTL_NO_INDEX"] = "1"
    before = snapshot(place.folder)
    done = place.run(args, env=env)
    no_traceback(done)
    assert done.code == 2, done.stderr
    assert ERROR_LINE.match(done.stderr), done.stderr
    value = args[-1]
    if name.startswith("--"):
        assert f"invalid value for '{name}': '{value}' is not " in done.stderr
    else:
        assert f"{name}: '{value}' is not a year" in done.stderr
    assert done.folder == before


@pytest.mark.parametrize("value", ["1_991", "١٩٩١", "+1991", "1991.0", "0", "10000", " ", "1991\n"])
@pytest.mark.parametrize("command", [["list", "--since"], ["stats", "--until"], ["timeline", "--since"]])
def test_years_are_ascii_digits_1_to_9999(invoke: object, small_registry: Path, command: list[str],
                                          value: str) -> None:
    result = invoke(small_registry, *command, value)
    assert result.exit_code == 2
    assert ERROR_LINE.match(result.stderr)
    assert "is not a year (digits, 1 to 9999, such as 1991)" in result.stderr


def test_the_year_parser() -> None:
    from partnerctl.core import dates

    assert [dates.parse_year(t) for t in ("1991", "1", "9999", "0991", " 2001 ")] == [1991, 1, 9999, 991, 2001]
    for bad in ("", "0", "10000", "1_991", "١٩٩١", "+1991", "-5", "1e3", "1991\n", "0" * 50 + "1" * 5, HUGE):
        with pytest.raises(ValueError, match="is not a year"):
            dates.parse_year(bad)
    assert dates.parse_days("0") == 0 and dates.parse_days(str(dates.MAX_DAYS)) == dates.MAX_DAYS
    with pytest.raises(ValueError, match="is not a number of days"):
        dates.parse_days(str(dates.MAX_DAYS + 1))


def test_the_longest_days_still_make_a_date(invoke: object, small_registry: Path) -> None:
    import datetime

    from partnerctl.core import dates

    assert datetime.date.today() + datetime.timedelta(days=dates.MAX_DAYS) < datetime.date.max
    result = invoke(small_registry, "timeline", "--days", str(dates.MAX_DAYS), "--no-anniversaries", "--format",
                    "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    # This year's anniversaries are upcoming all year long: only they are listed.
    result = invoke(small_registry, "timeline", "--days", str(dates.MAX_DAYS), "--format", "json")
    assert result.exit_code == 0 and all("anniversary-" in e["id"] for e in json.loads(result.stdout))


def test_csv_import_reads_since_with_the_same_parser(invoke: object, small_registry: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("id,city,country,since\nelm,Elmshorn,Germany,1_991\noak,Oakham,UK,1991\n", encoding="utf-8")
    result = invoke(small_registry, "import", str(rows))
    assert result.exit_code == 0
    assert f"{rows} line 2: rejected (since: '1_991' is not a year" in result.stderr
    assert "1 imported" in result.stderr and "1 rejected (1 invalid)" in result.stderr


# --- JSON lines: nesting, lone surrogates, bytes that are not UTF-8 ----------------------------

DEEP_JSON = '{"partner": "alder", "date": "2020", "title": ' + "[" * DEEP + "]" * DEEP + "}\n"
SURROGATE_EVENT = '{"partner": "alder", "date": "2020", "title": "ab\\ud800"}\n'
SURROGATE_RECORD = '{"id": "elm", "city": "Elm\\udfff", "country": "Germany"}\n'


def test_add_event_from_jsonl_nested_too_deeply(tmp_path: Path) -> None:
    place = Place(tmp_path)
    before = snapshot(place.folder)
    done = run_stdin(place, ["add-event", "--from-jsonl", "-"], DEEP_JSON.encode())
    assert (done.code, done.stderr) == (2, "partnerctl: error: line 1: not JSON: arrays or objects nested too "
                                           "deeply (column 1)\n")
    assert done.folder == before


def test_add_event_from_jsonl_with_a_lone_surrogate(tmp_path: Path) -> None:
    place = Place(tmp_path)
    before = snapshot(place.folder)
    done = run_stdin(place, ["add-event", "--from-jsonl", "-"], SURROGATE_EVENT.encode())
    assert done.code == 2
    assert done.stderr == ("partnerctl: error: line 1: invalid event: title: not valid text: "
                           "a lone surrogate '\\ud800' at character 3\n")
    assert done.folder == before


@pytest.mark.parametrize(("data", "why"), [
    (DEEP_JSON.encode(), "(not valid JSON: arrays or objects nested too deeply"),
    (SURROGATE_RECORD.encode(), "(city: not valid text: a lone surrogate '\\udfff' at character 4)"),
    (b'{"id": "elm", "city": "Elm", "country": "Germany", "since": ' + b"9" * 5000 + b"}\n",
     "(not valid JSON: a number with too many digits"),
], ids=["deep", "surrogate", "long-number"])
def test_import_jsonl_rejects_the_row(tmp_path: Path, data: bytes, why: str) -> None:
    from partnerctl.storage import store
    from partnerctl.storage import toml as tomlfile

    # Canonical: an import writes the registry in canonical form even when it adds nothing.
    place = Place(tmp_path, tomlfile.dump(store.parse_valid(SMALL_REGISTRY_TOML, "small")))
    before = snapshot(place.folder)
    done = run_stdin(place, ["import", "-", "--format", "jsonl"], data)
    no_traceback(done)
    assert done.code == 0, done.stderr
    first, summary = done.stderr.splitlines()
    assert first.startswith(f"partnerctl: - line 1: rejected {why}")
    assert summary == "partnerctl: read 1 row from -: 0 imported, 0 updated, 0 skipped, 1 rejected (1 " + (
        "unparsable)" if "JSON" in why else "invalid)")
    assert done.folder == before


def test_import_json_nested_too_deeply_is_a_bad_file(tmp_path: Path) -> None:
    place = Place(tmp_path)
    before = snapshot(place.folder)
    done = run_stdin(place, ["import", "-", "--format", "json"], ("[" * DEEP + "]" * DEEP).encode())
    assert done.code == 2
    assert ERROR_LINE.match(done.stderr) and "nested too deeply" in done.stderr
    assert done.folder == before


@pytest.mark.parametrize("args", [["import", "-", "--format", "jsonl"], ["add-event", "--from-jsonl", "-"]])
def test_stdin_that_is_not_utf8(tmp_path: Path, args: list[str]) -> None:
    place = Place(tmp_path)
    before = snapshot(place.folder)
    done = run_stdin(place, args, b'{"partner": "alder", "date": "2020", "title": "caf\xe9"}\n')
    assert (done.code, done.stderr) == (2, "partnerctl: error: stdin: not UTF-8 text (byte 50)\n")
    assert done.folder == before


def run_stdin(place: Place, args: list[str], data: bytes) -> Run:
    done = subprocess.run([sys.executable, "-m", "partnerctl", "--registry", str(place.registry), *args],
                          input=data, capture_output=True, env=clean_env(XDG_CACHE_HOME=str(place.cache)),
                          timeout=120)
    return Run(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"), snapshot(place.folder))


# --- $EDITOR that removes its file, or leaves a folder -------------------------------------------

@pytest.mark.parametrize(("editor", "why"), [
    ("rm", "No such file or directory"),
    ("sh -c 'rm \"$0\" && mkdir \"$0\" && touch \"$0/x\"'", "Is a directory"),
], ids=["deleted", "folder"])
def test_an_editor_that_removes_its_file(tmp_path: Path, editor: str, why: str) -> None:
    place = Place(tmp_path)
    temp = tmp_path / "tmp"
    temp.mkdir()
    before = snapshot(place.folder)
    done = place.run(["edit", "alder"], env=clean_env(XDG_CACHE_HOME=str(place.cache), EDITOR=editor,
                                                      TMPDIR=str(temp)))
    no_traceback(done)
    assert done.code == 2
    assert ERROR_LINE.match(done.stderr), done.stderr
    assert "partnerctl: error: cannot read the edited file " in done.stderr
    assert done.stderr.endswith(f"{why}; nothing changed\n")
    assert done.folder == before
    assert list(temp.iterdir()) == []  # what the editor left at the temporary name is gone too


def test_an_edit_nested_too_deeply_is_a_mistake_to_fix(tmp_path: Path) -> None:
    place = Place(tmp_path)
    deep = tmp_path / "deep.toml"
    deep.write_text('[partnerships.alder]\ncity = "Marlow"\ncountry = "IT"\nx = ' + "[" * DEEP + "]" * DEEP
                    + "\n", encoding="utf-8")
    before = snapshot(place.folder)
    done = place.run(["edit", "alder"], env=clean_env(XDG_CACHE_HOME=str(place.cache), EDITOR=f"cp {deep}"))
    no_traceback(done)
    assert done.code == 2
    assert done.stderr.splitlines() == [
        "partnerctl: edited text: invalid TOML: arrays or tables nested too deeply",
        "(e)dit again or (a)bort? ", "partnerctl: error: aborted; alder is unchanged"]
    assert done.folder == before


# --- no home folder: the index is simply not used ----------------------------------------------

def test_without_a_home_the_index_is_not_used(invoke: object, small_registry: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path as P

    def no_home() -> P:
        raise RuntimeError("Could not determine home directory.")  # what Python says without HOME or passwd entry

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(P, "home", staticmethod(no_home))
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    listed = invoke(small_registry, "list", "--format", "ids")
    assert (listed.exit_code, listed.stdout) == (0, "alder\nbirch\ncedar\ndune\n")
    tagged = invoke(small_registry, "tag", "dune", "urban-planning")
    assert tagged.exit_code == 0, tagged.stderr
    assert invoke(small_registry, "show", "dune", "--fields", "themes", "--json").stdout.count("urban-planning") == 1
    assert sorted(p for p in tmp_path.rglob("*")
                  if p.suffix not in (".lock", ".bak") and ".partnerctl" not in p.parts) == before


def test_without_a_passwd_entry_as_a_process(tmp_path: Path) -> None:
    # No such user can be made here: the interpreter is told the passwd lookup fails, as it does for one.
    place = Place(tmp_path)
    probe = ("import pwd, sys\n"
             "def missing(uid): raise KeyError(f'getpwuid(): uid not found: {uid}')\n"
             "pwd.getpwuid = missing\n"
             "from partnerctl.cli import main\n"
             "main()\n")
    env = clean_env()
    env.pop("HOME", None)
    env.pop("XDG_CACHE_HOME", None)
    done = subprocess.run([sys.executable, "-c", probe, "--registry", str(place.registry), "list", "--format", "ids"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "alder\nbirch\ncedar\ndune\n", "")


@pytest.mark.parametrize("env", [{"LC_ALL": "C", "PYTHONUTF8": "0"}, {}], ids=["c-locale", "utf8-locale"])
def test_a_cache_folder_not_named_in_utf8_means_no_index(tmp_path: Path, env: dict[str, str]) -> None:
    place = Place(tmp_path)
    cache = os.fsencode(tmp_path) + "/cachÉ".encode() if env else os.fsencode(tmp_path) + b"/cach\xff"
    command = [sys.executable, "-m", "partnerctl", "--registry", str(place.registry), "list", "--format", "ids"]
    full_env = {**clean_env(**env), "XDG_CACHE_HOME": os.fsdecode(cache)}
    environ = {os.fsencode(k): os.fsencode(v) for k, v in full_env.items()}
    environ[b"XDG_CACHE_HOME"] = cache
    for _ in range(2):  # the second read would open the index the first one built
        done = subprocess.run(command, capture_output=True, env=environ, timeout=120)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"alder\nbirch\ncedar\ndune\n", b"")


def test_a_registry_named_in_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    # $PARTNERCTL_REGISTRY is not an argument: a file name of any bytes works, the index too.
    place = Place(tmp_path)
    odd = os.fsencode(place.folder) + b"/r\xff.toml"
    os.rename(place.registry, odd)
    environ = {os.fsencode(k): os.fsencode(v) for k, v in clean_env(XDG_CACHE_HOME=str(place.cache)).items()}
    environ[b"PARTNERCTL_REGISTRY"] = odd
    for _ in range(2):  # the second read opens the index the first one built
        done = subprocess.run([sys.executable, "-m", "partnerctl", "show", "birch", "--format", "ids"],
                              capture_output=True, env=environ, timeout=120)
        assert (done.returncode, done.stdout, done.stderr) == (0, b"birch\n", b"")


# --- click's usage errors: one line too ------------------------------------------------------------

@pytest.mark.parametrize(("args", "line"), [
    (["list", "--bogus"], "partnerctl: error: no such option '--bogus' (see 'partnerctl list --help')"),
    (["bogus"], "partnerctl: error: no such command 'bogus' (see 'partnerctl --help')"),
    (["themes", "bogus"], "partnerctl: error: no such command 'bogus' (see 'partnerctl themes --help')"),
    (["show"], "partnerctl: error: missing argument 'PARTNER' (see 'partnerctl show --help')"),
    (["list", "--format", "xml"], "partnerctl: error: invalid value for '--format' / '-f': 'xml' is not one of "
                                  "'table', 'json', 'jsonl', 'csv', 'tsv', 'ids' (see 'partnerctl list --help')"),
    (["--lock-timeout", "soon", "list"], "partnerctl: error: invalid value for '--lock-timeout' (env var: "
                                         "'PARTNERCTL_LOCK_TIMEOUT'): 'soon' is not a valid float range "
                                         "(see 'partnerctl --help')"),
    ([], "partnerctl: error: missing command (see 'partnerctl --help')"),
], ids=["option", "command", "sub-command", "argument", "choice", "root-option", "no-command"])
def test_usage_errors_are_one_line(invoke: object, small_registry: Path, tmp_path: Path, args: list[str],
                                   line: str) -> None:
    before = small_registry.read_bytes()
    result = invoke(small_registry, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")
    # The console script says the same.
    done = subprocess.run([sys.executable, "-m", "partnerctl", "--registry", str(small_registry), *args],
                          capture_output=True, text=True, env=clean_env(XDG_CACHE_HOME=str(tmp_path / "c")),
                          timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n")
    assert small_registry.read_bytes() == before


def test_no_argument_at_all_still_prints_the_help() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(partnerctl.cli.app, [])
    assert result.exit_code == 2
    assert "Usage: partnerctl [OPTIONS] COMMAND [ARGS]..." in result.stderr and "Commands:" in result.stderr


def test_a_declined_prompt_is_one_line(invoke: object, small_registry: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    before = small_registry.read_bytes()
    result = invoke(small_registry, "remove", "alder", input="")  # end of input at the question
    assert result.exit_code == 2
    assert result.stderr == ("Remove alder (Marlow, Italy) with its 4 events and 1 contact? [y/N]: \n"
                             "partnerctl: error: aborted\n")
    assert small_registry.read_bytes() == before


# --- messages that count, and advice that works ------------------------------------------------

def test_counts_agree_with_their_noun(invoke: object, small_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from partnerctl.formats.output import counted

    assert [counted(n, "event") for n in (0, 1, 2)] == ["0 events", "1 event", "2 events"]
    hits = invoke(small_registry, "search", "bakel")
    assert hits.stderr == "partnerctl: 1 hit in 1 partnership\n"
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    asked = invoke(small_registry, "remove", "dune", input="n\n")
    assert "Remove dune (Bakel, Senegal) with its 0 events and 0 contacts?" in asked.stderr
    asked = invoke(small_registry, "remove", "birch", input="n\n")
    assert "with its 2 events and 0 contacts?" in asked.stderr
    asked = invoke(small_registry, "remove", "alder", input="n\n")
    assert "with its 4 events and 1 contact?" in asked.stderr


def test_two_problems_say_one_more_problem(invoke: object, make_registry: object) -> None:
    registry = make_registry(SMALL_REGISTRY_TOML.replace('city = "Marlow"', 'city = "Marlow"\ncolour = 1')
                             .replace('city = "Kingsford"', 'city = "Kingsford"\ncolour = 2'))
    result = invoke(registry, "list")
    assert result.exit_code == 3
    assert "(and 1 more problem; run 'partnerctl validate')" in result.stderr


def test_the_readme_documents_the_output_rule() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "| 4 | the registry or an output could not be written" in readme
    assert "partnerctl: warning: the registry was written, but" in readme

