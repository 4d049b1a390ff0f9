"""Changes to a registry in memory; ``store.update`` validates and writes them."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from partnerctl.core import dates
from partnerctl.core import query
from partnerctl.storage import toml as tomlfile
from partnerctl.core.errors import Ambiguous, InvalidInput, NotFound, PartnerctlError, WriteFailed
from partnerctl.core.model import (MAX_ID_LENGTH, Contact, Event, Owner, Partnership, Registry, check_name,
                              length_problem, partnership_references, problems_of)
from partnerctl.core.names import fold, is_slug, shorten, slugify, unique
from partnerctl.formats.output import counted


def build(cls: type[Any], data: dict[str, Any], what: str) -> Any:
    """Validate command-line input into a model; the first problem becomes InvalidInput."""
    try:
        return cls.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problem = problems_of(exc)[0]
        where = "" if problem.where == "registry" else f"{problem.where}: "
        raise InvalidInput(f"{what}: {where}{problem.message}") from None


def new_event_id(taken: set[str], date: str, title: str) -> str:
    """A stable id from the date and the first words of the title, unique among *taken*."""
    return unique("-".join(filter(None, [date, slugify(title, max_words=5)])), taken, MAX_ID_LENGTH)


def add_event(
    reg: Registry,
    pid: str,
    *,
    date: str,
    title: str,
    end: str | None = None,
    description: str | None = None,
    themes: list[str] | None = None,
    links: list[str] | None = None,
) -> Event:
    """Append an event to partnership *pid* and return it."""
    p = reg.partnerships[pid]
    fields = {"date": date, "end": end, "title": title, "description": description,
              "themes": query.resolve_themes(reg, themes or []), "links": links or []}
    # Validate the fields before deriving an id from them, so errors name the field.
    build(Event, {"id": "x", **fields}, "invalid event")
    event = build(Event, {"id": new_event_id({e.id for e in p.events}, date, title), **fields}, "invalid event")
    p.events.append(event)
    return event


# --- partnerships: fields -------------------------------------------------------------------

SCALAR_FIELDS = ("city", "country", "region", "owner", "owner_country", "status", "kind", "since",
                 "since_note", "summary")
REQUIRED_FIELDS = ("city", "country")
LIST_FIELDS = ("themes", "networks", "projects", "aliases", "links")
_LIST_ITEM = {"themes": "theme", "networks": "network", "projects": "project", "aliases": "alias",
              "links": "link"}


def _is_int_field(cls: type[BaseModel], name: str) -> bool:
    """Whether the model field *name* holds an integer (``since``), Optional and Annotated unwrapped."""
    pending: list[Any] = [cls.model_fields[name].annotation]
    while pending:
        tp = pending.pop()
        if tp is int:
            return True
        pending += [a for a in get_args(tp) if a is not type(None)]
    return False


def _check_field(name: str, allowed: tuple[str, ...], what: str) -> None:
    if name not in allowed:
        hint = ""
        if name in LIST_FIELDS:
            hint = f"; {name} is a list: use 'partnerctl add-to' / 'remove-from' (or 'tag' / 'untag' for themes)"
        elif name in ("events", "contacts"):
            hint = f"; use the {name[:-1]} commands (add-{name[:-1]}, edit-{name[:-1]}, remove-{name[:-1]})"
        raise InvalidInput(f"unknown field {name!r}; {what}: {', '.join(allowed)}{hint}")


def _replace(reg: Registry, pid: str, changes: dict[str, Any]) -> Partnership:
    """Partnership *pid* with *changes*, validated whole (None removes a field)."""
    data = {**reg.partnerships[pid].model_dump(), **changes}
    p = build(Partnership, data, pid)
    reg.partnerships[pid] = p
    return p


def set_field(reg: Registry, pid: str, field: str, value: str) -> Partnership:
    """Set a scalar field of partnership *pid* from command-line text, converted by the field's type."""
    _check_field(field, SCALAR_FIELDS, "settable fields")
    if not value.strip():
        if field in REQUIRED_FIELDS:  # unset refuses these: point at what works
            raise InvalidInput(f"empty value for {field}; a partnership must have a {field}: give one")
        raise InvalidInput(f"empty value for {field}; to remove it: partnerctl unset {pid} {field}")
    if field == "city":
        _check_name_free(reg, pid, value)
    return _replace(reg, pid, {field: _convert(field, value)})


def _convert(field: str, value: str) -> Any:
    """Command-line text as the type of the Partnership field (``since`` is an integer)."""
    if not _is_int_field(Partnership, field):
        return value
    try:
        return dates.parse_year(value)  # the one integer field is a year
    except ValueError as exc:
        raise InvalidInput(f"{field}: {exc}") from None


def unset_field(reg: Registry, pid: str, field: str) -> Partnership:
    """Remove an optional scalar field of partnership *pid*."""
    _check_field(field, SCALAR_FIELDS, "fields")
    if field in REQUIRED_FIELDS:
        raise InvalidInput(f"{field} is required and cannot be unset; "
                           f"change it with: partnerctl set {pid} {field} VALUE")
    return _replace(reg, pid, {field: None})


def _check_name_free(reg: Registry, pid: str, name: str) -> None:
    """A city or alias must not be a name of another partnership (``show`` would become ambiguous).

    The one check of ``add``, ``set city``, ``add-to aliases`` and ``edit``. A name
    partnership *pid* already answers to adds no ambiguity and is not checked
    (an imported registry holds many relations with the same partner city).
    """
    key = query.name_key(name)
    if pid in reg.partnerships and key in query.names_of(pid, reg.partnerships[pid]):
        return
    for other, p in reg.partnerships.items():
        if other != pid and key in query.names_of(other, p):
            raise InvalidInput(f"{name!r} already names partnership {other} ({p.city})")


def _list_values(reg: Registry, field: str, values: list[str]) -> list[str]:
    """Command-line values of a list field: vocabulary terms resolved to slugs, the rest as given."""
    if field == "themes":
        return query.resolve_terms(reg.themes, values, "theme")
    if field == "networks":
        return query.resolve_terms(reg.networks, values, "network")
    return values


def _same_item(field: str, a: str, b: str) -> bool:
    # Links are exact; names of projects and aliases match like names do everywhere else.
    return a == b if field in ("themes", "networks", "links") else fold(a.strip()) == fold(b.strip())


def add_to(reg: Registry, pid: str, field: str, values: list[str]) -> Partnership:
    """Append *values* to a list field of *pid*; a value it already holds is refused."""
    _check_field(field, LIST_FIELDS, "list fields")
    current = list(getattr(reg.partnerships[pid], field))
    for value in _list_values(reg, field, values):
        if any(_same_item(field, value, have) for have in current):
            raise InvalidInput(f"{pid} already has {_LIST_ITEM[field]} {value!r}")
        if field == "aliases":
            _check_name_free(reg, pid, value)
        current.append(value)
    return _replace(reg, pid, {field: current})


def remove_from(reg: Registry, pid: str, field: str, values: list[str]) -> Partnership:
    """Remove *values* from a list field of *pid*; a value it does not hold is NotFound."""
    _check_field(field, LIST_FIELDS, "list fields")
    current = list(getattr(reg.partnerships[pid], field))
    for value in _list_values(reg, field, values):
        kept = [have for have in current if not _same_item(field, value, have)]
        if len(kept) == len(current):
            held = ", ".join(current) or "none"
            raise NotFound(f"{pid} has no {_LIST_ITEM[field]} {value!r}; its {field}: {held}")
        current = kept
    return _replace(reg, pid, {field: current})


# --- partnerships: whole ---------------------------------------------------------------------

def _check_new_id(reg: Registry, new_id: str, taken_hint: str) -> None:
    if not is_slug(new_id):
        raise InvalidInput(f"id {new_id!r} is not a slug (lower-case letters and digits joined by hyphens, "
                           f"e.g. {slugify(new_id) or 'new-york'!r})")
    if length_problem(new_id):
        raise InvalidInput(f"id {length_problem(new_id)}")
    if new_id in reg.partnerships:
        p = reg.partnerships[new_id]
        raise InvalidInput(f"partnership {new_id!r} already exists ({p.city}, {p.country}); {taken_hint}")


def add_partnership(reg: Registry, city: str, country: str, pid: str | None = None,
                    **fields: Any) -> str:
    """Add a partnership; its id defaults to a slug of the city. Returns the id.

    *fields* are the other Partnership fields, as command-line text (``since``
    is converted); ``themes`` and ``networks`` may be given as terms (slug,
    label or a word of it) and are resolved.
    """
    if pid is None:
        pid = shorten(slugify(city), MAX_ID_LENGTH)
        if not pid:
            raise InvalidInput(f"cannot make an id from the city name {city!r}; give one with --id")
    _check_new_id(reg, pid, "choose another id with --id")
    _check_name_free(reg, pid, city)
    for alias in fields.get("aliases") or []:
        _check_name_free(reg, pid, alias)
    data = {"city": city, "country": country,
            **{k: _convert(k, v) if isinstance(v, str) else v for k, v in fields.items()}}
    for field in ("themes", "networks"):
        data[field] = _list_values(reg, field, data.get(field) or [])
    reg.partnerships[pid] = build(Partnership, data, f"invalid partnership {pid}")
    return pid


def rename_partnership(reg: Registry, pid: str, new_id: str) -> str:
    """Give partnership *pid* the id *new_id*; returns the new id."""
    if new_id == pid:
        raise InvalidInput(f"{pid!r} is already the id of this partnership")
    _check_new_id(reg, new_id, "choose another new id")
    reg.partnerships[new_id] = reg.partnerships.pop(pid)
    return new_id


def remove_partnership(reg: Registry, pid: str) -> Partnership:
    """Remove partnership *pid* with its events and contacts; returns it."""
    return reg.partnerships.pop(pid)


# --- events --------------------------------------------------------------------------------

EVENT_UNSETTABLE = ("end", "description", "themes", "links")


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
        raise Ambiguous(f"event {ref!r} of {pid} is ambiguous: {ids}")
    raise NotFound(f"{pid} has no event {ref!r}; its events: {ids}")


def edit_event(reg: Registry, pid: str, ref: str, changes: dict[str, Any], unset: list[str]) -> Event:
    """Change the fields of one event (None keeps a field); *unset* names fields to remove.

    ``themes`` are resolved like ``add-event --theme``; ``id`` renames the event.
    """
    p = reg.partnerships[pid]
    i = find_event(p, pid, ref)
    changes = _changes(changes, unset, EVENT_UNSETTABLE, "--date, --end, --title, --description, --theme, --link, --id")
    if changes.get("themes"):
        changes["themes"] = query.resolve_themes(reg, changes["themes"])
    new_id = changes.get("id")
    if new_id is not None and new_id != p.events[i].id and new_id in {e.id for e in p.events}:
        raise InvalidInput(f"{pid} already has an event {new_id!r}")
    event = build(Event, {**p.events[i].model_dump(), **changes}, "invalid event")
    p.events[i] = event
    return event


def _changes(changes: dict[str, Any], unset: list[str], unsettable: tuple[str, ...], options: str) -> dict[str, Any]:
    """The fields to change (None: keep) and to remove (*unset*, as None), checked against each other."""
    changes = {k: v for k, v in changes.items() if v is not None}
    for name in unset:
        if name not in unsettable:
            raise InvalidInput(f"--unset {name!r}: only {', '.join(unsettable)} can be unset")
        if name in changes:
            raise InvalidInput(f"--unset {name} and a new {name} contradict each other")
    if not changes and not unset:
        raise InvalidInput(f"nothing to change: give {options} or --unset")
    return {**changes, **dict.fromkeys(unset)}


def remove_event(reg: Registry, pid: str, ref: str) -> Event:
    """Remove one event of *pid*; returns it."""
    p = reg.partnerships[pid]
    return p.events.pop(find_event(p, pid, ref))


# --- contacts ------------------------------------------------------------------------------

CONTACT_UNSETTABLE = ("role", "organisation", "email", "phone")


def find_contact(p: Partnership, pid: str, name: str) -> int:
    """Index of the contact named *name* (any case, accents optional)."""
    for i, c in enumerate(p.contacts):
        if fold(c.name.strip()) == fold(name.strip()):
            return i
    names = ", ".join(c.name for c in p.contacts) or "none"
    raise NotFound(f"{pid} has no contact {name!r}; its contacts: {names}")


def _check_contact_free(p: Partnership, pid: str, name: str, but: int | None = None) -> None:
    for i, c in enumerate(p.contacts):
        if i != but and fold(c.name.strip()) == fold(name.strip()):
            raise InvalidInput(f"{pid} already has a contact named {c.name!r}")


def add_contact(reg: Registry, pid: str, **fields: str | None) -> Contact:
    """Add a contact to *pid* (name, role, organisation, email, phone); returns it."""
    p = reg.partnerships[pid]
    contact = build(Contact, fields, "invalid contact")
    _check_contact_free(p, pid, contact.name)
    p.contacts.append(contact)
    return contact


def edit_contact(reg: Registry, pid: str, name: str, changes: dict[str, Any], unset: list[str]) -> Contact:
    """Change the fields of the contact named *name* (None keeps a field); *unset* removes fields."""
    p = reg.partnerships[pid]
    i = find_contact(p, pid, name)
    changes = _changes(changes, unset, CONTACT_UNSETTABLE, "--name, --role, --organisation, --email, --phone")
    contact = build(Contact, {**p.contacts[i].model_dump(), **changes}, "invalid contact")
    _check_contact_free(p, pid, contact.name, but=i)
    p.contacts[i] = contact
    return contact


def remove_contact(reg: Registry, pid: str, name: str) -> Contact:
    """Remove the contact named *name* from *pid*; returns it."""
    p = reg.partnerships[pid]
    return p.contacts.pop(find_contact(p, pid, name))


# --- vocabularies --------------------------------------------------------------------------

def _vocab(reg: Registry, kind: str) -> dict[str, str]:
    return reg.themes if kind == "theme" else reg.networks


def _check_vocab_entry(kind: str, slug: str, label: str) -> None:
    if not is_slug(slug):
        raise InvalidInput(f"{kind} slug {slug!r} is not a slug (lower-case letters and digits joined "
                           f"by hyphens, e.g. {slugify(slug) or 'urban-mobility'!r})")
    if length_problem(slug):
        raise InvalidInput(f"{kind} slug {length_problem(slug)}")
    try:
        check_name(label)
    except ValueError as exc:
        raise InvalidInput(f"{kind} label must be one line of text, not {label!r} ({exc})") from None


def _declared(reg: Registry, kind: str, slug: str) -> str:
    """*slug* itself if declared; else the error names what it may have meant."""
    vocab = _vocab(reg, kind)
    if slug in vocab:
        return slug
    try:
        close = sorted(query.match_vocab(vocab, slug, kind))
    except InvalidInput:
        close = []
    hint = f"; did you mean {', '.join(close)}?" if close else f"; declared: {', '.join(sorted(vocab)) or 'none'}"
    raise InvalidInput(f"no {kind} with the slug {slug!r}{hint}")


def _users(reg: Registry, kind: str, slug: str) -> tuple[list[str], int]:
    """Partnerships that use *slug*, and how many events name it (themes only)."""
    field = f"{kind}s"
    pids = sorted(pid for pid, p in reg.partnerships.items() if slug in getattr(p, field))
    events = sum(slug in e.themes for p in reg.partnerships.values() for e in p.events) if kind == "theme" else 0
    return pids, events


def vocab_entry(reg: Registry, kind: str, slug: str) -> dict[str, Any]:
    """The JSON form of one vocabulary entry, as ``themes --format json`` prints it."""
    return {"slug": slug, "label": _vocab(reg, kind)[slug], "partnerships": len(_users(reg, kind, slug)[0])}


def add_vocab(reg: Registry, kind: str, slug: str, label: str) -> str:
    """Declare a new theme or network; returns its slug."""
    _check_vocab_entry(kind, slug, label)
    vocab = _vocab(reg, kind)
    if slug in vocab:
        raise InvalidInput(f"{kind} {slug!r} already exists ({vocab[slug]})")
    vocab[slug] = label
    return slug


def rename_vocab(reg: Registry, kind: str, old: str, new: str, label: str | None = None) -> str:
    """Rename a theme or network (and relabel it with *label*) everywhere it is used; returns the new slug."""
    vocab = _vocab(reg, kind)
    old = _declared(reg, kind, old)
    label = vocab[old] if label is None else label
    _check_vocab_entry(kind, new, label)
    if new != old and new in vocab:
        raise InvalidInput(f"{kind} {new!r} already exists ({vocab[new]})")
    if new == old and label == vocab[old]:
        raise InvalidInput(f"nothing to change: {kind} {old!r} already has that slug and label")
    del vocab[old]
    vocab[new] = label

    def swap(slugs: list[str]) -> list[str]:
        # Keep the order; a list holding both old and new keeps one.
        out: list[str] = []
        for s in slugs:
            s = new if s == old else s
            if s not in out:
                out.append(s)
        return out

    for p in reg.partnerships.values():
        if kind == "theme":
            p.themes = swap(p.themes)
            for e in p.events:
                e.themes = swap(e.themes)
        else:
            p.networks = swap(p.networks)
    return new


def remove_vocab(reg: Registry, kind: str, slug: str, force: bool = False) -> dict[str, Any]:
    """Remove a theme or network; refused while in use unless *force*, which removes it from its users.

    Returns its entry as it was (``vocab_entry``).
    """
    slug = _declared(reg, kind, slug)
    entry = vocab_entry(reg, kind, slug)
    pids, events = _users(reg, kind, slug)
    if (pids or events) and not force:
        shown = ", ".join(pids[:10]) + (f" and {len(pids) - 10} more" if len(pids) > 10 else "")
        used = f"{counted(len(pids), 'partnership')} ({shown})" if pids else ""
        used += (" and " if pids and events else "") + (counted(events, "event") if events else "")
        raise InvalidInput(f"{kind} {slug!r} is used by {used}; --force removes it from them too")
    del _vocab(reg, kind)[slug]
    for p in reg.partnerships.values():
        if kind == "theme":
            p.themes = [s for s in p.themes if s != slug]
            for e in p.events:
                e.themes = [s for s in e.themes if s != slug]
        else:
            p.networks = [s for s in p.networks if s != slug]
    return entry


# --- whole registries ----------------------------------------------------------------------

def new_registry(owner: str, country: str | None, themes: dict[str, str]) -> Registry:
    """An empty registry of *owner* with the theme vocabulary *themes* and no networks."""
    head = build(Owner, {"owner": owner, "country": country}, "invalid owner")
    return Registry(registry=head, themes=dict(themes))


_JSONL_KEYS = ("partner", "date", "end", "title", "description", "themes", "links")


def add_events_jsonl(reg: Registry, lines: Iterable[str]) -> list[tuple[str, Event]]:
    """Add one event per JSON line (``{"partner": ..., "date": ..., "title": ...}``), all or nothing.

    Blank lines are skipped. The first bad line raises its error prefixed with
    ``line N:``; the caller writes nothing then.
    """
    added = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            added.append(_add_event_line(reg, line))
        except PartnerctlError as exc:
            raise type(exc)(f"line {n}: {exc}") from None
    return added


def _add_event_line(reg: Registry, line: str) -> tuple[str, Event]:
    from partnerctl.formats.output import loads_json

    try:
        item = loads_json(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(item, dict):
        raise InvalidInput("not a JSON object")
    unknown = sorted(set(item) - set(_JSONL_KEYS))
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r}; known keys: {', '.join(_JSONL_KEYS)}")
    item = {k: v for k, v in item.items() if v is not None}
    for key in ("partner", "date", "title"):
        if not isinstance(item.get(key), str):
            raise InvalidInput(f"{key!r} must be given, as a string")
    for key in ("themes", "links"):
        if not isinstance(item.get(key, []), list) or not all(isinstance(v, str) for v in item.get(key, [])):
            raise InvalidInput(f"{key!r} must be a list of strings")
    pid = query.resolve(reg, item["partner"])
    return pid, add_event(reg, pid, date=item["date"], title=item["title"], end=item.get("end"),
                          description=item.get("description"), themes=item.get("themes"), links=item.get("links"))


# --- one partnership as TOML (``partnerctl edit``) ------------------------------------------

def block_text(reg: Registry, pid: str) -> str:
    """Partnership *pid* as the TOML block the registry holds for it."""
    return tomlfile.dump_block(pid, reg.partnerships[pid])


def parse_block(reg: Registry, pid: str, text: str) -> Partnership:
    """The partnership in an edited block, validated against *reg*'s vocabularies.

    The text must hold exactly the table ``[partnerships.<pid>]`` (with its
    events and contacts); anything else is InvalidInput saying what is wrong.
    """
    data, problems = tomlfile.parse(text, "edited text")
    if data is None:
        raise InvalidInput(str(problems[0]))
    tables = data.get("partnerships")
    others = sorted(set(data) - {"partnerships"})
    if others:
        raise InvalidInput(f"only the table [partnerships.{pid}] may be in the text, not [{others[0]}]")
    if not isinstance(tables, dict) or list(tables) != [pid]:
        # A renamed header leaves the events' [[partnerships.<old>.events]] behind: one new id is a rename.
        new_ids = [t for t in tables if t != pid] if isinstance(tables, dict) else []
        left = tables.get(pid, {}) if isinstance(tables, dict) else {}
        if len(new_ids) == 1 and isinstance(left, dict) and set(left) <= {"events", "contacts"}:
            raise InvalidInput(f"the id cannot change here (found [partnerships.{new_ids[0]}]); keep "
                               f"{pid} and rename it with: partnerctl rename {pid} {new_ids[0]}")
        raise InvalidInput(f"the text must hold exactly one partnership, [partnerships.{pid}]"
                           + (f"; found {', '.join(new_ids)}" if new_ids else ""))
    try:
        p = Partnership.model_validate(tables[pid])
    except ValidationError as exc:
        raise InvalidInput(str(problems_of(exc, f"partnerships.{pid}")[0])) from None
    problems = partnership_references(pid, p, reg.themes, reg.networks)
    if problems:
        raise InvalidInput(str(problems[0]))
    _check_names_free(reg, pid, p)
    return p


def _check_names_free(reg: Registry, pid: str, p: Partnership) -> None:
    """``_check_name_free`` for the city and every alias of *p*, the new version of *pid*."""
    for name in (p.city, *p.aliases):
        _check_name_free(reg, pid, name)


def put_block(reg: Registry, pid: str, before: str, p: Partnership) -> Partnership:
    """Replace partnership *pid* by *p*, if it is still as it was when the edit began (*before*).

    The names are checked again: another partnership may have taken one while the editor was open.
    """
    if block_text(reg, pid) != before:
        raise WriteFailed(f"{pid} was changed by someone else while you edited; run edit again")
    _check_names_free(reg, pid, p)
    reg.partnerships[pid] = p
    return p


def run_editor(text: str, prefix: str) -> str:
    """Let the user edit *text* in ``$VISUAL`` / ``$EDITOR`` (default ``vi``); returns the saved text.

    The editor gets a temporary ``.toml`` file (removed afterwards). An editor
    that cannot start, or exits with a failure (vim's ``:cq``), is InvalidInput.
    """
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            status = subprocess.call([*shlex.split(editor), name])
        except OSError as exc:
            raise InvalidInput(f"cannot run the editor {editor!r}: {exc.strerror}; set $VISUAL or $EDITOR") from None
        if status != 0:
            raise InvalidInput(f"the editor {editor!r} exited with status {status}; nothing changed")
        try:
            return Path(name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the edited text is not UTF-8; nothing changed") from None
        except OSError as exc:
            # The editor removed the file, or put a folder in its place.
            raise InvalidInput(f"cannot read the edited file {name}: {exc.strerror}; nothing changed") from None
    finally:
        _remove_temp(name)


def _remove_temp(name: str) -> None:
    """Remove the editor's temporary file, or whatever the editor left at its name."""
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
    except OSError:  # a folder: the name is ours (mkstemp), so is what is under it
        shutil.rmtree(name, ignore_errors=True)
