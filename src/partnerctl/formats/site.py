"""Export of a publishable site: one page per partnership and an index, in HTML or Markdown.

Each partnership page follows the owner's public page: world region, city,
themes treated, first year, networks and European projects in common, the
narrative, the key dates as a timeline, and the contact. The HTML index lists
every relation with filters by world region, theme and network (a small inline
script; no external asset, no network access). Links are relative, so the
folder works when opened from disk.

Registry text is untrusted: every string goes through ``html.escape`` (and, in
Markdown, a backslash escape of Markdown's own punctuation); only plain http(s)
addresses and plain e-mail addresses (``mailto:`` without a query) become links.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from partnerctl.core import dates
from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import _, language
from partnerctl.core.model import Contact, Event, Partnership, Registry, is_email, is_web_link, record, sorted_events
from partnerctl.core.names import fold, slugify
from partnerctl.core.query import Snapshot
from partnerctl.core.records import FactRow, facts
from partnerctl.core.text import counted
from partnerctl.storage import folders as outfolder

FORMATS = {"html": ".html", "markdown": ".md"}
PAGES = "partnerships"


def esc(text: str) -> str:
    """Registry text made safe for HTML content and attribute values."""
    return html.escape(text, quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^(?:([#>+\-=])|(\d+)\.)")


def md(text: str) -> str:
    """Registry text made safe for Markdown, on one line: Markdown punctuation backslashed, then
    ``<`` and ``&`` HTML-escaped so no raw HTML gets through (quotes are harmless outside attributes)."""
    one_line = " ".join(text.split())
    escaped = _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.",
                                 _MD_SPECIAL.sub(r"\\\1", one_line))
    return html.escape(escaped, quote=False)


# --------------------------------------------------------------------------- the facts, once


@dataclass
class Page:
    """What a partnership page says, as plain text (each renderer escapes it)."""

    pid: str
    owner: str
    city: str
    country: str
    title: str
    facts: list[FactRow]
    paragraphs: list[str]
    events: list[Event]
    contacts: list[Contact]
    links: list[str]


def _paragraphs(text: str | None) -> list[str]:
    return [" ".join(part.split()) for part in re.split(r"\n\s*\n", text or "") if part.strip()]


def snapshot(reg: Registry) -> Snapshot:
    """The registry's head, for the facts of its pages (no records needed)."""
    return Snapshot(reg.registry.owner, reg.registry.country, reg.themes, reg.networks, {}, reg.translations)


def page_of(reg: Registry, pid: str) -> Page:
    """The content of partnership *pid*'s page, in the order of the owner's public page (``records.facts``)."""
    p = reg.partnerships[pid]
    snap = snapshot(reg)
    rec = record(pid, p)
    owner = snap.value(rec, "owner")
    return Page(pid, owner, p.city, p.country, f"International relations, {owner} - {p.city} ({p.country})",
                facts(snap, rec), _paragraphs(p.summary), sorted_events(p.events), list(p.contacts), list(p.links))


def _by_city(reg: Registry) -> list[str]:
    return sorted(reg.partnerships, key=lambda pid: (fold(reg.partnerships[pid].city), pid))


def _contact_lines(c: Contact) -> list[str]:
    return [v for v in (c.role, c.organisation, c.email, c.phone) if v]


# --------------------------------------------------------------------------- HTML

CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #dde3ea; --brand: #b3122e; --brand-dark: #7d0c20;
  --paper: #ffffff; --wash: #f4f6f8; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--wash); }
a { color: var(--brand); }
a:hover { color: var(--brand-dark); }
.wrap { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header.site { background: var(--brand); color: #fff; }
header.site .wrap { display: flex; align-items: baseline; gap: 14px; padding-top: 18px; padding-bottom: 18px; }
header.site a { color: #fff; text-decoration: none; font-weight: 700; font-size: 1.35rem; letter-spacing: .02em; }
header.site span { opacity: .85; font-size: .95rem; text-transform: uppercase; letter-spacing: .08em; }
main { padding: 8px 0 48px; }
.crumbs { margin: 18px 0 6px; font-size: .95rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 10px 0 6px; }
h1 .country { color: var(--muted); font-weight: 400; }
h2 { font-size: 1.3rem; margin: 0 0 14px; padding-bottom: 6px; border-bottom: 3px solid var(--brand);
  display: inline-block; }
.lead { color: var(--muted); margin: 0 0 22px; font-size: 1.05rem; }
.layout { display: grid; grid-template-columns: 320px 1fr; gap: 28px; align-items: start; margin-top: 18px; }
@media (max-width: 820px) { .layout { grid-template-columns: minmax(0, 1fr); } }
/* Long words and web addresses wrap instead of widening the page on a phone. */
.layout > *, ul.cards li { min-width: 0; overflow-wrap: anywhere; }
.panel { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 22px 24px; }
.facts dl { margin: 0; }
.facts dt { font-size: .78rem; text-transform: uppercase; letter-spacing: .07em; color: var(--muted);
  font-weight: 600; margin-top: 16px; }
.facts dt:first-child { margin-top: 0; }
.facts dd { margin: 4px 0 0; }
.facts .none { color: var(--muted); }
ul.tags { list-style: none; margin: 6px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
ul.tags li { background: #fbe9ec; color: var(--brand-dark); border-radius: 999px; padding: 2px 10px;
  font-size: .85rem; }
article > section + section { margin-top: 26px; }
.narrative p { margin: 0 0 12px; font-size: 1.05rem; }
ol.timeline { list-style: none; margin: 0; padding: 0 0 0 22px; border-left: 3px solid var(--line); }
ol.timeline li { position: relative; margin: 0 0 18px; padding-left: 8px; }
ol.timeline li::before { content: ""; position: absolute; left: -32px; top: 5px; width: 14px; height: 14px;
  border-radius: 50%; background: var(--paper); border: 3px solid var(--brand); }
ol.timeline time { display: block; font-weight: 700; color: var(--brand-dark); }
ol.timeline h3 { font-size: 1rem; margin: 2px 0 4px; }
ol.timeline p { margin: 0 0 4px; }
.small { font-size: .88rem; color: var(--muted); }
.contact strong { display: block; font-size: 1.05rem; }
.contact p { margin: 0 0 14px; }
form.filters { display: flex; flex-wrap: wrap; gap: 14px; align-items: end; background: var(--paper);
  border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; }
form.filters label { display: flex; flex-direction: column; font-size: .78rem; text-transform: uppercase;
  letter-spacing: .07em; color: var(--muted); font-weight: 600; gap: 4px; }
form.filters select { font: inherit; font-size: .95rem; text-transform: none; letter-spacing: 0; color: var(--ink);
  padding: 6px 8px; border: 1px solid #b8c2cc; border-radius: 6px; background: #fff; min-width: 210px; }
form.filters button { font: inherit; font-size: .95rem; padding: 6px 14px; border-radius: 6px;
  border: 1px solid var(--brand); background: #fff; color: var(--brand); cursor: pointer; }
#count { color: var(--muted); margin: 14px 0; }
ul.cards { list-style: none; margin: 0; padding: 0; display: grid; gap: 14px;
  grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); }
ul.cards li { background: var(--paper); border: 1px solid var(--line); border-left: 4px solid var(--brand);
  border-radius: 8px; padding: 14px 16px; }
ul.cards a { font-weight: 700; font-size: 1.1rem; text-decoration: none; }
ul.cards .where { color: var(--muted); font-size: .92rem; margin: 2px 0 6px; }
ul.cards .themes { font-size: .85rem; margin: 0; }
footer { color: var(--muted); font-size: .85rem; padding: 18px 0 36px; }
"""

FILTER_SCRIPT = """
(function () {
  var form = document.getElementById("filters");
  var cards = Array.prototype.slice.call(document.querySelectorAll("#partnerships > li"));
  function has(words, wanted) {
    return !wanted || (" " + words + " ").indexOf(" " + wanted + " ") !== -1;
  }
  function apply() {
    var shown = 0;
    cards.forEach(function (card) {
      var keep = has(card.getAttribute("data-region"), form.elements.region.value)
        && has(card.getAttribute("data-themes"), form.elements.theme.value)
        && has(card.getAttribute("data-networks"), form.elements.network.value);
      card.hidden = !keep;
      if (keep) { shown += 1; }
    });
    document.getElementById("count").textContent = shown + " of " + cards.length + " partnerships shown";
    document.getElementById("none").hidden = shown !== 0;
  }
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  // Coming back from a partnership page, the browser restores the choices: apply them again.
  window.addEventListener("pageshow", apply);
  apply();
})();
"""


# While a site is written in several languages (``export(languages=...)``): those languages.
_LANGUAGES: ContextVar[tuple[str, ...]] = ContextVar("languages", default=())


def _switch(path: str) -> str:
    """Links to page *path* (from the site's root) in the other languages of the export, "" with one language."""
    here, others = language(), [lang for lang in _LANGUAGES.get() if lang != language()]
    if not others:
        return ""
    up = "../" * (path.count("/") + 1)
    links = "".join(f" <a href=\"{up}{lang}/{path}\" hreflang=\"{lang}\" lang=\"{lang}\">{lang.upper()}</a>"
                    for lang in others)
    return f"<nav class=\"languages\" aria-label=\"languages\"><strong>{here.upper()}</strong>{links}</nav>\n"


def _html_doc(title: str, owner: str, home: str, body: str, script: str = "", path: str = "index.html") -> str:
    script_tag = f"<script>{script}</script>\n" if script else ""
    return (
        f"<!DOCTYPE html>\n<html lang=\"{language()}\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        # An empty icon: the browser asks for no favicon file.
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header class=\"site\"><div class=\"wrap\"><a href=\"{home}\">{esc(owner)}</a>"
        "<span>International relations</span></div></header>\n"
        f"{_switch(path)}<main class=\"wrap\">\n{body}</main>\n"
        f"<footer class=\"wrap\">Partnerships of {esc(owner)}, published from the registry with partnerctl.</footer>\n"
        f"{script_tag}</body>\n</html>\n"
    )


def _link_html(url: str, text: str | None = None) -> str:
    label = esc(text if text is not None else url)
    return f"<a href=\"{esc(url)}\">{label}</a>" if is_web_link(url) else label


def _host(url: str) -> str | None:
    """The site a web link points to (``comune.torino.it``), as the link's text."""
    if not is_web_link(url):
        return None
    try:
        host = urlsplit(url).hostname or url
    except ValueError:  # a malformed address ("http://[x") still shows, as itself
        return url
    return host.removeprefix("www.")


def _fact_html(row: FactRow) -> str:
    label, values = row.label, row.values
    if not values:
        value = "<span class=\"none\">—</span>"
    elif row.tags:
        value = "<ul class=\"tags\">" + "".join(f"<li>{esc(v)}</li>" for v in values) + "</ul>"
    else:
        value = esc(", ".join(values))
    return f"<dt>{esc(label)}</dt><dd>{value}</dd>\n"


def _event_html(reg: Registry, event: Event) -> str:
    parts = [f"<time datetime=\"{esc(event.date)}\">{esc(dates.humanize_span(event.date, event.end))}</time>",
             f"<h3>{esc(event.title)}</h3>"]
    parts += [f"<p>{esc(text)}</p>" for text in _paragraphs(event.description)]
    if event.themes:
        parts.append("<p class=\"small\">" + esc(", ".join(reg.themes.get(t, t) for t in event.themes)) + "</p>")
    if event.links:
        parts.append("<p class=\"small\">Source: " + " · ".join(_link_html(u, _host(u)) for u in event.links)
                     + "</p>")
    return f"<li id=\"{esc(event.id)}\">" + "".join(parts) + "</li>\n"


def page_html(reg: Registry, pid: str) -> str:
    """The HTML page of partnership *pid* (it lives in ``partnerships/``)."""
    page = page_of(reg, pid)
    facts = "".join(_fact_html(row) for row in page.facts)
    sections = []
    if page.paragraphs:
        sections.append("<section class=\"narrative\">" + "".join(f"<p>{esc(t)}</p>" for t in page.paragraphs)
                        + "</section>\n")
    if page.events:
        sections.append(f"<section><h2>{esc(page.owner)} - {esc(page.city)} ({esc(page.country)}) cooperation, "
                        "key dates</h2>\n<ol class=\"timeline\">\n"
                        + "".join(_event_html(reg, e) for e in page.events) + "</ol></section>\n")
    if page.contacts:
        people = "".join(
            f"<p><strong>{esc(c.name)}</strong>"
            + "".join(f"{_contact_value(v, c)}<br>" for v in _contact_lines(c)) + "</p>"
            for c in page.contacts)
        sections.append(f"<section class=\"contact\"><h2>Contact</h2>\n{people}</section>\n")
    if page.links:
        sections.append("<section><h2>Sources</h2><ul>" + "".join(f"<li>{_link_html(u)}</li>" for u in page.links)
                        + "</ul></section>\n")
    body = (
        "<nav class=\"crumbs\"><a id=\"back\" href=\"../index.html\">← All partnerships</a></nav>\n"
        f"<h1>International relations, {esc(page.owner)} - {esc(page.city)} "
        f"<span class=\"country\">({esc(page.country)})</span></h1>\n"
        "<div class=\"layout\">\n"
        f"<aside class=\"facts panel\"><dl>\n{facts}</dl></aside>\n"
        f"<article class=\"panel\">\n{''.join(sections) or _NOTHING_YET}</article>\n"
        "</div>\n"
    )
    return _html_doc(page.title, page.owner, "../index.html", body, path=f"{PAGES}/{pid}.html")


_NOTHING_YET = "<p class=\"small\">No narrative or key dates recorded yet.</p>\n"


def _contact_value(value: str, c: Contact) -> str:
    # Only a plain address is a link: a mailto: with ?bcc=...&body=... would write the mail for the reader.
    if value == c.email and is_email(value):
        return f"<a href=\"mailto:{esc(value)}\">{esc(value)}</a>"
    return esc(value)


def _options(name: str, everything: str, choices: Sequence[tuple[str, str, int]]) -> str:
    options = f"<option value=\"\">{esc(everything)}</option>" + "".join(
        f"<option value=\"{esc(slug)}\">{esc(label)} ({n})</option>" for slug, label, n in choices)
    return f"<select id=\"filter-{name}\" name=\"{name}\">{options}</select>"


def _choices(reg: Registry, keys_of: Callable[[Partnership], list[tuple[str, str]]]) -> list[tuple[str, str, int]]:
    """(slug, label, how many partnerships) for every value in use, by label."""
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for p in reg.partnerships.values():
        for slug, label in dict(keys_of(p)).items():
            counts[slug] += 1
            labels.setdefault(slug, label)
    return sorted(((slug, labels[slug], n) for slug, n in counts.items()), key=lambda c: fold(c[1]))


def _region(p: Partnership) -> list[tuple[str, str]]:
    return [(slugify(p.region), p.region)] if p.region and slugify(p.region) else []


def filter_attributes(reg: Registry, pid: str) -> dict[str, str]:
    """The data attributes the index's filters read for partnership *pid*: slugs separated by spaces."""
    p = reg.partnerships[pid]
    return {"data-region": " ".join(slug for slug, _ in _region(p)),
            "data-themes": " ".join(p.themes), "data-networks": " ".join(p.networks)}


def index_html(reg: Registry) -> str:
    """The HTML index of every relation, with its filters."""
    owner = reg.registry.owner
    pids = _by_city(reg)
    regions = _choices(reg, _region)
    network_choices = _choices(reg, lambda p: [(n, reg.networks.get(n, n)) for n in p.networks])
    cards = []
    for pid in pids:
        p = reg.partnerships[pid]
        attrs = " ".join(f"{k}=\"{esc(v)}\"" for k, v in filter_attributes(reg, pid).items())
        where = " · ".join(x for x in (p.country, p.region, f"since {p.since}" if p.since else None) if x)
        themes = ", ".join(reg.themes.get(t, t) for t in p.themes)
        cards.append(f"<li data-id=\"{esc(pid)}\" {attrs}><a href=\"{PAGES}/{pid}.html\">{esc(p.city)}</a>"
                     f"<p class=\"where\">{esc(where)}</p>"
                     + (f"<p class=\"themes\">{esc(themes)}</p>" if themes else "") + "</li>\n")
    body = (
        f"<h1>{esc(owner)}'s international partnerships</h1>\n"
        f"<p class=\"lead\">{len(pids)} relations with partner cities in {len(regions)} world regions. "
        "Choose a world region, a theme or a network to narrow the list.</p>\n"
        "<form class=\"filters\" id=\"filters\">\n"
        f"<label for=\"filter-region\">World region {_options('region', 'All world regions', regions)}</label>\n"
        "<label for=\"filter-theme\">Theme "
        f"{_options('theme', 'All themes', _choices(reg, lambda p: [(t, reg.themes.get(t, t)) for t in p.themes]))}"
        "</label>\n<label for=\"filter-network\">Network "
        f"{_options('network', 'All networks', network_choices)}"
        "</label>\n<button type=\"reset\">Show all</button>\n</form>\n"
        f"<p id=\"count\">{len(pids)} of {len(pids)} partnerships shown</p>\n"
        "<ul class=\"cards\" id=\"partnerships\">\n" + "".join(cards) + "</ul>\n"
        "<p id=\"none\" hidden>No partnership matches these choices.</p>\n"
    )
    return _html_doc(f"{owner}'s international partnerships", owner, "index.html", body, FILTER_SCRIPT)


# --------------------------------------------------------------------------- Markdown


def page_markdown(reg: Registry, pid: str) -> str:
    """The Markdown page of partnership *pid* (it lives in ``partnerships/``)."""
    page = page_of(reg, pid)
    lines = [f"# {md(page.title)}", "", "[← All partnerships](../index.md)", ""]
    lines += [f"- **{md(row.label)}:** {md(', '.join(row.values)) if row.values else '—'}" for row in page.facts]
    lines.append("")
    for paragraph in page.paragraphs:
        lines += [md(paragraph), ""]
    if page.events:
        lines += [f"## {md(page.owner)} - {md(page.city)} ({md(page.country)}) cooperation, key dates", ""]
        for e in page.events:
            text = f"- **{md(dates.humanize_span(e.date, e.end))}**: {md(e.title)}"
            if e.description:
                text += f". {md(e.description)}"
            text += "".join(f" [Source](<{u}>)" if is_web_link(u) else f" {md(u)}" for u in e.links)
            lines.append(text)
        lines.append("")
    if page.contacts:
        lines += ["## Contact", ""]
        for c in page.contacts:
            # Two trailing spaces: a Markdown line break inside the contact's block.
            lines += [f"**{md(c.name)}**  ", *(f"{md(v)}  " for v in _contact_lines(c)), ""]
    if page.links:
        lines += ["## Sources", "", *(f"- <{u}>" if is_web_link(u) else f"- {md(u)}" for u in page.links), ""]
    return "\n".join(lines)


def index_markdown(reg: Registry) -> str:
    """The Markdown index: one table row per relation."""
    owner = reg.registry.owner
    lines = [f"# {md(owner)}'s international partnerships", "",
             "| City | Country | World region | First year | Themes | Networks |", "|---|---|---|---|---|---|"]
    for pid in _by_city(reg):
        p = reg.partnerships[pid]
        cells = [f"[{md(p.city)}]({PAGES}/{pid}.md)", md(p.country), md(p.region or ""), str(p.since or ""),
                 md(", ".join(reg.themes.get(t, t) for t in p.themes)),
                 md(", ".join(reg.networks.get(n, n) for n in p.networks))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- writing


def export(reg: Registry, fmt: str, target: Path | None, out: BinaryIO, *, force: bool = False,
           languages: Sequence[str] = ()) -> str:
    """Write the site in *fmt* (html or markdown) into the folder *target*; return a one-line summary.

    With several *languages*, one site per language in ``target/<lang>/``, each
    exported as below, each page linking to itself in the other languages.
    Otherwise the site is in the language in force.
    """
    if len(languages) > 1 and target is not None:
        from partnerctl.core.i18n import using
        from partnerctl.storage.catalogs import load

        summaries = []
        token = _LANGUAGES.set(tuple(languages))
        try:
            for lang in languages:
                with using(lang, load(lang)):
                    done = _export(reg, fmt, target / lang, force)
                summaries.append(_summary(reg, fmt, target / lang, done))  # in the run's language
        finally:
            _LANGUAGES.reset(token)
        return "; ".join(summaries)
    return _summary(reg, fmt, target, _export(reg, fmt, target, force))


def _summary(reg: Registry, fmt: str, target: Path | None, done: outfolder.Written) -> str:
    removed = _("; removed {count}").format(count=counted(done.removed, "stale page")) if done.removed else ""
    kept = _("; kept {count} partnerctl did not write").format(count=counted(done.kept, "file")) if done.kept else ""
    return _("wrote {count} and index{ext} to {target}{removed}{kept}").format(
        count=counted(len(reg.partnerships), "partnership page"), ext=FORMATS[fmt], target=target, removed=removed,
        kept=kept)


def _export(reg: Registry, fmt: str, target: Path | None, force: bool) -> outfolder.Written:
    """The site in the language in force.

    The folder is replaced as a whole (``partnerctl.outfolder``): files an earlier
    export wrote and this one does not (pages of partnerships no longer in the
    registry) are dropped, files partnerctl did not write are kept. A non-empty
    folder that no export wrote is refused unless *force*.
    """
    if fmt not in FORMATS:
        raise InvalidInput(_("the site exporter writes {items}, not {fmt!r}").format(
            items=' or '.join(FORMATS), fmt=fmt))
    if target is None:
        raise InvalidInput(_("--format {fmt} writes a folder of pages: name it with -o FOLDER").format(fmt=fmt))
    ext = FORMATS[fmt]
    render_page, render_index = (page_html, index_html) if fmt == "html" else (page_markdown, index_markdown)
    files: dict[str, Callable[[], str]] = {f"index{ext}": partial(render_index, reg)}
    files.update({f"{PAGES}/{pid}{ext}": partial(render_page, reg, pid) for pid in reg.partnerships})
    return outfolder.write_folder(target, files, force=force)
