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
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from partnerctl.core import dates, query
from partnerctl.core.errors import Ambiguous, InvalidInput, NotFound, PartnerctlError, WriteFailed
from partnerctl.core.i18n import _
from partnerctl.core.model import (
    MAX_ID_LENGTH,
    Contact,
    Event,
    Owner,
    Partnership,
    Registry,
    build,
    check_name,
    length_problem,
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

    def remove(self, pid: str) -> Partnership:
        """Remove partnership *pid*; returns it."""

    def name_owners(self, key: str) -> dict[str, str]:
        """{id: city} of the partnerships one of whose folded names is *key*."""

    def users(self, kind: str, slug: str) -> list[str]:
        """Ids of the partnerships that name the theme (or network) *slug*, themselves or in an event."""

    def everything(self) -> Registry:
        """The whole registry (changes that need every partnership: import, ``fmt``)."""


def vocabulary(draft: Draft, kind: str) -> dict[str, str]:
    """The theme (``kind="theme"``) or network vocabulary of the draft."""
    return draft.themes if kind == "theme" else draft.networks


def _slugs(draft: Draft, kind: str, terms: Sequence[str]) -> list[str]:
    """The slugs vocabulary *terms* name, each exactly one (English labels, and those of the language in force)."""
    vocab = vocabulary(draft, kind)
    return query.resolve_terms(vocab, terms, kind, query.in_force(vocab, draft.translations, kind))


# --- events --------------------------------------------------------------------------------

def new_event_id(taken: set[str], date: str, title: str) -> str:
    """A stable id from the date and the first words of the title, unique among *taken*."""
    return unique("-".join(filter(None, [date, slugify(title, max_words=5)])), taken, MAX_ID_LENGTH)


def add_event(draft: Draft, pid: str, *, date: str, title: str, end: str | None = None,
              description: str | None = None, themes: list[str] | None = None,
              links: list[str] | None = None) -> Event:
    """Append an event to partnership *pid* and return it."""
    p = draft.get(pid)
    fields = {"date": date, "end": end, "title": title, "description": description,
              "themes": _slugs(draft, "theme", themes or []), "links": links or []}
    # Validate the fields before deriving an id from them, so errors name the field.
    build(Event, {"id": "x", **fields}, "invalid event")
    event = build(Event, {"id": new_event_id({e.id for e in p.events}, date, title), **fields}, "invalid event")
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
    event = build(Event, {**to_dict(p.events[i]), **changes}, "invalid event")
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
    return pid, add_event(draft, pid, date=item["date"], title=item["title"], end=item.get("end"),
                          description=item.get("description"), themes=item.get("themes"),
                          links=item.get("links"))


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


def convert(field: str, value: str) -> Any:
    """Command-line text as the type of the partnership field *field* (a year is ASCII digits)."""
    if table().get(field).kind != "int":
        return value
    try:
        return dates.parse_year(value)  # the integer fields are years
    except ValueError as exc:
        raise InvalidInput(_("{field}: {exc}").format(field=field, exc=exc)) from None


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
    if table().get(field).meta.names:
        check_name_free(draft, pid, p, value)
    return _replace(draft, pid, p, {field: convert(field, value)})


def unset_field(draft: Draft, pid: str, field: str) -> Partnership:
    """Remove an optional scalar field of partnership *pid*."""
    _check_field(field, table().settable(), "fields")
    if field in table().required():
        raise InvalidInput(_("{field} is required and cannot be unset; change it with: partnerctl set "
                             "{pid} {field} VALUE").format(field=field, pid=pid))
    return _replace(draft, pid, draft.get(pid), {field: None})


def check_name_free(draft: Draft, pid: str, current: Partnership | None, name: str) -> None:
    """A city or alias must not be a name of another partnership (``show`` would become ambiguous).

    The one check of ``add``, ``set city``, ``add-to aliases`` and ``edit``. A name
    partnership *pid* already answers to (*current*) adds no ambiguity and is not
    checked (an imported registry holds many relations with the same partner city).
    """
    key = query.name_key(name)
    if current is not None and key in query.names_of(pid, current):
        return
    for other, city in sorted(draft.name_owners(key).items()):
        if other != pid:
            raise InvalidInput(_("{name!r} already names partnership {other} ({city})").format(
                name=name, other=other, city=city))


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

def _check_new_id(draft: Draft, new_id: str, taken_hint: str) -> None:
    if not is_slug(new_id):
        raise InvalidInput(_("id {new_id!r} is not a slug (lower-case letters and digits joined by "
                             "hyphens, e.g. {value!r})").format(new_id=new_id, value=slugify(new_id) or 'new-york'))
    if length_problem(new_id):
        raise InvalidInput(_("id {length_problem}").format(length_problem=length_problem(new_id)))
    if draft.has(new_id):
        p = draft.peek(new_id)
        raise InvalidInput(_("partnership {new_id!r} already exists ({city}, {country}); {taken_hint}").format(
            new_id=new_id, city=p.city, country=p.country, taken_hint=taken_hint))


def add_partnership(draft: Draft, city: str, country: str, pid: str | None = None, **fields: Any) -> str:
    """Add a partnership; its id defaults to a slug of the city. Returns the id.

    *fields* are the other partnership fields, as command-line text (a year is
    converted); vocabulary fields (themes, networks) may be given as terms (slug,
    label or a word of it) and are resolved.
    """
    if pid is None:
        pid = shorten(slugify(city), MAX_ID_LENGTH)
        if not pid:
            raise InvalidInput(_("cannot make an id from the city name {city!r}; give one with --id").format(city=city))
    _check_new_id(draft, pid, "choose another id with --id")
    check_name_free(draft, pid, None, city)
    for alias in fields.get("aliases") or []:
        check_name_free(draft, pid, None, alias)
    data = {"city": city, "country": country,
            **{k: convert(k, v) if isinstance(v, str) else v for k, v in fields.items()}}
    for spec in table().where(edit="list"):
        if spec.meta.vocab:
            data[spec.name] = _list_values(draft, spec.name, data.get(spec.name) or [])
    draft.add(pid, build(Partnership, data, f"invalid partnership {pid}"))
    return pid


def rename_partnership(draft: Draft, pid: str, new_id: str) -> str:
    """Give partnership *pid* the id *new_id*; returns the new id."""
    if new_id == pid:
        raise InvalidInput(_("{pid!r} is already the id of this partnership").format(pid=pid))
    _check_new_id(draft, new_id, "choose another new id")
    draft.add(new_id, draft.remove(pid))
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
    contact = build(Contact, fields, "invalid contact")
    _check_contact_free(p, pid, contact.name)
    p.contacts.append(contact)
    return contact


def edit_contact(draft: Draft, pid: str, name: str, changes: dict[str, Any], unset: list[str]) -> Contact:
    """Change the fields of the contact named *name* (None keeps a field); *unset* removes fields."""
    p = draft.get(pid)
    i = find_contact(p, pid, name)
    changes = _changes(changes, unset, _unsettable("contact"), _options("contact"))
    contact = build(Contact, {**to_dict(p.contacts[i]), **changes}, "invalid contact")
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
    return f"{kind}s"


def _usage(draft: Draft, kind: str, slug: str) -> tuple[list[str], int]:
    """Partnerships whose own list names *slug*, and how many events name it (themes only)."""
    pids, events = [], 0
    for pid in sorted(draft.users(kind, slug)):
        p = draft.peek(pid)
        if slug in getattr(p, _field_of(kind)):
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
    for pid in sorted(draft.users(kind, old)):
        p = draft.get(pid)
        setattr(p, _field_of(kind), _swap(getattr(p, _field_of(kind)), old, new))
        if kind == "theme":
            p.events = [replace(e, themes=_swap(e.themes, old, new)) for e in p.events]


def rename_vocab(draft: Draft, kind: str, old: str, new: str, label: str | None = None,
                 french: str | None = None) -> str:
    """Rename a theme or network (and relabel it with *label*, its French label with *french*) everywhere it
    is used; returns the new slug."""
    vocab = vocabulary(draft, kind)
    old = _declared(draft, kind, old)
    label = vocab[old] if label is None else label
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


# --- whole registries and one partnership as TOML ------------------------------------------

def new_registry(owner: str, country: str | None, themes: dict[str, str],
                 translations: dict[Any, Any] | None = None) -> Registry:
    """An empty registry of *owner* with the theme vocabulary *themes* (and their labels in other languages,
    *translations*) and no networks (``init``)."""
    head = build(Owner, {"owner": owner, "country": country}, "invalid owner")
    return Registry(registry=head, themes=dict(themes), translations=dict(translations or {}))


def put_block(draft: Draft, pid: str, before: Partnership, p: Partnership) -> Partnership:
    """``partnerctl edit``: replace *pid* by *p*, if it is still *before* (as when the editor opened).

    The names are checked again: another partnership may have taken one while the editor was open.
    """
    current = draft.get(pid)
    if to_dict(current) != to_dict(before):
        raise WriteFailed(_("{pid} was changed by someone else while you edited; run edit again").format(pid=pid))
    for name in (p.city, *p.aliases):
        check_name_free(draft, pid, current, name)
    draft.put(pid, p)
    return p
