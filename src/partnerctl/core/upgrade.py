"""A registry written before countries were codes and regions a vocabulary, brought up to date.

``upgrade`` works on the parsed TOML document (it is not valid as it is, so it cannot be
a model yet): each country (a partnership's, its owner's, the registry's) becomes its
ISO 3166 code through the registry's resolver (``core.countries``: a code, an English or
French name, an alias); each region, a label such as ``Europe`` or ``The Americas``,
becomes the slug of a declared region (the shipped five, matched by slug or label; any
other is declared with a slug of its own). A country that cannot be resolved is not
guessed: the whole upgrade is refused, naming every one of them with where it is, so
the user adds an alias (``[countries]``) or corrects the text, and runs it again.
Values already in the new form are left as they are, so upgrading twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import _
from partnerctl.core.names import fold, slugify


def upgrade(data: dict[str, Any]) -> list[str]:
    """Bring the parsed registry *data* to codes and region slugs, in place; returns what changed, one line
    per kind of change. InvalidInput lists the countries that cannot be resolved."""
    from partnerctl.core import countries
    from partnerctl.core.model import table

    given = data.get("countries")
    own: dict[str, Any] = given if isinstance(given, dict) else {}
    resolve = countries.resolver({k: v for k, v in own.items() if isinstance(v, str)})
    unresolved: list[str] = []
    changed: dict[str, int] = {}

    def code(where: str, text: Any) -> Any:
        if not isinstance(text, str) or countries.code_problem(text) is None:
            return text
        try:
            new = resolve.resolve(text)
        except InvalidInput as exc:
            unresolved.append(f"{where}: {exc}")
            return text
        changed["countries"] = changed.get("countries", 0) + 1
        return new

    head = data.get("registry")
    if isinstance(head, dict) and "country" in head:
        head["country"] = code("registry.country", head["country"])
    regions = data.setdefault("regions", {})
    if not regions:
        regions.update(countries.regions())
        changed["regions declared"] = len(regions)
    # A label may be given per language (``{ en = ..., fr = ... }``): each names the region.
    by_label = {fold(text): slug for slug, label in regions.items()
                for text in (label.values() if isinstance(label, dict) else [label]) if isinstance(text, str)}
    parts = data.get("partnerships")
    country_fields = [s.name for s in table().partnership if s.meta.country]
    region_fields = [s.name for s in table().partnership if s.meta.vocab == "region"]
    for pid, p in (parts.items() if isinstance(parts, dict) else ()):
        if not isinstance(p, dict):
            continue
        for name in country_fields:
            if name in p:
                p[name] = code(f"partnerships.{pid}.{name}", p[name])
        for name in region_fields:
            value = p.get(name)
            if isinstance(value, str) and value not in regions:
                slug = by_label.get(fold(value)) or slugify(value)
                if slug not in regions:
                    regions[slug] = value.strip()
                    by_label[fold(value)] = slug
                    changed["regions declared"] = changed.get("regions declared", 0) + 1
                p[name] = slug
                changed["regions"] = changed.get("regions", 0) + 1
    if unresolved:
        raise InvalidInput(_("{n} countries cannot be resolved (add an alias to [countries], or correct them): "
                             "{items}").format(n=len(unresolved), items="; ".join(unresolved)))
    return [f"{n} {what}" for what, n in changed.items()]
