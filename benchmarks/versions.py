"""Compare two installs of partnerctl whose registry formats differ, each on a registry it made itself.

    python benchmarks/versions.py --old /tmp/old/.venv/bin/python            # 5 runs per case
    python benchmarks/versions.py --old /tmp/old/.venv/bin/python --runs 3 --csv FILE

``run.py --baseline-python`` runs the other install on this version's registries:
that fails when the format changed (an older partnerctl refuses ``[regions]`` or
country codes). Here each install makes its own registry from the same rows —
``init --owner Lyon --country France`` then ``import`` of the twin-towns dataset —
and builds its own index by a first read; then the same questions and writes run
on both, interleaved case by case and round by round (the order alternating), so
a busy machine slows both alike. The table gives medians and new/old.

The cases are the ones the issues' figures use at 26,109 partnerships: reads
(show, list --country, search, stats --by country), one-block writes (add-event,
set, set kind), one-partnership changes that were whole-file writes
(remove, rename: a different partnership each run), fmt --check and a JSON export.
Writes accumulate (each run changes the registry a little more, the same on both
sides). Both installs run with ``-m partnerctl`` on their own interpreter, with a
cache folder of the run's own (``XDG_CACHE_HOME``), without the ``.bak`` backup.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASET = HERE.parent.parent / "shared" / "data" / "twin_cities_raw.csv"


def main() -> None:
    """Build both registries, time every case on both, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", required=True, help="the interpreter the other partnerctl is installed in")
    ap.add_argument("--new", default=sys.executable, help="this partnerctl's interpreter (default: this one)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--csv", type=Path, default=DATASET, help="the twin-towns dataset")
    args = ap.parse_args()
    py = {"new": args.new, "old": args.old}
    with tempfile.TemporaryDirectory(prefix="partnerctl-versions-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items()
               if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("PARTNERCTL_")}
        env.update(XDG_CACHE_HOME=str(work / "cache"), PARTNERCTL_NO_BACKUP="1")
        reg = {side: work / f"{side}.toml" for side in py}

        def run(side: str, *argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([py[side], "-m", "partnerctl", "-r", str(reg[side]), *argv], env=env,
                                  capture_output=True, text=True, check=False)

        for side in py:
            for step in (("init", str(reg[side]), "--owner", "Lyon", "--country", "France"),
                         ("import", str(args.csv)), ("show", "atlanta-tbilisi", "--format", "json")):
                done = run(side, *step)
                if done.returncode:
                    raise SystemExit(f"{side}: partnerctl {' '.join(step)} failed: {done.stderr.strip()}")
            print(f"{side}: {reg[side].stat().st_size:,} bytes", file=sys.stderr)
        ids = [i for i in run("new", "list", "--format", "ids").stdout.split() if i.startswith(("x", "y"))]
        cases: dict[str, Callable[[int], list[str]]] = {
            "show ID --format json": lambda i: ["show", "atlanta-tbilisi", "--format", "json"],
            "list --country Italy": lambda i: ["list", "--country", "Italy", "--format", "json"],
            "search CITY": lambda i: ["search", "Tbilisi", "--format", "json"],
            "stats --by country": lambda i: ["stats", "--by", "country", "--format", "json"],
            "add-event": lambda i: ["add-event", "atsugi-gunpo", "--date", "2024", "--title", f"Visit {i}"],
            "set status": lambda i: ["set", "atsugi-new-britain", "status", ["active", "ended"][i % 2]],
            "set kind": lambda i: ["set", "atlanta-tbilisi", "kind", f"kind {i}"],
            "remove --yes": lambda i: ["remove", ids[2 * i], "--yes"],
            "rename": lambda i: ["rename", ids[2 * i + 1], f"renamed-{i}"],
            "fmt --check": lambda i: ["fmt", "--check"],
            "export json": lambda i: ["export", "--format", "json", "-o", str(work / "out.json")],
        }
        times: dict[str, dict[str, list[float]]] = {name: {"new": [], "old": []} for name in cases}
        failed: dict[tuple[str, str], str] = {}
        for i in range(args.runs):
            for name, argv in cases.items():
                for side in (("new", "old") if i % 2 else ("old", "new")):
                    start = time.perf_counter()
                    done = run(side, *argv(i))
                    times[name][side].append(time.perf_counter() - start)
                    if done.returncode:
                        failed[(name, side)] = done.stderr.strip()[:200]
            print(f"  round {i + 1}/{args.runs} done", file=sys.stderr)
    print(f"{'case':24s} {'new ms':>9s} {'old ms':>9s} {'new/old':>8s}   (median of {args.runs}, interleaved; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
    for name, side_times in times.items():
        new, old = statistics.median(side_times["new"]), statistics.median(side_times["old"])
        print(f"{name:24s} {new * 1000:9.0f} {old * 1000:9.0f} {new / old:7.2f}x")
    for (name, side), err in failed.items():
        print(f"FAILED on {side}: {name}: {err}")


if __name__ == "__main__":
    main()
