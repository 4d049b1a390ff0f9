"""Export of a publishable site (HTML or Markdown), drawn by the Jinja2 templates in ``partnerctl/templates``.

The HTML site is a folder that works from disk and on any web server:

- ``index.html``: the registry's name, a search box and filters (world region,
  theme, network, and owner and owner's country when the registry holds more
  than one owner), a page of cards at a time. The cards are drawn by
  ``index.js`` from ``index-data.js`` (one compact row per relation), so the
  index stays small and quick at 26,000 relations: the page itself holds no
  card, the data file about 125 bytes a relation, and only the
  ``PAGE_SIZE`` cards of the page shown are ever in the document. The filter
  state is in the address (``index.html#theme=urban-mobility&region=europe&page=2``),
  so a filtered view can be shared and is restored on load.
- ``partnerships/<id>.html``: one page per partnership, laid out like the owner's
  public page (the facts of ``records.facts``, the narrative, the key dates, the
  contact, the sources), headed with its own owner.
- ``figures.html`` with ``figures/<dimension>.svg``: the counts of ``stats`` as bar charts.
- ``map.html`` with ``map.svg``: the partner cities that have a latitude and longitude on a world map
  drawn offline (``svgmap``), when some have.
- ``style.css``, the colours of the ``[site]`` settings; ``logo.*`` when one is set; ``sitemap.xml``
  when a base URL is set.

Registry text is untrusted: the templates autoescape it, the card script sets
it as text only, only plain http(s) addresses and plain e-mail addresses become
links. Fields and events marked internal are left out (``records.published``)
unless *include_internal*. Each page is rendered when the folder writer asks
for it, one partnership at a time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from partnerctl.core import stats
from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import _, language
from partnerctl.core.model import Registry, record
from partnerctl.core.names import fold, slugify
from partnerctl.core.query import Record, Snapshot
from partnerctl.core.query import snapshot as query_snapshot
from partnerctl.core.records import fact_fields, facts, internal_fields, published
from partnerctl.core.text import counted
from partnerctl.formats import templating
from partnerctl.formats.templating import Branding
from partnerctl.storage import folders as outfolder

if TYPE_CHECKING:
    from jinja2 import Environment

    from partnerctl.storage.reader import Reader

FORMATS = {"html": ".html", "markdown": ".md"}
PAGES = "partnerships"
PAGE_SIZE = 60


def snapshot(reg: Registry) -> Snapshot:
    """The registry's head, for the facts of its pages (no records needed)."""
    return query_snapshot(reg, {})


@dataclass
class Site:
    """What every page of one export shares: the head, the title, the branding, the templates."""

    head: Snapshot
    title: str
    owners: int
    branding: Branding
    env: Environment
    include_internal: bool = False
    fmt: str = "html"
    ext: str = ".html"
    # Whether some partner city has a latitude and longitude: only then is there a map (1 MB of countries).
    has_map: bool = False

    @property
    def multi_owner(self) -> bool:
        """Whether the registry holds the relations of more than one owner city."""
        return self.owners > 1

    def shown(self, pid: str, rec: Record) -> dict[str, Any]:
        """The record as this export publishes it (internal fields and events left out unless asked for)."""
        full = dict(rec) if "id" in rec else {"id": pid, **rec}
        return full if self.include_internal else published(full)

    def context(self, root: str, path: str = "index.html", **more: Any) -> dict[str, Any]:
        """What a template is given: the site, the links' root (``""`` or ``"../"``), its language and the
        links to page *path* in the export's other languages, and *more*."""
        return {"site": self, "root": root, "brand": self.branding, "colours": self.branding.colours,
                "lang": language(), "languages": switch(path), **more}


def title_of(reg: Registry, owners: set[str], branding: Branding) -> str:
    """The site's title: the ``[site]`` title, else the registry's name, else its one owner's."""
    name = getattr(reg.registry, "name", None)
    if branding.title:
        return branding.title
    if name:
        return str(name)
    if len(owners) <= 1:
        return _("{owner}'s international partnerships").format(owner=next(iter(owners), reg.registry.owner))
    return _("International partnerships")


def make_site(reg: Registry, env: Environment, branding: Branding, *, include_internal: bool = False,
              fmt: str = "html") -> Site:
    """The Site of *reg*."""
    head = snapshot(reg)
    owners = {str(head.value({"owner": p.owner}, "owner")) for p in reg.partnerships.values()}
    return Site(head, title_of(reg, owners, branding), len(owners), branding, env, include_internal, fmt,
                FORMATS[fmt])


# --------------------------------------------------------------------------- one partnership


def page_context(site: Site, pid: str, rec: Record) -> dict[str, Any]:
    """What a partnership page says (the facts in the public page's order, then the rest), as plain values."""
    shown = site.shown(pid, rec)
    head = site.head
    owner = str(head.value(shown, "owner"))
    country = head.shown("country", shown["country"])
    themes = head.labels("theme")  # in the site's language
    events = []
    for event in sorted(shown["events"], key=lambda e: _date_key(e["date"])):
        events.append({**event, "theme_labels": [themes.get(t, t) for t in event["themes"]],
                       "notes": notes_of(event, "event")})
    return {
        "pid": pid, "rec": shown, "owner": owner, "city": shown["city"], "country": country,
        "heading": f"International relations, {owner} - {shown['city']} ({country})",
        "facts": facts(head, shown), "paragraphs": templating.paragraphs(shown.get("summary")),
        "events": events, "contacts": [{**c, "notes": notes_of(c, "contact")} for c in shown["contacts"]],
        "links": list(shown["links"]), "notes": notes_of(shown, "partnership", skip=fact_fields()),
    }


def _date_key(date: str) -> tuple[int, int, int]:
    from partnerctl.core import dates

    return dates.sort_key(date)


def notes_of(item: Mapping[str, Any], model: str, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(label, text) of the internal fields of *item* that hold something (shown only with
    --include-internal and in the brief), besides those in *skip* (which a fact already shows)."""
    from partnerctl.core.model import table

    out = []
    for name in internal_fields(model):
        value = item.get(name)
        # A flag (``internal = true``) is no note: the page marks the item itself.
        if name in skip or value in (None, "", []) or isinstance(value, bool):
            continue
        label = table().get(name, model).meta.label
        out.append((label, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return out


def page(site: Site, pid: str, rec: Record) -> str:
    """The page of partnership *pid* (it lives in ``partnerships/``)."""
    text = templating.render(site.env, f"{_folder(site)}/partnership{site.ext}",
                             **site.context("../", f"{PAGES}/{pid}{site.ext}", page=page_context(site, pid, rec),
                                            canonical=site.branding.url(f"{PAGES}/{pid}{site.ext}")))
    # A section left out leaves its blank lines behind: a page ends with one newline.
    return text.rstrip("\n") + "\n"


def _folder(site: Site) -> str:
    return "site" if site.fmt == "html" else "markdown"


# --------------------------------------------------------------------------- the index


def _choices(counts: Counter[str], labels: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """(key, label, how many partnerships) for every value in use, by label."""
    return sorted(((key, labels.get(key, key), n) for key, n in counts.items()), key=lambda c: (fold(c[1]), c[0]))


def _key(text: str | None) -> str:
    return (slugify(text) or fold(text)) if text else ""


def index_parts(site: Site, records: Mapping[str, Record]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The index's data (one compact row per relation, for ``index.js``) and its filters' choices."""
    head = site.head
    labels: dict[str, dict[str, str]] = {"region": {}, "theme": dict(head.labels("theme")),
                                         "network": dict(head.labels("network")),
                                         "owner": {}, "owner_country": {}}
    counts: dict[str, Counter[str]] = {name: Counter() for name in labels}
    countries: set[str] = set()
    rows = []
    for pid in sorted(records, key=lambda p: (fold(records[p]["city"]), p)):
        rec = site.shown(pid, records[pid])
        owner, owner_country = head.value(rec, "owner"), head.value(rec, "owner_country")
        region = head.value(rec, "region")  # its own, else its country's default
        country = head.shown("country", rec["country"])
        shown = {"region": head.shown("region", region), "owner": owner,
                 "owner_country": head.shown("owner_country", owner_country)}
        # A country's key in the address is its name's slug (``owner_country=france``), as people read it.
        keys = {"region": _key(region), "owner": _key(owner), "owner_country": _key(shown["owner_country"])}
        for name in ("region", "owner", "owner_country"):
            if keys[name]:
                labels[name].setdefault(keys[name], str(shown[name]))
                counts[name][keys[name]] += 1
        counts["theme"].update(set(rec["themes"]))
        counts["network"].update(set(rec["networks"]))
        countries.add(rec["country"])
        words = " ".join(fold(str(t)) for t in (rec["city"], *rec.get("aliases", []), country, rec["country"], owner)
                         if t)
        rows.append([pid, rec["city"], country, keys["region"], rec.get("since"), rec["themes"],
                     rec["networks"], keys["owner"], keys["owner_country"], words])
    data = {"fields": ["id", "city", "country", "region", "since", "themes", "networks", "owner", "owner_country",
                       "words"],
            "labels": labels, "multiOwner": site.multi_owner, "pageSize": PAGE_SIZE, "rows": rows}
    choices = {name: _choices(counts[name], labels[name]) for name in labels}
    summary = {"relations": len(rows), "countries": len(countries), "owners": site.owners, "choices": choices}
    return data, summary


def index_data_js(data: Mapping[str, Any]) -> str:
    """The index's data as a script (a ``<script src>`` loads from disk where ``fetch`` of a file cannot)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # Nothing in it can end a script or open a comment, even if the file were ever inlined.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.PARTNERCTL_INDEX = {text};\n"


def index_html(site: Site, summary: Mapping[str, Any]) -> str:
    """The index page (its cards come from ``index-data.js``)."""
    return templating.render(site.env, "site/index.html", **site.context("", index=summary,
                                                                          canonical=site.branding.url("index.html")))


def index_markdown(site: Site, records: Mapping[str, Record]) -> str:
    """The Markdown index: one table row per relation (with its owner when there are several)."""
    rows = []
    for pid in sorted(records, key=lambda p: (fold(records[p]["city"]), p)):
        rec = site.shown(pid, records[pid])
        head = site.head
        rows.append({"pid": pid, "rec": rec, "owner": head.value(rec, "owner"),
                     "owner_country": head.shown("owner_country", head.value(rec, "owner_country")),
                     "country": head.shown("country", rec["country"]),
                     "region": head.shown("region", head.value(rec, "region")),
                     "themes": [site.head.labels("theme").get(t, t) for t in rec["themes"]],
                     "networks": [site.head.labels("network").get(n, n) for n in rec["networks"]]})
    return templating.render(site.env, "markdown/index.md", **site.context("", rows=rows))


# --------------------------------------------------------------------------- figures and map


def figures(site: Site, records: Mapping[str, Record]) -> tuple[dict[str, Callable[[], str]], Callable[[], str]]:
    """The figures page and its charts (``figures/<dimension>.svg``), the counts of ``stats``."""
    from partnerctl.formats import charts

    snap = replace(site.head, partnerships={pid: site.shown(pid, rec) for pid, rec in records.items()})
    pids = sorted(snap.partnerships)
    # The owners' charts only when there are several owners, as ``stats`` does.
    groups = stats.counts(snap, pids, [], site.multi_owner)
    colour = site.branding.colours["brand"]
    files = {f"figures/{by}.svg": _chart(charts.chart, by, items, len(pids), colour, snap)
             for by, items in groups.items()}
    # Labels in the site's language (a Count keeps the English one).
    shown = [{"by": by, "file": f"figures/{by}.svg", "title": charts.title_of(by, len(pids)),
              "items": [{**c.__dict__, "label": stats.shown_label(snap, c), "shown": stats.shown_percent(c.percent)}
                        for c in items]}
             for by, items in groups.items()]
    return files, lambda: templating.render(site.env, "site/figures.html",
                                            **site.context("", "figures.html", charts=shown, kept=len(pids),
                                                         canonical=site.branding.url("figures.html")))


def _chart(draw: Callable[..., str], by: str, items: Any, kept: int, colour: str, snap: Any) -> Callable[[], str]:
    return lambda: draw(by, items, kept, colour=colour, shown=lambda c: stats.shown_label(snap, c))


def points(site: Site, records: Mapping[str, Record]) -> list[Any]:
    """The partner cities that have a latitude and longitude, as map points."""
    from partnerctl.formats.svgmap import Point

    out = []
    for pid in sorted(records):
        rec = records[pid]
        lat, lon = rec.get("lat"), rec.get("lon")
        if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
            out.append(Point(float(lat), float(lon), rec["city"], site.head.shown("country", rec["country"])))
    return out


def map_files(site: Site, records: Mapping[str, Record]) -> dict[str, Callable[[], str]]:
    """``map.svg`` (the partner cities on a world map, drawn offline) and ``map.html``."""
    from partnerctl.formats import svgmap

    placed = points(site, records)
    title = _("Partner cities of {title}").format(title=site.title)
    return {
        "map.svg": lambda: svgmap.world_map_svg(placed, width=1000, height=508, title=title),
        "map.html": lambda: templating.render(site.env, "site/map.html", **site.context(
            "", "map.html", placed=len(placed), total=len(records), canonical=site.branding.url("map.html"))),
    }


# --------------------------------------------------------------------------- writing


def site_files(site: Site, records: Mapping[str, Record]) -> dict[str, Callable[[], str | bytes]]:
    """Every file of the site, each a function that renders it when the folder writer asks."""
    files: dict[str, Callable[[], str | bytes]] = {}
    if site.fmt == "markdown":
        files["index.md"] = lambda: index_markdown(site, records)
    else:
        data, summary = index_parts(site, records)
        files["index.html"] = lambda: index_html(site, summary)
        files["index-data.js"] = lambda: index_data_js(data)
        files["index.js"] = lambda: templating.render(site.env, "site/index.js")
        files["style.css"] = lambda: templating.render(site.env, "site/style.css", **site.context(""))
        chart_files, figures_page = figures(site, records)
        files.update(chart_files)
        files["figures.html"] = figures_page
        site.has_map = bool(points(site, records))
        if site.has_map:
            files.update(map_files(site, records))
        if site.branding.logo is not None and site.branding.logo_name:
            logo = site.branding.logo
            files[site.branding.logo_name] = lambda: logo
        if site.branding.base_url:
            pages = ["index.html", "figures.html", *(["map.html"] if site.has_map else []),
                     *(f"{PAGES}/{pid}.html" for pid in sorted(records))]
            files["sitemap.xml"] = lambda: templating.render(
                site.env, "site/sitemap.xml", urls=[site.branding.url(p) for p in pages])
    for pid in records:
        files[f"{PAGES}/{pid}{site.ext}"] = _page(site, pid, records)
    return files


def _page(site: Site, pid: str, records: Mapping[str, Record]) -> Callable[[], str]:
    return lambda: page(site, pid, records[pid])


# While a site is written in several languages (``export(languages=...)``): those languages.
_LANGUAGES: ContextVar[tuple[str, ...]] = ContextVar("languages", default=())


def switch(path: str) -> list[dict[str, str]]:
    """The links of page *path* (from the site's root) to itself in the other languages of the export
    (``href``, ``lang``): none with one language."""
    others = [lang for lang in _LANGUAGES.get() if lang != language()]
    up = "../" * (path.count("/") + 1)
    return [{"href": f"{up}{lang}/{path}", "lang": lang} for lang in others]


def export(source: Reader, fmt: str, target: Path | None, out: BinaryIO, *, force: bool = False,
           templates: Path | None = None, branding: Branding | None = None, include_internal: bool = False,
           languages: Sequence[str] = (), **_ignored: Any) -> str:
    """Write the site in *fmt* (html or markdown) into the folder *target*; return a one-line summary.

    With several *languages*, one site per language in ``target/<lang>/``, each
    exported as below, each page linking to itself in the other languages.
    Otherwise the site is in the language in force.

    The folder is replaced as a whole (``storage.folders``): files an earlier
    export wrote and this one does not (pages of partnerships no longer in the
    registry) are dropped, files partnerctl did not write are kept. A non-empty
    folder that no export wrote is refused unless *force*.
    """
    # Not streamed yet: the index page and the filters need every partnership.
    reg = source.registry()
    if fmt not in FORMATS:
        raise InvalidInput(_("the site exporter writes {items}, not {fmt!r}").format(
            items=' or '.join(FORMATS), fmt=fmt))
    if target is None:
        raise InvalidInput(_("--format {fmt} writes a folder of pages: name it with -o FOLDER").format(fmt=fmt))
    env = templating.environment(templates)
    if len(languages) > 1:
        from partnerctl.core.i18n import using
        from partnerctl.storage.catalogs import load

        summaries = []
        token = _LANGUAGES.set(tuple(languages))
        try:
            for lang in languages:
                with using(lang, load(lang)):
                    done = _export(reg, fmt, target / lang, force, env, branding, include_internal)
                summaries.append(_summary(reg, fmt, target / lang, done))  # in the run's language
        finally:
            _LANGUAGES.reset(token)
        return "; ".join(summaries)
    return _summary(reg, fmt, target, _export(reg, fmt, target, force, env, branding, include_internal))


def _export(reg: Registry, fmt: str, target: Path, force: bool, env: Any, branding: Branding | None,
            include_internal: bool) -> outfolder.Written:
    """The site in the language in force, written into *target*."""
    site = make_site(reg, env, branding or Branding(), include_internal=include_internal, fmt=fmt)
    files = site_files(site, {pid: record(pid, p) for pid, p in reg.partnerships.items()})
    return outfolder.write_folder(target, files, force=force)


def _summary(reg: Registry, fmt: str, target: Path | None, done: outfolder.Written) -> str:
    removed = _("; removed {count}").format(count=counted(done.removed, "stale page")) if done.removed else ""
    kept = _("; kept {count} partnerctl did not write").format(count=counted(done.kept, "file")) if done.kept else ""
    return _("wrote {count} and index{ext} to {target}{removed}{kept}").format(
        count=counted(len(reg.partnerships), "partnership page"), ext=FORMATS[fmt], target=target, removed=removed,
        kept=kept)
