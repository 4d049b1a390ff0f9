"""The exported site in a real browser: headless Chromium driven by selenium, opened from disk.

Needs Debian's ``chromium`` and ``chromium-driver`` packages and the ``selenium``
package (the ``test`` extra). Without them the test is skipped with the reason,
except in CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import MULTI_OWNER_TOML
from partnerctl.core import query
from partnerctl.core.model import record
from partnerctl.storage import store


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run; .ci/run installs chromium chromium-driver)")
    pytest.skip(reason)


def _find(name: str, default: str) -> str | None:
    found = shutil.which(name)
    return found or (default if Path(default).exists() else None)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium = _find("chromium", "/usr/bin/chromium")
    driver_path = _find("chromedriver", "/usr/bin/chromedriver")
    if chromium is None or driver_path is None:
        _missing("no Chromium found: apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed: pip install '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1200,1600"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _visible(driver: Any) -> set[str]:
    from selenium.webdriver.common.by import By

    return {li.get_attribute("data-id") for li in driver.find_elements(By.CSS_SELECTOR, "#partnerships > li")
            if li.is_displayed()}


def _choose(driver: Any, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.NAME, name)).select_by_value(value)


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_filters_and_links_work_from_disk(browser: Any, invoke, registry_path: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    site = tmp_path / "site"
    result = invoke(registry_path, "export", "--format", "html", "-o", str(site))
    assert result.exit_code == 0, result.stderr
    reg = store.load(registry_path)
    parts = reg.partnerships

    browser.get((site / "index.html").as_uri())
    assert _visible(browser) == set(parts)

    _choose(browser, "theme", "culture")
    with_theme = {pid for pid, p in parts.items() if "culture" in p.themes}
    assert _visible(browser) == with_theme

    _choose(browser, "region", "europe")
    # The region a partnership is in: its own, else its country's (Yerevan).
    snap = query.snapshot(reg, {pid: record(pid, p) for pid, p in parts.items()})
    in_region = {pid for pid in with_theme if snap.value(snap.partnerships[pid], "region") == "europe"}
    assert _visible(browser) == in_region

    _choose(browser, "network", "eurocities")
    expected = {pid for pid in in_region if "eurocities" in parts[pid].networks}
    # The choice must narrow the list step by step, or the test proves little.
    assert set(parts) > with_theme > in_region > expected != set()
    assert _visible(browser) == expected
    assert browser.find_element(By.ID, "count").text == f"{len(expected)} of {len(parts)} partnerships shown"

    pid = sorted(expected)[0]
    browser.find_element(By.CSS_SELECTOR, f'#partnerships > li[data-id="{pid}"] a').click()
    assert browser.current_url == (site / "partnerships" / f"{pid}.html").as_uri()
    assert parts[pid].city in browser.find_element(By.TAG_NAME, "h1").text

    browser.find_element(By.ID, "back").click()
    assert browser.current_url == (site / "index.html").as_uri()
    assert _visible(browser) <= set(parts) and _visible(browser)

    _choose(browser, "network", "")
    _choose(browser, "region", "")
    _choose(browser, "theme", "")
    assert _visible(browser) == set(parts)
    assert _severe(browser) == []


def test_a_choice_with_no_match_says_so(browser: Any, invoke, small_registry: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    site = tmp_path / "site"
    assert invoke(small_registry, "export", "--format", "html", "-o", str(site)).exit_code == 0
    browser.get((site / "index.html").as_uri())
    # In the small registry, only dune (Africa) has culture, and dune is in no network.
    _choose(browser, "theme", "culture")
    assert _visible(browser) == {"dune"}
    _choose(browser, "network", "luci")
    assert _visible(browser) == set()
    assert browser.find_element(By.ID, "none").is_displayed()
    assert _severe(browser) == []


# --- the search box, the address, pages of cards, owners, figures (issue 13 item 5, issue 11 item 1) ---------


def _shots(tmp_path: Path) -> Path:
    """Where screenshots go: $PARTNERCTL_SCREENSHOTS (to look at them) or the test's folder."""
    folder = Path(os.environ.get("PARTNERCTL_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _type(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "filter-q")
    box.clear()
    box.send_keys(text)


def _fragment(driver: Any) -> str:
    return str(driver.execute_script("return window.location.hash"))


def test_search_box_and_filters_live_in_the_address(browser: Any, invoke, registry_path: Path,
                                                    tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    site = tmp_path / "site"
    # The shipped registry gives Turin no alias (its sources give none): this copy gets one.
    assert invoke(registry_path, "add-to", "turin", "aliases", "Torino").exit_code == 0
    assert invoke(registry_path, "export", "--format", "html", "-o", str(site)).exit_code == 0
    reg = store.load(registry_path)
    parts = reg.partnerships
    snap = query.snapshot(reg, {pid: record(pid, p) for pid, p in parts.items()})
    index = (site / "index.html").as_uri()
    browser.get(index)
    # Case and accents ignored; aliases count (Torino).
    _type(browser, "LODZ")
    assert _visible(browser) == {"lodz"}
    assert _fragment(browser) == "#q=LODZ"
    _type(browser, "torino")
    assert _visible(browser) == {"turin"}
    _type(browser, "")
    _choose(browser, "theme", "culture")
    _choose(browser, "region", "europe")
    # The region a partnership is in: its own, else its country's.
    expected = {pid for pid, p in parts.items()
                if "culture" in p.themes and snap.value(snap.partnerships[pid], "region") == "europe"}
    assert _visible(browser) == expected and set(parts) > expected
    assert _fragment(browser) == "#region=europe&theme=culture"
    browser.save_screenshot(str(_shots(tmp_path) / "index-filtered.png"))
    # The address is the view: opened afresh (a shared link), it shows the same cards and choices.
    browser.get("about:blank")
    browser.get(index + "#theme=culture&region=europe")
    assert _visible(browser) == expected
    assert browser.find_element(By.NAME, "theme").get_attribute("value") == "culture"
    # A value the registry does not have shows everything rather than nothing.
    browser.get("about:blank")
    browser.get(index + "#theme=no-such-theme")
    assert _visible(browser) == set(parts)
    browser.get(index + "#q=milan")
    assert _visible(browser) == {"milan"}
    assert _severe(browser) == []


def test_cards_come_a_page_at_a_time(browser: Any, invoke, make_registry, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    blocks = "".join(f'\n[partnerships.city-{i:03}]\ncity = "City {i:03}"\ncountry = "IT"\n' for i in range(130))
    path = make_registry('[registry]\nowner = "Lyon"\ncountry = "FR"\n' + blocks)
    site = tmp_path / "site"
    assert invoke(path, "export", "--format", "html", "-o", str(site)).exit_code == 0
    browser.get((site / "index.html").as_uri())
    assert _visible(browser) == {f"city-{i:03}" for i in range(60)}
    assert browser.find_element(By.ID, "page").text == "page 1 of 3"
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "next").click()
    assert _visible(browser) == {f"city-{i:03}" for i in range(120, 130)}
    assert _fragment(browser) == "#page=3" and not browser.find_element(By.ID, "next").is_enabled()
    assert browser.find_element(By.ID, "count").text == "130 of 130 partnerships shown"
    browser.get("about:blank")
    browser.get((site / "index.html").as_uri() + "#page=2")
    assert _visible(browser) == {f"city-{i:03}" for i in range(60, 120)}
    # A search starts again at its first page.
    _type(browser, "city 12")
    assert _visible(browser) == {f"city-{i:03}" for i in range(120, 130)} | {"city-012", "city-112"}
    assert _fragment(browser) == "#q=city%2012"
    assert _severe(browser) == []




def test_owner_filters_on_a_registry_of_several_owners(browser: Any, invoke, make_registry,
                                                       tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    site = tmp_path / "site"
    assert invoke(make_registry(MULTI_OWNER_TOML), "export", "--format", "html", "-o", str(site)).exit_code == 0
    browser.get((site / "index.html").as_uri())
    everyone = {"turin", "milan-lyon", "munich-edinburgh", "bordeaux-quebec"}
    assert _visible(browser) == everyone
    owners = {li.get_attribute("data-id"): li.find_element(By.CLASS_NAME, "owner").text
              for li in browser.find_elements(By.CSS_SELECTOR, "#partnerships > li")}
    assert owners == {"turin": "with Lyon (France)", "milan-lyon": "with Lyon (France)", "munich-edinburgh": "with Munich (Germany)",
                      "bordeaux-quebec": "with Bordeaux (France)"}
    _choose(browser, "owner_country", "france")
    assert _visible(browser) == {"turin", "milan-lyon", "bordeaux-quebec"}
    _choose(browser, "owner", "bordeaux")
    assert _visible(browser) == {"bordeaux-quebec"}
    assert _fragment(browser) == "#owner=bordeaux&owner_country=france"
    _choose(browser, "owner_country", "")
    _choose(browser, "owner", "")
    _type(browser, "munich")
    assert _visible(browser) == {"munich-edinburgh"}
    assert _severe(browser) == []


def test_figures_page_and_screenshots(browser: Any, invoke, registry_path: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    site = tmp_path / "site"
    assert invoke(registry_path, "export", "--format", "html", "-o", str(site)).exit_code == 0
    shots = _shots(tmp_path)
    browser.get((site / "index.html").as_uri())
    browser.save_screenshot(str(shots / "index.png"))
    browser.find_element(By.CSS_SELECTOR, 'nav.pages a[href="figures.html"]').click()
    assert browser.current_url == (site / "figures.html").as_uri()
    images = browser.find_elements(By.CSS_SELECTOR, "figure.chart img")
    assert [img.get_attribute("src").rsplit("/", 1)[1] for img in images] == [
        f"{by}.svg" for by in ("theme", "network", "region", "country", "decade", "status")]
    # Every chart loaded and drawn (an SVG that failed to parse has no natural size).
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
               for img in images)
    browser.save_screenshot(str(shots / "figures.png"))
    browser.get((site / "partnerships" / "turin.html").as_uri())
    browser.save_screenshot(str(shots / "turin.png"))
    brief = tmp_path / "turin-brief.html"
    assert invoke(registry_path, "brief", "turin", "-o", str(brief)).exit_code == 0
    browser.get(brief.as_uri())
    browser.save_screenshot(str(shots / "brief.png"))
    for name in ("index", "figures", "turin", "brief"):
        assert (shots / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _severe(browser) == []


# --- the site in French (issue 13 item 4): what the browser shows ---------------------------------------------


def _text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


@pytest.mark.slow
def test_the_french_site_in_the_browser(browser: Any, invoke, registry_path: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    assert invoke(registry_path, "locate").exit_code == 0  # the map page too
    site = tmp_path / "site"
    result = invoke(registry_path, "--lang", "fr,en", "export", "--format", "html", "-o", str(site))
    assert result.exit_code == 0, result.stderr
    fr, en = site / "fr", site / "en"

    browser.get((fr / "index.html").as_uri())
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    _choose(browser, "theme", "urban-mobility")
    assert Select(browser.find_element(By.NAME, "theme")).first_selected_option.text.startswith("Mobilité urbaine")
    total = len(store.load(registry_path).partnerships)
    shown = len(_visible(browser))
    assert browser.find_element(By.ID, "count").text == f"{shown} partenariats affichés sur {total}"

    browser.get((fr / "partnerships" / "turin.html").as_uri())
    page = _text(browser)
    # The dates, labels and country names in French; the facts (summary, titles) as the sources give them.
    assert "avril 1991" in page and "Mobilité urbaine" in page and "Turin (Italie)" in page
    assert "Urban mobility" not in page and "Développement économique" in page  # an event's theme
    # The language switch: the same page in English, and back.
    browser.find_element(By.CSS_SELECTOR, 'nav.languages a[hreflang="en"]').click()
    assert browser.current_url == (en / "partnerships" / "turin.html").as_uri()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Urban mobility" in _text(browser) and "April 1991" in _text(browser)
    browser.find_element(By.CSS_SELECTOR, 'nav.languages a[hreflang="fr"]').click()
    assert browser.current_url == (fr / "partnerships" / "turin.html").as_uri()

    # The figures: the page, its tables and the charts themselves, in French.
    browser.find_element(By.CSS_SELECTOR, 'nav.pages a[href="../figures.html"]').click()
    assert browser.current_url == (fr / "figures.html").as_uri()
    images = browser.find_elements(By.CSS_SELECTOR, "figure.chart img")
    assert images[0].get_attribute("alt").startswith("Par thématique (")
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
               for img in images)
    browser.get((fr / "figures" / "theme.svg").as_uri())
    chart = browser.find_element(By.TAG_NAME, "svg").text
    assert "Par thématique" in chart and "Mobilité urbaine" in chart and "Urban mobility" not in chart
    assert " %)" in chart  # 20,8 %: French figures
    browser.get((fr / "map.html").as_uri())
    assert "Carte des villes partenaires" in _text(browser)
    browser.get((fr / "map.svg").as_uri())
    assert "Turin, Italie" in browser.page_source
    shots = _shots(tmp_path)
    browser.get((fr / "partnerships" / "turin.html").as_uri())
    browser.save_screenshot(str(shots / "turin-fr.png"))
    assert (shots / "turin-fr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _severe(browser) == []


@pytest.mark.slow
def test_the_site_in_french_only(browser: Any, invoke, registry_path: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    site = tmp_path / "site"
    assert invoke(registry_path, "--lang", "fr", "export", "--format", "html", "-o", str(site)).exit_code == 0
    browser.get((site / "partnerships" / "turin.html").as_uri())
    page = _text(browser)
    assert "avril 1991" in page and "Mobilité urbaine" in page and "Urban mobility" not in page
    assert browser.find_elements(By.CSS_SELECTOR, "nav.languages") == []  # one language: no switch
    assert _severe(browser) == []
