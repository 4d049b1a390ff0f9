"""Big results on a terminal: the pager, tables that fit 80 columns without splitting a word, the count line, --limit."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from partnerctl.cli import tables
from partnerctl.core import countries

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# Copies what it is given to the file named by its argument: the pager partnerctl starts.
RECORDER = """\
import sys
with open(sys.argv[1], "wb") as out:
    out.write(sys.stdin.buffer.read())
"""
# Reads one line, then leaves, as a person quitting less on the first screen.
QUITTER = """\
import sys
sys.stdin.buffer.readline()
"""

WORDS = ["Saint", "Jean", "de", "Maurienne", "Llanfairpwllgwyngyllgogerychwyndrobwllllantysiliogogogoch",
         "Nowa", "Sól", "Kraków", "Świętokrzyskie", "Bad", "Neuenahr-Ahrweiler", "São", "Tomé"]
# Codes whose names are long ("Wales (United Kingdom)", "Sao Tome and Principe"): the registry holds codes.
COUNTRIES = ["FR", "GB-WLS", "PL", "ST", "DE"]
KINDS = ["twinning", "decentralised cooperation / partnership (not a twinning)", "friendship agreement"]


def large_registry(path: Path, n: int) -> Path:
    """A registry of *n* partnerships with multi-word cities, long words and long ids."""
    lines = ['[registry]', 'owner = "Lyon"', 'country = "FR"', '']
    for i in range(n):
        city = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(1 + i % 4))
        pid = f"p{i:05d}" + "".join("-" + w.lower() for w in city.split()[:2] if w.isascii())
        lines += [f'[partnerships."{pid}"]', f'city = "{city}"', f'country = "{COUNTRIES[i % 5]}"',
                  f'kind = "{KINDS[i % 3]}"', f'since = {1950 + i % 70}', '']
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def on_terminal(args: list[str], env: dict[str, str], columns: int = 80) -> tuple[int, str, str]:
    """Run partnerctl with stdout and stdin on a pseudo-terminal *columns* wide: (exit code, terminal, stderr)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    base = {k: v for k, v in os.environ.items()
            if k not in ("PAGER", "PARTNERCTL_PAGER", "LESS", "NO_COLOR", "PARTNERCTL_FORCE_TTY", "PARTNERCTL_REGISTRY")}
    proc = subprocess.Popen([sys.executable, "-m", "partnerctl", *args], stdin=follower, stdout=follower,
                            stderr=subprocess.PIPE, env={**base, "TERM": "xterm", "COLUMNS": str(columns), **env})
    os.close(follower)
    shown = b""
    while True:  # read while it runs, so a full terminal buffer never blocks the writer
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    return proc.wait(), shown.decode("utf-8", "replace"), err


def script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return f"{sys.executable} {path}"


def words_of(path: Path) -> set[str]:
    """Every word a table of *path* may show whole: of its values, its ids, the headings and the dash."""
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r'"([^"]*)"', text))
    heads = "ID CITY COUNTRY REGION KIND FIRST YEAR THEMES NETWORKS — 0".split()
    shown = {w for code in COUNTRIES for w in countries.display(code).split()}  # the table shows names, not codes
    return {w for value in found for w in value.split()} | set(heads) | shown | {str(y) for y in range(1950, 2020)}


def assert_fits_without_split_words(lines: list[str], words: set[str], width: int) -> None:
    for line in lines:
        assert len(line) <= width, line
        for token in line.split():
            if token.endswith("…"):  # shortened: what it shows is the start of a word (or an id)
                assert any(w.startswith(token[:-1]) for w in words), token
            else:
                assert token in words, f"{token!r} is not a whole word ({line!r})"


@pytest.mark.slow
def test_list_on_a_large_registry_pages_and_fits_80_columns(tmp_path: Path) -> None:
    reg = large_registry(tmp_path / "big.toml", 3000)
    got = tmp_path / "paged.txt"
    code, screen, err = on_terminal(["-r", str(reg), "list"],
                                    {"PAGER": script(tmp_path, "recorder.py", RECORDER) + f" {got}"})
    assert (code, err) == (0, "")
    assert screen == ""  # everything went to the pager
    lines = ANSI.sub("", got.read_text(encoding="utf-8")).splitlines()
    assert lines[0].split()[:3] == ["ID", "CITY", "COUNTRY"]
    assert lines[-1] == "3000 partnerships"
    body = lines[next(i for i, line in enumerate(lines) if line.startswith("─")) + 1:-1]
    assert sum(1 for line in body if line.startswith("p")) == 3000
    assert_fits_without_split_words(body, words_of(reg), 80)
    assert "\x1b[" in got.read_text(encoding="utf-8")  # less -R shows the colours


def test_no_pager_and_pipes_never_page(tmp_path: Path) -> None:
    reg = large_registry(tmp_path / "big.toml", 30)
    got = tmp_path / "paged.txt"
    pager = {"PAGER": script(tmp_path, "recorder.py", RECORDER) + f" {got}"}
    code, screen, err = on_terminal(["-r", str(reg), "list", "--no-pager"], pager)
    assert (code, err) == (0, "")
    lines = ANSI.sub("", screen).splitlines()
    assert lines[-1] == "30 partnerships" and len(lines) > 30
    assert not got.exists()
    piped = subprocess.run([sys.executable, "-m", "partnerctl", "-r", str(reg), "list"], capture_output=True,
                           text=True, env={**os.environ, **pager}, check=True)
    assert len(piped.stdout.splitlines()) == 30 and "partnerships" not in piped.stdout
    assert not got.exists()


def test_quitting_the_pager_early_is_no_error(tmp_path: Path) -> None:
    reg = large_registry(tmp_path / "big.toml", 3000)
    code, _, err = on_terminal(["-r", str(reg), "list"], {"PAGER": script(tmp_path, "quit.py", QUITTER)})
    assert (code, err) == (0, "")


def test_empty_pager_or_cat_prints_directly(tmp_path: Path) -> None:
    reg = large_registry(tmp_path / "big.toml", 5)
    for value in ("", "cat"):
        code, screen, err = on_terminal(["-r", str(reg), "list"], {"PARTNERCTL_PAGER": value, "PAGER": "false"})
        assert (code, err) == (0, "")
        assert ANSI.sub("", screen).splitlines()[-1] == "5 partnerships"


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_table_lines_fit_the_width(tmp_path: Path, width: int) -> None:
    from rich.console import Console

    reg = large_registry(tmp_path / "big.toml", 200)
    records = [{"id": f"p{i}-{'x' * (i % 30)}", "city": " ".join(WORDS[i % 13:i % 13 + 3]),
                "kind": KINDS[i % 3], "since": 1950 + i} for i in range(200)]
    con = Console(width=width, force_terminal=True, color_system=None)
    text = "".join(tables.records_table(con, records, ["id", "city", "kind", "since"]))
    lines = text.splitlines()
    words = words_of(reg) | {r["id"] for r in records} | {"SINCE"} | {str(1950 + i) for i in range(200)}
    assert_fits_without_split_words([line for line in lines if not line.startswith("─")], words, width)
    assert sum(1 for line in lines if line.startswith("p")) == 200


def test_fit_widths_keeps_whole_words_when_they_fit() -> None:
    heads = ["ID", "CITY", "KIND"]
    cells = [["a-very-long-partnership-id", "Saint Jean de Maurienne", "decentralised cooperation"]]
    widths = tables.fit_widths(60, heads, cells, fixed=[True, False, False])
    assert sum(widths) + 2 * 2 == 60
    assert widths[0] == len("a-very-long-partnership-id")
    assert widths[1] >= len("Maurienne") and widths[2] >= len("decentralised")
    assert tables.fit_widths(None, heads, cells, fixed=[True, False, False]) == [26, 23, 25]


# --- the count line and --limit ------------------------------------------------------------

def test_count_line_ends_list_on_a_terminal(invoke, small_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    result = invoke(small_registry, "list")
    assert result.exit_code == 0
    assert ANSI.sub("", result.stdout).splitlines()[-1] == "4 partnerships"
    limited = invoke(small_registry, "list", "--limit", "2")
    assert ANSI.sub("", limited.stdout).splitlines()[-1] == "2 of 4 partnerships (--limit)"


def test_no_count_line_when_piped(invoke, small_registry: Path) -> None:
    assert "partnerships" not in invoke(small_registry, "list", "--format", "table").stdout


def test_list_limit(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "list", "--limit", "2", "--sort", "city", "--format", "ids")
    assert result.stdout == "dune\ncedar\n"
    assert len(json.loads(invoke(small_registry, "list", "--limit", "3", "--json").stdout)) == 3
    assert invoke(small_registry, "list", "--limit", "10", "--format", "ids").stdout.count("\n") == 4


def test_timeline_limit(invoke, small_registry: Path) -> None:
    every = invoke(small_registry, "timeline", "--format", "tsv").stdout.splitlines()
    result = invoke(small_registry, "timeline", "--format", "tsv", "--limit", "2")
    assert result.stdout.splitlines() == every[:2]


def test_search_limit(invoke, small_registry: Path) -> None:
    every = json.loads(invoke(small_registry, "search", "urban", "--json").stdout)
    assert len(every) > 2
    result = invoke(small_registry, "search", "urban", "--json", "--limit", "2")
    assert json.loads(result.stdout) == every[:2]
    assert result.stderr.endswith(f"(2 of {len(every)} shown: --limit)\n")


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_bad_limit_is_a_usage_error(invoke, small_registry: Path, value: str) -> None:
    for command in (["list"], ["timeline"], ["search", "urban"]):
        result = invoke(small_registry, *command, "--limit", value)
        assert result.exit_code == 2, result.stderr
        assert result.stdout == ""
        assert result.stderr.startswith("partnerctl: error: ") and "--limit" in result.stderr
