"""The benchmark script runs and prints every figure (at tiny size; the real run is not a test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_benchmark_quick_run_prints_every_figure(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PARTNERCTL_NO_INDEX"}
    results = tmp_path / "results.json"
    # A real process: the script times real processes.
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--runs", "1",
                           "--json", str(results)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for case in ("python -c pass", "bare Typer app", "S list --theme mobility --format json",
                 "S show turin --format json", "S add-event turin", "L tomllib.load", "L list --owner Lyon",
                 "L list --theme mobility", "L add-event", "scaling", "peak memory"):
        assert case in out, case
    report = json.loads(results.read_text())
    assert {c["kind"] for c in report["cases"]} >= {"baseline", "S read", "S write", "L read", "L write"}
    assert all(c["median_ms"] > 0 and c["max_rss_mb"] > 0 for c in report["cases"])
    assert [row["partnerships"] for row in report["scaling"]] == sorted(r["partnerships"] for r in report["scaling"])
