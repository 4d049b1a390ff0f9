"""A site the web team brands without touching Python (issue 13 item 5) and an owner-aware index (issue 11 item 1).

Settings come from a partnerctl.toml in the current folder (the test's own), templates from --templates or the
`templates` setting; the user's own config is replaced by an empty folder.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import MULTI_OWNER_TOML
from partnerctl.core.names import slugify

LOGO = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The team's repository folder, the current folder, with no user config."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    return repo


def _export(invoke, registry: Path, target: Path, *args: str, code: int = 0) -> str:
    result = invoke(registry, "export", "--format", "html", "-o", str(target), *args)
    assert result.exit_code == code, result.stderr
    return result.stderr


def test_settings_set_title_colours_logo_footer_and_base_url(invoke, registry_path: Path, team: Path) -> None:
    (team / "brand").mkdir()
    (team / "brand" / "logo.svg").write_bytes(LOGO)
    (team / "partnerctl.toml").write_text('''[site]
title = "Métropole de Lyon: partenariats"
logo = "brand/logo.svg"
footer = "Direction des relations internationales"
base_url = "https://www.example.org/partners/"
[site.colours]
brand = "#00519e"
brand_dark = "rgb(0, 52, 104)"
''', encoding="utf-8")
    site = team / "site"
    _export(invoke, registry_path, site)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>Métropole de Lyon: partenariats</title>" in index
    assert "<h1>Métropole de Lyon: partenariats</h1>" in index
    assert "Direction des relations internationales" in index
    assert '<img class="logo" src="logo.svg" alt="">' in index
    assert (site / "logo.svg").read_bytes() == LOGO
    assert '<link rel="canonical" href="https://www.example.org/partners/index.html">' in index
    page = (site / "partnerships" / "turin.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://www.example.org/partners/partnerships/turin.html">' in page
    assert '<img class="logo" src="../logo.svg" alt="">' in page
    css = (site / "style.css").read_text(encoding="utf-8")
    assert "--brand: #00519e;" in css and "--brand-dark: rgb(0, 52, 104);" in css
    assert "#b3122e" not in css
    # The charts take the brand colour too.
    assert "#00519e" in (site / "figures" / "region.svg").read_text(encoding="utf-8")
    # sitemap.xml lists every page, absolute.
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    urls = [loc.text for loc in ET.parse(site / "sitemap.xml").getroot().iter(f"{ns}loc")]
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert sorted(urls) == sorted(f"https://www.example.org/partners/{p}" for p in pages)


def test_no_base_url_no_sitemap(invoke, small_registry: Path, team: Path) -> None:
    site = team / "site"
    _export(invoke, small_registry, site)
    assert not (site / "sitemap.xml").exists()
    assert 'rel="canonical"' not in (site / "index.html").read_text(encoding="utf-8")


def test_templates_override_title_and_colours(invoke, small_registry: Path, team: Path, tmp_path: Path) -> None:
    own = tmp_path / "own"
    (own / "site").mkdir(parents=True)
    # A stylesheet of the team's own, and the shared layout with another title block and brand.
    (own / "site" / "style.css").write_text("body { background: #123456; } /* {{ colours.brand }} */\n",
                                            encoding="utf-8")
    (own / "site" / "base.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>{% block title %}Our partners{% endblock %} | Team</title>'
        '<link rel="stylesheet" href="{{ root }}style.css"></head>'
        '<body class="team">{% block content %}{% endblock %}{% block scripts %}{% endblock %}</body></html>\n',
        encoding="utf-8")
    site = team / "site"
    _export(invoke, small_registry, site, "--templates", str(own))
    assert (site / "style.css").read_text(encoding="utf-8") == "body { background: #123456; } /* #b3122e */\n"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>Our partners | Team</title>" in index and '<body class="team">' in index
    page = (site / "partnerships" / "alder.html").read_text(encoding="utf-8")
    assert "<title>International relations, Lyon - Marlow (Italy) | Team</title>" in page
    # The `templates` setting does the same, relative to its file; --templates wins over it.
    (team / "partnerctl.toml").write_text('templates = "../own"\n[site.colours]\nbrand = "teal"\n',
                                          encoding="utf-8")
    _export(invoke, small_registry, site)
    assert (site / "style.css").read_text(encoding="utf-8") == "body { background: #123456; } /* teal */\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    _export(invoke, small_registry, site, "--templates", str(empty))
    assert "--brand: teal;" in (site / "style.css").read_text(encoding="utf-8")


@pytest.mark.parametrize(("settings", "message"), [
    ('[site.colours]\nbrand = "red; } body { x"\n', "site.colours.brand in {file} is not a CSS colour"),
    ('[site.colours]\nshade = "red"\n', "unknown colour site.colours.shade in {file}"),
    ('[site]\nbase_url = "javascript:alert(1)"\n', "site.base_url in {file} must be an http(s) address"),
    ('[site]\nlogo = "missing.png"\n', "site.logo in {file}: cannot read"),
    ('[site]\nlogo = "partnerctl.toml"\n', "is not an image"),
    ('[site]\nbanner = "x"\n', "unknown site setting banner in {file}"),
])
def test_bad_settings_are_usage_errors_naming_the_file(invoke, small_registry: Path, team: Path, settings: str,
                                                       message: str) -> None:
    (team / "partnerctl.toml").write_text(settings, encoding="utf-8")
    site = team / "site"
    stderr = _export(invoke, small_registry, site, code=2)
    assert stderr.startswith("partnerctl: error: ") and stderr.count("\n") == 1
    assert message.format(file=team / "partnerctl.toml") in stderr
    assert not site.exists()


def test_a_broken_template_names_itself_and_its_line(invoke, small_registry: Path, team: Path,
                                                     tmp_path: Path) -> None:
    own = tmp_path / "own"
    (own / "site").mkdir(parents=True)
    (own / "site" / "partnership.html").write_text("{% extends 'site/base.html' %}\n{% block content %}\n"
                                                   "{{ page.city }}\n{% endblock %}\n", encoding="utf-8")
    site = team / "site"
    _export(invoke, small_registry, site, "--templates", str(own))  # a first, good export
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    (own / "site" / "partnership.html").write_text("{% extends 'site/base.html' %}\n{% block content %}\n{{ oops(\n",
                                                   encoding="utf-8")
    stderr = _export(invoke, small_registry, site, "--templates", str(own), code=2)
    assert stderr.startswith("partnerctl: error: template ") and "partnership.html line 3" in stderr
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    missing = _export(invoke, small_registry, site, "--templates", str(tmp_path / "nowhere"), code=2)
    assert "nowhere" in missing


# --- several owners ----------------------------------------------------------------------------------------



def test_a_multi_owner_index_names_and_filters_owners(invoke, make_registry, team: Path) -> None:
    path = make_registry(MULTI_OWNER_TOML)
    site = team / "site"
    _export(invoke, path, site)
    text = (site / "index-data.js").read_text(encoding="utf-8")
    data = json.loads(text.removeprefix("window.PARTNERCTL_INDEX = ").removesuffix(";\n"))
    assert data["multiOwner"] is True
    rows = {row[0]: dict(zip(data["fields"], row, strict=True)) for row in data["rows"]}
    assert {pid: (r["owner"], r["owner_country"]) for pid, r in rows.items()} == {
        "turin": ("lyon", "france"), "milan-lyon": ("lyon", "france"),
        "munich-edinburgh": ("munich", "germany"), "bordeaux-quebec": ("bordeaux", "france")}
    assert data["labels"]["owner"] == {"lyon": "Lyon", "munich": "Munich", "bordeaux": "Bordeaux"}
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<select id="filter-owner" name="owner">' in index
    assert '<option value="lyon">Lyon (2)</option>' in index
    assert '<option value="france">France (3)</option>' in index
    assert "4 relations between 3 owner cities and partner cities in 3 countries." in index
    # The search words hold the owner, folded.
    assert "munich" in rows["munich-edinburgh"]["words"] and slugify("Québec") in rows["bordeaux-quebec"]["words"]
    page = (site / "partnerships" / "munich-edinburgh.html").read_text(encoding="utf-8")
    assert "International relations, Munich - Edinburgh" in page
    # Names, never codes, and a region from the country when the relation names none.
    assert "(United Kingdom)" in page and "Munich (Germany)" in page and "Europe" in page
    # The owners' figures only here (a registry of one owner has none: test_site_browser).
    assert {"owner.svg", "owner-country.svg"} <= {p.name for p in (site / "figures").iterdir()}
    md = team / "md"
    assert invoke(path, "export", "--format", "markdown", "-o", str(md)).exit_code == 0
    table = (md / "index.md").read_text(encoding="utf-8")
    assert "| Owner |" in table.replace("Owner city", "Owner") and "Munich" in table


# --- the map (issue 11 item 4) -------------------------------------------------------------------------------


def test_the_map_places_the_cities_that_have_coordinates(small_registry: Path, tmp_path: Path) -> None:
    # Until the model has lat and lon (the locate work), the site reads them from the records when present.
    from partnerctl.core.model import record
    from partnerctl.formats import site, templating
    from partnerctl.storage import folders, store

    reg = store.load(small_registry)
    records = {pid: record(pid, p) for pid, p in reg.partnerships.items()}
    records["alder"] |= {"lat": 45.07, "lon": 7.69}
    records["birch"] |= {"lat": 45.50, "lon": -73.57}
    drawn = site.make_site(reg, templating.environment(), templating.Branding())
    files = site.site_files(drawn, records)
    assert {"map.html", "map.svg"} <= set(files)
    folder = tmp_path / "site"
    folders.write_folder(folder, files)
    svg = ET.parse(folder / "map.svg").getroot()
    ns = {"svg": "http://www.w3.org/2000/svg"}
    dots = svg.findall("svg:g[@id='partner-cities']/svg:circle", ns)
    assert len(dots) == 2
    titles = sorted("".join(d.itertext()) for d in dots)
    assert titles[0].startswith("Kingsford") and titles[1].startswith("Marlow")
    page = (folder / "map.html").read_text(encoding="utf-8")
    assert "2 of 4 partner cities placed on the map." in page and '<img id="map" src="map.svg"' in page
    assert '<a href="map.html">Map</a>' in (folder / "index.html").read_text(encoding="utf-8")
    # Nothing from the network: no tile server, no external asset.
    raw = (folder / "map.svg").read_text(encoding="utf-8")
    assert "<script" not in raw and "href=\"http" not in raw and "url(" not in raw


def test_the_web_teams_own_pages_are_never_overwritten_or_deleted(invoke, small_registry: Path, team: Path) -> None:
    # The case: the team's index.html and partnerships/about-twinning.html in the folder.
    site = team / "www"
    (site / "partnerships").mkdir(parents=True)
    (site / "index.html").write_text("<p>our home page</p>\n", encoding="utf-8")
    (site / "partnerships" / "about-twinning.html").write_text("<p>about</p>\n", encoding="utf-8")
    refused = _export(invoke, small_registry, site, code=4)
    assert "give --force to export into it" in refused
    # --force: the foreign index.html stands where the export's index goes, so it is refused too, naming it.
    clash = _export(invoke, small_registry, site, "--force", code=4)
    assert str(site / "index.html") in clash
    assert (site / "index.html").read_text(encoding="utf-8") == "<p>our home page</p>\n"
    (site / "index.html").rename(team / "home.html")
    _export(invoke, small_registry, site, "--force")
    assert invoke(small_registry, "remove", "dune", "--yes").exit_code == 0
    stderr = _export(invoke, small_registry, site)
    assert "removed 1 stale page" in stderr and not (site / "partnerships" / "dune.html").exists()
    assert (site / "partnerships" / "about-twinning.html").read_text(encoding="utf-8") == "<p>about</p>\n"


def test_no_shipped_template_is_ignored_by_git() -> None:
    # A pattern such as "site/" in .gitignore once hid templates/site/ from commits and from the wheel.
    import subprocess

    # The repository's own files (an installed copy lives in an ignored .venv).
    templates = Path(__file__).resolve().parents[1] / "src" / "partnerctl" / "templates"
    names = [str(p) for p in templates.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(names) >= 13
    run = subprocess.run(["git", "-C", str(templates), "check-ignore", "--no-index", *names], capture_output=True, text=True)
    if run.returncode == 128:
        pytest.skip(f"not in a git checkout: {run.stderr.strip()}")
    assert run.stdout == ""
