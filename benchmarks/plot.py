"""Draw the scaling curves of a benchmark run: ``python benchmarks/plot.py results.json [out.png]``.

One log-log curve per case (median wall time against the number of
partnerships), a panel per kind of case, with the start-up floors of the same
run as horizontal lines, and a panel of peak memory. The default output is
docs/performance-scaling.png. A development tool, not part of partnerctl: it
needs matplotlib (the project's ``bench`` extra: ``pip install -e '.[bench]'``),
which partnerctl itself never imports. ``results.json`` is what
``benchmarks/run.py --json results.json`` writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "performance-scaling.png"
PANELS = (("read", "reads (index)"), ("write", "writes: one block, whole registry"), ("export", "exports"),
          ("edit", "first read after an outside edit"), ("peer", "peers on the exports"))
MARKERS = "os^vDPX*"


def curves(report: dict, group: str) -> dict[str, list[tuple[int, float]]]:
    """Case name -> [(partnerships, median ms)] for one group, this install's runs only."""
    out: dict[str, list[tuple[int, float]]] = {}
    for case in report["cases"]:
        if case["group"] == group and case["scale"] is not None and case["interp"] in ("new", None) \
                and case["times_ms"]:
            out.setdefault(case["name"], []).append((case["scale"], case["median_ms"]))
    return {name: sorted(points) for name, points in out.items()}


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    floors = {c["name"]: c["median_ms"] for c in report["cases"] if c["group"] == "floor" and c["interp"] == "new"}
    fig, axes = plt.subplots(2, 3, figsize=(15, 9), dpi=110)
    for ax, (group, title) in zip(axes.flat, PANELS, strict=False):
        lines = curves(report, group)
        for i, (name, points) in enumerate(lines.items()):
            ax.plot([n for n, _ in points], [t for _, t in points], marker=MARKERS[i % len(MARKERS)], markersize=4,
                    label=name, color=f"C{i % 10}", linestyle="-" if i < 10 else "--")
        for name, style in (("bare Typer app", "--"), ("python -c pass", ":")):
            if name in floors:
                ax.axhline(floors[name], color="black", linewidth=0.8, linestyle=style, label=f"{name} (floor)")
        ax.set(xscale="log", yscale="log", title=title, xlabel="partnerships", ylabel="median wall time (ms)")
        top = max([t for points in lines.values() for _, t in points] + list(floors.values()), default=1)
        ax.set_ylim(top=top * (10 if len(lines) < 6 else 60))  # room above the curves for the legend
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", ncol=1 if len(lines) < 6 else 2)
    ax = axes.flat[5]
    for i, (group, _) in enumerate(PANELS[:4]):
        memory: dict[str, list[tuple[int, float]]] = {}
        for case in report["cases"]:
            if case["group"] == group and case["scale"] is not None and case["interp"] == "new" and case["times_ms"]:
                memory.setdefault(case["name"], []).append((case["scale"], case["max_rss_mb"]))
        for j, points in enumerate(sorted(p) for p in memory.values()):
            ax.plot([n for n, _ in points], [m for _, m in points], "o-", markersize=3, linewidth=1,
                    color=f"C{i}", label=group if j == 0 else None)
    ax.axhline(300, color="red", linewidth=0.8, linestyle="--", label="300 MB")
    ax.set(xscale="log", yscale="log", title="peak RSS of each partnerctl case", xlabel="partnerships",
           ylabel="max RSS (MB)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    versions = "; ".join(i["versions"] for i in report["interpreters"].values() if i is not None)
    fig.suptitle(f"partnerctl scaling, {report['date']}, {report['cpus']} CPUs {report['cpu']}, "
                 f"median of {report['runs']} interleaved runs; {versions}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
