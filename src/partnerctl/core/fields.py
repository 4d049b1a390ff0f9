"""What every surface needs to know about a field, declared once, beside the field in the model.

Each field of ``model.Partnership``, ``model.Event`` and ``model.Contact``
carries a ``Meta`` in its ``Annotated`` metadata. Every surface derives from
it: the ``set``/``unset``/``add-to``/``remove-from`` commands and their help,
the options of ``add``, the columns of ``list``/``show``/``timeline`` and of
the CSV export and import, the facts of ``show`` and of the site page
(``facts``), the SQLite schema, the index's columns, the text ``search`` looks
in, the ``list``/``stats`` filters, the ``stats --by`` dimensions and shell
completion. A new field is one line in the model; ``tests/test_fields.py``
fails when a surface leaves a field out without saying so.

This module only declares what a field's Meta may say; ``model.table()``
reads the table from the model's annotations. Neither imports pydantic, so
the read path may use the table. Its records are NamedTuples, not dataclasses:
every command declares them, and a NamedTuple costs a third of a frozen
dataclass to declare (docs/performance.md, start-up).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, NamedTuple

# A partnership's status, in the order they read best (the model's Literal says the same).
STATUSES = ("active", "suspended", "ended")

Edit = Literal["scalar", "list", "none"]
Filter = Literal["folded", "country", "enum", "vocab", "member", "year"]
Stat = Literal["value", "each", "decade"]
Section = Literal["narrative", "notes", "sources", "timeline", "contacts"]
Kind = Literal["text", "int", "float", "bool", "list", "slugs", "records"]


class Fact(NamedTuple):
    """How a field shows among the facts of a page (``show`` and the site).

    *order* places it; *template* is a sequence of segments, each shown only when
    every field it names has a value (``("{since}", " ({since_note})")``). A field
    shown inside another's template has ``within`` set to that field instead.
    """

    order: int = 0
    template: tuple[str, ...] = ()
    within: str | None = None
    # Left out of the page when the field is empty (most facts show "—" instead).
    optional: bool = False
    # Shown as a row of tags on the site (the themes treated), not as a sentence.
    tags: bool = False


class Meta(NamedTuple):
    """The surfaces of one field. Defaults are "not on that surface"."""

    label: str
    help: str = ""
    # How a user changes it: ``set``/``unset`` (scalar), ``add-to``/``remove-from`` (list), or
    # its own commands (events, contacts: "none").
    edit: Edit = "scalar"
    # Values are slugs of this vocabulary declared in the registry's head ("theme", "network", "region").
    vocab: str | None = None
    # Values are country codes (ISO 3166: ``IT``, ``GB-ENG``): a country, a name or an alias on input
    # (``core.countries``), the code in machine formats (JSON, CSV, TSV), the name wherever people read it.
    country: bool = False
    # A list field's item in options and messages ("theme": ``--theme``, "added theme ...").
    item: str | None = None
    short: str | None = None
    # A ``list``/``stats`` filter: folded equality, a country (the code or one of its subdivisions),
    # an enum, vocabulary terms (all must hold), list membership (folded), or a year range
    # (``--since``/``--until``).
    filter: Filter | None = None
    # ``--involving`` looks at it: a city (by name) or a country, on either side of the relation.
    involving: Literal["city", "country"] | None = None
    # A ``stats --by`` dimension: the value, each item of a list, or the decade of a year.
    stat: Stat | None = None
    stat_name: str | None = None
    # Where the dimension comes among the others (``stats`` with no ``--by`` shows them all in this order).
    stat_order: int = 0
    search: bool = False
    # The partnership answers to it (``show NAME``): its city and aliases.
    names: bool = False
    # The head's field it falls back to when unset (a relation's owner is the registry's by default).
    inherit: str | None = None
    # The field whose value gives this one's when unset: a region is its country's default region
    # (``countries.default_region``) when the registry declares that region.
    default_from: str | None = None
    # Only where the registry holds more than one owner: a column of ``list`` (and its table), and a
    # ``stats`` dimension shown when none is asked for.
    many_owners: bool = False
    # A column of the TSV/CSV rows of ``list`` (and of ``timeline`` for event fields).
    column: bool = False
    # A column of ``list``'s terminal table: the value, a count of items, or vocabulary labels.
    table: Literal["value", "count", "labels"] | None = None
    # The table's column heading when the field's name is not what people call it.
    heading: str | None = None
    sort: bool = False
    fact: Fact | None = None
    section: Section | None = None
    # Never published (site, Markdown, calendar) unless asked for.
    internal: bool = False
    # Asked for by ``add``, ``add-event`` and ``add-contact`` when they prompt on a terminal for what is
    # missing, after the required fields (which are always asked for); an empty answer leaves it out.
    ask: bool = False


class FieldSpec(NamedTuple):
    """One field of a model: its name, its kind of value, whether it is required, and its Meta."""

    name: str
    kind: Kind
    required: bool
    meta: Meta
    choices: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        """The command-line option for it (``--since-note``, ``--theme`` for a list of themes)."""
        return "--" + (self.meta.item or self.name).replace("_", "-")

    @property
    def is_list(self) -> bool:
        """Whether it holds a list of strings (free text or slugs)."""
        return self.kind in ("list", "slugs")


class Table(NamedTuple):
    """The fields of the three models, in declaration order."""

    partnership: tuple[FieldSpec, ...]
    event: tuple[FieldSpec, ...]
    contact: tuple[FieldSpec, ...]

    def of(self, model: str) -> tuple[FieldSpec, ...]:
        """The fields of ``"partnership"``, ``"event"`` or ``"contact"``."""
        return {"partnership": self.partnership, "event": self.event, "contact": self.contact}[model]

    def get(self, name: str, model: str = "partnership") -> FieldSpec:
        """The field *name* of *model* (KeyError when there is none)."""
        for spec in self.of(model):
            if spec.name == name:
                return spec
        raise KeyError(name)

    def names(self, model: str = "partnership") -> tuple[str, ...]:
        """The field names of *model*, in order."""
        return tuple(spec.name for spec in self.of(model))

    def where(self, model: str = "partnership", **wanted: Any) -> Iterator[FieldSpec]:
        """The fields of *model* whose Meta has every attribute of *wanted* equal to its value."""
        for spec in self.of(model):
            if all(getattr(spec.meta, k) == v for k, v in wanted.items()):
                yield spec

    def with_(self, attribute: str, model: str = "partnership") -> Iterator[FieldSpec]:
        """The fields of *model* whose Meta's *attribute* is set (truthy)."""
        return (spec for spec in self.of(model) if getattr(spec.meta, attribute))

    # --- derived lists every surface reads --------------------------------------------------

    def settable(self) -> tuple[str, ...]:
        """Scalar fields ``set`` changes."""
        return tuple(s.name for s in self.where(edit="scalar"))

    def list_fields(self) -> tuple[str, ...]:
        """List fields ``add-to``/``remove-from`` change."""
        return tuple(s.name for s in self.where(edit="list"))

    def required(self, model: str = "partnership") -> tuple[str, ...]:
        """Fields that cannot be unset."""
        return tuple(s.name for s in self.of(model) if s.required)

    def asked(self, model: str = "partnership") -> tuple[FieldSpec, ...]:
        """The fields the add commands ask for on a terminal: required ones and those marked ``ask``, in order.

        A field with commands of its own (``edit="none"``: an event's id, a partnership's events) is not asked.
        """
        return tuple(s for s in self.of(model)
                     if s.meta.edit != "none" and s.kind != "records" and (s.required or s.meta.ask))

    def columns(self, model: str = "partnership", many_owners: bool = False) -> tuple[str, ...]:
        """The TSV/CSV columns of ``list`` (of ``timeline`` for events: the row keys come first);
        with *many_owners*, also those shown only in a registry of several owners."""
        return tuple(s.name for s in self.of(model)
                     if s.meta.column or (many_owners and s.meta.many_owners))

    def dimensions(self) -> dict[str, FieldSpec]:
        """The ``stats --by`` dimensions: name (``theme``, ``decade``, ``country``...) to field."""
        ordered = sorted(self.with_("stat"), key=lambda s: s.meta.stat_order)
        return {(s.meta.stat_name or s.meta.item or s.name): s for s in ordered}

    def default_dimensions(self, many_owners: bool) -> tuple[str, ...]:
        """What ``stats`` counts by when no ``--by`` is given (the owner ones only with *many_owners*)."""
        return tuple(name for name, s in self.dimensions().items() if many_owners or not s.meta.many_owners)

    def filters(self) -> tuple[FieldSpec, ...]:
        """The fields ``list`` and ``stats`` filter on, in order."""
        return tuple(self.with_("filter"))

    def sort_keys(self) -> tuple[str, ...]:
        """What ``list --sort`` takes: the id, then the sortable fields."""
        return ("id", *(s.name for s in self.with_("sort")))

    def flat(self) -> tuple[str, ...]:
        """The partnership fields one CSV row can hold (every field but events and contacts)."""
        return tuple(s.name for s in self.partnership if s.kind != "records")


def spec_of(name: str, annotation: Any, required: bool, meta: Meta) -> FieldSpec:
    """A FieldSpec from a model field's annotation (Optional/Annotated/Literal unwrapped)."""
    from typing import get_args, get_origin

    kind: Kind = "text"
    choices: tuple[str, ...] = ()
    pending = [annotation]
    while pending:
        tp = pending.pop()
        origin = get_origin(tp)
        if tp is bool:
            kind = "bool"
        elif tp is int:
            kind = "int"
        elif tp is float:
            kind = "float"
        elif origin is list:
            (item,) = get_args(tp) or (str,)
            inner = get_args(item)
            base = inner[0] if inner else item
            if isinstance(base, type) and base.__name__ in ("Event", "Contact"):
                kind = "records"
            else:
                kind = "slugs" if meta.vocab else "list"
        elif origin is Literal:
            choices = tuple(str(a) for a in get_args(tp))
        elif origin is not None:
            pending += [a for a in get_args(tp) if a is not type(None)]
    return FieldSpec(name, kind, required, meta, choices)

