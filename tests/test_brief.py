"""brief (issue 13 item 1) and internal notes kept internal (issue 12 item 7's export side).

Turin's brief is printed to PDF by headless Chromium and read back with poppler's pdfinfo and pdftotext.
Until the model has fields marked internal (the `notes` fields), the tests mark `summary` internal for
themselves, as fields.Meta.internal would: every export must then leave it out, and the brief show it.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from partnerctl.core import dates, records
from partnerctl.core.model import record
from partnerctl.formats import brief as briefs
from partnerctl.formats import site, templating
from partnerctl.storage import store


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing (CI=true: .ci/run installs chromium and poppler-utils)")
        pytest.skip(f"{name} is missing: apt-get install chromium poppler-utils")
    return found


def _latest_event(path: Path, pid: str) -> dict[str, Any]:
    events = store.load(path).partnerships[pid].events
    return max((e.__dict__ for e in events), key=lambda e: dates.sort_key(e["date"]))


def test_turins_brief_prints_on_at_most_two_a4_pages(invoke, registry_path: Path, tmp_path: Path) -> None:
    chromium, pdfinfo, pdftotext = _tool("chromium"), _tool("pdfinfo"), _tool("pdftotext")
    page = tmp_path / "turin-brief.html"
    result = invoke(registry_path, "brief", "turin", "-o", str(page))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"partnerctl: wrote the brief of turin to {page}\n"
    pdf = tmp_path / "turin-brief.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M)[1])  # type: ignore[index]
    assert 1 <= pages <= 2
    assert re.search(r"^Page size:.*\(A4\)$", info, re.M), info
    text = " ".join(subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    reg = store.load(registry_path)
    turin = reg.partnerships["turin"]
    assert turin.contacts and all(c.name in text for c in turin.contacts)
    latest = _latest_event(registry_path, "turin")
    assert " ".join(latest["title"].split()) in text
    assert "INTERNAL — FOR THE TEAM'S USE" in text.upper()
    assert "Next anniversary" in text


def test_the_brief_orders_events_latest_first_and_shows_the_next_anniversary(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "brief", "turin", "--format", "markdown", "--events", "2")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("> **Internal — for the team's use, not for publication**\n")
    events = sorted((e.__dict__ for e in store.load(registry_path).partnerships["turin"].events),
                    key=lambda e: dates.sort_key(e["date"]), reverse=True)
    first, second = text.index(events[0]["title"]), text.index(events[1]["title"].split(".")[0])
    assert first < second and events[2]["title"] not in text
    assert f"{len(events) - 2} earlier events are in the registry" in text
    today = datetime.date.today()
    # Turin's first year is 1991: its next round anniversary is this year's or the next multiple of 5.
    years = next(y for y in range(today.year, today.year + 6) if (y - 1991) % 5 == 0)
    assert f"{years - 1991}th anniversary of the partnership (1991)" in text
    assert "Juliette Cantau" in text


def test_brief_formats_and_errors(invoke, registry_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.md"
    assert invoke(registry_path, "brief", "Turin", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("> **Internal")
    html_out = invoke(registry_path, "brief", "turin")
    assert html_out.stdout.startswith("<!DOCTYPE html>") and "@page { size: A4;" in html_out.stdout
    bad = invoke(registry_path, "brief", "turin", "--format", "pdf")
    assert bad.exit_code == 2 and bad.stderr.startswith("partnerctl: error: --format must be one of html, markdown")
    missing = invoke(registry_path, "brief", "atlantis")
    assert missing.exit_code == 1 and missing.stderr.startswith("partnerctl: error: ")


# --- internal notes: in the brief, never in an export -----------------------------------------------------

SECRET_EVENT = {"id": "2025-01-02-secret", "date": "2025-01-02", "end": None, "title": "Secret talks",
                "description": None, "themes": [], "links": [], "internal": True}
SECRET_CONTACT = {"name": "Hidden Person", "role": None, "organisation": None, "email": None, "phone": None,
                  "internal": True}


def _turin_with_secrets(path: Path) -> tuple[Any, dict[str, Any]]:
    reg = store.load(path)
    rec = record("turin", reg.partnerships["turin"])
    rec["events"] = [*rec["events"], SECRET_EVENT]
    rec["contacts"] = [*rec["contacts"], SECRET_CONTACT]
    return reg, rec


def test_internal_events_and_contacts_are_in_the_brief_only(registry_path: Path) -> None:
    reg, rec = _turin_with_secrets(registry_path)
    head = site.snapshot(reg)
    brief = briefs.brief(head, "turin", rec, events=0)
    assert "Secret talks" in brief and "Hidden Person" in brief
    assert re.search(r"Secret talks</strong> <span class=\"mark\">internal</span>", brief)
    env = templating.environment()
    public = site.make_site(reg, env, templating.Branding())
    page = site.page(public, "turin", rec)
    assert "Secret" not in page and "Hidden Person" not in page
    intranet = site.make_site(reg, env, templating.Branding(), include_internal=True)
    shown = site.page(intranet, "turin", rec)
    assert "Secret talks" in shown and "Hidden Person" in shown
    markdown = site.page(site.make_site(reg, env, templating.Branding(), fmt="markdown"), "turin", rec)
    assert "Secret" not in markdown and "Hidden" not in markdown


@pytest.fixture
def summary_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mark the partnership's `summary` internal, as fields.Meta.internal does for the notes fields."""
    def internal(model: str = "partnership") -> tuple[str, ...]:
        return ("summary",) if model == "partnership" else ()

    monkeypatch.setattr(records, "internal_fields", internal)
    monkeypatch.setattr(site, "internal_fields", internal)


@pytest.mark.usefixtures("summary_is_internal")
def test_an_internal_field_is_never_exported_unless_asked(invoke, registry_path: Path, tmp_path: Path) -> None:
    summary = " ".join(store.load(registry_path).partnerships["turin"].summary.split())
    secret = summary[:60]
    for fmt in ("html", "markdown"):
        folder = tmp_path / fmt
        assert invoke(registry_path, "export", "--format", fmt, "-o", str(folder)).exit_code == 0
        for path in folder.rglob("*"):
            if path.is_file():
                assert secret not in " ".join(path.read_text(encoding="utf-8").split()), path
    ics = tmp_path / "x.ics"
    assert invoke(registry_path, "export", "--format", "ics", "-o", str(ics)).exit_code == 0
    # The calendar's descriptions are the events', never the partnership's summary.
    assert secret not in ics.read_text(encoding="utf-8").replace("\r\n ", "")
    # The brief shows it, marked internal.
    brief = invoke(registry_path, "brief", "turin").stdout
    assert secret in " ".join(brief.split())
    assert re.search(r"Internal notes <span class=\"mark\">internal</span>", brief)
    # --include-internal publishes it (an intranet), marked internal.
    folder = tmp_path / "intranet"
    result = invoke(registry_path, "export", "--format", "html", "--include-internal", "-o", str(folder))
    assert result.exit_code == 0, result.stderr
    page = " ".join((folder / "partnerships" / "turin.html").read_text(encoding="utf-8").split())
    assert secret in page and '<span class="mark">internal</span>' in page
