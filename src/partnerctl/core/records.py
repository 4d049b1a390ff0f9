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
from dataclasses import dataclass
from typing import Any

from partnerctl.core.fields import FieldSpec
from partnerctl.core.i18n import _
from partnerctl.core.model import table
from partnerctl.core.query import Record, Snapshot


@dataclass(frozen=True)
class Shape:
    """A kind of record: its fields (JSON keys, in order), its TSV/CSV columns, the key ``ids`` prints."""

    name: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]
    id_key: str = "id"


def shapes() -> dict[str, Shape]:
    """Every record shape partnerctl prints, by name."""
    t = table()
    return {
        "partnership": Shape("partnership", ("id", *t.names()), ("id", *t.columns())),
        "event": Shape("event", ("partner", "city", *t.names("event")),
                       ("partner", *t.columns("event"))),
        "contact": Shape("contact", ("partner", *t.names("contact")), ("partner", *t.columns("contact")),
                         id_key="name"),
        "vocabulary": Shape("vocabulary", ("slug", "label", "partnerships"), ("slug", "label", "partnerships"),
                            id_key="slug"),
        "hit": Shape("hit", ("partner", "city", "field", "text", "spans"), ("partner", "field", "text"),
                     id_key="partner"),
        "stat": Shape("stat", ("by", "key", "label", "count"), ("by", "key", "label", "count"), id_key="label"),
        "problem": Shape("problem", ("where", "line", "message"), ("where", "line", "message"), id_key="where"),
        "registry": Shape("registry", ("path", "owner", "country", "themes", "networks", "partnerships"),
                          ("path", "owner", "country", "themes", "networks", "partnerships"), id_key="path"),
        "format": Shape("format", ("path", "changed"), ("path", "changed"), id_key="path"),
    }


def shape(name: str) -> Shape:
    """The shape *name* (``partnership``, ``event``, ...)."""
    return shapes()[name]


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

@dataclass(frozen=True)
class FactRow:
    """One fact of a page: the field it shows, its label, and its values (several for a list)."""

    field: str
    label: str
    values: list[str]
    tags: bool = False


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _shown(spec: FieldSpec, value: Any, snap: Snapshot) -> list[str]:
    """A field's value as the texts people read: vocabulary labels, list items, or the value itself."""
    if value is None or value == "" or value == []:
        return []
    if spec.meta.vocab:
        labels = snap.labels(spec.meta.vocab)
        return [labels.get(slug, slug) for slug in value]
    if spec.choices:  # a status: a word of the language, not data
        return [_(str(value))]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


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
        shown = {name: _shown(t.get(name), rec.get(name), snap) for name in _names(fact.template)}
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
