"""partnerctl as a real process: the installed console script in pipelines, colours, imports, concurrency."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import partnerctl
from conftest import PARTNERCTL, clean_env, run_on_a_terminal
from partnerctl.storage import reader, store
from partnerctl.storage import toml as tomlfile

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "registry.toml"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# SGR parameters that set a colour: 30-37, 38 (extended), 39, 40-47, 48, 49, 90-97, 100-107.
COLOUR_PARAM = re.compile(r"^(3[0-9]|4[0-9]|9[0-7]|10[0-7])$")
ALL_IDS = ["addis-ababa", "bamako", "barcelona", "beer-sheva", "beirut", "birmingham", "frankfurt", "geneva",
           "gothenburg", "guangzhou", "ho-chi-minh-city", "jericho", "leipzig", "lodz", "milan", "montreal",
           "ouagadougou", "porto-novo", "rabat", "setif", "st-louis", "turin", "yerevan", "yokohama"]






@pytest.fixture
def reg(tmp_path: Path) -> Path:
    target = tmp_path / "registry.toml"
    shutil.copyfile(SHIPPED, target)
    return target


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("env", clean_env())
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)


def bash(script: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return run(["bash", "-c", "set -euo pipefail\n" + script], **kwargs)


def test_console_script_is_installed() -> None:
    assert Path(PARTNERCTL).is_file() and os.access(PARTNERCTL, os.X_OK)
    result = run([PARTNERCTL, "--version"])
    assert result.returncode == 0
    assert result.stdout == f"partnerctl {partnerctl.__version__}\n"


def test_list_theme_json_piped_into_a_json_parser(reg: Path) -> None:
    result = bash(f'"{PARTNERCTL}" --registry "{reg}" list --theme mobility --format json '
                  f'| "{sys.executable}" -c "import json,sys; print(json.dumps([r[\'id\'] for r in json.load(sys.stdin)]))"')
    assert result.returncode == 0, result.stderr
    ids = json.loads(result.stdout)
    assert "turin" in ids
    expected = sorted(pid for pid, p in store.load(reg).partnerships.items() if "urban-mobility" in p.themes)
    assert ids == expected
    assert result.stderr == ""


def test_ids_through_xargs_show_one_json_object_each(reg: Path) -> None:
    result = bash('partnerctl list --format ids | xargs -n1 partnerctl show --format json',
                  env=clean_env(PARTNERCTL_REGISTRY=str(reg)))
    assert result.returncode == 0, result.stderr
    decoder = json.JSONDecoder()
    objects, pos, text = [], 0, result.stdout
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            break
        obj, pos = decoder.raw_decode(text, pos)
        objects.append(obj)
    assert [o["id"] for o in objects] == ALL_IDS
    assert all(isinstance(o, dict) for o in objects)
    turin = next(o for o in objects if o["id"] == "turin")
    assert (turin["city"], turin["country"], turin["since"]) == ("Turin", "IT", 1991)
    # Same shape as list --format json prints for each.
    listed = json.loads(run([PARTNERCTL, "--registry", str(reg), "list", "--format", "json"]).stdout)
    assert objects == listed


def test_python_dash_m_version() -> None:
    result = run([sys.executable, "-m", "partnerctl", "--version"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"partnerctl {partnerctl.__version__}\n"
    assert result.stderr == ""


@pytest.mark.parametrize(("args", "expected"), [
    (["list"], "turin\tTurin\tIT"),
    (["show", "turin"], "International relations, Lyon - Turin (Italy)"),
    (["timeline", "turin"], "2011-03-parks-twinning-charter"),
    (["list", "--format", "table"], "Turin"),
    (["show", "turin", "--format", "table"], "Official relations between Lyon and Turin"),
])
def test_piped_output_has_no_ansi_escapes_even_with_term_set(reg: Path, args: list[str], expected: str) -> None:
    result = run([PARTNERCTL, "--registry", str(reg), *args], env=clean_env(TERM="xterm-256color"))
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert not ANSI.search(result.stdout), repr(ANSI.search(result.stdout))
    assert "\x1b" not in result.stdout + result.stderr
    # Piped: no box drawing either.
    assert not re.search(r"[\u2500-\u257f]", result.stdout)


def test_piped_list_is_plain_tsv(reg: Path) -> None:
    result = run([PARTNERCTL, "--registry", str(reg), "list"], env=clean_env(TERM="xterm-256color"))
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == ALL_IDS
    assert rows[ALL_IDS.index("turin")][:3] == ["turin", "Turin", "IT"]


def _colour_codes(out: bytes) -> set[str]:
    codes = set()
    for m in re.finditer(rb"\x1b\[([0-9;]*)m", out):
        params = m.group(1).decode().split(";")
        codes |= {p for p in params if COLOUR_PARAM.match(p)}
    return codes


def test_no_color_is_honoured_on_a_terminal(reg: Path) -> None:
    args = [PARTNERCTL, "--registry", str(reg), "list", "--theme", "mobility"]
    coloured = run_on_a_terminal(args, clean_env(TERM="xterm-256color"))
    assert b"turin" in coloured
    assert _colour_codes(coloured), "expected colours on a terminal without NO_COLOR"
    plain = run_on_a_terminal(args, clean_env(TERM="xterm-256color", NO_COLOR="1"))
    assert b"turin" in plain
    assert _colour_codes(plain) == set()


def test_no_color_piped(reg: Path) -> None:
    result = run([PARTNERCTL, "--registry", str(reg), "show", "turin"],
                 env=clean_env(TERM="xterm-256color", NO_COLOR="1"))
    assert result.returncode == 0
    assert "\x1b" not in result.stdout + result.stderr
    assert "International relations, Lyon - Turin (Italy)" in result.stdout


def test_list_into_head_exits_cleanly(reg: Path) -> None:
    full = run([PARTNERCTL, "--registry", str(reg), "list"])
    first = full.stdout.splitlines(keepends=True)[0]
    assert first.startswith("addis-ababa\tAddis Ababa\tET\tafrica\t")
    result = bash(f'"{PARTNERCTL}" --registry "{reg}" list | head -1')
    assert result.returncode == 0, result.stderr  # pipefail: partnerctl's own status too
    assert result.stdout == first
    assert result.stderr == ""


@pytest.fixture
def big_registry(tmp_path: Path) -> Path:
    """The shipped registry with 120 more copies of Turin: list --format jsonl is about 1 MB."""
    registry = store.load(SHIPPED)
    turin = registry.partnerships["turin"]
    for i in range(120):
        registry.partnerships[f"copy-{i:03d}"] = replace(turin, city=f"Copy {i}", aliases=[])
    path = tmp_path / "big.toml"
    path.write_text(tomlfile.dump(registry), encoding="utf-8")
    return path


def test_broken_pipe_mid_output_is_quiet(big_registry: Path) -> None:
    # The output is far bigger than a pipe buffer, so the reader leaves while partnerctl still writes.
    result = bash(f'"{PARTNERCTL}" --registry "{big_registry}" list --format jsonl | head -c 100 >/dev/null; '
                  f'echo "status=${{PIPESTATUS[0]}}"')
    assert result.returncode == 0, result.stderr
    assert result.stdout == "status=0\n"
    assert "Traceback" not in result.stderr
    assert "BrokenPipe" not in result.stderr
    assert "Exception ignored" not in result.stderr
    assert result.stderr == ""


def test_an_indexed_piped_read_imports_neither_rich_nor_pydantic(reg: Path) -> None:
    """The import budget of a piped read with a current index: no Rich (no table), no pydantic (no validation)."""
    assert run([sys.executable, "-m", "partnerctl", "--registry", str(reg), "list"]).returncode == 0  # the index
    result = run([sys.executable, "-X", "importtime", "-m", "partnerctl", "--registry", str(reg),
                  "show", "turin", "--format", "json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "turin"
    modules = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "partnerctl.cli" in modules  # importtime did report
    assert [m for m in modules if m.split(".")[0] in ("rich", "pydantic", "pydantic_core")] == []


def test_thirty_concurrent_add_events_all_land(reg: Path) -> None:
    n = 30
    # A generous lock timeout: on a loaded machine 30 writers can queue longer than the default 5 s,
    # which is a documented exit 4, not a lost update.
    procs = [subprocess.Popen([PARTNERCTL, "--registry", str(reg), "--lock-timeout", "60",
                               "add-event", "turin", "--date", "2015-06",
                               "--title", f"Concurrent event {i}", "--format", "ids"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
             for i in range(n)]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        outcomes.append((p.returncode, out, err))
    assert [rc for rc, _, _ in outcomes] == [0] * n, [err for rc, _, err in outcomes if rc]
    assert [out for _, out, _ in outcomes] == [f"2015-06-concurrent-event-{i}\n" for i in range(n)]

    assert reader.problems(reg) == []
    validate = run([PARTNERCTL, "--registry", str(reg), "validate"])
    assert validate.returncode == 0, validate.stderr
    events = store.load(reg).partnerships["turin"].events
    added = [e for e in events if e.title.startswith("Concurrent event ")]
    assert sorted(e.title for e in added) == sorted(f"Concurrent event {i}" for i in range(n))
    assert len({e.id for e in added}) == n
    # Nothing else lost: the shipped events are all still there.
    shipped_ids = [e.id for e in store.load(SHIPPED).partnerships["turin"].events]
    assert [e.id for e in events if e not in added] == shipped_ids
    assert not [p.name for p in reg.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_empty_result_on_a_terminal_says_so_and_piped_prints_nothing(reg: Path) -> None:
    for command, message in ((["timeline", "--since", "3000"], b"partnerctl: no events match"),
                             (["list", "--theme", "light", "--region", "The Americas"],
                              b"partnerctl: no partnerships match")):
        args = [PARTNERCTL, "--registry", str(reg), *command]
        on_terminal = run_on_a_terminal(args, clean_env(TERM="xterm-256color"))
        assert on_terminal.strip() == message
        piped = run(args, env=clean_env())
        assert (piped.returncode, piped.stdout, piped.stderr) == (0, "", "")
