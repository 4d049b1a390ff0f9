"""The data model (pydantic v2) and its checks.

Validation happens in two stages, as in beancount: ``parse_registry`` checks the
shape of each value (schema), then ``check_references`` checks what the schema
cannot see alone (every theme and network named is declared). Both return
problems with their location instead of stopping at the first one.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from partnerctl import dates
from partnerctl.errors import Problem
from partnerctl.names import is_slug
from partnerctl.query import STATUSES  # noqa: F401 - defined there, for readers that skip the model

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEB_LINK_RE = re.compile(r"^https?://[^\s\"'<>\\`]+$")


def is_web_link(text: str) -> bool:
    """Whether *text* is a plain http(s) address, safe to publish as a link (no ``javascript:``)."""
    return bool(_WEB_LINK_RE.match(text))


def _slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError(f"{value!r} is not a slug (lower-case letters and digits joined by hyphens)")
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


def _email(value: str) -> str:
    _valid_text(value)
    if not _EMAIL_RE.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


def _year(value: int) -> int:
    if not 1 <= value <= 9999:
        raise ValueError(f"{value} is not a year")
    return value


# Every text field is one of these: each refuses what is not valid text (_valid_text).
Str = Annotated[str, AfterValidator(_valid_text)]
Slug = Annotated[str, AfterValidator(_slug)]
PartialDate = Annotated[str, AfterValidator(dates.validate)]
Text = Annotated[str, AfterValidator(_not_blank)]
Line = Annotated[str, AfterValidator(_one_line)]
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

    name: Line
    role: Str | None = None
    organisation: Str | None = None
    email: Email | None = None
    phone: Str | None = None


class Partnership(_Model):
    """One relation between the owner and a partner city."""

    city: Line
    aliases: list[Line] = Field(default_factory=list)
    country: Line
    region: Str | None = None
    owner: Str | None = None
    owner_country: Str | None = None
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

    owner: Text
    country: Str | None = None


class Registry(_Model):
    """A whole registry: owner, vocabularies and partnerships by id."""

    registry: Owner
    themes: dict[Slug, Text] = Field(default_factory=dict)
    networks: dict[Slug, Text] = Field(default_factory=dict)
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


def parse_registry(data: dict[str, Any]) -> tuple[Registry | None, list[Problem]]:
    """Validate the schema of a parsed TOML document."""
    try:
        return Registry.model_validate(data), []
    except ValidationError as exc:
        return None, problems_of(exc)


def check_references(reg: Registry) -> list[Problem]:
    """Every theme and network a partnership or event names must be declared."""
    problems = []
    for pid, p in reg.partnerships.items():
        base = f"partnerships.{pid}"
        for kind, vocab, used in (("theme", reg.themes, p.themes), ("network", reg.networks, p.networks)):
            problems += [Problem(f"{base}.{kind}s", f"undeclared {kind} {slug!r}")
                         for slug in used if slug not in vocab]
        for i, event in enumerate(p.events):
            problems += [Problem(f"{base}.events[{i}].themes", f"undeclared theme {slug!r}")
                         for slug in event.themes if slug not in reg.themes]
    return problems


def validate_registry(data: dict[str, Any]) -> tuple[Registry | None, list[Problem]]:
    """Schema then references: the registry, or None and every problem found."""
    reg, problems = parse_registry(data)
    if reg is None:
        return None, problems
    problems = check_references(reg)
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
