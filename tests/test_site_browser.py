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
