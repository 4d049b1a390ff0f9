"""The data model: one declaration per field, its type and its surfaces (``fields.Meta``) together.

The models are standard dataclasses whose field types carry their checks as
``Check`` markers. Declaring them costs no pydantic import, so the read path
(which answers from the index) can read the field table without paying for it;
validation builds pydantic adapters from the same annotations when it is first
needed (``validate``), with these rules: unknown keys are errors, and scalar
values are strict (TOML values are typed: ``since = "1991"`` is a mistake to report).

Validation happens in two stages, as in beancount: ``parse_registry`` checks the
shape of each value (schema), then ``check_references`` checks what the schema
cannot see alone (every theme and network named is declared). Both return
problems with their location instead of stopping at the first one, and the
second reads the raw document, so a type error does not hide a reference problem.
"""

# No ``from __future__ import annotations`` here: the field table reads the fields' annotations
# (``typing.get_type_hints``), and objects cost nothing to read where strings are compiled and
# evaluated on every run (2 ms of every command).
import re
from collections.abc import Callable, Container, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeVar

from partnerctl.core import dates
from partnerctl.core.errors import Problem
from partnerctl.core.fields import STATUSES, Fact, FieldSpec, Meta, Table, spec_of
from partnerctl.core.i18n import N_, _
from partnerctl.core.names import invisible, is_slug

if TYPE_CHECKING:
    from pydantic_core import ValidationError

# An address and nothing else: no query (``?bcc=...&body=...``), fragment, path, percent
# escape, quote, bracket, space or control character, one @, and a dotted domain.
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f-\x9f?&#/%<>\"'`\\()\[\],;:]+"
                       r"@(?:[^\W_](?:(?:[^\W_]|-)*[^\W_])?\.)+[^\W\d_]{2,}$")
_WEB_LINK_RE = re.compile(r"^https?://[^\s\"'<>\\`]+$")

# Ids and slugs name files of the exported site (<id>.html) and calendar UIDs
# (<event-id>.<id>@partnerctl, often stored as <uid>.ics): 100 keeps all of them under
# the 255 bytes of a file name, with room for a temporary name's prefix and suffix.
MAX_ID_LENGTH = 100


def is_web_link(text: str) -> bool:
    """Whether *text* is a plain http(s) address, safe to publish as a link (no ``javascript:``)."""
    return bool(_WEB_LINK_RE.match(text))


def is_email(text: str) -> bool:
    """Whether *text* is a plain e-mail address, safe to publish as a ``mailto:`` link (no query)."""
    return bool(_EMAIL_RE.match(text)) and not invisible(text)


def length_problem(slug: str) -> str | None:
    """Why *slug* is too long for an id or a vocabulary slug, or None when it is not."""
    if len(slug) <= MAX_ID_LENGTH:
        return None
    return _("{start!r}... is {n} characters long; ids and slugs have at most {most} (they name files of the "
             "exported site)").format(start=slug[:20], n=len(slug), most=MAX_ID_LENGTH)


# --- checks: plain functions, raising ValueError with the message a user reads ----------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_text(value: str) -> str:
    # A lone surrogate (JSON's "\ud800", undecodable bytes) is not a character: no UTF-8 file can hold it.
    found = _SURROGATE.search(value)
    if found:
        raise ValueError(_("not valid text: a lone surrogate {group!r} at character {value}").format(
            group=found.group(), value=found.start() + 1))
    return value


def _slug(value: str) -> str:
    _valid_text(value)
    if not is_slug(value):
        raise ValueError(_("{value!r} is not a slug (lower-case letters and digits joined by hyphens)").format(
            value=value))
    too_long = length_problem(value)
    if too_long:
        raise ValueError(too_long)
    return value


def _not_blank(value: str) -> str:
    _valid_text(value)
    if not value.strip():
        raise ValueError(_("must not be empty"))
    return value


def _one_line(value: str) -> str:
    _not_blank(value)
    if "\n" in value or "\r" in value:
        raise ValueError(_("must be a single line"))
    return value


def _visible(value: str) -> str:
    _valid_text(value)
    found = invisible(value)
    if found:
        # A name holding them looks like another ("Tu\u200brin" is Turin) or reads backwards.
        raise ValueError(_("must not hold invisible or bidirectional control characters ({items})").format(
            items=', '.join(found)))
    return value


def check_name(value: str) -> str:
    """A name (of a city, country or person) or vocabulary label: one line, nothing invisible
    (``names.INVISIBLE``); ValueError saying why not."""
    return _visible(_one_line(value))


def _owner_name(value: str) -> str:
    return _visible(_not_blank(value))


def _email(value: str) -> str:
    _valid_text(value)
    if not is_email(value):
        raise ValueError(_("{value!r} is not an e-mail address (a plain address, such as "
                           "ann@example.org)").format(value=value))
    return value


def _date(value: str) -> str:
    _valid_text(value)
    return dates.validate(value)


def _year(value: int) -> int:
    if not 1 <= value <= 9999:
        raise ValueError(_("{value} is not a year").format(value=value))
    return value


def _latitude(value: float) -> float:
    if not -90 <= value <= 90:
        raise ValueError(_("{value} is not a latitude (-90 to 90 degrees)").format(value=value))
    return float(value)


def _longitude(value: float) -> float:
    if not -180 <= value <= 180:
        raise ValueError(_("{value} is not a longitude (-180 to 180 degrees)").format(value=value))
    return float(value)


def _country_code(value: str) -> str:
    _valid_text(value)
    from partnerctl.core import countries

    problem = countries.code_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class Check(NamedTuple):
    """A strict scalar (``str`` or ``int``) and the function that checks its value.

    A marker in a field's ``Annotated`` metadata. Pydantic asks it for its schema
    only when a model is validated, so declaring the models imports no pydantic.
    """

    fn: Callable[[Any], Any]
    kind: Literal["str", "int", "float", "bool"] = "str"

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        # Strict: "1991" is not a year, 1 is not a string, True is not a number, "yes" is not true (a float
        # takes an int: TOML writes 45 for 45.0).
        base = {"int": core_schema.int_schema(strict=True), "float": core_schema.float_schema(strict=True),
                "bool": core_schema.bool_schema(strict=True), "str": core_schema.str_schema(strict=True)}[self.kind]
        return core_schema.no_info_after_validator_function(self.fn, base)


# Every text field is one of these: each refuses what is not valid text (_valid_text).
Str = Annotated[str, Check(_valid_text)]
Slug = Annotated[str, Check(_slug)]
PartialDate = Annotated[str, Check(_date)]
Line = Annotated[str, Check(_one_line)]
# Names (of cities, countries, people) and labels: one line, nothing invisible.
Name = Annotated[str, Check(check_name)]
# Owner names that the model never held to one line: nothing invisible only.
Visible = Annotated[str, Check(_visible)]
OwnerName = Annotated[str, Check(_owner_name)]
Email = Annotated[str, Check(_email)]
Year = Annotated[int, Check(_year, "int")]
# A country as its ISO 3166 code: ``IT``, ``GB-ENG`` (``core.countries``).
CountryCode = Annotated[str, Check(_country_code)]
Latitude = Annotated[float, Check(_latitude, "float")]
Longitude = Annotated[float, Check(_longitude, "float")]


def _flag(value: bool) -> bool:
    # A named function, not a lambda: the validators' schemas are cached by reference (``schemas``).
    return value


Flag = Annotated[bool, Check(_flag, "bool")]
Status = Literal["active", "suspended", "ended"]
# The languages a vocabulary label may be given in besides English, and the vocabularies.
Language = Literal["fr"]
VocabKey = Literal["themes", "networks", "regions"]
VOCABULARIES = ("themes", "networks", "regions")

# Models are validated with unknown keys refused (a typo must not be silently ignored).
_CONFIG = {"extra": "forbid"}


@dataclass(kw_only=True)
class Event:
    """A dated key event of a partnership."""

    __pydantic_config__ = _CONFIG

    id: Annotated[Slug, Meta("Id", edit="none", column=True)]
    date: Annotated[PartialDate, Meta("Date", help="YYYY, YYYY-MM or YYYY-MM-DD", column=True)]
    end: Annotated[PartialDate | None, Meta("End", help="End of a period (partial date)", column=True)] = None
    title: Annotated[Line, Meta("Title", help="One line", search=True, column=True)]
    description: Annotated[Str | None, Meta("Description", help="Free text", search=True, ask=True)] = None
    themes: Annotated[list[Slug], Meta("Themes", edit="list", vocab="theme", item="theme", short="-t",
                                       help="Theme (slug, label or a word of it); repeatable",
                                       column=True, ask=True)] = field(default_factory=list)
    links: Annotated[list[Str], Meta("Sources", edit="list", item="link",
                                     help="Source URL; repeatable")] = field(default_factory=list)
    notes: Annotated[Str | None, Meta("Notes", help="Internal notes (research, doubts): never published",
                                      search=True, internal=True)] = None
    internal: Annotated[Flag, Meta("Internal", help="The whole event is internal: never published",
                                   internal=True)] = False

    def __post_init__(self) -> None:
        if self.end is not None and dates.sort_key(self.end) < dates.sort_key(self.date):
            raise ValueError(_("end {end} is before date {date}").format(end=self.end, date=self.date))


@dataclass(kw_only=True)
class Contact:
    """Someone to call about a partnership."""

    __pydantic_config__ = _CONFIG

    name: Annotated[Name, Meta("Name", help="Full name", search=True, column=True)]
    role: Annotated[Str | None, Meta("Role", help="Role or title", search=True, column=True, ask=True)] = None
    organisation: Annotated[Str | None, Meta("Organisation", help="Organisation", search=True,
                                             column=True, ask=True)] = None
    email: Annotated[Email | None, Meta("E-mail", help="E-mail address", search=True, column=True,
                                        ask=True)] = None
    phone: Annotated[Str | None, Meta("Phone", help="Phone number", search=True, column=True, ask=True)] = None
    notes: Annotated[Str | None, Meta("Notes", help="Internal notes: never published", search=True,
                                      internal=True)] = None
    internal: Annotated[Flag, Meta("Internal", help="The whole contact is internal: never published",
                                   internal=True)] = False


@dataclass(kw_only=True)
class Partnership:
    """One relation between an owner city and a partner city."""

    __pydantic_config__ = _CONFIG

    city: Annotated[Name, Meta(
        "City name", help="The partner city's name", search=True, names=True, involving="city", column=True,
        table="value", sort=True, fact=Fact(20, ("{city} ({country})", ", also known as {aliases}")))]
    aliases: Annotated[list[Name], Meta(
        "Also known as", edit="list", item="alias", help="Another name of the city; repeatable", search=True,
        names=True, involving="city",
        fact=Fact(within="city"))] = field(default_factory=list)
    country: Annotated[CountryCode, Meta(
        "Country", help="The partner city's country: a code (IT, GB-ENG), a name (Italy, Italie) or an alias",
        country=True, filter="country", involving="country", stat="value", stat_order=4, column=True,
        table="value", sort=True, fact=Fact(within="city"))]
    region: Annotated[Slug | None, Meta(
        "World region", help="World region (a declared region; default: the country's)", vocab="region",
        default_from="country", filter="vocab", stat="value", stat_order=3, column=True, table="value",
        fact=Fact(10, ("{region}",)), ask=True)] = None
    owner: Annotated[Visible | None, Meta(
        "Owner", help="The owner city of this relation, when not the registry's own", filter="folded",
        involving="city", inherit="owner", stat="value", stat_order=7, many_owners=True, table="value",
        fact=Fact(1, ("{owner}", " ({owner_country})"), optional=True))] = None
    owner_country: Annotated[CountryCode | None, Meta(
        "Owner's country", help="That owner's country: a code, a name or an alias", country=True,
        inherit="country", filter="country", involving="country", stat="value", stat_name="owner-country",
        stat_order=8, many_owners=True, table="value", heading="owner's country",
        fact=Fact(within="owner"))] = None
    status: Annotated[Status | None, Meta(
        "Status", help="active, suspended or ended", filter="enum", stat="value", stat_order=6, column=True,
        fact=Fact(80, ("{status}",), optional=True), ask=True)] = None
    kind: Annotated[Str | None, Meta(
        "Kind of relation", help="Kind of relation (twinning, cooperation, ...)", column=True, table="value",
        fact=Fact(70, ("{kind}",), optional=True), ask=True)] = None
    since: Annotated[Year | None, Meta(
        "First year of the partnership", help="First year", filter="year", stat="decade", stat_name="decade",
        stat_order=5,
        column=True, table="value", heading="first year", sort=True,
        fact=Fact(40, ("{since}", " ({since_note})")), ask=True)] = None
    since_note: Annotated[Str | None, Meta(
        "About the first year", help="How sure the first year is", internal=True,
        fact=Fact(within="since"))] = None
    themes: Annotated[list[Slug], Meta(
        "Partnership treated", edit="list", vocab="theme", item="theme", short="-t",
        help="Theme (slug, label or a word of it); repeatable", filter="vocab", stat="each", stat_order=1,
        search=True, column=True, table="count", fact=Fact(30, ("{themes}",), tags=True),
        ask=True)] = field(default_factory=list)
    networks: Annotated[list[Slug], Meta(
        "International networks in common with {owner}", edit="list", vocab="network", item="network",
        short="-n", help="Network (slug, label or a word of it); repeatable", filter="vocab", stat="each",
        stat_order=2, search=True, column=True, table="labels",
        fact=Fact(50, ("{networks}",)), ask=True)] = field(default_factory=list)
    projects: Annotated[list[Line], Meta(
        "European projects in common with {owner}", edit="list", item="project", short="-p",
        help="European project; repeatable", filter="member", search=True, column=True,
        fact=Fact(60, ("{projects}",)))] = field(default_factory=list)
    links: Annotated[list[Str], Meta(
        "Sources", edit="list", item="link", help="Source URL; repeatable",
        section="sources")] = field(default_factory=list)
    summary: Annotated[Str | None, Meta(
        "Summary", help="The narrative", search=True, section="narrative")] = None
    lat: Annotated[Latitude | None, Meta(
        "Latitude", help="Latitude of the partner city, degrees north (-90 to 90); see locate")] = None
    lon: Annotated[Longitude | None, Meta(
        "Longitude", help="Longitude of the partner city, degrees east (-180 to 180); see locate")] = None
    notes: Annotated[Str | None, Meta(
        "Notes", help="Internal notes (research, doubts, who to ask): never published", search=True,
        section="notes", internal=True)] = None
    events: Annotated[list[Event], Meta(
        "Key dates", edit="none", section="timeline")] = field(default_factory=list)
    contacts: Annotated[list[Contact], Meta(
        "Contact", edit="none", section="contacts")] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for event in self.events:
            if event.id in seen:
                raise ValueError(_("two events have the id {id!r}").format(id=event.id))
            seen.add(event.id)


@dataclass(kw_only=True)
class Owner:
    """Whose relations the registry holds: one owner city (and its country), or a name for a registry
    of many owners (each partnership then names its own)."""

    __pydantic_config__ = _CONFIG

    name: Annotated[str, Check(check_name)] | None = None
    owner: OwnerName | None = None
    country: CountryCode | None = None

    def __post_init__(self) -> None:
        if self.owner is None and self.name is None:
            raise ValueError(_("a registry has an owner (the city whose relations it holds) or a name, or both"))
        if self.country is not None and self.owner is None:
            raise ValueError(_("country is the owner's country: a registry without an owner has none"))


@dataclass(kw_only=True)
class Registry:
    """A whole registry: owner, vocabularies, country aliases and partnerships by id."""

    __pydantic_config__ = _CONFIG

    registry: Owner
    # The English label of each entry: what filters match, JSON and CSV carry, and the fallback.
    themes: dict[Slug, Name] = field(default_factory=dict)
    networks: dict[Slug, Name] = field(default_factory=dict)
    # The world regions a partnership's region names (slug: label).
    regions: dict[Slug, Name] = field(default_factory=dict)
    # The registry's own country aliases (alias: code), over the shipped ones (``countries.default_aliases``).
    countries: dict[Name, CountryCode] = field(default_factory=dict)
    partnerships: dict[Slug, Partnership] = field(default_factory=dict)
    # Labels in the other languages: {"fr": {"themes": {slug: label}}}. In the file they are written
    # with the English one, ``urban-mobility = { en = "Urban mobility", fr = "Mobilité urbaine" }``
    # (``split_labels`` reads that form, ``registry_data`` writes it).
    translations: dict[Language, dict[VocabKey, dict[Slug, Name]]] = field(default_factory=dict)


_TABLE: list[Table] = []


def table() -> Table:
    """The field table of the model (``Partnership``, ``Event``, ``Contact``), built once.

    Reading it imports the model's module, which declares standard dataclasses and
    costs no pydantic import: the read path may call it.
    """
    if not _TABLE:
        import dataclasses
        import typing

        def specs(cls: type) -> tuple[FieldSpec, ...]:
            hints = typing.get_type_hints(cls, include_extras=True)
            out = []
            for f in dataclasses.fields(cls):
                annotation = hints[f.name]
                meta = next((m for m in getattr(annotation, "__metadata__", ()) if isinstance(m, Meta)), None)
                if meta is None:
                    raise TypeError(f"{cls.__name__}.{f.name} declares no fields.Meta")
                required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                out.append(spec_of(f.name, annotation, required, meta))
            return tuple(out)

        _TABLE.append(Table(specs(Partnership), specs(Event), specs(Contact)))
    return _TABLE[0]


PARTNERSHIP_FIELDS = tuple(Partnership.__dataclass_fields__)
EVENT_FIELDS = tuple(Event.__dataclass_fields__)
CONTACT_FIELDS = tuple(Contact.__dataclass_fields__)
# Stays in step with the model's Literal (tests/test_fields.py checks it).
assert STATUSES == ("active", "suspended", "ended")


# --- validation ----------------------------------------------------------------------------

M = TypeVar("M")
# A validator per type (pydantic_core's SchemaValidator), built once per process.
_ADAPTERS: dict[Any, Any] = {}


def _adapter(tp: Any) -> Any:
    """The validator of *tp*, built once (building one is what costs; pydantic is imported here)."""
    if tp not in _ADAPTERS:
        from pydantic import TypeAdapter

        _ADAPTERS[tp] = TypeAdapter(tp).validator
    return _ADAPTERS[tp]


def _write_types() -> dict[str, Any]:
    """The types a write validates with, by the name their schema is kept under."""
    return {"Registry": Registry, "Partnership": Partnership, "Event": Event, "Contact": Contact,
            "Partnerships": dict[Slug, Partnership]}


def schemas() -> dict[str, Any]:
    """pydantic's core schemas of the types a write validates with (what ``prepare`` takes back).

    Building them is most of a small write's cost (~100 ms: pydantic's schema
    generation); the storage layer keeps them so that the next process skips it.
    They hold the model's classes and check functions by reference only.
    """
    from pydantic import TypeAdapter

    return {name: TypeAdapter(tp).core_schema for name, tp in _write_types().items()}


def ready() -> bool:
    """Whether this process has every validator a write uses already."""
    return all(tp in _ADAPTERS for tp in _write_types().values())


def prepare(cached: Mapping[str, Any] | None = None) -> bool:
    """Build the validators a write uses now (a writer does so before it takes the registry's lock).

    *cached* is what ``schemas`` returned in an earlier process with this very
    model and pydantic (the caller checks that): the validators are made from it
    without pydantic's schema generation. Returns whether *cached* was used; when
    it does not hold every type, the validators are built from the model.
    """
    types = _write_types()
    if cached is not None and set(cached) == set(types):
        from pydantic_core import SchemaValidator

        try:
            # A TypeAdapter without config gives its validator an empty core config: so does this.
            built = {tp: SchemaValidator(cached[name]) for name, tp in types.items()}
        except Exception:  # noqa: BLE001 - a schema pydantic_core refuses is only a cache miss
            built = {}
        if built:
            _ADAPTERS.update(built)
            return True
    for tp in types.values():
        _adapter(tp)
    return False


def _newlines(value: Any) -> Any:
    """TOML multi-line strings read \\r\\n back as \\n: store \\n only, so a save is stable."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, list):
        return [_newlines(v) for v in value]
    if isinstance(value, dict):
        return {k: _newlines(v) for k, v in value.items()}
    return value


def validate(cls: type[M], data: Any) -> M:
    """*data* (a parsed TOML table or JSON object) as a *cls*, checked; pydantic's ValidationError if not."""
    if cls is Registry:
        data = split_labels(data)
    return _adapter(cls).validate_python(_newlines(data))  # type: ignore[no-any-return]


def split_labels(data: Any) -> Any:
    """A registry's raw head with each ``{ en = ..., fr = ... }`` label split: English in the vocabulary,
    the others in ``translations``. A label that is one string (the older form) is English.

    A table without ``en``, or naming another language, is left as it is, for the
    schema to report where it is (a label must be a string).
    """
    if not isinstance(data, dict):
        return data
    from partnerctl.core.i18n import LANGUAGES

    out = dict(data)
    translations: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in VOCABULARIES:
        vocab = data.get(kind)
        if not isinstance(vocab, dict):
            continue
        out[kind] = plain = {}
        for slug, label in vocab.items():
            if isinstance(label, dict) and "en" in label and set(label) <= set(LANGUAGES):
                plain[slug] = label["en"]
                for lang, text in label.items():
                    if lang != "en":
                        translations.setdefault(lang, {}).setdefault(kind, {})[slug] = text
            else:
                plain[slug] = label
    if translations:
        out["translations"] = translations
    return out


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


_MESSAGES = {"extra_forbidden": N_("unknown key"), "unexpected_keyword_argument": N_("unknown key"),
             "missing": N_("required key is missing"), "missing_argument": N_("required key is missing")}


# Pydantic's own words for a value of the wrong type, as the catalog knows them (used only while
# pydantic still says exactly this, so English output is pydantic's).
_PYDANTIC = {"string_type": N_("Input should be a valid string"), "int_type": N_("Input should be a valid integer"),
             "float_type": N_("Input should be a valid number"), "bool_type": N_("Input should be a valid boolean"),
             "list_type": N_("Input should be a valid list"), "dict_type": N_("Input should be a valid dictionary"),
             "dataclass_type": N_("Input should be a dictionary or an instance of {class_name}"),
             "literal_error": N_("Input should be {expected}")}


def _message(err: Any) -> str:
    """One pydantic error's message in the language in force."""
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    if kind in _MESSAGES:
        return _(_MESSAGES[kind])
    english = _PYDANTIC.get(kind)
    if english is not None and english.format(**ctx) == msg:
        if kind == "literal_error":  # 'active', 'suspended' or 'ended': the values stay, the "or" is said
            ctx = {"expected": str(ctx["expected"]).replace("' or '", "' " + _("or") + " '")}
        return _(english).format(**ctx)
    return str(msg).removeprefix("Value error, ")


def problems_of(exc: "ValidationError", prefix: str = "") -> list[Problem]:
    """Turn a pydantic error into problems located by their key path."""
    return [Problem(_where(err["loc"], prefix), _message(err)) for err in exc.errors(include_url=False)]


def build(cls: type[M], data: Mapping[str, Any], what: str) -> M:
    """Validate command-line input into a *cls*; the first problem becomes InvalidInput (*what* names it)."""
    from pydantic_core import ValidationError

    from partnerctl.core.errors import InvalidInput

    try:
        return validate(cls, {k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problem = problems_of(exc)[0]
        where = "" if problem.where == "registry" else _("{where}: ").format(where=problem.where)
        raise InvalidInput(_("{what}: {where}{message}").format(
            what=what, where=where, message=problem.message)) from None


def check_field(cls: type[Any], name: str, value: Any, what: str) -> Any:
    """*value* of the field *name* of *cls*, checked as ``build`` checks it (InvalidInput in its words).

    For a value asked for alone (a prompt's answer) before the whole model can be built.
    """
    import typing

    from pydantic_core import ValidationError

    from partnerctl.core.errors import InvalidInput

    annotation = typing.get_type_hints(cls, include_extras=True)[name]
    try:
        return _adapter(annotation).validate_python(_newlines(value))
    except ValidationError as exc:
        problem = problems_of(exc, name)[0]
        raise InvalidInput(_("{what}: {where}: {message}").format(
            what=what, where=problem.where, message=problem.message)) from None


# Partnerships are validated this many at a time, so a progress bar can move between chunks
# (pydantic holds the GIL for a whole call: one call for 26,000 partnerships froze it).
CHUNK = 1000


def parse_registry(data: dict[str, Any],
                   tick: Callable[[int, int], None] | None = None) -> tuple[Registry | None, list[Problem]]:
    """Validate the schema of a parsed TOML document.

    The partnerships are validated ``CHUNK`` at a time; *tick* gets (validated so far, total) after each chunk.
    """
    from pydantic_core import ValidationError

    parts = data.get("partnerships")
    chunked = isinstance(parts, dict)
    problems: list[Problem] = []
    reg = None
    try:
        reg = validate(Registry, {k: v for k, v in data.items() if k != "partnerships"} if chunked else data)
    except ValidationError as exc:
        problems += problems_of(exc)
    validated: dict[str, Partnership] = {}
    if chunked:
        assert isinstance(parts, dict)
        items = list(parts.items())
        for start in range(0, len(items), CHUNK):
            try:
                validated.update(validate(dict[Slug, Partnership], dict(items[start:start + CHUNK])))
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


def vocabulary_kinds() -> tuple[str, ...]:
    """The vocabularies the head declares, from the field table: ``theme``, ``network``, ``region``.

    Each is the head's table of the same name in the plural (``[themes]``, ``[regions]``).
    """
    t = table()
    return tuple(dict.fromkeys(s.meta.vocab for m in ("partnership", "event") for s in t.of(m) if s.meta.vocab))


def vocabularies(head: Any) -> dict[str, Any]:
    """kind -> that vocabulary of *head* (a Registry, a Draft, a Snapshot, or raw data: None when not a table)."""
    out = {}
    for kind in vocabulary_kinds():
        value = _given(head, f"{kind}s")
        out[kind] = value if isinstance(value, dict) else ({} if value is None else None)
    return out


def _slugs_of(spec: FieldSpec, value: Any) -> list[str]:
    """The slugs a vocabulary field holds: a list field's strings, or a one-value field's value (a value of
    the wrong shape holds none: the schema reports it)."""
    if spec.is_list:
        return _strings(value)
    return [value] if isinstance(value, str) else []


def undeclared(p: Any, vocabs: Mapping[str, Container[str] | None]) -> list[tuple[str, str, str]]:
    """(key path in the partnership, kind, slug) of each vocabulary entry *p* or its events name undeclared.

    *p* is a Partnership or its raw data; values of the wrong type are skipped (the schema
    reports them). *vocabs* maps a kind (``theme``...) to its declared slugs; a vocabulary
    missing or given as None is unknown and not checked.
    """
    found = []
    t = table()
    for spec in t.partnership:
        vocab = vocabs.get(spec.meta.vocab or "")
        if vocab is not None:
            found += [(spec.name, spec.meta.vocab or "", slug) for slug in _slugs_of(spec, _given(p, spec.name))
                      if slug not in vocab]
    events = _given(p, "events")
    if isinstance(events, list):
        for i, event in enumerate(events):
            if isinstance(event, (dict, Event)):
                for spec in t.event:
                    vocab = vocabs.get(spec.meta.vocab or "")
                    if vocab is not None:
                        found += [(f"events[{i}].{spec.name}", spec.meta.vocab or "", slug)
                                  for slug in _slugs_of(spec, _given(event, spec.name)) if slug not in vocab]
    return found


def partnership_references(pid: str, p: Any, vocabs: Mapping[str, Container[str] | None],
                           owned: bool = True) -> list[Problem]:
    """``undeclared`` as problems located in the registry (``partnerships.<pid>.themes``); without an
    owner of the registry's own (*owned* false), a partnership without an owner is one too."""
    problems = [Problem(f"partnerships.{pid}.{path}", _("undeclared {kind} {slug!r}").format(kind=kind, slug=slug))
                for path, kind, slug in undeclared(p, vocabs)]
    if not owned and not _given(p, "owner"):
        problems.append(Problem(f"partnerships.{pid}.owner",
                                _("required key is missing: the registry has no owner of its own, so each "
                                  "partnership names its owner")))
    return problems


def check_references(data: dict[str, Any]) -> list[Problem]:
    """Every theme, network and region a partnership or event names must be declared; every country
    alias of the head must be sound; and in a registry without an owner of its own, every partnership
    names its owner.

    Reads the parsed document as it is, whatever its schema problems: a value of the
    wrong type is skipped, not a reason to stop, so ``validate`` reports every problem.
    """
    problems = []
    aliases = data.get("countries")
    if isinstance(aliases, dict):
        from partnerctl.core import countries

        problems += [Problem("countries", message)
                     for message in countries.alias_problems(aliases, subdivisions=True, codes=False)]
    parts = data.get("partnerships")
    if not isinstance(parts, dict):
        return problems
    head = data.get("registry")
    owned = not isinstance(head, dict) or "owner" in head
    vocabs = vocabularies(data)
    return problems + [problem for pid, p in parts.items() if isinstance(p, dict)
                       for problem in partnership_references(pid, p, vocabs, owned)]


def validate_registry(data: dict[str, Any],
                      tick: Callable[[int, int], None] | None = None) -> tuple[Registry | None, list[Problem]]:
    """Schema and references: the registry, or None and every problem found (both kinds at once)."""
    reg, problems = parse_registry(data, tick)
    problems += check_references(data)
    return (reg if not problems else None), problems


# --- the canonical TOML form and the JSON record ----------------------------------------------

def _compact(obj: Any) -> dict[str, Any]:
    """A model as a dict in field order, without empty values (the TOML form)."""
    out: dict[str, Any] = {}
    for name in obj.__dataclass_fields__:
        value = getattr(obj, name)
        if value is None or value is False or value == [] or value == {}:
            continue
        if isinstance(value, list) and hasattr(value[0], "__dataclass_fields__"):
            value = [_compact(v) for v in value]
        elif isinstance(value, list):
            value = list(value)
        out[name] = value
    return out


def sorted_events(events: list[Event]) -> list[Event]:
    """Events in chronological order; events on the same date keep their order."""
    return sorted(events, key=lambda e: dates.sort_key(e.date))


def partnership_data(p: Partnership) -> dict[str, Any]:
    """The canonical TOML form of a partnership (empty values left out, events sorted)."""
    return _compact(replace(p, events=sorted_events(p.events)))


def registry_data(reg: Registry) -> dict[str, Any]:
    """The canonical TOML form of a registry's head (owner, vocabularies, country aliases).

    ``[regions]`` and ``[countries]`` are left out when empty (a registry that uses neither).
    """
    def entries(kind: VocabKey, vocab: dict[str, str]) -> dict[str, Any]:
        # One string while English is the only label (the form older files have), else a table by language.
        out: dict[str, Any] = {}
        for slug, label in sorted(vocab.items()):
            others = {lang: labels[kind][slug] for lang, labels in sorted(reg.translations.items())
                      if slug in labels.get(kind, {})}
            out[slug] = {"en": label, **others} if others else label
        return out

    data: dict[str, Any] = {
        "registry": _compact(reg.registry),
        "themes": entries("themes", reg.themes),
        "networks": entries("networks", reg.networks),
    }
    if reg.regions:
        data["regions"] = entries("regions", reg.regions)
    if reg.countries:
        data["countries"] = dict(sorted(reg.countries.items()))
    return data


def to_dict(obj: Any) -> dict[str, Any]:
    """A model as plain data: every field, nested models as dicts, lists copied."""
    return asdict(obj)


def record(pid: str, p: Partnership) -> dict[str, Any]:
    """The JSON form of a partnership: every field present, dates as partial-date strings.

    ``show`` and ``list`` print exactly this, so scripts see one shape.
    """
    data = asdict(p)
    data["events"] = [asdict(e) for e in sorted_events(p.events)]
    return {"id": pid, **data}


def partnership_of(rec: Mapping[str, Any]) -> Partnership:
    """A Partnership from a record of a validated registry (the index's), without validating again."""
    fields_ = {k: v for k, v in rec.items() if k != "id"}
    fields_["events"] = [Event(**e) for e in rec["events"]]
    fields_["contacts"] = [Contact(**c) for c in rec["contacts"]]
    for name, value in fields_.items():
        if isinstance(value, list) and name not in ("events", "contacts"):
            fields_[name] = list(value)
    return Partnership(**fields_)
