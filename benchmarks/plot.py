"""Draw the scaling curve of a benchmark run: ``python benchmarks/plot.py results.json out.png``.

A development tool, not part of partnerctl: it needs matplotlib
(``pip install matplotlib``, or the project's ``bench`` extra), which
partnerctl itself never imports. ``results.json`` is what
``benchmarks/run.py --json results.json`` writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    rows = report["scaling"]
    n = [r["partnerships"] for r in rows]
    typer_ms = next(c["median_ms"] for c in report["cases"] if c["name"] == "bare Typer app")
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    ax.plot(n, [r["tomllib_ms"] for r in rows], "o--", color="grey", label="tomllib.load of the file (baseline)")
    ax.plot(n, [r["show_ms"] for r in rows], "o-", label="show ID --format json (index)")
    ax.plot(n, [r["add_event_ms"] for r in rows], "s-", label="add-event (one-block rewrite)")
    ax.axhline(typer_ms, color="black", linewidth=0.8, linestyle=":", label="bare Typer app (start-up floor)")
    ax.set_xscale("log")
    ax.set_xlabel("partnerships in the registry (twin-towns dataset)")
    ax.set_ylabel("median wall time (ms)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"partnerctl scaling, {report['date']}, {report['cpus']} CPUs {report['cpu']}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2])


if __name__ == "__main__":
    main()
