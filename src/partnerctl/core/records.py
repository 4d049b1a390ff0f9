"""The records partnerctl prints, one shape each everywhere, and the facts of a partnership page.

A command that prints records prints one of these shapes, in JSON, JSON lines,
CSV, TSV or a table, and ``--fields`` picks among the shape's fields: an event
is ``event_row`` whether ``timeline`` lists it or ``add-event`` reports it.

``facts`` says what a partnership page shows before its narrative, in the
order of the city's public page: the terminal ``show`` and the site both draw
it, so their labels cannot drift apart. Both are derived from the field table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from partnerctl.core.fields import FieldSpec
from partnerctl.core.i18n import _
from partnerctl.core.model import table
from partnerctl.core.query import Record, Snapshot


class Shape(NamedTuple):
    """A kind of record: its fields (JSON keys, in order), its TSV/CSV columns, the key ``ids`` prints."""

    name: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]
    id_key: str = "id"


# core/anniversaries.py builds these rows.
ANNIVERSARY_FIELDS = ("partner", "city", "date", "years", "jubilee", "since", "event", "title")


def shapes(many_owners: bool = False) -> dict[str, Shape]:
    """Every record shape partnerctl prints, by name; a partnership's columns in a registry of several
    owners (*many_owners*) include the owner's (``fields.Meta.many_owners``)."""
    t = table()
    return {
        "partnership": Shape("partnership", ("id", *t.names()), ("id", *t.columns(many_owners=many_owners))),
        "event": Shape("event", ("partner", "city", *t.names("event")),
                       ("partner", *t.columns("event"))),
        "contact": Shape("contact", ("partner", *t.names("contact")), ("partner", *t.columns("contact")),
                         id_key="name"),
        "vocabulary": Shape("vocabulary", ("slug", "label", "partnerships"), ("slug", "label", "partnerships"),
                            id_key="slug"),
        "hit": Shape("hit", ("partner", "city", "field", "text", "spans"), ("partner", "field", "text"),
                     id_key="partner"),
        "stat": Shape("stat", ("by", "key", "label", "count", "percent"), ("by", "key", "label", "count", "percent"),
                      id_key="label"),
        "anniversary": Shape("anniversary", ANNIVERSARY_FIELDS, ANNIVERSARY_FIELDS, id_key="partner"),
        "problem": Shape("problem", ("where", "line", "message"), ("where", "line", "message"), id_key="where"),
        "registry": Shape("registry", ("path", "name", "owner", "country", "themes", "networks", "partnerships"),
                          ("path", "name", "owner", "country", "themes", "networks", "partnerships"), id_key="path"),
        "format": Shape("format", ("path", "changed"), ("path", "changed"), id_key="path"),
        "location": Shape("location", LOCATION, LOCATION, id_key="partner"),
        "duplicate": Shape("duplicate", DUPLICATE, DUPLICATE, id_key="partner"),
        "alias": Shape("alias", ("alias", "code", "country", "source"), ("alias", "code", "country", "source"),
                       id_key="alias"),
        "commit": Shape("commit", ("commit", "date", "author", "message", "summary", "changes"),
                        ("commit", "date", "author", "summary"), id_key="commit"),
        "change": Shape("change", ("kind", "path", "old", "new", "added", "removed", "changes"),
                        ("kind", "path", "old", "new"), id_key="kind"),
    }


def shape(name: str, many_owners: bool = False) -> Shape:
    """The shape *name* (``partnership``, ``event``, ...); see ``shapes`` for *many_owners*."""
    return shapes(many_owners)[name]


# ``locate``: where a partnership's city was placed (or not: lat and lon null), and by what match.
LOCATION = ("partner", "city", "country", "lat", "lon", "place", "population", "how", "candidates")
# ``duplicates``: two partnerships that are (or may be) one relation, and why.
DUPLICATE = ("partner", "other", "kind", "owner", "city", "country", "why")


def event_row(pid: str, city: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """An event as every command prints it: its partnership's id and city, then the event's fields."""
    return {"partner": pid, "city": city, **event}


def contact_row(pid: str, contact: Mapping[str, Any]) -> dict[str, Any]:
    """A contact as every command prints it: its partnership's id, then the contact's fields."""
    return {"partner": pid, **contact}


def vocabulary_entry(slug: str, label: str, partnerships: int) -> dict[str, Any]:
    """A theme or network as ``themes``/``networks`` list it, with how many partnerships use it."""
    return {"slug": slug, "label": label, "partnerships": partnerships}


def problem_row(where: str, line: int | None, message: str) -> dict[str, Any]:
    """A problem of a registry, as ``validate --format json`` prints it."""
    return {"where": where, "line": line, "message": message}


# --- the facts of a page ---------------------------------------------------------------------

class FactRow(NamedTuple):
    """One fact of a page: the field it shows, its label, and its values (several for a list)."""

    field: str
    label: str
    values: list[str]
    tags: bool = False


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _shown(spec: FieldSpec, value: Any, snap: Snapshot) -> list[str]:
    """A field's value as the texts people read: vocabulary labels, a country's name, list items, or the
    value itself (``Snapshot.shown``)."""
    if value is None or value == "" or value == []:
        return []
    if spec.choices:  # a status: a word of the language, not data
        return [_(str(value))]
    if isinstance(value, list):
        return [snap.shown(spec.name, v) for v in value]
    return [snap.shown(spec.name, value)]


def facts(snap: Snapshot, rec: Record) -> list[FactRow]:
    """The facts of *rec*'s page in the public page's order (the field table's ``fact``).

    A fact whose template names one list field gives that list's items as its
    values (themes as tags); any other gives one text, each template segment
    shown only when every field it names has a value.
    """
    t = table()
    owner = snap.value(rec, "owner") or snap.owner
    rows = []
    for spec in sorted((s for s in t.with_("fact") if not s.meta.fact.within),  # type: ignore[union-attr]
                       key=lambda s: s.meta.fact.order):  # type: ignore[union-attr]
        fact = spec.meta.fact
        assert fact is not None
        label = _(spec.meta.label).format(owner=owner)
        # A value derived from another field shows as it holds (a country's default region); one
        # inherited from the head only when the partnership has its own (its owner, when not the registry's).
        shown = {name: _shown(t.get(name), snap.value(rec, name) if t.get(name).meta.default_from else rec.get(name),
                              snap) for name in _names(fact.template)}
        if fact.optional and not shown[spec.name]:
            continue
        if len(fact.template) == 1 and spec.is_list:
            rows.append(FactRow(spec.name, label, shown[spec.name], fact.tags))
            continue
        text = "".join(_(segment).format(**{k: ", ".join(v) for k, v in shown.items()})
                       for segment in fact.template
                       if all(shown[name] for name in _PLACEHOLDER.findall(segment)))
        rows.append(FactRow(spec.name, label, [text] if text else []))
    return rows


def _names(template: Sequence[str]) -> list[str]:
    return [name for segment in template for name in _PLACEHOLDER.findall(segment)]


def fact_fields() -> set[str]:
    """Every field some fact shows (its own or inside another's template)."""
    return {name for s in table().with_("fact") for name in (s.name, *_names(s.meta.fact.template))}  # type: ignore[union-attr]


def heading(name: str) -> str:
    """The heading of a column of records in a table (``CITY``, ``FIRST YEAR``), in the language in force."""
    return _(name.replace("_", " ")).upper()


def display_words() -> list[str]:
    """The words tables show that come from the field table, not the code: the catalog holds each.

    Record keys (column headings), the fields' headings, the values of an enum
    (a status) and the ``stats --by`` dimensions (``tools/messages.py`` reads them).
    """
    t = table()
    words = [name.replace("_", " ") for s in shapes().values() for name in s.fields]
    for model in ("partnership", "event", "contact"):
        for spec in t.of(model):
            words += [spec.name.replace("_", " "), *spec.choices]
    words += list(t.dimensions())
    return list(dict.fromkeys(words))


# --- what is published -----------------------------------------------------------------------

def internal_fields(model: str = "partnership") -> tuple[str, ...]:
    """The fields of *model* the field table marks internal (``fields.Meta.internal``)."""
    return tuple(s.name for s in table().with_("internal", model))


def _public(item: Mapping[str, Any], model: str) -> dict[str, Any]:
    out = dict(item)
    for name in internal_fields(model):
        if name in out:
            out[name] = [] if isinstance(out[name], list) else None
    return out


def published(rec: Record) -> dict[str, Any]:
    """*rec* as a site, Markdown page or calendar may publish it: every field marked internal emptied
    (on the partnership, its events and contacts) and every event or contact marked ``internal = true``
    left out. ``show``, JSON and the brief keep everything."""
    out = _public(rec, "partnership")
    for kind, model in (("events", "event"), ("contacts", "contact")):
        if kind in out:
            out[kind] = [_public(item, model) for item in out[kind] or [] if not item.get("internal")]
    return out
