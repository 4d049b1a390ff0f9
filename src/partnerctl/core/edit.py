"""Changes to a registry, each a function of a ``Draft``; ``store.write`` validates and writes them.

A change sees the registry through a Draft: the head (owner and vocabularies),
the partnerships it asks for by id, and a few look-ups (which partnership a
name names, which ones use a theme). It never holds the whole registry, so the
write pipeline can run it on the one block it touches in a large file, or on a
fully loaded registry, with the same result. Which fields can be set, listed
or unset comes from the field table (``fields.table()``).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from partnerctl.core import dates, geo, query
from partnerctl.core.errors import Ambiguous, InvalidInput, NotFound, PartnerctlError, WriteFailed
from partnerctl.core.i18n import _, language
from partnerctl.core.model import (
    MAX_ID_LENGTH,
    Contact,
    Event,
    Owner,
    Partnership,
    Registry,
    build,
    check_field,
    check_name,
    length_problem,
    record,
    table,
    to_dict,
)
from partnerctl.core.names import fold, is_slug, shorten, slugify, unique
from partnerctl.core.text import counted, loads_json


class Draft(Protocol):
    """The registry as a change sees it (``storage.store`` gives one per write)."""

    owner: Owner
    themes: dict[str, str]
    networks: dict[str, str]
    # The vocabularies' labels in other languages (``model.Registry.translations``), changed in place.
    translations: dict[Any, Any]
    regions: dict[str, str]
    # The registry's own country aliases (alias: code), over the shipped ones.
    countries: dict[str, str]

    def resolve(self, text: str) -> str:
        """The id *text* names (``query.resolve``)."""

    def get(self, pid: str) -> Partnership:
        """Partnership *pid*, to change in place: its block is written again."""

    def peek(self, pid: str) -> Partnership:
        """Partnership *pid*, to look at only."""

    def put(self, pid: str, p: Partnership) -> None:
        """Replace partnership *pid* by *p*."""

    def has(self, pid: str) -> bool:
        """Whether a partnership has the id *pid*."""

    def add(self, pid: str, p: Partnership) -> None:
        """Add a partnership under the new id *pid*."""

    def remove(self, pid: str, into: str | None = None) -> Partnership:
        """Remove partnership *pid*; returns it. *into*: the partnership it lives on in (renamed or merged
        into), which takes the comments written in the file about it."""

    def name_owners(self, key: str) -> dict[str, dict[str, Any]]:
        """{id: facts} of the partnerships one of whose folded names is *key*: at least their ``city``,
        ``country`` and ``owner`` (None: the registry's)."""

    def users(self, kind: str, slug: str) -> list[str]:
        """Ids of the partnerships that name the theme (or network) *slug*, themselves or in an event."""

    def everything(self) -> Registry:
        """The whole registry (changes that need every partnership: import, ``fmt``)."""


def vocabulary(draft: Draft, kind: str) -> dict[str, str]:
    """The theme (``kind="theme"``), network or region vocabulary of the draft."""
    vocab: dict[str, str] = getattr(draft, f"{kind}s")
    return vocab


def resolve_country(draft: Draft, text: str, what: str = "country") -> str:
    """The code of the country *text* names (a code, an English or French name, an alias of the registry
    or the shipped table); InvalidInput with a did-you-mean otherwise."""
    from partnerctl.core import countries

    try:
        check_name(text)  # a name holding an invisible character looks like another: refused, not folded away
        return countries.resolver(draft.countries).resolve(text)
    except (InvalidInput, ValueError) as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def owner_of(draft: Draft, facts: Any) -> str | None:
    """The owner of a partnership (a model or its facts): its own, else the registry's."""
    own = facts.get("owner") if isinstance(facts, dict) else facts.owner
    return own or draft.owner.owner


def _same_owner(a: str | None, b: str | None) -> bool:
    return fold(a or "") == fold(b or "")


def _owner_country(draft: Draft, facts: Any) -> str | None:
    """The country of a partnership's owner: its own owner's, else the registry's."""
    get = facts.get if isinstance(facts, dict) else lambda name: getattr(facts, name)
    return get("owner_country") if get("owner") else draft.owner.country


def _one_owner(draft: Draft, facts: Any, owner: str | None, owner_country: str | None) -> bool:
    """Whether *facts*' owner is *owner* (in *owner_country*): the same name, and countries that overlap when
    both are known (Córdoba in Argentina is not Córdoba in Mexico)."""
    from partnerctl.core import countries

    if not _same_owner(owner_of(draft, facts), owner):
        return False
    theirs = _owner_country(draft, facts)
    return not (theirs and owner_country) or countries.overlap(theirs, owner_country)


_MODELS: dict[str, type[Any]] = {"partnership": Partnership, "event": Event, "contact": Contact}


def invalid(model: str, pid: str | None = None) -> str:
    """How an error names what was given: ``invalid partnership lodz``, ``invalid event``, ``invalid contact``."""
    return f"invalid {model}" + (f" {pid}" if pid else "")


def check_answer(draft: Draft, model: str, name: str, value: str | list[str], pid: str | None = None) -> None:
    """Check a value given alone for field *name* of *model* as the change will check it from its option.

    For a prompt's answer, before the other fields are known: a year must be one
    (``convert``), vocabulary terms must each name one entry (``query.resolve_terms``),
    and the model checks the field (``model.check_field``). InvalidInput otherwise,
    in the words the option's error uses (*pid* names a partnership in them).
    """
    spec = table().get(name, model)
    if isinstance(value, str) and spec.kind == "int":
        value = convert(draft, name, value)
    elif isinstance(value, list) and spec.meta.vocab:
        value = query.resolve_terms(vocabulary(draft, spec.meta.vocab), value, spec.meta.vocab)
    check_field(_MODELS[model], name, value, invalid(model, pid))


def _slugs(draft: Draft, kind: str, terms: Sequence[str]) -> list[str]:
    """The slugs vocabulary *terms* name, each exactly one (English labels, and those of the language in force)."""
    vocab = vocabulary(draft, kind)
    return query.resolve_terms(vocab, terms, kind, query.in_force(vocab, draft.translations, kind))


# --- events --------------------------------------------------------------------------------

def new_event_id(taken: set[str], date: str, title: str) -> str:
    """A stable id from the date and the first words of the title, unique among *taken*."""
    return unique("-".join(filter(None, [date, slugify(title, max_words=5)])), taken, MAX_ID_LENGTH)


def add_event(draft: Draft, pid: str, *, date: str, title: str, themes: list[str] | None = None,
              links: list[str] | None = None, **more: Any) -> Event:
    """Append an event to partnership *pid* and return it (*more*: its other fields, None for unset)."""
    p = draft.get(pid)
    fields = {"date": date, "title": title, **{k: v for k, v in more.items() if v is not None},
              "themes": _slugs(draft, "theme", themes or []), "links": links or []}
    # Validate the fields before deriving an id from them, so errors name the field.
    build(Event, {"id": "x", **fields}, invalid("event"))
    event = build(Event, {"id": new_event_id({e.id for e in p.events}, date, title), **fields}, invalid("event"))
    p.events.append(event)
    return event


def find_event(p: Partnership, pid: str, ref: str) -> int:
    """Index of the event *ref* names in *p*: its id, or a unique prefix of it."""
    for i, e in enumerate(p.events):
        if e.id == ref:
            return i
    found = [i for i, e in enumerate(p.events) if ref and e.id.startswith(ref)]
    if len(found) == 1:
        return found[0]
    ids = ", ".join(p.events[i].id for i in found) if found else ", ".join(e.id for e in p.events) or "none"
    if found:
        raise Ambiguous(_("event {ref!r} of {pid} is ambiguous: {ids}").format(ref=ref, pid=pid, ids=ids))
    raise NotFound(_("{pid} has no event {ref!r}; its events: {ids}").format(pid=pid, ref=ref, ids=ids))


def _unsettable(model: str) -> tuple[str, ...]:
    """The optional fields of an event or contact (``--unset`` takes them)."""
    return tuple(s.name for s in table().of(model) if not s.required)


def _options(model: str) -> str:
    return ", ".join(s.option for s in table().of(model))


def edit_event(draft: Draft, pid: str, ref: str, changes: dict[str, Any], unset: list[str]) -> Event:
    """Change the fields of one event (None keeps a field); *unset* names fields to remove.

    ``themes`` are resolved like ``add-event --theme``; ``id`` renames the event.
    """
    p = draft.get(pid)
    i = find_event(p, pid, ref)
    changes = _changes(changes, unset, _unsettable("event"), _options("event"))
    if changes.get("themes"):
        changes["themes"] = _slugs(draft, "theme", changes["themes"])
    new_id = changes.get("id")
    if new_id is not None and new_id != p.events[i].id and new_id in {e.id for e in p.events}:
        raise InvalidInput(_("{pid} already has an event {new_id!r}").format(pid=pid, new_id=new_id))
    event = build(Event, {**to_dict(p.events[i]), **changes}, invalid("event"))
    p.events[i] = event
    return event


def _changes(changes: dict[str, Any], unset: list[str], unsettable: tuple[str, ...], options: str) -> dict[str, Any]:
    """The fields to change (None: keep) and to remove (*unset*, as None), checked against each other."""
    changes = {k: v for k, v in changes.items() if v is not None}
    for name in unset:
        if name not in unsettable:
            raise InvalidInput(_("--unset {name!r}: only {items} can be unset").format(
                name=name, items=', '.join(unsettable)))
        if name in changes:
            raise InvalidInput(_("--unset {name} and a new {name} contradict each other").format(name=name))
    if not changes and not unset:
        raise InvalidInput(_("nothing to change: give {options} or --unset").format(options=options))
    return {**changes, **dict.fromkeys(unset)}


def remove_event(draft: Draft, pid: str, ref: str) -> Event:
    """Remove one event of *pid*; returns it."""
    p = draft.get(pid)
    return p.events.pop(find_event(p, pid, ref))


_JSONL_KEYS = ("partner", *(n for n in table().names("event") if n != "id"))


def add_events_jsonl(draft: Draft, lines: Iterable[str]) -> list[tuple[str, Event]]:
    """Add one event per JSON line (``{"partner": ..., "date": ..., "title": ...}``), all or nothing.

    Blank lines are skipped. The first bad line raises its error prefixed with
    ``line N:``; the caller writes nothing then.
    """
    added = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            added.append(_add_event_line(draft, line))
        except PartnerctlError as exc:
            raise type(exc)(f"line {n}: {exc}") from None
    return added


def _add_event_line(draft: Draft, line: str) -> tuple[str, Event]:
    try:
        item = loads_json(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(_("not JSON: {msg} (column {colno})").format(msg=exc.msg, colno=exc.colno)) from None
    if not isinstance(item, dict):
        raise InvalidInput(_("not a JSON object"))
    unknown = sorted(set(item) - set(_JSONL_KEYS))
    if unknown:
        raise InvalidInput(_("unknown key {unknown!r}; known keys: {items}").format(
            unknown=unknown[0], items=', '.join(_JSONL_KEYS)))
    item = {k: v for k, v in item.items() if v is not None}
    for key in ("partner", "date", "title"):
        if not isinstance(item.get(key), str):
            raise InvalidInput(_("{key!r} must be given, as a string").format(key=key))
    for key in ("themes", "links"):
        if not isinstance(item.get(key, []), list) or not all(isinstance(v, str) for v in item.get(key, [])):
            raise InvalidInput(_("{key!r} must be a list of strings").format(key=key))
    pid = draft.resolve(item["partner"])
    return pid, add_event(draft, pid, **{k: v for k, v in item.items() if k != "partner"})


# --- partnerships: fields -------------------------------------------------------------------

def _check_field(name: str, allowed: tuple[str, ...], what: str) -> None:
    if name not in allowed:
        hint = ""
        if name in table().list_fields():
            hint = _("; {name} is a list: use 'partnerctl add-to' / 'remove-from' (or 'tag' / 'untag' for "
                     "themes)").format(name=name)
        elif name in ("events", "contacts"):
            hint = _("; use the {item} commands (add-{item}, edit-{item}, remove-{item})").format(item=name[:-1])
        raise InvalidInput(_("unknown field {name!r}; {what}: {items}{hint}").format(
            name=name, what=what, items=', '.join(allowed), hint=hint))


def _replace(draft: Draft, pid: str, p: Partnership, changes: dict[str, Any]) -> Partnership:
    """*p* (partnership *pid*) with *changes*, validated whole (None removes a field), put in the draft."""
    new = build(Partnership, {**to_dict(p), **changes}, pid)
    draft.put(pid, new)
    return new


_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def convert(draft: Draft, field: str, value: str) -> Any:
    """Command-line text as the value of the partnership field *field*: a year (ASCII digits), a number
    (``45.07``), a country's code (from a code, a name or an alias), a region's slug (matched like a theme)."""
    spec = table().get(field)
    if spec.kind == "int":
        try:
            return dates.parse_year(value)  # the integer fields are years
        except ValueError as exc:
            raise InvalidInput(_("{field}: {exc}").format(field=field, exc=exc)) from None
    if spec.kind == "float":
        if not _NUMBER.fullmatch(value.strip()):
            raise InvalidInput(_("{field}: {value!r} is not a number (like 45.07)").format(field=field, value=value))
        return float(value)
    if spec.meta.country:
        return resolve_country(draft, value, field)
    if spec.meta.vocab and not spec.is_list:
        return query.resolve_terms(vocabulary(draft, spec.meta.vocab), [value], spec.meta.vocab)[0]
    return value


def set_field(draft: Draft, pid: str, field: str, value: str) -> Partnership:
    """Set a scalar field of partnership *pid* from command-line text, converted by the field's type."""
    _check_field(field, table().settable(), "settable fields")
    if not value.strip():
        if field in table().required():  # unset refuses these: point at what works
            raise InvalidInput(_("empty value for {field}; a partnership must have a {field}: give one").format(
                field=field))
        raise InvalidInput(_("empty value for {field}; to remove it: partnerctl unset {pid} {field}").format(
            field=field, pid=pid))
    p = draft.get(pid)
    new = convert(draft, field, value)
    if table().get(field).meta.names:
        check_name_free(draft, pid, p, value)
    elif field in ("owner", "country"):
        # The relation becomes another one: it must not be one the registry holds already.
        changed = replace(p, **{field: new})
        for name in (p.city, *p.aliases):
            check_name_free(draft, pid, None, name, owner_of(draft, changed), changed.country,
                            owner_country=_owner_country(draft, changed))
    return _replace(draft, pid, p, {field: new})


def unset_field(draft: Draft, pid: str, field: str) -> Partnership:
    """Remove an optional scalar field of partnership *pid*."""
    _check_field(field, table().settable(), "fields")
    if field in table().required():
        raise InvalidInput(_("{field} is required and cannot be unset; change it with: partnerctl set "
                             "{pid} {field} VALUE").format(field=field, pid=pid))
    return _replace(draft, pid, draft.get(pid), {field: None})


def check_name_free(draft: Draft, pid: str, current: Partnership | None, name: str,
                    owner: str | None = None, country: str | None = None, *, duplicates_only: bool = False,
                    owner_country: str | None = None) -> None:
    """A city or alias must not be a name of another partnership of the same owner (``show`` would become
    ambiguous, and the two would likely be one relation).

    The one check of ``add``, ``set city``, ``add-to aliases``, ``merge`` and ``edit``. A
    name partnership *pid* already answers to (*current*) adds no ambiguity and is not
    checked. Partnerships of other owners may share names (many cities are twinned with
    Kraków). *owner* and *country* are those of the partnership (default: *current*'s):
    another one of that owner with that name (its city or an alias, not its id) in that
    country (or a part of it, or the country it is part of) is a duplicate, and the error
    says so. With *duplicates_only*, only a duplicate is refused (``add`` checks those
    before the id, the other clashes after).
    """
    from partnerctl.core import countries

    key = query.name_key(name)
    if current is not None:
        if key in query.names_of(pid, current):
            return
        owner = owner or owner_of(draft, current)
        owner_country = owner_country or _owner_country(draft, current)
        country = country or current.country
    if owner is None or _same_owner(owner, draft.owner.owner):
        owner_country = owner_country or draft.owner.country
    owner = owner or draft.owner.owner
    for other, facts in sorted(draft.name_owners(key).items()):
        if other == pid or not _one_owner(draft, facts, owner, owner_country):
            continue
        shown = describe_one(draft, other, facts)
        partner = key in {query.name_key(n) for n in (facts.get("city") or "", *(facts.get("aliases") or []))}
        if partner and country and facts.get("country") and countries.overlap(country, facts["country"]):
            raise InvalidInput(_("{name!r} is already in the registry as {other} ({shown}): the same relation "
                                 "(same owner, partner and country); change that one, or merge two with "
                                 "'partnerctl merge KEEP OTHER'").format(name=name, other=other, shown=shown))
        if not duplicates_only:
            raise InvalidInput(_("{name!r} already names partnership {other} ({city})").format(
                name=name, other=other, city=shown))


def check_same_place(draft: Draft, pid: str, city: str, aliases: Sequence[str], country: str, owner: str | None,
                     owner_country: str | None, gazetteer: geo.Gazetteer) -> None:
    """Refuse a new partnership (*city*, *aliases*, *country*: a code) that *gazetteer* puts in the same city
    as another partnership of *owner* in a country that overlaps (``duplicates``' gazetteer rule:
    ``Beersheba`` is ``Be'er Sheva``), naming it and saying what to do either way.

    The other partnerships are found by the gazetteer's names of that city (``Draft.name_owners``), so
    the registry is never read whole; each is confirmed by its own lookup.
    """
    from partnerctl.core import countries, duplicates

    match = duplicates.one_place(gazetteer.locate, city, country, aliases)
    if match is None:
        return
    keys = dict.fromkeys(query.name_key(name) for name in gazetteer.names(match.geonameid))
    for key in [k for k in keys if k]:
        for other in sorted(draft.name_owners(key)):
            theirs = draft.peek(other)
            if other == pid or not _one_owner(draft, theirs, owner, owner_country) \
                    or not countries.overlap(country, theirs.country):
                continue
            found = duplicates.one_place(gazetteer.locate, theirs.city, theirs.country, theirs.aliases)
            if found is not None and found.geonameid == match.geonameid:
                raise InvalidInput(_(
                    "{city!r} may be {other} ({which}): {why}; if it is, give that one the name "
                    "(partnerctl add-to {other} aliases {quoted}); if not, add with --no-gazetteer").format(
                        city=city, other=other, which=describe_one(draft, other, theirs),
                        why=duplicates.same_place(match), quoted=shlex.quote(city)))


def describe_one(draft: Draft, pid: str, facts: Any) -> str:
    """A partnership as people tell it apart in a message: ``Birmingham, United Kingdom``, with its owner
    when it is not the registry's (``Kraków → Edinburgh, United Kingdom``)."""
    from partnerctl.core import countries

    get = facts.get if isinstance(facts, dict) else lambda name: getattr(facts, name)
    owner = get("owner") or (None if draft.owner.owner else owner_of(draft, facts))
    try:
        country = countries.display(get("country"), language()) if get("country") else ""
    except InvalidInput:
        country = str(get("country"))
    return f"{owner + ' → ' if owner else ''}{get('city')}{', ' + country if country else ''}"


def _list_values(draft: Draft, field: str, values: list[str]) -> list[str]:
    """Command-line values of a list field: vocabulary terms resolved to slugs, the rest as given."""
    kind = table().get(field).meta.vocab
    if kind:
        return _slugs(draft, kind, values)
    return values


def _same_item(field: str, a: str, b: str) -> bool:
    # Slugs and links are exact; names (projects, aliases) match like names do everywhere else.
    spec = table().get(field)
    if spec.meta.vocab or spec.name == "links":
        return a == b
    return fold(a.strip()) == fold(b.strip())


def _item(field: str) -> str:
    return table().get(field).meta.item or field


def add_to(draft: Draft, pid: str, field: str, values: list[str]) -> Partnership:
    """Append *values* to a list field of *pid*; a value it already holds is refused."""
    _check_field(field, table().list_fields(), "list fields")
    p = draft.get(pid)
    current = list(getattr(p, field))
    names = table().get(field).meta.names
    for value in _list_values(draft, field, values):
        if any(_same_item(field, value, have) for have in current):
            raise InvalidInput(_("{pid} already has {value} {value2!r}").format(
                pid=pid, value=_item(field), value2=value))
        if names:
            check_name_free(draft, pid, p, value)
        current.append(value)
    return _replace(draft, pid, p, {field: current})


def remove_from(draft: Draft, pid: str, field: str, values: list[str]) -> Partnership:
    """Remove *values* from a list field of *pid*; a value it does not hold is NotFound."""
    _check_field(field, table().list_fields(), "list fields")
    p = draft.get(pid)
    current = list(getattr(p, field))
    for value in _list_values(draft, field, values):
        kept = [have for have in current if not _same_item(field, value, have)]
        if len(kept) == len(current):
            held = ", ".join(current) or "none"
            raise NotFound(_("{pid} has no {value} {value2!r}; its {field}: {held}").format(
                pid=pid, value=_item(field), value2=value, field=field, held=held))
        current = kept
    return _replace(draft, pid, p, {field: current})


# --- partnerships: whole ---------------------------------------------------------------------

def check_new_id(draft: Draft, new_id: str, taken_hint: str) -> None:
    """*new_id* must be a slug of at most ``MAX_ID_LENGTH`` characters that no partnership has."""
    if not is_slug(new_id):
        raise InvalidInput(_("id {new_id!r} is not a slug (lower-case letters and digits joined by "
                             "hyphens, e.g. {value!r})").format(new_id=new_id, value=slugify(new_id) or 'new-york'))
    if length_problem(new_id):
        raise InvalidInput(_("id {length_problem}").format(length_problem=length_problem(new_id)))
    if draft.has(new_id):
        p = draft.peek(new_id)
        raise InvalidInput(_("partnership {new_id!r} already exists ({which}); {taken_hint}").format(
            new_id=new_id, which=describe_one(draft, new_id, p), taken_hint=taken_hint))


def add_partnership(draft: Draft, city: str, country: str, pid: str | None = None, *,
                    gazetteer: geo.Gazetteer | None = None, **fields: Any) -> str:
    """Add a partnership; its id defaults to a slug of the city. Returns the id.

    *fields* are the other partnership fields, as command-line text (a year, a
    country, a region are converted); vocabulary fields (themes, networks) may be
    given as terms (slug, label or a word of it) and are resolved. A relation the
    registry holds already (same owner, a name in common, the same country) is
    refused, naming it; so is one that *gazetteer* puts in the city of another
    partnership of the same owner (``check_same_place``). An owner that is the
    registry's own is not repeated.
    """
    country = convert(draft, "country", country)
    data = {k: convert(draft, k, v) if isinstance(v, str) else v for k, v in fields.items()}
    if data.get("owner") and _same_owner(data["owner"], draft.owner.owner):
        data["owner"] = None
        if data.get("owner_country") == draft.owner.country:
            data["owner_country"] = None
    owner = data.get("owner") or draft.owner.owner
    if owner is None:
        raise InvalidInput(_("this registry has no owner of its own: say whose relation it is with "
                             "--owner CITY (and --owner-country COUNTRY)"))
    names = (city, *(data.get("aliases") or []))
    owner_country = data.get("owner_country") if data.get("owner") else draft.owner.country
    for name in names:  # the same relation under another id: say so before any id clash
        check_name_free(draft, pid or "", None, name, owner, country, duplicates_only=True,
                        owner_country=owner_country)
    if pid is None:
        pid = shorten(slugify(city), MAX_ID_LENGTH)
        if not pid:
            raise InvalidInput(_("cannot make an id from the city name {city!r}; give one with --id").format(city=city))
    check_new_id(draft, pid, _("choose another id with --id"))
    for name in names:
        check_name_free(draft, pid, None, name, owner, country, owner_country=owner_country)
    if gazetteer is not None:
        check_same_place(draft, pid, city, data.get("aliases") or [], country, owner, owner_country, gazetteer)
    data = {"city": city, "country": country, **data}
    for spec in table().where(edit="list"):
        if spec.meta.vocab:
            data[spec.name] = _list_values(draft, spec.name, data.get(spec.name) or [])
    draft.add(pid, build(Partnership, data, invalid("partnership", pid)))
    return pid


def rename_partnership(draft: Draft, pid: str, new_id: str) -> str:
    """Give partnership *pid* the id *new_id*; returns the new id."""
    if new_id == pid:
        raise InvalidInput(_("{pid!r} is already the id of this partnership").format(pid=pid))
    check_new_id(draft, new_id, _("choose another new id"))
    draft.add(new_id, draft.remove(pid, into=new_id))
    return new_id


def remove_partnership(draft: Draft, pid: str) -> Partnership:
    """Remove partnership *pid* with its events and contacts; returns it."""
    return draft.remove(pid)


# --- contacts ------------------------------------------------------------------------------

def find_contact(p: Partnership, pid: str, name: str) -> int:
    """Index of the contact named *name* (any case, accents optional)."""
    for i, c in enumerate(p.contacts):
        if fold(c.name.strip()) == fold(name.strip()):
            return i
    names = ", ".join(c.name for c in p.contacts) or "none"
    raise NotFound(_("{pid} has no contact {name!r}; its contacts: {names}").format(pid=pid, name=name, names=names))


def _check_contact_free(p: Partnership, pid: str, name: str, but: int | None = None) -> None:
    for i, c in enumerate(p.contacts):
        if i != but and fold(c.name.strip()) == fold(name.strip()):
            raise InvalidInput(_("{pid} already has a contact named {name!r}").format(pid=pid, name=c.name))


def add_contact(draft: Draft, pid: str, **fields: str | None) -> Contact:
    """Add a contact to *pid* (name, role, organisation, email, phone); returns it."""
    p = draft.get(pid)
    contact = build(Contact, fields, invalid("contact"))
    _check_contact_free(p, pid, contact.name)
    p.contacts.append(contact)
    return contact


def edit_contact(draft: Draft, pid: str, name: str, changes: dict[str, Any], unset: list[str]) -> Contact:
    """Change the fields of the contact named *name* (None keeps a field); *unset* removes fields."""
    p = draft.get(pid)
    i = find_contact(p, pid, name)
    changes = _changes(changes, unset, _unsettable("contact"), _options("contact"))
    contact = build(Contact, {**to_dict(p.contacts[i]), **changes}, invalid("contact"))
    _check_contact_free(p, pid, contact.name, but=i)
    p.contacts[i] = contact
    return contact


def remove_contact(draft: Draft, pid: str, name: str) -> Contact:
    """Remove the contact named *name* from *pid*; returns it."""
    p = draft.get(pid)
    return p.contacts.pop(find_contact(p, pid, name))


# --- vocabularies --------------------------------------------------------------------------

def _check_vocab_entry(kind: str, slug: str, label: str) -> None:
    if not is_slug(slug):
        raise InvalidInput(_("{kind} slug {slug!r} is not a slug (lower-case letters and digits joined "
                             "by hyphens, e.g. {value!r})").format(
                                 kind=kind, slug=slug, value=slugify(slug) or 'urban-mobility'))
    if length_problem(slug):
        raise InvalidInput(_("{kind} slug {length_problem}").format(kind=kind, length_problem=length_problem(slug)))
    try:
        check_name(label)
    except ValueError as exc:
        raise InvalidInput(_("{kind} label must be one line of text, not {label!r} ({exc})").format(
            kind=kind, label=label, exc=exc)) from None


def _declared(draft: Draft, kind: str, slug: str) -> str:
    """*slug* itself if declared; else the error names what it may have meant."""
    vocab = vocabulary(draft, kind)
    if slug in vocab:
        return slug
    try:
        close = sorted(query.match_vocab(vocab, slug, kind))
    except InvalidInput:
        close = []
    hint = (_("; did you mean {items}?").format(items=", ".join(close)) if close
            else _("; declared: {items}").format(items=", ".join(sorted(vocab)) or _("none")))
    raise InvalidInput(_("no {kind} with the slug {slug!r}{hint}").format(kind=kind, slug=slug, hint=hint))


def _field_of(kind: str) -> str:
    return query.vocabulary_field(kind)


def _holds(p: Partnership, kind: str, slug: str) -> bool:
    value = getattr(p, _field_of(kind))
    return slug in value if isinstance(value, list) else value == slug


def _usage(draft: Draft, kind: str, slug: str) -> tuple[list[str], int]:
    """Partnerships whose own field names *slug*, and how many events name it (themes only)."""
    pids, events = [], 0
    for pid in sorted(draft.users(kind, slug)):
        p = draft.peek(pid)
        if _holds(p, kind, slug):
            pids.append(pid)
        if kind == "theme":
            events += sum(slug in e.themes for e in p.events)
    return pids, events


def vocab_entry(draft: Draft, kind: str, slug: str) -> dict[str, Any]:
    """The JSON form of one vocabulary entry, as ``themes --format json`` prints it."""
    from partnerctl.core.records import vocabulary_entry

    return vocabulary_entry(slug, vocabulary(draft, kind)[slug], len(_usage(draft, kind, slug)[0]))


def add_vocab(draft: Draft, kind: str, slug: str, label: str, french: str | None = None) -> str:
    """Declare a new theme or network (with its *french* label, if given); returns its slug."""
    _check_vocab_entry(kind, slug, label)
    vocab = vocabulary(draft, kind)
    if slug in vocab:
        raise InvalidInput(_("{kind} {slug!r} already exists ({vocab})").format(
            kind=kind, slug=slug, vocab=vocab[slug]))
    vocab[slug] = label
    if french is not None:
        _label_in(draft, kind, slug, "fr", french)
    return slug


def _label_in(draft: Draft, kind: str, slug: str, lang: str, label: str) -> None:
    """Give entry *slug* its label in *lang*."""
    _check_vocab_entry(kind, slug, label)
    draft.translations.setdefault(lang, {}).setdefault(f"{kind}s", {})[slug] = label


def _swap(slugs: list[str], old: str, new: str | None) -> list[str]:
    """*slugs* with *old* replaced by *new* (removed when None), order kept, each slug once."""
    out: list[str] = []
    for s in slugs:
        s = new if s == old else s  # type: ignore[assignment]
        if s is not None and s not in out:
            out.append(s)
    return out


def _rewrite_users(draft: Draft, kind: str, old: str, new: str | None) -> None:
    """Every partnership and event naming *old* names *new* instead (or nothing, when None)."""
    name = _field_of(kind)
    for pid in sorted(draft.users(kind, old)):
        p = draft.get(pid)
        value = getattr(p, name)
        setattr(p, name, _swap(value, old, new) if isinstance(value, list) else (new if value == old else value))
        if kind == "theme":
            p.events = [replace(e, themes=_swap(e.themes, old, new)) for e in p.events]


def rename_vocab(draft: Draft, kind: str, old: str, new: str, label: str | None = None,
                 french: str | None = None) -> str:
    """Rename a theme or network (and relabel it with *label*, its French label with *french*) everywhere it
    is used; returns the new slug."""
    vocab = vocabulary(draft, kind)
    old = _declared(draft, kind, old)
    label = vocab[old] if label is None else label
    if kind == "region" and new != old:
        _check_not_default(old, f"relabel it instead: partnerctl regions rename {old} {old} --label LABEL")
    _check_vocab_entry(kind, new, label)
    if new != old and new in vocab:
        raise InvalidInput(_("{kind} {new!r} already exists ({vocab})").format(kind=kind, new=new, vocab=vocab[new]))
    same_french = french is None or draft.translations.get("fr", {}).get(f"{kind}s", {}).get(old) == french
    if new == old and label == vocab[old] and same_french:
        raise InvalidInput(_("nothing to change: {kind} {old!r} already has that slug and label").format(
            kind=kind, old=old))
    # The users' blocks are read before the vocabulary changes: a relabel changes what search finds in them.
    _rewrite_users(draft, kind, old, new)
    del vocab[old]
    vocab[new] = label
    _move_translations(draft, kind, old, new)
    if french is not None:
        _label_in(draft, kind, new, "fr", french)
    return new


def _move_translations(draft: Draft, kind: str, old: str, new: str | None) -> None:
    """The labels in other languages of *old* follow it to *new* (or go with it, when None)."""
    for labels in draft.translations.values():
        entries = labels.get(f"{kind}s", {})
        if old in entries:
            label = entries.pop(old)
            if new is not None:
                entries[new] = label


def remove_vocab(draft: Draft, kind: str, slug: str, force: bool = False) -> dict[str, Any]:
    """Remove a theme or network; refused while in use unless *force*, which removes it from its users.

    Returns its entry as it was (``vocab_entry``).
    """
    slug = _declared(draft, kind, slug)
    entry = vocab_entry(draft, kind, slug)
    pids, events = _usage(draft, kind, slug)
    if kind == "region" and not force:
        _check_not_default(slug, "--force removes it, and their partnerships without a region of their own "
                                 "are then in no region")
    if (pids or events) and not force:
        shown = ", ".join(pids[:10]) + (f" and {len(pids) - 10} more" if len(pids) > 10 else "")
        used = f"{counted(len(pids), 'partnership')} ({shown})" if pids else ""
        used += (" and " if pids and events else "") + (counted(events, "event") if events else "")
        raise InvalidInput(_("{kind} {slug!r} is used by {used}; --force removes it from them too").format(
            kind=kind, slug=slug, used=used))
    _rewrite_users(draft, kind, slug, None)
    del vocabulary(draft, kind)[slug]
    _move_translations(draft, kind, slug, None)
    return entry


def _check_not_default(slug: str, hint: str) -> None:
    """A region that is some countries' default region keeps its slug (``countries.default_region``)."""
    from partnerctl.core import countries

    if slug in countries.default_regions():
        raise InvalidInput(_("region {slug!r} is the default region of countries (a partnership without a "
                              "region of its own is in its country's); {hint}").format(
                               slug=slug, hint=hint))


# --- country aliases -----------------------------------------------------------------------

def alias_entry(alias: str, code: str, source: str) -> dict[str, Any]:
    """A country alias as ``countries`` lists it: the alias, its code, the country's name, whose it is."""
    from partnerctl.core import countries

    return {"alias": alias, "code": code, "country": countries.display(code), "source": source}


def aliases(draft_or_head: Any) -> list[dict[str, Any]]:
    """Every country alias in use: the registry's own (``registry``), then the shipped ones it does not
    replace (``shipped``), each sorted by alias."""
    from partnerctl.core import countries

    own = dict(draft_or_head.countries)
    merged = countries.merged_aliases(own)
    return ([alias_entry(a, c, "registry") for a, c in sorted(own.items(), key=lambda i: fold(i[0]))]
            + [alias_entry(a, c, "shipped") for a, c in sorted(merged.items(), key=lambda i: fold(i[0]))
               if a not in own])


def add_alias(draft: Draft, alias: str, country: str) -> dict[str, Any]:
    """Declare *alias* as a name of *country* (a code, a name or an alias) in the registry; returns its entry.

    An alias that already means a country (ISO's name or code, or an alias of the registry's) is
    refused; one of the shipped table may be given another country here, which then wins.
    """
    from partnerctl.core import countries

    try:
        check_name(alias)
    except ValueError as exc:
        raise InvalidInput(_("alias {alias!r}: {exc}").format(alias=alias, exc=exc)) from None
    code = resolve_country(draft, country)
    try:
        found = countries.resolver(draft.countries).explain(alias)
    except InvalidInput:
        found = None
    if found is not None:
        own = {countries.key(a) for a in draft.countries}
        if found.how != "alias":
            raise InvalidInput(_("{alias!r} already means {code} ({country}) in ISO 3166").format(
                alias=alias, code=found.code, country=countries.display(found.code, language())))
        if countries.key(alias) in own or found.code == code:
            raise InvalidInput(_("{alias!r} is already an alias of {code} ({country})").format(
                alias=alias, code=found.code, country=countries.display(found.code, language())))
    draft.countries[alias] = code
    problems = countries.alias_problems(countries.merged_aliases(draft.countries))
    if problems:
        raise InvalidInput(_("alias {alias!r}: {problem}").format(alias=alias, problem=problems[0]))
    return alias_entry(alias, code, "registry")


def remove_alias(draft: Draft, alias: str) -> dict[str, Any]:
    """Remove the registry's alias *alias* (any case and accents); returns its entry as it was."""
    from partnerctl.core import countries

    for own, code in draft.countries.items():
        if countries.key(own) == countries.key(alias):
            del draft.countries[own]
            return alias_entry(own, code, "registry")
    shipped = {countries.key(a): a for a in countries.default_aliases()}
    if countries.key(alias) in shipped:
        raise InvalidInput(_("{alias!r} is a shipped alias, not the registry's: it stays; give it another "
                              "country with 'partnerctl countries add {shipped!r} CODE'").format(
                               alias=alias, shipped=shipped[countries.key(alias)]))
    held = ", ".join(sorted(draft.countries, key=fold)) or "none"
    raise NotFound(_("the registry has no country alias {alias!r}; its aliases: {held}").format(
                       alias=alias, held=held))


# --- duplicates: merge ---------------------------------------------------------------------

def merge_partnerships(draft: Draft, keep: str, other: str, take: Mapping[str, str]) -> dict[str, Any]:
    """Fold partnership *other* into *keep* and remove it; returns what was done (``merged`` summary).

    Lists are united (themes, networks, projects, links, aliases: each value once), so are
    events (one with the same id and content is one; another with an id *keep* uses gets a
    new one) and contacts (one with the same name and no contradicting field is one). Other's
    city becomes an alias when it is not keep's name. A field only one of them has is kept; a
    field both have with different values is refused unless *take* says whose to keep
    (field: ``keep`` or ``other``). Countries where one lies in the other (``GB`` and
    ``GB-ENG``) do not conflict: keep's stays.
    """
    from partnerctl.core import countries

    if keep == other:
        raise InvalidInput(_("{keep} and {other} are the same partnership").format(keep=keep, other=other))
    scalars = [s.name for s in table().partnership if not s.is_list and s.kind != "records"]
    for name, whose in take.items():
        if name not in scalars:
            raise InvalidInput(_("--take {name}: only a field with one value is taken from one side ({items})").format(
                                   name=name, items=', '.join(scalars)))
        if whose not in ("keep", "other"):
            raise InvalidInput(_("--take {name}={whose}: say keep or other").format(name=name, whose=whose))
    a, b = draft.get(keep), draft.peek(other)
    data = to_dict(a)
    conflicts = []
    for name in scalars:
        mine, theirs = getattr(a, name), getattr(b, name)
        inherit = table().get(name).meta.inherit
        if inherit:  # compared as they hold: no owner of its own is the registry's
            mine, theirs = (getattr(p, name) or getattr(draft.owner, inherit) for p in (a, b))
        if name in take:
            data[name] = getattr(b if take[name] == "other" else a, name)
        elif table().get(name).meta.names:
            continue  # keep's city stays; other's becomes an alias (below)
        elif mine is None:
            data[name] = theirs
        elif theirs is None or mine == theirs or (isinstance(mine, str) and fold(mine) == fold(theirs)):
            continue
        elif table().get(name).meta.country and countries.overlap(mine, theirs):
            continue
        else:
            conflicts.append(f"{name} ({mine!r} / {theirs!r})")
    if conflicts:
        raise InvalidInput(_("{keep} and {other} differ in {items}: choose with --take FIELD=keep or --take "
                              "FIELD=other (repeatable)").format(
                               keep=keep, other=other, items=', '.join(conflicts)))
    for spec in table().partnership:
        if spec.is_list:
            data[spec.name] = _united(spec.name, getattr(a, spec.name), getattr(b, spec.name))
    cities = [a.city, b.city]
    data["aliases"] = [alias for alias in _united("aliases", data["aliases"], cities)
                       if fold(alias.strip()) != fold(data["city"].strip())]
    data["events"], renamed = _united_events(a.events, b.events)
    data["contacts"] = _united_contacts(keep, a.contacts, b.contacts)
    merged = build(Partnership, data, f"merging {other} into {keep}")
    draft.remove(other, into=keep)
    for name in (merged.city, *merged.aliases):
        check_name_free(draft, keep, a, name, owner_of(draft, merged), merged.country)
    draft.put(keep, merged)
    return {"keep": keep, "other": other, "events": len(b.events), "contacts": len(b.contacts),
            "renamed": renamed, "record": merged}


def _united(field: str, ours: list[str], theirs: list[str]) -> list[str]:
    """*ours* then each item of *theirs* it does not hold (compared as ``add-to`` compares)."""
    out = list(ours)
    for item in theirs:
        if not any(_same_item(field, item, have) for have in out):
            out.append(item)
    return out


def _united_events(ours: list[Event], theirs: list[Event]) -> tuple[list[Event], list[tuple[str, str]]]:
    """Both lists of events: the same event once; one whose id is taken gets a new id. Returns the events
    and the (old, new) ids given."""
    out = list(ours)
    renamed = []
    for event in theirs:
        same = next((e for e in out if e.id == event.id), None)
        if same is not None and to_dict(same) == to_dict(event):
            continue
        if same is not None:
            new_id = unique(event.id, {e.id for e in out}, MAX_ID_LENGTH)
            renamed.append((event.id, new_id))
            event = replace(event, id=new_id)
        out.append(event)
    return out, renamed


def _united_contacts(pid: str, ours: list[Contact], theirs: list[Contact]) -> list[Contact]:
    """Both lists of contacts: one person (same name) once, their fields united; contradicting fields refused."""
    out = list(ours)
    for contact in theirs:
        at = next((i for i, c in enumerate(out) if fold(c.name.strip()) == fold(contact.name.strip())), None)
        if at is None:
            out.append(contact)
            continue
        mine, theirs_ = to_dict(out[at]), to_dict(contact)
        clash = [k for k in mine if k != "name" and mine[k] and theirs_[k] and mine[k] != theirs_[k]]
        if clash:
            raise InvalidInput(_("both have a contact {name!r}, with different {items}; make them agree first "
                                  "(partnerctl edit-contact {pid} ...)").format(
                                   name=contact.name, items=', '.join(clash), pid=pid))
        out[at] = build(Contact, {k: mine[k] or theirs_[k] for k in mine}, "invalid contact")
    return out


# --- where partner cities are ----------------------------------------------------------------

# (city, country code, aliases) -> a match with lat and lon, or None: ``geo.locate`` or a test's.
Place = Callable[[str, str, list[str]], Any]


def locate(draft: Draft, pids: Iterable[str], place: Place, force: bool = False) -> list[tuple[str, Any]]:
    """Give each partnership of *pids* the latitude and longitude *place* finds for its city (in its country,
    with its aliases); one placed already keeps its own unless *force*. Returns (id, match or None) for
    each partnership looked up, in the order given."""
    found = []
    for pid in pids:
        p = draft.peek(pid)
        if p.lat is not None and p.lon is not None and not force:
            continue
        match = place(p.city, p.country, list(p.aliases))
        found.append((pid, match))
        if match is not None and (match.lat, match.lon) != (p.lat, p.lon):
            draft.put(pid, replace(draft.get(pid), lat=match.lat, lon=match.lon))
    return found


# --- whole registries and one partnership as TOML ------------------------------------------

def new_registry(owner: str | None, country: str | None, themes: dict[str, str], *, name: str | None = None,
                 regions: dict[str, str] | None = None, translations: dict[Any, Any] | None = None) -> Registry:
    """An empty registry (``init``): of *owner* in *country* (a code, a name or an alias), or, with *name*
    and no owner, of many owners; with the theme vocabulary *themes*, the world *regions* (and their
    labels in other languages, *translations*), no networks."""
    from partnerctl.core import countries

    if country is not None:
        try:
            country = countries.resolver().resolve(country)
        except InvalidInput as exc:
            raise InvalidInput(f"--country: {exc}") from None
    head = build(Owner, {"name": name, "owner": owner, "country": country}, "invalid registry")
    return Registry(registry=head, themes=dict(themes), regions=dict(regions or {}),
                    translations=dict(translations or {}))


def put_block(draft: Draft, pid: str, before: Partnership, p: Partnership) -> Partnership:
    """``partnerctl edit``: replace *pid* by *p*, if it is still *before* (as when the editor opened).

    The names are checked again: another partnership may have taken one while the editor was open.
    """
    current = draft.get(pid)
    # Compared as records: the editor opened the record, whose events are in date order, not the file's.
    if record(pid, current) != record(pid, before):
        raise WriteFailed(_("{pid} was changed by someone else while you edited; run edit again").format(pid=pid))
    for name in (p.city, *p.aliases):
        check_name_free(draft, pid, current if (p.owner, p.country) == (current.owner, current.country) else None,
                        name, owner_of(draft, p), p.country, owner_country=_owner_country(draft, p))
    draft.put(pid, p)
    return p
