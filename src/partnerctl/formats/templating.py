"""The Jinja2 templates of the site, the Markdown pages and the brief, and the branding the web team sets.

The templates ship in the package (``partnerctl/templates/``). A folder given
with ``--templates DIR`` (or the ``templates`` setting) is searched first, so
any template can be replaced by a file of the same name there (``site/base.html``,
``site/style.css``...). HTML and XML templates are autoescaped: a registry
string can only ever be text. Markdown templates escape with the ``md`` filter.

Every sentence a template writes goes through Jinja2's i18n extension
(``{% trans %}``, ``_()``); the translations are gettext's identity until
catalogs are installed (``environment(..., translations=...)``).

``Branding`` is the ``[site]`` table of the settings: ``title``, ``logo`` (an
image file, copied into the site), ``colours`` (``brand``, ``brand_dark``,
``ink``, ``muted``, ``line``, ``paper``, ``wash``, ``tag``), ``base_url`` (for
``sitemap.xml`` and canonical links) and ``footer``. Each value is checked:
a colour must be a CSS colour (``#b3122e``, ``rgb(...)`` or a name), a base URL
an http(s) address, a logo a readable image file; anything else is a usage
error naming the setting and the file that set it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from partnerctl.core import dates
from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import _
from partnerctl.core.model import is_email, is_web_link

if TYPE_CHECKING:
    from jinja2 import Environment

DEFAULT_COLOURS = {"brand": "#b3122e", "brand_dark": "#7d0c20", "ink": "#1f2933", "muted": "#5f6b7a",
                   "line": "#dde3ea", "paper": "#ffffff", "wash": "#f4f6f8", "tag": "#fbe9ec"}
_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|rgba|hsl|hsla)\([0-9.,%\s]{1,60}\))$")
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
              ".svg": "image/svg+xml", ".webp": "image/webp"}
MAX_LOGO_BYTES = 2_000_000


@dataclass(frozen=True)
class Branding:
    """What the web team sets in the ``[site]`` table (``storage.config``), checked."""

    title: str | None = None
    logo_name: str | None = None
    logo: bytes | None = None
    colours: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_COLOURS))
    base_url: str | None = None
    footer: str | None = None

    def url(self, path: str) -> str | None:
        """The absolute address of the site's *path* (``partnerships/turin.html``), when a base URL is set."""
        if not self.base_url:
            return None
        return self.base_url.rstrip("/") + "/" + path


def branding(site: Mapping[str, Any], where: str = "the settings", logo_path: Path | None = None) -> Branding:
    """The ``[site]`` table *site* checked (*where* names the file for messages; *logo_path* is its ``logo``
    made absolute from that file's folder)."""
    def text(key: str) -> str | None:
        value = site.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidInput(_("site.{key} in {where} must be a non-empty string").format(
                                   key=key, where=where))
        return value

    unknown = set(site) - {"title", "logo", "colours", "colors", "base_url", "footer"}
    if unknown:
        raise InvalidInput(_("unknown site setting {items} in {where}; known: title, logo, colours, base_url, "
                              "footer").format(
                               items=', '.join(sorted(unknown)), where=where))
    colours = dict(DEFAULT_COLOURS)
    given = site.get("colours", site.get("colors", {}))
    if not isinstance(given, Mapping):
        raise InvalidInput(_("site.colours in {where} must be a table ({items})").format(
                               where=where, items=', '.join(DEFAULT_COLOURS)))
    for name, value in given.items():
        if name not in DEFAULT_COLOURS:
            raise InvalidInput(_("unknown colour site.colours.{name} in {where}; known: {items}").format(
                                   name=name, where=where, items=', '.join(DEFAULT_COLOURS)))
        if not isinstance(value, str) or not _COLOUR.match(value.strip()):
            raise InvalidInput(_("site.colours.{name} in {where} is not a CSS colour: {value!r}").format(
                                   name=name, where=where, value=value))
        colours[name] = value.strip()
    base_url = text("base_url")
    if base_url is not None and (not is_web_link(base_url) or urlsplit(base_url).query or urlsplit(base_url).fragment):
        raise InvalidInput(_("site.base_url in {where} must be an http(s) address without ?query or "
                              "#fragment: {base_url!r}").format(
                               where=where, base_url=base_url))
    logo_name = logo = None
    if text("logo") is not None:
        assert logo_path is not None
        suffix = logo_path.suffix.lower()
        if suffix not in LOGO_TYPES:
            raise InvalidInput(_("site.logo in {where}: {logo_path} is not an image ({items})").format(
                                   where=where, logo_path=logo_path, items=', '.join(LOGO_TYPES)))
        try:
            logo = logo_path.read_bytes()
        except OSError as exc:
            raise InvalidInput(_("site.logo in {where}: cannot read {logo_path}: {strerror}").format(
                                   where=where, logo_path=logo_path, strerror=exc.strerror)) from None
        if len(logo) > MAX_LOGO_BYTES:
            raise InvalidInput(_("site.logo in {where}: {logo_path} is larger than {MAX_LOGO_BYTES} bytes").format(
                                   where=where, logo_path=logo_path, MAX_LOGO_BYTES=MAX_LOGO_BYTES))
        logo_name = "logo" + suffix
    return Branding(text("title"), logo_name, logo, colours, base_url, text("footer"))


def _host(url: str) -> str:
    """The site a web link points to (``comune.torino.it``), as the link's text."""
    try:
        host = urlsplit(url).hostname or url
    except ValueError:  # a malformed address ("http://[x") still shows, as itself
        return url
    return host.removeprefix("www.")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^(?:([#>+\-=])|(\d+)\.)")


def md(text: Any) -> str:
    """Registry text made safe for Markdown, on one line: Markdown punctuation backslashed, then
    ``<`` and ``&`` HTML-escaped so no raw HTML gets through (quotes are harmless outside attributes)."""
    import html

    one_line = " ".join(str(text).split())
    escaped = _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.",
                                 _MD_SPECIAL.sub(r"\\\1", one_line))
    return html.escape(escaped, quote=False)


def paragraphs(text: str | None) -> list[str]:
    """A text's paragraphs (split at blank lines), each on one line."""
    return [" ".join(part.split()) for part in re.split(r"\n\s*\n", text or "") if part.strip()]


def _span(event: Mapping[str, Any]) -> str:
    return dates.humanize_span(event["date"], event.get("end"))


def environment(templates: Path | None = None, translations: Any = None) -> Environment:
    """The Jinja2 environment: *templates* searched before the package's own, autoescape on for HTML/XML."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape

    loaders: list[Any] = []
    if templates is not None:
        if not templates.is_dir():
            raise InvalidInput(_("--templates {templates}: no such folder").format(templates=templates))
        loaders.append(FileSystemLoader(str(templates)))
    loaders.append(PackageLoader("partnerctl", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(("html", "xml", "svg")),
                      extensions=["jinja2.ext.i18n"], undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    if translations is None:
        # The catalog of the language in force when a page is rendered (an export in two languages renders
        # each site under its own): ``{% trans %}`` and ``_()`` in templates, as in the code.
        from partnerctl.core.i18n import ngettext

        env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    else:
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(date=dates.humanize, span=_span, host=_host, md=md, paragraphs=paragraphs)
    env.tests.update(weblink=is_web_link, email=is_email)
    return env


def render(env: Environment, name: str, **context: Any) -> str:
    """Template *name* rendered with *context*; a broken override is a usage error naming it."""
    from jinja2 import TemplateError

    try:
        return env.get_template(name).render(**context)
    except TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or name}"
        line = getattr(exc, "lineno", None)
        raise InvalidInput(_("template {where}{line}: {exc}").format(
                               where=where, line=_(" line {n}").format(n=line) if line else "", exc=exc)) from None
