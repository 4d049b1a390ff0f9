"""Benchmark partnerctl: start-up, reads and writes on a small and a large registry, and how cost scales.

    python benchmarks/run.py                 # the full run (a few minutes)
    python benchmarks/run.py --quick         # a tiny run that checks the script works
    python benchmarks/run.py --json out.json # also save every figure

Run it with the interpreter partnerctl is installed in (``.venv/bin/python``):
every command is started as ``sys.executable -m partnerctl``, never through
``python3`` on the PATH (a pyenv shim alone costs ~130 ms). Each case runs
several times, interleaved with the others so that a busy machine slows all
of them alike, and the median wall time is compared with baselines measured
in the same run; peak memory is the child's max RSS (``os.wait4``). Output is
piped to a file, as in a script. Needs nothing beyond partnerctl's own
dependencies; the large registry is the twin-towns dataset
(``../shared/data/twin_cities_raw.csv``, or ``--csv``), imported with
``partnerctl import`` into a registry made with ``partnerctl init``.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATASET = REPO.parent / "shared" / "data" / "twin_cities_raw.csv"
PY = sys.executable
TARGETS = {"S read": 1.25, "S write": 1.5, "L read": 0.1, "L write": 0.3, "RSS MB": 300}


@dataclass
class Case:
    """One command to time: its group (for ratios and targets) and its argv."""

    name: str
    argv: list[str]
    kind: str  # "baseline", "S read", "S write", "L read", "L write", "L baseline", "scale ..."
    times: list[float] = field(default_factory=list)
    rss_kb: int = 0
    counter: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000


def run_once(argv: list[str], env: dict[str, str], out: Path) -> tuple[float, int]:
    """Wall time and max RSS (KiB) of one child, its stdout piped to *out*."""
    with open(out, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(argv)}\n{err}")
    return elapsed, usage.ru_maxrss


def partnerctl(registry: Path, *args: str) -> list[str]:
    return [PY, "-m", "partnerctl", "--registry", str(registry), *args]


def setup(argv: list[str], env: dict[str, str]) -> str:
    """Run a preparation command (not timed); its stdout."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"set-up failed: {' '.join(argv)}\n{done.stderr}")
    return done.stdout


def make_registry(path: Path, rows_csv: Path, env: dict[str, str], out: Path) -> tuple[float, int]:
    """A fresh registry (``init``) with the twin-towns rows of *rows_csv* imported; the import's time and RSS."""
    setup([PY, "-m", "partnerctl", "init", str(path), "--owner", "Lyon", "--country", "France"], env)
    return run_once(partnerctl(path, "import", str(rows_csv)), env, out)


def subset(dataset: Path, n: int | None, target: Path, owner: str | None = None) -> Path:
    """The header and the first *n* rows of the dataset (all when None), and every row of *owner*."""
    with open(dataset, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    kept = rows[: (n + 1) if n else None]
    kept += [r for r in rows[len(kept):] if owner and r and r[0] == owner]
    with open(target, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(kept)
    return target


def synthetic(target: Path, n: int) -> Path:
    """A small twin-towns-shaped CSV, for --quick when the dataset is absent."""
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["city1", "country1", "city2", "country2"])
        for i in range(n):
            owner = "Lyon" if i % 10 == 0 else f"Town {i // 7}"
            w.writerow([owner, "France", f"Partner {i}", "Italy"])
    return target


def measure(cases: list[Case], runs: int, env: dict[str, str], out: Path) -> None:
    """Warm up each case once (pyc files, index), then *runs* interleaved rounds."""
    for case in cases:
        run_once(case_argv(case), env, out)
    for _ in range(runs):
        for case in cases:
            elapsed, rss = run_once(case_argv(case), env, out)
            case.times.append(elapsed)
            case.rss_kb = max(case.rss_kb, rss)


def case_argv(case: Case) -> list[str]:
    # Writes add a new event each time (same date, a numbered title).
    case.counter += 1
    return [a.replace("{n}", str(case.counter)) for a in case.argv]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 runs: checks the script works")
    parser.add_argument("--runs", type=int, help="timed runs per case (default 9, --quick 2)")
    parser.add_argument("--csv", type=Path, default=DATASET, help="the twin-towns dataset")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 9)

    work = Path(tempfile.mkdtemp(prefix="partnerctl-bench-"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PARTNERCTL_NO_INDEX", "PARTNERCTL_REGISTRY", "FORCE_COLOR")}
    # Installed packages have compiled bytecode; a user's index lives in their cache: give both.
    env["XDG_CACHE_HOME"] = str(work / "cache")
    out = work / "stdout"
    try:
        report = bench(args, runs, work, env, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def bench(args: argparse.Namespace, runs: int, work: Path, env: dict[str, str], out: Path) -> dict:
    small = work / "small.toml"
    setup([PY, "-m", "partnerctl", "init", str(small), "--sample"], env)
    if args.csv.exists():
        dataset = args.csv if not args.quick else subset(args.csv, 300, work / "quick.csv", owner="Lyon")
    elif args.quick:
        dataset = synthetic(work / "synthetic.csv", 300)
    else:
        dataset = None
        print(f"note: {args.csv} not found: no large registry, no scaling (give --csv)", file=sys.stderr)

    base = [Case("python -c pass", [PY, "-c", "pass"], "baseline"),
            Case("bare Typer app", [PY, str(HERE / "bare_typer.py")], "baseline")]
    s_cases = [
        Case("S list --theme mobility --format json", partnerctl(small, "list", "--theme", "mobility",
                                                                "--format", "json"), "S read"),
        Case("S show turin --format json", partnerctl(small, "show", "turin", "--format", "json"), "S read"),
        Case("S add-event turin", partnerctl(small, "add-event", "turin", "--date", "2024",
                                             "--title", "Benchmark {n}"), "S write"),
    ]
    l_cases: list[Case] = []
    large = work / "large.toml"
    info: dict = {}
    if dataset is not None:
        import_s, import_rss = make_registry(large, dataset, env, out)
        lyon = setup(partnerctl(large, "list", "--owner", "Lyon", "--format", "ids"), env).split()
        # The dataset has no themes: give Lyon's partnerships one, through partnerctl, for --theme.
        for pid in lyon:
            setup(partnerctl(large, "tag", pid, "urban-mobility"), env)
        one = lyon[len(lyon) // 2]
        info = {"file_bytes": large.stat().st_size,
                "partnerships": len(setup(partnerctl(large, "list", "--format", "ids"), env).split()),
                "import_ms": import_s * 1000, "import_rss_mb": import_rss / 1024}
        l_cases = [
            Case("L tomllib.load (baseline)", [PY, "-c", f"import tomllib; tomllib.load(open({str(large)!r}, 'rb'))"],
                 "L baseline"),
            Case(f"L show {one} --format json", partnerctl(large, "show", one, "--format", "json"), "L read"),
            Case("L list --owner Lyon --format json", partnerctl(large, "list", "--owner", "Lyon", "--format", "json"),
                 "L read"),
            Case("L list --theme mobility --format json",
                 partnerctl(large, "list", "--theme", "mobility", "--format", "json"), "L read"),
        ]
        if subprocess.run([PY, "-m", "partnerctl", "search", "--help"], env=env, capture_output=True).returncode == 0:
            l_cases.append(Case("L search lyon --format json", partnerctl(large, "search", "lyon", "--format", "json"),
                                "L read"))
        l_cases.append(Case(f"L add-event {one}", partnerctl(large, "add-event", one, "--date", "2024",
                                                             "--title", "Benchmark {n}"), "L write"))
    print(f"partnerctl benchmark: {datetime.date.today()}, {platform.node()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or cpu_model()}, Python {platform.python_version()}, "
          f"{runs} runs per case (median), interleaved", flush=True)
    measure(base + s_cases + l_cases, runs, env, out)
    pass_ms, typer_ms = base[0].median_ms, base[1].median_ms
    tomllib_ms = l_cases[0].median_ms if l_cases else None

    rows = [["case", "median", "vs pass", "vs Typer", "vs tomllib", "max RSS"]]
    for c in base + s_cases + l_cases:
        rows.append([c.name, f"{c.median_ms:.1f} ms", ratio(c.median_ms, pass_ms),
                     ratio(c.median_ms, typer_ms) if c.kind != "baseline" or c is base[1] else "",
                     ratio(c.median_ms, tomllib_ms) if tomllib_ms and c.kind.startswith("L") else "",
                     f"{c.rss_kb / 1024:.1f} MB"])
    print()
    if info:
        print(f"L: {info['partnerships']:,} partnerships, {info['file_bytes'] / 1e6:.1f} MB of TOML; "
              f"partnerctl import of the dataset: {info['import_ms'] / 1000:.1f} s, "
              f"max RSS {info['import_rss_mb']:.1f} MB (one run)")
    print(table(rows))

    rebuild = None
    if l_cases:
        # An edit made outside partnerctl (here: only the mtime changes) costs one rebuild of the index.
        os.utime(large)
        elapsed, rss = run_once(l_cases[1].argv, env, out)
        rebuild = {"ms": elapsed * 1000, "max_rss_mb": rss / 1024}
        print(f"L first read after an outside edit (full load, index rebuilt): {elapsed * 1000:.0f} ms, "
              f"max RSS {rss / 1024:.1f} MB (one run)")
    scaling = scale(args, dataset, runs, work, env, out) if dataset is not None else []
    others = [("L import (one run)", info["import_rss_mb"])] if info else []
    others += [("L rebuild (one run)", rebuild["max_rss_mb"])] if rebuild else []
    checks = targets(s_cases, l_cases, typer_ms, tomllib_ms, others)
    print()
    print(table([["target", "figure", "met"], *checks]))
    return {"date": str(datetime.date.today()), "machine": platform.node(), "cpus": os.cpu_count(),
            "cpu": cpu_model(), "python": platform.python_version(), "runs": runs, "large": info,
            "cases": [{"name": c.name, "kind": c.kind, "median_ms": c.median_ms, "max_rss_mb": c.rss_kb / 1024,
                       "times_ms": [t * 1000 for t in c.times]} for c in base + s_cases + l_cases],
            "rebuild": rebuild, "scaling": scaling, "targets": checks}


def scale(args: argparse.Namespace, dataset: Path, runs: int, work: Path, env: dict[str, str],
          out: Path) -> list[dict]:
    """The same read and write at growing sizes."""
    with open(dataset, encoding="utf-8") as f:
        total = sum(1 for _ in f) - 1
    sizes = [n for n in ((30, 100) if args.quick else (100, 1_000, 10_000)) if n < total] + [None]
    cases: list[tuple[int | None, Path, Case, Case, Case]] = []
    for n in sizes:
        reg = work / f"scale-{n or 'all'}.toml"
        make_registry(reg, subset(dataset, n, work / f"scale-{n or 'all'}.csv"), env, out)
        one = setup(partnerctl(reg, "list", "--format", "ids"), env).split()
        pid = one[len(one) // 2]
        cases.append((len(one), reg,
                      Case("tomllib", [PY, "-c", f"import tomllib; tomllib.load(open({str(reg)!r}, 'rb'))"], "scale"),
                      Case("show", partnerctl(reg, "show", pid, "--format", "json"), "scale"),
                      Case("add-event", partnerctl(reg, "add-event", pid, "--date", "2024",
                                                   "--title", "Benchmark {n}"), "scale")))
    measure([c for row in cases for c in row[2:]], runs, env, out)
    rows = [["partnerships", "TOML", "tomllib.load", "show --format json", "add-event", "add-event max RSS"]]
    result = []
    for n, reg, parse, show, add in cases:
        rows.append([f"{n:,}", f"{reg.stat().st_size / 1e6:.2f} MB", f"{parse.median_ms:.1f} ms",
                     f"{show.median_ms:.1f} ms", f"{add.median_ms:.1f} ms", f"{add.rss_kb / 1024:.1f} MB"])
        result.append({"partnerships": n, "bytes": reg.stat().st_size, "tomllib_ms": parse.median_ms,
                       "show_ms": show.median_ms, "add_event_ms": add.median_ms,
                       "show_rss_mb": show.rss_kb / 1024, "add_event_rss_mb": add.rss_kb / 1024})
    print()
    print("scaling (medians)")
    print(table(rows))
    return result


def targets(s_cases: list[Case], l_cases: list[Case], typer_ms: float, tomllib_ms: float | None,
            others: list[tuple[str, float]]) -> list[list[str]]:
    checks = []
    for kind, against, name in (("S read", typer_ms, "bare Typer"), ("S write", typer_ms, "bare Typer"),
                                ("L read", tomllib_ms, "tomllib.load"), ("L write", tomllib_ms, "tomllib.load")):
        if against is None:
            continue
        for c in s_cases + l_cases:
            if c.kind == kind:
                r = c.median_ms / against
                checks.append([f"{c.name} <= {TARGETS[kind]}x {name}", f"{r:.2f}x",
                               "yes" if r <= TARGETS[kind] else "NO"])
    name, mb = max([(c.name, c.rss_kb / 1024) for c in s_cases + l_cases] + others, key=lambda x: x[1])
    checks.append([f"peak memory < {TARGETS['RSS MB']} MB ({name})", f"{mb:.1f} MB",
                   "yes" if mb < TARGETS["RSS MB"] else "NO"])
    return checks


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
