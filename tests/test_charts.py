"""stats --format svg (issue 13 item 3): SVG bar charts that parse as XML and whose bars follow the counts."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SVG = "{http://www.w3.org/2000/svg}"


def _counts(invoke, path: Path, by: str) -> list[dict]:
    result = invoke(path, "stats", "--by", by, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _charts(root: ET.Element) -> dict[str, ET.Element]:
    """The nested pygal charts of a document, by dimension (their id is ``chart-<by>``)."""
    return {svg.get("id", "").removeprefix("chart-"): svg for svg in root.iter(f"{SVG}svg")
            if (svg.get("id") or "").startswith("chart-")}


def _bars(chart: ET.Element) -> list[dict[str, float]]:
    return [{k: float(rect.get(k) or 0) for k in ("x", "y", "width", "height")}
            for rect in chart.iter(f"{SVG}rect") if "reactive" in (rect.get("class") or "").split()]


def test_standing_bars_heights_follow_the_counts(invoke, registry_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "regions.svg"
    result = invoke(registry_path, "stats", "--by", "region", "--format", "svg", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == f"partnerctl: wrote 1 chart to {out}\n"
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    [chart] = _charts(root).values()
    counts = _counts(invoke, registry_path, "region")
    bars = _bars(chart)
    assert len(bars) == len(counts) <= 8
    # Left to right in the order of the counts, each bar's height the count times one scale.
    assert [b["x"] for b in bars] == sorted(b["x"] for b in bars)
    scale = bars[0]["height"] / counts[0]["count"]
    for bar, count in zip(bars, counts, strict=True):
        assert bar["height"] == pytest.approx(count["count"] * scale, rel=1e-6)
    text = " ".join(t.text or "" for t in chart.iter(f"{SVG}text"))
    for count in counts:
        assert count["label"] in text
        shown = f"{count['percent']:g}%"
        assert f"{count['count']} ({shown})" in text
    # A picture: no script, nothing from the network.
    raw = out.read_text(encoding="utf-8")
    assert "<script" not in raw and "http://" not in raw.replace("http://www.w3.org/", "")
    assert "https://" not in raw


def test_many_bars_lie_down_and_their_lengths_follow_the_counts(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "stats", "--by", "country", "--format", "svg")
    assert result.exit_code == 0, result.stderr
    [chart] = _charts(ET.fromstring(result.stdout.encode("utf-8"))).values()
    counts = _counts(invoke, registry_path, "country")
    bars = _bars(chart)
    assert len(bars) == len(counts) > 8
    # The first count is the top bar: pygal draws from the bottom, so the bars are listed reversed.
    top_down = sorted(bars, key=lambda b: b["y"])
    scale = top_down[0]["width"] / counts[0]["count"]
    for bar, count in zip(top_down, counts, strict=True):
        assert bar["width"] == pytest.approx(count["count"] * scale, rel=1e-6)


def test_every_dimension_stacked_and_the_same_bytes_each_time(invoke, registry_path: Path) -> None:
    first = invoke(registry_path, "stats", "--format", "svg").stdout
    assert invoke(registry_path, "stats", "--format", "svg").stdout == first
    root = ET.fromstring(first.encode("utf-8"))
    charts = _charts(root)
    assert list(charts) == ["theme", "network", "region", "country", "decade", "status"]
    ys = [int(c.get("y") or 0) for c in charts.values()]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert int(root.get("height") or 0) >= ys[-1] + int(charts["status"].get("height") or 0)


def test_filters_apply_and_options_are_checked(invoke, registry_path: Path, tmp_path: Path) -> None:
    result = invoke(registry_path, "stats", "--by", "theme", "--region", "Europe", "--format", "svg")
    [chart] = _charts(ET.fromstring(result.stdout.encode("utf-8"))).values()
    title = " ".join(t.text or "" for t in chart.iter(f"{SVG}text") if "title" in (t.get("class") or ""))
    europe = _counts(invoke, registry_path, "region")
    assert f"({next(c['count'] for c in europe if c['label'] == 'Europe')} partnerships)" in title
    bad = invoke(registry_path, "stats", "-o", str(tmp_path / "x.svg"))
    assert bad.exit_code == 2 and "-o is for --format svg" in bad.stderr
    assert not (tmp_path / "x.svg").exists()


def test_pygal_and_jinja2_stay_off_the_other_commands(registry_path: Path) -> None:
    probe = ("import sys, runpy\n"
             "sys.argv = ['partnerctl', '--registry', sys.argv[1], *sys.argv[2:]]\n"
             "try:\n    runpy.run_module('partnerctl', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "sys.stderr.write('LOADED=' + ','.join(sorted(m for m in ('pygal', 'jinja2') if m in sys.modules)))\n")
    for args in (["list"], ["show", "turin"], ["stats"], ["anniversaries"], ["timeline", "--upcoming"]):
        run = subprocess.run([sys.executable, "-c", probe, str(registry_path), *args], capture_output=True,
                             text=True, check=True)
        assert run.stderr.rsplit("LOADED=", 1)[1] == "", (args, run.stderr)
