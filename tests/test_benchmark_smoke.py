"""The benchmark script runs and reports every case (at tiny size; the real run is not a test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCALE_CASES = ("show ID --format json", "list --country Italy --format json", "list --owner OWNER --format json",
               "search CITY --format json", "stats --by country --format json", "add-event", "set status", "tag",
               "remove --yes", "rename", "themes rename", "fmt --check", "export json", "export jsonl",
               "export csv", "export sqlite", "export html", "read after 1 outside edit",
               "read after 100 outside edits")


@pytest.mark.slow
def test_benchmark_quick_run_reports_every_case(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERCTL_")}
    results = tmp_path / "results.json"
    # A real process: the script times real processes. Two runs: a write that did not start from the
    # restored registry would fail its second run (remove, rename: the partnership is gone).
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--json", str(results)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for text in ("python -c pass", "import typer", "bare Typer app", "S show turin --format json",
                 "S list --theme mobility --format json", "S add-event turin", *SCALE_CASES, "max RSS",
                 "index size / TOML size", "peak RSS at 300"):
        assert text in out, text
    report = json.loads(results.read_text())
    cases = report["cases"]
    assert {c["group"] for c in cases} >= {"floor", "S", "read", "write", "export", "edit"}
    for scale in (30, 300):
        assert {c["name"] for c in cases if c["scale"] == scale and c["group"] != "peer"} == set(SCALE_CASES)
    assert all(len(c["times_ms"]) == 2 and c["median_ms"] > 0 and c["max_rss_mb"] > 0 and not c["failed"]
               for c in cases)
    # 30 is a sample of the imported registry, 300 adds copies: both canonical and valid as written.
    scales = {s["partnerships"]: s for s in report["scales"]}
    assert sorted(scales) == [30, 300]
    assert all(s["checks"]["fmt_check"]["canonical"] and s["index"]["new"]["bytes"] > 0 for s in scales.values())
    # The child's own peak memory, not the benchmark's: `python -c pass` is far below a partnerctl command.
    floor = {c["name"]: c for c in cases if c["group"] == "floor"}
    assert floor["python -c pass"]["max_rss_mb"] < floor["bare Typer app"]["max_rss_mb"]
    # A peer that is installed is run; one that is not is skipped and said so.
    for tool in ("jq", "sqlite3", "sqlite-utils"):
        ran = any(c["name"].startswith(f"{tool}: ") for c in cases)
        assert ran == (tool in report["peers"])
        assert ran or f"{tool} is not installed" in done.stderr
    assert any(row[0].startswith("read after 1 outside edit at 300") for row in report["targets"])


def test_spawner_reports_the_commands_own_peak_memory(tmp_path: Path) -> None:
    # Linux hands a child the peak RSS of the memory it was forked from; the benchmark holds whole
    # registries, so it starts commands from spawner.py. Here the caller holds 200 MB more.
    ballast = bytearray(200 * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    request = {"argv": [sys.executable, "-c", "pass"], "env": dict(os.environ), "cwd": str(tmp_path),
               "out": str(tmp_path / "out"), "err": str(tmp_path / "err")}
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "spawner.py")], input=json.dumps(request) + "\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["code"] == 0
    assert 0 < answer["rss_kb"] < 100 * 1024, answer
    assert len(ballast) == 200 * 1024 * 1024
