"""Counts as SVG bar charts (``stats --format svg``, the site's figures page), drawn by pygal.

One chart per dimension, a bar per count with its percentage printed on it;
several dimensions are stacked one under the other in one SVG document (each
pygal chart a nested ``<svg>``). pygal's scripts and its tooltips are left
out (``js=[]``, and its configuration script removed): the file is a picture a slide or a page can use, with no
external asset. pygal's random chart id and its dated comment are replaced
and dropped, so the same counts always give the same bytes. Registry text
(labels) goes through ``text.clean`` and is XML-escaped by the XML writer.

pygal costs about 0.1 s to import: only ``stats --format svg`` and the site
export import this module.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from partnerctl.core.i18n import _
from partnerctl.core.stats import Count, shown_percent
from partnerctl.core.text import clean, counted

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
DEFAULT_COLOUR = "#b3122e"
CHART_HEIGHT = 380
WIDTH = 760
# Up to this many bars stand up; more lie down, a row each.
STANDING = 8
GAP = 16
# Characters no XML document may hold, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("?", clean(value))


def title_of(by: str, kept: int) -> str:
    """A chart's title: ``By theme (24 partnerships)``."""
    return _("By {dimension} ({count})").format(dimension=_(by), count=counted(kept, "partnership"))


def chart(by: str, items: Sequence[Count], kept: int, *, colour: str = DEFAULT_COLOUR,
          width: int | None = None, shown: Callable[[Count], str] | None = None) -> str:
    """One dimension's counts as a standalone SVG bar chart: up to ``STANDING`` bars stand up (their
    heights follow the counts), more lie down (their lengths do). *shown* gives a count's label in the
    language in force (``stats.shown_label``); without it, the count's own (English) label."""
    import pygal
    from pygal.style import Style

    style = Style(colors=(colour,), background="#ffffff", plot_background="#ffffff",
                  font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
                  title_font_size=18, label_font_size=12, major_label_font_size=12, value_font_size=12,
                  opacity=".9", opacity_hover=".9", transition="0ms", value_colors=("#1f2933",))
    # A few bars stand up (their heights follow the counts); many lie down, so that every label reads.
    lying = len(items) > STANDING
    kind = pygal.HorizontalBar if lying else pygal.Bar
    graph = kind(js=[], style=style, width=width or WIDTH, height=_height(len(items)), explicit_size=True,
                 show_legend=False, print_values=True, print_values_position="top", truncate_label=-1,
                 title=_text(title_of(by, kept)), disable_xml_declaration=True, include_x_axis=True,
                 min_scale=1, max_scale=8, no_data_text=_("no partnerships"), margin_right=40)
    # pygal names each chart with a random id; a fixed one keeps the file the same for the same counts.
    graph.uuid = re.sub(r"[^a-z0-9-]", "-", by.lower())
    # pygal lays the first bar at the bottom: reversed, the list reads from the top as on a terminal.
    bars = list(reversed(items)) if lying else list(items)
    label = shown or (lambda c: c.label)
    graph.x_labels = [_text(label(c)) for c in bars]
    graph.add(_text(_(by)), [{"value": c.count, "formatter": _formatter(c)} for c in bars])
    return _cleaned(graph.render(is_unicode=True))


def _height(bars: int) -> int:
    return CHART_HEIGHT if bars <= STANDING else 26 * bars + 110


def _formatter(c: Count) -> Any:
    return lambda _value: f"{c.count} ({shown_percent(c.percent)})"


def _register() -> None:
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)


def _cleaned(svg: str) -> str:
    """pygal's SVG without its comments (one carries the day's date) and without its script (its
    configuration, labels included, for tooltips that need pygal.js from the network)."""
    _register()
    root = ET.fromstring(svg)  # ElementTree's parser drops comments
    for parent in list(root.iter()):
        for child in [c for c in parent if c.tag == f"{{{SVG_NS}}}script"]:
            parent.remove(child)
    return ET.tostring(root, encoding="unicode")


def charts(groups: Mapping[str, Sequence[Count]], kept: int, *, colour: str = DEFAULT_COLOUR,
           title: str | None = None, shown: Callable[[Count], str] | None = None) -> str:
    """Every dimension of *groups* as a bar chart, one under the other, in one SVG document (*shown*: as
    for ``chart``)."""
    _register()
    parts = [ET.fromstring(chart(by, items, kept, colour=colour, shown=shown)) for by, items in groups.items()]
    width = max((int(p.get("width") or 0) for p in parts), default=WIDTH)
    root = ET.Element(f"{{{SVG_NS}}}svg", {"version": "1.1"})
    ET.SubElement(root, f"{{{SVG_NS}}}title").text = _text(title or _("Partnerships in figures"))
    y = 0
    for part in parts:
        part.set("x", "0")
        part.set("y", str(y))
        root.append(part)
        y += int(part.get("height") or CHART_HEIGHT) + GAP
    height = max(y - GAP, 1)
    root.set("width", str(width))
    root.set("height", str(height))
    root.set("viewBox", f"0 0 {width} {height}")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
