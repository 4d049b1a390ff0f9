"""Questions asked of a registry: which partnership, which themes, which rows.

Every question runs on records (``model.record``: a partnership as plain JSON
values by field name) held in a ``Snapshot``, whether the records come from the
index or from a full load: the rule of each question is written once, here.
Which fields a filter, a sort or a name looks at comes from the field table
(``fields.table()``).
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from partnerctl.core import dates
from partnerctl.core.errors import Ambiguous, InvalidInput, NotFound
from partnerctl.core.fields import STATUSES, FieldSpec
from partnerctl.core.i18n import _
from partnerctl.core.model import table
from partnerctl.core.names import fold

# A partnership as ``model.record`` gives it (or the part of it a question reads): JSON values by field name.
Record = Mapping[str, Any]

__all__ = ["STATUSES", "Filters", "Matcher", "Record", "Snapshot", "resolve", "select", "timeline"]


@dataclass
class Snapshot:
    """The registry's head and (some of) its partnerships' records: what a question is asked of.

    *owner* is None in a registry of many owners without one of its own (each partnership
    names its owner); *countries* is the registry's own country aliases (over the shipped ones).
    """

    owner: str | None
    country: str | None
    themes: dict[str, str]
    networks: dict[str, str]
    partnerships: Mapping[str, Record]
    regions: dict[str, str] = field(default_factory=dict)
    countries: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    # The vocabularies' labels in other languages (``model.Registry.translations``).
    translations: Mapping[Any, Mapping[Any, Mapping[str, str]]] = field(default_factory=dict)

    def head(self, name: str) -> Any:
        """A field of the registry's head (``owner``, ``country``, ``name``)."""
        return {"owner": self.owner, "country": self.country, "name": self.name}.get(name)

    def value(self, rec: Record, name: str) -> Any:
        """Field *name* of *rec* as it holds: its own value, else the head's field it inherits (a
        relation's owner), else the value it derives from another field (a country's default region)."""
        value = rec.get(name)
        if value is not None:
            return value
        meta = table().get(name).meta
        if meta.inherit:
            return self.head(meta.inherit)
        if meta.default_from:
            return self.default(name, self.value(rec, meta.default_from))
        return None

    def default(self, name: str, source: Any) -> Any:
        """The value field *name* takes from *source* when unset: the default region of a country, when
        the registry declares that region (``countries.default_region``)."""
        if source is None or table().get(name).meta.vocab != "region":
            return None
        from partnerctl.core import countries

        try:
            region = countries.default_region(source)
        except InvalidInput:
            return None
        return region if region in self.regions else None

    def vocabulary(self, kind: str) -> dict[str, str]:
        """The theme, network or region vocabulary."""
        vocab: dict[str, str] = getattr(self, f"{kind}s")
        return vocab

    def shown(self, name: str, value: Any, lang: str | None = None) -> str:
        """A value of field *name* as people read it: a vocabulary's label, a country's name, else itself;
        in *lang* (default: the language in force; ``"en"`` for a value that is data, as a JSON row's)."""
        from partnerctl.core.i18n import language

        lang = lang or language()
        meta = table().get(name).meta
        if value is None:
            return ""
        if meta.vocab:
            vocab = self.vocabulary(meta.vocab) if lang == "en" else self.labels(meta.vocab)
            return str(vocab.get(value, value))
        if meta.country:
            from partnerctl.core import countries

            try:
                return countries.display(value, "fr" if lang == "fr" else "en")
            except InvalidInput:
                return str(value)
        return str(value)

    def labels(self, kind: str) -> dict[str, str]:
        """The theme or network labels people read: in the language in force, else English."""
        from partnerctl.core.i18n import language

        vocab = self.vocabulary(kind)
        other = self.translations.get(language(), {}).get(kind + "s", {})
        return {slug: other.get(slug, label) for slug, label in vocab.items()} if other else vocab

    def title(self) -> str:
        """What the registry is called: its name, else its owner's (``Lyon``)."""
        return str(self.name or self.owner or "")


def snapshot(head: Any, records: Mapping[str, Record]) -> Snapshot:
    """A Snapshot of the head of *head* (a ``model.Registry``, its head alone, or a Draft) with *records*."""
    owner = head.registry if hasattr(head, "registry") else head.owner
    return Snapshot(owner.owner, owner.country, head.themes, head.networks, records,
                    regions=head.regions, countries=head.countries, name=owner.name,
                    translations=getattr(head, "translations", {}))


def name_fields() -> tuple[str, ...]:
    """The fields a partnership answers to besides its id (city, aliases)."""
    return tuple(s.name for s in table().with_("names"))


def names_of(pid: str, rec: Any) -> list[str]:
    """The folded names a partnership answers to: its id, then its city and aliases (a record or a model)."""
    out = [fold(pid)]
    for name in name_fields():
        value = rec[name] if isinstance(rec, Mapping) else getattr(rec, name)
        out += [fold(v) for v in value] if isinstance(value, list) else [fold(value)]
    return out


def name_key(text: str) -> str:
    """What ``resolve`` compares with those names: *text* trimmed and folded."""
    return fold(text.strip())


def describe(snap: Snapshot, pids: Iterable[str]) -> str:
    """Partnerships as people tell them apart: ``turin (Turin, Italy)``; when they do not all have one
    owner, with it: ``chambery-turin (Chambéry → Turin, Italy)``."""
    pids = sorted(pids)
    owners = {fold(snap.value(snap.partnerships[pid], "owner") or "") for pid in pids}

    def one(pid: str) -> str:
        rec = snap.partnerships[pid]
        owner = f"{snap.value(rec, 'owner')} → " if len(owners) > 1 else ""
        country = f", {snap.shown('country', rec['country'])}" if rec.get("country") else ""
        return f"{pid} ({owner}{rec['city']}{country})"

    return ", ".join(one(pid) for pid in pids)


# How close (``difflib``'s ratio) a name must be to an unknown one to be offered as "did you mean".
HINT_CUTOFF = 0.6


def resolve(snap: Snapshot, text: str) -> str:
    """The id of the partnership *text* names: id, city or alias, any case or accents, or a unique prefix.

    An exact id always wins: *text* folded equal to an id names that partnership,
    whatever other partnerships' cities or aliases are (an imported registry holds
    many relations with partner "Turin"; ``turin`` is still Lyon's). Then an exact
    city or alias, then a prefix of any of these. *snap* must hold every
    partnership with a name starting with the folded text (all, for the hint: ``suggest``).
    """
    key = name_key(text)
    parts = snap.partnerships
    if key in parts:
        return key
    names = {pid: names_of(pid, rec) for pid, rec in parts.items()}
    exact = {pid for pid, keys in names.items() if key in keys}
    if len(exact) == 1:
        return exact.pop()
    if exact:
        raise Ambiguous(_("{text!r} names several partnerships: {describe}").format(
            text=text, describe=describe(snap, exact)))
    prefixed = {pid for pid, keys in names.items() if key and any(n.startswith(key) for n in keys)}
    if len(prefixed) == 1:
        return prefixed.pop()
    if prefixed:
        raise Ambiguous(_("{text!r} is ambiguous: {describe}").format(text=text, describe=describe(snap, prefixed)))
    by_name = {n: pid for pid, keys in names.items() for n in keys}
    raise not_found(snap, text, suggest(key, by_name))


def suggest(key: str, by_name: Mapping[str, str]) -> set[str]:
    """The ids to offer for *key*, which names no partnership: those of the (up to three) folded names
    closest to it (``difflib``, ``HINT_CUTOFF``). *by_name*: {folded name: the greatest id holding it}, for
    every name (or every name that may reach the cutoff: the index's ``near``)."""
    return {by_name[n] for n in difflib.get_close_matches(key, by_name, n=3, cutoff=HINT_CUTOFF)}


def not_found(snap: Snapshot, text: str, close: Iterable[str]) -> NotFound:
    """The error for *text*, which names no partnership, with a did-you-mean of *close* (held by *snap*)."""
    close = set(close)
    hint = (_("; did you mean {items}?").format(items=describe(snap, close)) if close
            else _("; 'partnerctl list' shows them all"))
    return NotFound(_("no partnership {text!r}{hint}").format(text=text, hint=hint))


_WORD = re.compile(r"[a-z0-9]+")


class Matcher:
    """A vocabulary folded once, so each term costs a look-up, not a pass over every label.

    A term names the entries whose slug, whole label, any word of the label or any
    word of the slug it equals, ignoring case and accents; *others* are more labels
    (those of the language in force: ``--theme mobilité`` in French).
    """

    def __init__(self, vocab: Mapping[str, str], kind: str, others: Mapping[str, str] | None = None) -> None:
        self.vocab = dict(vocab)
        # The labels a message lists: those of the language in force where there are some.
        self.shown = {**self.vocab, **(others or {})}
        self.kind = kind
        self._slugs: dict[str, set[str]] = {}
        for slug, label in [*vocab.items(), *(others or {}).items()]:
            folded = fold(label)
            for key in {slug, folded, *_WORD.findall(folded), *slug.split("-")}:
                self._slugs.setdefault(key, set()).add(slug)

    def match(self, term: str) -> set[str]:
        """Slugs *term* names; none is InvalidInput listing the declared entries."""
        found = self._slugs.get(fold(term.strip()))
        if not found:
            declared = ", ".join(f"{slug} ({label})" for slug, label in sorted(self.shown.items())) or _("none")
            raise InvalidInput(_("unknown {kind} {term!r}; declared {kind}s: {declared}").format(
                kind=self.kind, term=term, declared=declared))
        return set(found)

    def one(self, term: str) -> str:
        """The one slug *term* names (for a write command); several is InvalidInput."""
        found = self.match(term)
        if len(found) > 1:
            raise InvalidInput(_("{kind} {term!r} is ambiguous: {items}").format(
                kind=self.kind, term=term, items=', '.join(sorted(found))))
        return found.pop()


def matcher(vocab: Mapping[str, str], kind: str, others: Mapping[str, str] | None = None) -> Matcher:
    """The Matcher of *vocab* (and *others*), folded once and reused while the vocabulary stays the same."""
    return _matcher(tuple(vocab.items()), kind, tuple((others or {}).items()))


@lru_cache(maxsize=8)
def _matcher(items: tuple[tuple[str, str], ...], kind: str, others: tuple[tuple[str, str], ...]) -> Matcher:
    # Keyed by the entries themselves: a vocabulary changed in place (themes add) gets a new one.
    return Matcher(dict(items), kind, dict(others))


def in_force(vocab: Mapping[str, str], translations: Mapping[Any, Any], kind: str) -> dict[str, str]:
    """The labels of *vocab* in the language in force that differ from the English ones (none in English)."""
    from partnerctl.core.i18n import language

    labels = translations.get(language(), {}).get(kind + "s", {})
    return {slug: label for slug, label in labels.items() if slug in vocab and label != vocab[slug]}


def vocab_matcher(snap: Snapshot, kind: str) -> Matcher:
    """The Matcher of a vocabulary of *snap*: its slugs, English labels and labels in the language in force."""
    vocab = snap.vocabulary(kind)
    return matcher(vocab, kind, in_force(vocab, snap.translations, kind))


def match_vocab(vocab: Mapping[str, str], term: str, kind: str) -> set[str]:
    """Slugs of *vocab* that *term* names: the slug, the whole label or any word of it (``Matcher``)."""
    return matcher(vocab, kind).match(term)


def resolve_terms(vocab: Mapping[str, str], terms: Sequence[str], kind: str,
                  others: Mapping[str, str] | None = None) -> list[str]:
    """Slugs of *vocab* for terms given to a write command: each must name exactly one entry."""
    m = matcher(vocab, kind, others)
    return [m.one(term) for term in terms]


@dataclass
class Filters:
    """What ``list`` and ``stats`` keep: every given filter must hold.

    *values* maps a filtered field (``fields.Meta.filter``) to what was asked: a
    string for a folded, country, enum or one-value vocabulary field, a list of terms
    for a list vocabulary or member field (all must hold), and for a year field
    ``since``/``until`` bounds. *involving* is a city or a country on either side of
    the relation (the fields marked ``involving``).
    """

    values: dict[str, Any] = field(default_factory=dict)
    since: int | None = None
    until: int | None = None
    involving: str | None = None

    def get(self, name: str) -> Any:
        """What is asked of field *name* (None or an empty list when nothing is)."""
        return self.values.get(name)


def check_filters(filters: Filters) -> None:
    """A filter value the field cannot hold is a usage error (``--status maybe``)."""
    for spec in table().filters():
        wanted = filters.get(spec.name)
        if spec.meta.filter == "enum" and wanted is not None and wanted not in spec.choices:
            raise InvalidInput(_("{option} must be one of {items}, not {wanted!r}").format(
                option=spec.option, items=', '.join(spec.choices), wanted=wanted))


def filter_key(spec: FieldSpec, value: Any) -> Any:
    """What a filter compares a field's value by (the index keeps it as the field's key column): a folded
    text, a country's ISO 3166-1 code (``GB`` for ``GB-ENG``: its subdivisions come along), a slug."""
    if value is None:
        return None
    if spec.meta.filter == "folded":
        return fold(value)
    if spec.meta.country:
        from partnerctl.core import countries

        return countries.nation(value)
    return value


def keyed(spec: FieldSpec) -> bool:
    """Whether a filter compares field *spec* by ``filter_key`` (the index keeps a key column for it)."""
    return spec.meta.filter in ("folded", "country") or (spec.meta.filter == "vocab" and not spec.is_list)


@dataclass
class Wanted:
    """Filters with their terms resolved: vocabulary terms to slugs, countries to codes, ``--involving``
    to a city's folded name and a country's code. What a predicate (or the index's SQL) needs."""

    filters: Filters
    slugs: dict[str, list[set[str]]]
    codes: dict[str, str] = field(default_factory=dict)
    # --involving: the folded name it gives (a city), and the country it names, if it names one.
    city: str | None = None
    country: str | None = None

    def folded(self) -> dict[str, str]:
        """The enum filters asked for: field to value."""
        return {spec.name: self.filters.get(spec.name) for spec in table().filters()
                if spec.meta.filter == "enum" and self.filters.get(spec.name) is not None}

    def keys(self) -> dict[str, list[Any]]:
        """The keyed filters asked for (``keyed``): field to the keys a record kept may have."""
        out: dict[str, list[Any]] = {}
        for spec in table().filters():
            if not keyed(spec):
                continue
            if spec.meta.filter == "vocab" and self.slugs.get(spec.name):
                out[spec.name] = sorted(set.intersection(*self.slugs[spec.name]))
            elif spec.name in self.codes:
                out[spec.name] = [filter_key(spec, self.codes[spec.name])]
            elif spec.meta.filter == "folded" and self.filters.get(spec.name) is not None:
                out[spec.name] = [filter_key(spec, self.filters.get(spec.name))]
        return out

    def involving(self) -> list[tuple[FieldSpec, Any]]:
        """(field, key) pairs one of which a record kept by ``--involving`` has: a city field's folded name
        (names fields: the folded name itself), a country field's key."""
        out: list[tuple[FieldSpec, Any]] = []
        for spec in table().with_("involving"):
            if spec.meta.involving == "city" and self.city:
                out.append((spec, self.city))
            elif spec.meta.involving == "country" and self.country:
                out.append((spec, filter_key(spec, self.country)))
        return out


def _country(snap: Snapshot, text: str, option: str) -> str:
    """The code a filter's country names; unknown: InvalidInput with a did-you-mean."""
    from partnerctl.core import countries

    try:
        return countries.resolver(snap.countries).resolve(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{option}: {exc}") from None


def wanted(snap: Snapshot, filters: Filters) -> Wanted:
    """*filters* with each term resolved (unknown vocabulary terms and countries: InvalidInput)."""
    check_filters(filters)
    slugs: dict[str, list[set[str]]] = {}
    codes: dict[str, str] = {}
    for spec in table().filters():
        asked = filters.get(spec.name)
        if spec.meta.filter == "vocab" and spec.meta.vocab:
            m = vocab_matcher(snap, spec.meta.vocab)
            terms = [asked] if isinstance(asked, str) else asked or []
            slugs[spec.name] = [m.match(term) for term in terms]
        elif spec.meta.filter == "country" and asked is not None:
            codes[spec.name] = _country(snap, asked, spec.option)
    city = country = None
    if filters.involving is not None:
        from partnerctl.core import countries

        city = name_key(filters.involving)
        try:
            country = countries.resolver(snap.countries).resolve(filters.involving)
        except InvalidInput:
            country = None  # a city, then
    return Wanted(filters, slugs, codes, city, country)


def _values(snap: Snapshot, rec: Record, name: str) -> list[Any]:
    """Field *name* of *rec* as it holds (``Snapshot.value``), as a list."""
    value = snap.value(rec, name)
    return list(value) if isinstance(value, list) else ([] if value is None else [value])


def involves(snap: Snapshot, want: Wanted, rec: Record) -> bool:
    """Whether *rec* involves what ``--involving`` asked: the city (partner or owner) or the country
    (the partner's or the owner's)."""
    from partnerctl.core import countries

    for spec, _values_asked in want.involving():
        for value in _values(snap, rec, spec.name):
            if spec.meta.involving == "city" and name_key(value) == want.city:
                return True
            if spec.meta.involving == "country" and want.country and countries.within(value, want.country):
                return True
    return False


def keeps(snap: Snapshot, want: Wanted, rec: Record, specs: Sequence[FieldSpec] | None = None) -> bool:
    """Whether *rec* passes every filter of *want* (*specs*: ``table().filters()``, when the caller holds them)."""
    from partnerctl.core import countries

    if want.filters.involving is not None and not involves(snap, want, rec):
        return False
    for spec in table().filters() if specs is None else specs:
        name, kind = spec.name, spec.meta.filter
        asked = want.filters.get(name)
        if kind == "vocab":
            held = set(_values(snap, rec, name))
            if not all(slugs & held for slugs in want.slugs.get(name, [])):
                return False
        elif kind == "member":
            if asked:  # folding every member of every record costs, when nothing is asked of them
                held = {fold(x) for x in rec[name]}
                if not all(fold(term) in held for term in asked):
                    return False
        elif kind == "year":
            year = rec[name]
            if want.filters.since is not None and (year is None or year < want.filters.since):
                return False
            if want.filters.until is not None and (year is None or year > want.filters.until):
                return False
        elif kind == "country":
            if name in want.codes:
                value = snap.value(rec, name)
                if value is None or not countries.within(value, want.codes[name]):
                    return False
        elif asked is not None:
            value = snap.value(rec, name)
            if value is None or (fold(value) != fold(asked) if kind == "folded" else value != asked):
                return False
    return True


def select(snap: Snapshot, filters: Filters, sort: str = "id") -> list[str]:
    """Ids of the partnerships that pass every filter, in the requested order."""
    return selected(snap, wanted(snap, filters), snap.partnerships.items(), sort)


def selected(snap: Snapshot, want: Wanted, items: Iterable[tuple[str, Record]], sort: str = "id",
             passed: bool = False) -> list[str]:
    """Ids of the (id, record) *items* that pass *want*, in *sort* order (``select``; *snap*: the head).

    Keeps one sort key per partnership kept, not its record: ``list`` reads
    the records one by one (from the index) and streams them out in this order.
    *passed*: every item is known to pass *want* (the index's SQL kept exactly those: ``Index.exact``),
    so none is tested again, and the items need hold only what *sort* reads.
    """
    filters = want.filters
    asked = any(v not in (None, []) for v in filters.values.values())
    specs = table().filters()
    if passed or not (asked or filters.since is not None or filters.until is not None
                      or filters.involving is not None):
        # Nothing asked: every partnership passes (``list`` of 26,000 without testing each).
        return sorted(pid for pid, _rec in items) if sort == "id" else [
            str(key[-1]) for key in sorted(sort_key(pid, rec, sort) for pid, rec in items)]
    keys = [sort_key(pid, rec, sort) for pid, rec in items if keeps(snap, want, rec, specs)]
    return [str(key[-1]) for key in sorted(keys)]


def check_sort(sort: str) -> None:
    """An unknown ``--sort`` key is a usage error naming the known ones."""
    keys = table().sort_keys()
    if sort not in keys:
        raise InvalidInput(_("--sort must be one of {items}, not {sort!r}").format(items=', '.join(keys), sort=sort))


def sort_key(pid: str, rec: Record, sort: str) -> tuple[object, ...]:
    """The key *sort* orders by: the field (folded text; unknown years last), then the city, then the id
    (always last: ``selected`` takes it from there)."""
    if sort == "id":
        return (pid,)
    value = rec[sort]
    if isinstance(value, int) or (value is None and table().get(sort).kind == "int"):
        return (value is None, value or 0, pid)
    if table().get(sort).meta.country and value is not None:
        from partnerctl.core import countries

        value = countries.display(value)  # by name, as people read it
    city = () if sort == "city" else (fold(rec["city"]),)
    return (value is None, fold(value or ""), *city, pid)


def timeline(snap: Snapshot, pids: Sequence[str] | None = None, since: int | None = None,
             until: int | None = None, themes: Sequence[str] = ()) -> list[tuple[str, Record]]:
    """(id, event record) of the named (or all) partnerships, in date order.

    An event is on a theme if it names it, or, when it names none, if its
    partnership does. ``since``/``until`` keep events whose period overlaps those years.
    """
    theme_sets = [vocab_matcher(snap, "theme").match(t) for t in themes]
    out = []
    for pid in pids if pids is not None else sorted(snap.partnerships):
        rec = snap.partnerships[pid]
        for event in rec["events"]:
            start = dates.parse(event["date"])[0]
            end = dates.parse(event["end"])[0] if event["end"] else start
            on = set(event["themes"] or rec["themes"])
            if ((since is None or end >= since) and (until is None or start <= until)
                    and all(wanted & on for wanted in theme_sets)):
                out.append((pid, event))
    return sorted(out, key=lambda item: (dates.sort_key(item[1]["date"]), item[0]))


def vocabulary_field(kind: str) -> str:
    """The partnership field holding slugs of vocabulary *kind* (``themes``, ``networks``, ``region``)."""
    return next(table().where(vocab=kind)).name


def usage(snap: Snapshot, kind: str) -> list[tuple[str, str, int]]:
    """(slug, label, number of partnerships using it) for the theme or network vocabulary."""
    name = vocabulary_field(kind)
    counts: dict[str, int] = {}
    for rec in snap.partnerships.values():
        value = snap.value(rec, name)  # a region: its own, else its country's
        for slug in set(value) if isinstance(value, list) else {value}:
            counts[slug] = counts.get(slug, 0) + 1
    return usage_of(snap.vocabulary(kind), counts)


def usage_of(vocab: Mapping[str, str], counts: Mapping[str, int]) -> list[tuple[str, str, int]]:
    """``usage``'s rows from *counts* (slug: partnerships naming it) made elsewhere (the index's SQL)."""
    return [(slug, vocab[slug], counts.get(slug, 0)) for slug in sorted(vocab)]


def upcoming(items: Sequence[tuple[str, Record]], today: datetime.date,
             days: int | None = None) -> list[tuple[str, Record]]:
    """The events of *items* not over before *today*, starting within *days* days when given.

    A partial date lasts until its last day (``2026-12`` until 31 December 2026)
    and a period until its end, so this month's and this year's events, and
    periods still running, are on the agenda.
    """
    horizon = None if days is None else today + datetime.timedelta(days=days)
    return [(pid, event) for pid, event in items
            if dates.bounds(event["end"] or event["date"])[1] >= today
            and (horizon is None or dates.bounds(event["date"])[0] <= horizon)]
