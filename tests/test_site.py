"""partnerctl export --format html|markdown: a site that works from disk, parsed with html.parser."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from partnerctl.core import query
from partnerctl.core.model import record
from partnerctl.storage import store

INJECTION_TOML = """\
[registry]
owner = "Lyon"

[themes]
culture = "Culture <i>&</i>"

[networks]
delice = "Délice\\" onmouseover=\\"alert(1)"

[regions]
europe = "\\"><img src=x onerror=alert(1)>Europe<script>"

[partnerships.evil]
city = "<script>alert(1)</script>"
country = "IT"
region = "europe"
themes = ["culture"]
networks = ["delice"]
projects = ["*bold* [link](javascript:alert(1))"]
links = ["javascript:alert(1)", "https://example.org/a\\"b"]
summary = "<iframe src=x></iframe>\\n\\nSecond paragraph & more"

[[partnerships.evil.events]]
id = "2011-03-15-x"
date = "2011-03-15"
title = "</li><script>alert(2)</script>"
description = "<b>not bold</b>"
links = ["javascript:alert(3)"]

[[partnerships.evil.contacts]]
name = "<svg onload=alert(4)>"
email = "ann@example.org"  # the model refuses a hostile address; see test_mailto_with_a_query_is_plain_text
"""


class Page(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]

    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def index_data(site: Path) -> dict:
    """The index's rows and labels, as index-data.js holds them (a script assigning one JSON value)."""
    text = (site / "index-data.js").read_text(encoding="utf-8")
    prefix, suffix = "window.PARTNERCTL_INDEX = ", ";\n"
    assert text.startswith(prefix) and text.endswith(suffix)
    data = json.loads(text[len(prefix):-len(suffix)])
    data["records"] = [dict(zip(data["fields"], row, strict=True)) for row in data["rows"]]
    return data


def _export(invoke, path: Path, target: Path, fmt: str = "html") -> None:
    result = invoke(path, "export", "--format", fmt, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""


@pytest.fixture
def site(invoke, registry_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / "site"
    _export(invoke, registry_path, target)
    return target


def test_every_partnership_has_a_page_and_every_index_link_resolves(site: Path, registry_path: Path) -> None:
    reg = store.load(registry_path)
    pages = sorted(p.stem for p in (site / "partnerships").glob("*.html"))
    assert pages == sorted(reg.partnerships)
    # The cards link to partnerships/<id>.html (index.js makes the link from the row's id).
    assert sorted(r["id"] for r in index_data(site)["records"]) == sorted(reg.partnerships)
    index = Page(site / "index.html")
    local = [ref for tag, a in index.tags if tag in ("a", "link", "script", "img")
             for ref in [a.get("href") or a.get("src")] if ref and ":" not in ref]
    assert {"style.css", "index.js", "index-data.js", "figures.html", "index.html"} <= set(local)
    assert all((site / href).is_file() for href in local)
    for pid in reg.partnerships:
        page = Page(site / "partnerships" / f"{pid}.html")
        back = [a["href"] for a in page.all("a") if a.get("id") == "back"]
        assert back == ["../index.html"]
        assert (site / "partnerships" / back[0]).resolve() == (site / "index.html").resolve()
        assert [a["href"] for a in page.all("link") if a.get("rel") == "stylesheet"] == ["../style.css"]
    # No partner city has a latitude and longitude: no map, and no link to one.
    assert not (site / "map.html").exists() and "map.html" not in local


def test_filter_data_and_options_match_the_registry(site: Path, registry_path: Path) -> None:
    reg = store.load(registry_path)
    data = index_data(site)
    rows = {r["id"]: r for r in data["records"]}
    assert set(rows) == set(reg.partnerships)
    snap = query.snapshot(reg, {pid: record(pid, p) for pid, p in reg.partnerships.items()})
    regions = {pid: snap.value(rec, "region") for pid, rec in snap.partnerships.items()}  # its own, else its country's
    for pid, p in reg.partnerships.items():
        assert rows[pid]["region"] == (regions[pid] or "")
        assert rows[pid]["themes"] == p.themes and rows[pid]["networks"] == p.networks
        assert rows[pid]["city"] == p.city and rows[pid]["since"] == p.since
    # Sorted by city, as the cards are shown.
    assert [r["city"] for r in data["records"]][:3] == ["Addis Ababa", "Bamako", "Barcelona"]
    options = {name: [o["value"] for o in _options(site / "index.html", name)] for name in ("region", "theme", "network")}
    assert sorted(options["region"]) == sorted({"", *(r for r in regions.values() if r)})
    assert sorted(options["theme"]) == sorted({"", *(t for p in reg.partnerships.values() for t in p.themes)})
    assert sorted(options["network"]) == sorted({"", *(n for p in reg.partnerships.values() for n in p.networks)})
    # One owner: no owner filters.
    assert _options(site / "index.html", "owner") == [] and data["multiOwner"] is False
    index = Page(site / "index.html")
    # Plain HTML, CSS and scripts of the folder: nothing from the network.
    assert [a["src"] for t, a in index.tags if t == "script" and a.get("src")] == ["index-data.js", "index.js"]
    for path in site.rglob("*"):
        if path.suffix in (".html", ".css", ".js", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"src=\"(https?:)?//|<link[^>]+href=\"(https?:)?//|url\(|@import", text), path
            assert path.suffix != ".svg" or "<script" not in text, path
    assert Page(site / "index.html").plain().startswith("Lyon's international partnerships")


def _options(path: Path, select_name: str) -> list[dict[str, str | None]]:
    parser = Page(path)
    out, inside = [], False
    for tag, attrs in parser.tags:
        if tag == "select":
            inside = attrs.get("name") == select_name
        elif tag == "option" and inside:
            out.append(attrs)
    return out


def test_partnership_page_follows_the_public_page(site: Path) -> None:
    text = Page(site / "partnerships" / "turin.html").plain()
    order = ["International relations, Lyon - Turin (Italy)", "World region Europe",
             "City name Turin (Italy)", "Partnership treated Culture",
             "First year of the partnership 1991",
             "International networks in common with Lyon Délice, Eurocities, IAEC, LUCI, UCLG",
             "European projects in common with Lyon CITYLOG, OPTICITIES",
             "Official relations between Lyon and Turin (Italy) were initially forged in April 1991",
             "Lyon - Turin (Italy) cooperation, key dates", "April 1991",
             "Official relations between Lyon and Turin forged", "March 2011", "Contact", "Juliette Cantau",
             "chargée de mission partenariats internationaux"]
    at = 0
    for part in order:
        found = text.find(part, at)
        assert found != -1, f"{part!r} missing or out of order"
        at = found + len(part)


def test_registry_text_is_escaped(invoke, make_registry, tmp_path: Path) -> None:
    path = make_registry(INJECTION_TOML)
    site = tmp_path / "site"
    _export(invoke, path, site)
    index_html = (site / "index.html").read_text(encoding="utf-8")
    page_html = (site / "partnerships" / "evil.html").read_text(encoding="utf-8")
    assert "<script>alert" not in index_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page_html and "<script>alert" not in page_html
    index, page = Page(site / "index.html"), Page(site / "partnerships" / "evil.html")
    # The index's scripts are the folder's own and its sentences (JSON); the page has none.
    assert [(a.get("src"), a.get("type")) for a in index.all("script")] == [
        (None, "application/json"), ("index-data.js", None), ("index.js", None)]
    assert page.all("script") == []
    for parsed in (index, page, Page(site / "figures.html")):
        tags = {tag for tag, _ in parsed.tags}
        assert not tags & {"iframe", "svg", "i", "b"}
        assert [a.get("src") for t, a in parsed.tags if t == "img"] in ([], [None]) or all(
            (site / a["src"]).is_file() for t, a in parsed.tags if t == "img")
        assert not [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]
        assert not [attrs for _, attrs in parsed.tags if (attrs.get("href") or "").startswith("javascript:")]
    # Shown as text, exactly as written in the registry.
    assert "<script>alert(1)</script>" in page.plain()
    assert "<iframe src=x></iframe>" in page.plain()
    assert "Culture <i>&</i>" in page.plain()
    # The index's data is JSON in a script: no "<" that could end it, the text itself when read back.
    data_js = (site / "index-data.js").read_text(encoding="utf-8")
    assert "<" not in data_js and ">" not in data_js
    row = index_data(site)["records"][0]
    assert row["city"] == "<script>alert(1)</script>" and row["region"] == "europe"  # the slug; the hostile label is text
    assert index_data(site)["labels"]["network"]["delice"] == 'Délice" onmouseover="alert(1)'
    # The charts hold the labels as SVG text, escaped.
    chart = (site / "figures" / "theme.svg").read_text(encoding="utf-8")
    assert "Culture &lt;i&gt;&amp;&lt;/i&gt;" in chart and "<i>" not in chart and "<script" not in chart


def test_markdown_site(invoke, registry_path: Path, tmp_path: Path) -> None:
    site = tmp_path / "md"
    _export(invoke, registry_path, site, "markdown")
    reg = store.load(registry_path)
    assert sorted(p.stem for p in (site / "partnerships").glob("*.md")) == sorted(reg.partnerships)
    index = (site / "index.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in index if line.startswith("| [")]
    assert len(rows) == len(reg.partnerships)
    for row in rows:
        link = row.split("](", 1)[1].split(")", 1)[0]
        assert (site / link).is_file()
    turin = (site / "partnerships" / "turin.md").read_text(encoding="utf-8")
    assert turin.startswith("# International relations, Lyon - Turin (Italy)\n\n[← All partnerships](../index.md)\n")
    assert "- **World region:** Europe\n" in turin
    assert "- **April 1991**: Official relations between Lyon and Turin forged" in turin


def test_markdown_escapes_registry_text(invoke, make_registry, tmp_path: Path) -> None:
    path = make_registry(INJECTION_TOML)
    _export(invoke, path, tmp_path / "md", "markdown")
    page = (tmp_path / "md" / "partnerships" / "evil.md").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\*bold\\* \\[link\\](javascript:alert(1))" in page
    assert "(<javascript:" not in page


def test_output_folder_is_required_and_must_be_a_folder(invoke, registry_path: Path, tmp_path: Path) -> None:
    result = invoke(registry_path, "export", "--format", "html")
    assert result.exit_code == 2 and "-o FOLDER" in result.stderr
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = invoke(registry_path, "export", "--format", "markdown", "-o", str(a_file))
    assert result.exit_code == 2 and "is a file" in result.stderr
    assert a_file.read_text() == "x"


def test_export_is_repeatable_and_drops_stale_pages(invoke, small_registry: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _export(invoke, small_registry, site)
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*.html")}
    _export(invoke, small_registry, site)
    assert {p.relative_to(site): p.read_bytes() for p in site.rglob("*.html")} == first
    assert sorted(str(p) for p in first) == ["figures.html", "index.html", "partnerships/alder.html",
                                             "partnerships/birch.html", "partnerships/cedar.html",
                                             "partnerships/dune.html"]
    # dune leaves the registry: its page, written by the first export, goes with the next one.
    assert invoke(small_registry, "remove", "dune", "--yes").exit_code == 0
    result = invoke(small_registry, "export", "--format", "html", "-o", str(site))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (f"partnerctl: wrote 3 partnership pages and index.html to {site}; "
                             "removed 1 stale page\n")
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*.html")) == [
        "figures.html", "index.html", "partnerships/alder.html", "partnerships/birch.html",
        "partnerships/cedar.html"]
