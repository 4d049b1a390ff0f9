"""The data model (pydantic v2) and its checks.

Validation happens in two stages, as in beancount: ``parse_registry`` checks the
shape of each value (schema), then ``check_references`` checks what the schema
cannot see alone (every theme and network named is declared). Both return
problems with their location instead of stopping at the first one, and the
second reads the raw document, so a type error does not hide a reference problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from partnerctl.core import dates
from partnerctl.core.errors import Problem
from partnerctl.core.names import invisible, is_slug
from partnerctl.core.query import STATUSES  # noqa: F401 - defined there, for readers that skip the model

# An address and nothing else: no query (``?bcc=...&body=...``), fragment, path, percent
# escape, quote, bracket, space or control character, one @, and a dotted domain.
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f-\x9f?&#/%<>\"'`\\()\[\],;:]+@(?:[^\W_](?:(?:[^\W_]|-)*[^\W_])?\.)+[^\W\d_]{2,}$")
_WEB_LINK_RE = re.compile(r"^https?://[^\s\"'<>\\`]+$")


def is_web_link(text: str) -> bool:
    """Whether *text* is a plain http(s) address, safe to publish as a link (no ``javascript:``)."""
    return bool(_WEB_LINK_RE.match(text))


def is_email(text: str) -> bool:
    """Whether *text* is a plain e-mail address, safe to publish as a ``mailto:`` link (no query)."""
    return bool(_EMAIL_RE.match(text)) and not invisible(text)


# Ids and slugs name files of the exported site (<id>.html) and calendar UIDs
# (<event-id>.<id>@partnerctl, often stored as <uid>.ics): 100 keeps all of them under
# the 255 bytes of a file name, with room for a temporary name's prefix and suffix.
MAX_ID_LENGTH = 100


def length_problem(slug: str) -> str | None:
    """Why *slug* is too long for an id or a vocabulary slug, or None when it is not."""
    if len(slug) <= MAX_ID_LENGTH:
        return None
    return (f"{slug[:20]!r}... is {len(slug)} characters long; ids and slugs have at most {MAX_ID_LENGTH} "
            "(they name files of the exported site)")


def _slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError(f"{value!r} is not a slug (lower-case letters and digits joined by hyphens)")
    too_long = length_problem(value)
    if too_long:
        raise ValueError(too_long)
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_text(value: str) -> str:
    # A lone surrogate (JSON's "\ud800", undecodable bytes) is not a character: no UTF-8 file can hold it.
    found = _SURROGATE.search(value)
    if found:
        raise ValueError(f"not valid text: a lone surrogate {found.group()!r} at character {found.start() + 1}")
    return value


def _not_blank(value: str) -> str:
    _valid_text(value)
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _one_line(value: str) -> str:
    _not_blank(value)
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line")
    return value


def _visible(value: str) -> str:
    found = invisible(value)
    if found:
        # A name holding them looks like another ("Tu\u200brin" is Turin) or reads backwards.
        raise ValueError(f"must not hold invisible or bidirectional control characters ({', '.join(found)})")
    return value


def check_name(value: str) -> str:
    """A name (of a city, country or person) or vocabulary label: one line, nothing invisible
    (``names.INVISIBLE``); ValueError saying why not."""
    return _visible(_one_line(value))


def _email(value: str) -> str:
    _valid_text(value)
    if not is_email(value):
        raise ValueError(f"{value!r} is not an e-mail address (a plain address, such as ann@example.org)")
    return value


def _year(value: int) -> int:
    if not 1 <= value <= 9999:
        raise ValueError(f"{value} is not a year")
    return value


# Every text field is one of these: each refuses what is not valid text (_valid_text).
Str = Annotated[str, AfterValidator(_valid_text)]
Slug = Annotated[str, AfterValidator(_slug)]
PartialDate = Annotated[str, AfterValidator(dates.validate)]
Line = Annotated[str, AfterValidator(_one_line)]
# Names (of cities, countries, people) and labels: one line, nothing invisible.
Name = Annotated[str, AfterValidator(check_name)]
# Owner names that the model never held to one line: nothing invisible only.
Visible = Annotated[str, AfterValidator(_valid_text), AfterValidator(_visible)]
Email = Annotated[str, AfterValidator(_email)]
Year = Annotated[int, AfterValidator(_year)]


def _newlines(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, list):
        return [_newlines(v) for v in value]
    return value


class _Model(BaseModel):
    # Strict: TOML values are typed, so "1991" (a string) for a year is a mistake to report.
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _normalise_newlines(cls, data: Any) -> Any:
        # TOML multi-line strings read \r\n back as \n: store \n only, so a save is stable.
        if isinstance(data, dict):
            return {k: _newlines(v) for k, v in data.items()}
        return data


class Event(_Model):
    """A dated key event of a partnership."""

    id: Slug
    date: PartialDate
    end: PartialDate | None = None
    title: Line
    description: Str | None = None
    themes: list[Slug] = Field(default_factory=list)
    links: list[Str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _end_after_start(self) -> Event:
        if self.end is not None and dates.sort_key(self.end) < dates.sort_key(self.date):
            raise ValueError(f"end {self.end} is before date {self.date}")
        return self


class Contact(_Model):
    """Someone to call about a partnership."""

    name: Name
    role: Str | None = None
    organisation: Str | None = None
    email: Email | None = None
    phone: Str | None = None


class Partnership(_Model):
    """One relation between the owner and a partner city."""

    city: Name
    aliases: list[Name] = Field(default_factory=list)
    country: Name
    region: Str | None = None
    owner: Visible | None = None
    owner_country: Visible | None = None
    status: Literal["active", "suspended", "ended"] | None = None
    kind: Str | None = None
    since: Year | None = None
    since_note: Str | None = None
    themes: list[Slug] = Field(default_factory=list)
    networks: list[Slug] = Field(default_factory=list)
    projects: list[Line] = Field(default_factory=list)
    links: list[Str] = Field(default_factory=list)
    summary: Str | None = None
    events: list[Event] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_event_ids(self) -> Partnership:
        seen: set[str] = set()
        for event in self.events:
            if event.id in seen:
                raise ValueError(f"two events have the id {event.id!r}")
            seen.add(event.id)
        return self


class Owner(_Model):
    """Whose relations the registry holds."""

    owner: Annotated[str, AfterValidator(_not_blank), AfterValidator(_visible)]
    country: Visible | None = None


class Registry(_Model):
    """A whole registry: owner, vocabularies and partnerships by id."""

    registry: Owner
    themes: dict[Slug, Name] = Field(default_factory=dict)
    networks: dict[Slug, Name] = Field(default_factory=dict)
    partnerships: dict[Slug, Partnership] = Field(default_factory=dict)


PARTNERSHIP_FIELDS = tuple(Partnership.model_fields)
EVENT_FIELDS = tuple(Event.model_fields)
CONTACT_FIELDS = tuple(Contact.model_fields)


def _where(loc: tuple[Any, ...], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).endswith("[key]"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "registry"


def problems_of(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Turn a pydantic error into problems located by their key path."""
    problems = []
    for err in exc.errors(include_url=False):
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        problems.append(Problem(_where(err["loc"], prefix), message))
    return problems


# Partnerships are validated this many at a time, so a progress bar can move between chunks
# (pydantic holds the GIL for a whole call: one call for 26,000 partnerships froze it).
CHUNK = 1000
_PARTNERSHIPS: TypeAdapter[dict[str, Partnership]] = TypeAdapter(dict[Slug, Partnership],
                                                                 config=ConfigDict(strict=True))


def parse_registry(data: dict[str, Any],
                   tick: Callable[[int, int], None] | None = None) -> tuple[Registry | None, list[Problem]]:
    """Validate the schema of a parsed TOML document.

    The partnerships are validated ``CHUNK`` at a time; *tick* gets (validated so far, total) after each chunk.
    """
    parts = data.get("partnerships")
    chunked = isinstance(parts, dict)
    problems: list[Problem] = []
    reg = None
    try:
        reg = Registry.model_validate({k: v for k, v in data.items() if k != "partnerships"} if chunked else data)
    except ValidationError as exc:
        problems += problems_of(exc)
    validated: dict[str, Partnership] = {}
    if chunked:
        items = list(parts.items())
        for start in range(0, len(items), CHUNK):
            try:
                validated.update(_PARTNERSHIPS.validate_python(dict(items[start:start + CHUNK])))
            except ValidationError as exc:
                problems += problems_of(exc, "partnerships")
            if tick is not None:
                tick(min(start + CHUNK, len(items)), len(items))
    if reg is None or problems:
        return None, problems
    if chunked:
        reg.partnerships = validated
    return reg, []


def _given(obj: Any, name: str) -> Any:
    """Field *name* of a model, or key *name* of raw data (None when absent)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _strings(value: Any) -> list[str]:
    """The strings of a list; anything else is the schema's to report, not a reference."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def undeclared(p: Any, themes: Container[str] | None,
               networks: Container[str] | None) -> list[tuple[str, str, str]]:
    """(key path in the partnership, kind, slug) of each theme and network *p* or its events name undeclared.

    *p* is a Partnership or its raw data; values of the wrong type are skipped (the
    schema reports them). A vocabulary given as None is unknown and not checked.
    """
    found = []
    for kind, vocab in (("theme", themes), ("network", networks)):
        if vocab is not None:
            found += [(f"{kind}s", kind, slug) for slug in _strings(_given(p, f"{kind}s")) if slug not in vocab]
    events = _given(p, "events")
    if themes is not None and isinstance(events, list):
        for i, event in enumerate(events):
            if isinstance(event, (dict, Event)):
                found += [(f"events[{i}].themes", "theme", slug)
                          for slug in _strings(_given(event, "themes")) if slug not in themes]
    return found


def partnership_references(pid: str, p: Any, themes: Container[str] | None,
                           networks: Container[str] | None) -> list[Problem]:
    """``undeclared`` as problems located in the registry (``partnerships.<pid>.themes``)."""
    return [Problem(f"partnerships.{pid}.{path}", f"undeclared {kind} {slug!r}")
            for path, kind, slug in undeclared(p, themes, networks)]


def check_references(data: dict[str, Any]) -> list[Problem]:
    """Every theme and network a partnership or event names must be declared.

    Reads the parsed document as it is, whatever its schema problems: a value of the
    wrong type is skipped, not a reason to stop, so ``validate`` reports every problem.
    """
    def vocab(key: str) -> dict[str, Any] | None:
        value = data.get(key, {})
        return value if isinstance(value, dict) else None

    parts = data.get("partnerships")
    if not isinstance(parts, dict):
        return []
    themes, networks = vocab("themes"), vocab("networks")
    return [problem for pid, p in parts.items() if isinstance(p, dict)
            for problem in partnership_references(pid, p, themes, networks)]


def validate_registry(data: dict[str, Any],
                      tick: Callable[[int, int], None] | None = None) -> tuple[Registry | None, list[Problem]]:
    """Schema and references: the registry, or None and every problem found (both kinds at once)."""
    reg, problems = parse_registry(data, tick)
    problems += check_references(data)
    return (reg if not problems else None), problems


def _compact(model: BaseModel) -> dict[str, Any]:
    """Model as a dict in field order, without empty values (the TOML form)."""
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            value = [_compact(v) for v in value]
        out[name] = value
    return out


def sorted_events(events: list[Event]) -> list[Event]:
    """Events in chronological order; events on the same date keep their order."""
    return sorted(events, key=lambda e: dates.sort_key(e.date))


def partnership_data(p: Partnership) -> dict[str, Any]:
    """The canonical TOML form of a partnership (empty values left out, events sorted)."""
    data = _compact(p.model_copy(update={"events": sorted_events(p.events)}))
    return data


def registry_data(reg: Registry) -> dict[str, Any]:
    """The canonical TOML form of a registry's head (owner and vocabularies)."""
    return {
        "registry": _compact(reg.registry),
        "themes": dict(sorted(reg.themes.items())),
        "networks": dict(sorted(reg.networks.items())),
    }


def record(pid: str, p: Partnership) -> dict[str, Any]:
    """The JSON form of a partnership: every field present, dates as partial-date strings.

    ``show`` and ``list`` print exactly this, so scripts see one shape.
    """
    data = p.model_dump(mode="json")
    data["events"] = [e.model_dump(mode="json") for e in sorted_events(p.events)]
    return {"id": pid, **data}
