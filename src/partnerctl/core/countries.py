"""Countries as ISO 3166 codes: resolving what people and datasets write, names, default regions.

A country is stored as its ISO 3166-1 alpha-2 code (``IT``), or as an ISO 3166-2
subdivision code where the input names one (``GB-ENG`` for "England, United Kingdom"),
and shown by name (``display``). The ISO tables and their French names come from
pycountry; what ISO lacks is package data (``partnerctl/data/*.toml``), not code:
the aliases a source uses (``country_aliases.toml``; a registry's own table extends
them), the world regions and each country's default region (``countries.toml`` and
``country_continents.toml``).

``Resolver.explain`` accepts, in this order (the first that answers wins):

- ``code``: an alpha-2 or alpha-3 code, or an ISO 3166-2 subdivision code, any case;
- ``name``: an English name (ISO's short, common or official name, or the name shown);
- ``french``: a French name from pycountry's ISO 3166-1 catalogue, any case;
- ``folded``: one of those names once case, accents and punctuation are set aside
  (``Etats-Unis``);
- ``alias``: the alias table, folded alike;
- ``X, Y`` where Y is a country (or subdivision) as above: ``territory`` when X is
  a part of Y that ISO 3166-1 codes on its own ("Réunion, France" -> RE);
  ``subdivision`` when X names an ISO 3166-2 subdivision of Y ("England, United
  Kingdom" -> GB-ENG); else ``country-of``: Y's code, X set aside (X is a city or a
  region ISO does not list: "Rauma, Norway" -> NO). The source said the country is Y,
  so that is no guess, but the answer says so and a caller can report it.

Anything else is refused (``InvalidInput``) with up to three close names: a misspelling
is never accepted by closeness. Nothing here touches pycountry until a country is
resolved or shown, so a command that does neither does not pay for loading it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from partnerctl.core.errors import InvalidInput, PackageDataMissing
from partnerctl.core.i18n import _
from partnerctl.core.names import fold

if TYPE_CHECKING:
    import gettext

Lang = Literal["en", "fr"]

# The ways ``Resolver.explain`` can answer, in the order it tries them; UNRESOLVED is
# ``Resolver.analyse``'s word for a text it refuses.
HOWS = ("code", "name", "french", "folded", "alias", "territory", "subdivision", "country-of")
UNRESOLVED = "unresolved"

_SUBDIVISION_CODE = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
_ALPHA_2 = re.compile(r"[A-Z]{2}")
_WORD = re.compile(r"[^\W_]+")
_BRACKETED = re.compile(r"\s*\[([^\]]*)\]")
_PARENTHESISED = re.compile(r"\s*\([^)]*\)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_LONGEST = 200  # characters: more than any country's name, official or French


def key(text: str) -> str:
    """The form two spellings of a country share: folded, words joined by one space.

    ``"Côte d’Ivoire"``, ``"cote d'ivoire"`` and ``"Cote-d-Ivoire"`` all give ``"cote d ivoire"``.
    """
    return " ".join(_WORD.findall(fold(text)))


# NamedTuples, not dataclasses: a third of the cost to define, and this module is
# imported by commands that may never resolve a country.
class Resolution(NamedTuple):
    """What a text resolved to (*code*) and by which rule (*how*, one of ``HOWS``)."""

    code: str
    how: str


class Analysis(NamedTuple):
    """How one distinct text of a dataset resolves, and on how many rows it stands.

    *how* is one of ``HOWS`` or ``UNRESOLVED`` (then *code* is None and *error* says why).
    """

    text: str
    rows: int
    how: str
    code: str | None
    error: str | None = None


class Country(NamedTuple):
    """A country or subdivision, by its code (``IT``, ``GB-ENG``); ``country(code)`` checks it."""

    code: str

    @property
    def parent(self) -> str | None:
        """The code of the country (or larger subdivision) a subdivision is part of; None for a country."""
        if "-" not in self.code:
            return None
        sub = _pycountry().subdivisions.get(code=self.code)
        return (sub.parent_code if sub is not None else None) or self.code.split("-")[0]

    @property
    def region(self) -> str:
        """The slug of the default world region."""
        return default_region(self.code)

    def name(self, lang: Lang = "en") -> str:
        """The name shown, in English or French (``display``)."""
        return display(self.code, lang)


# --- package data and pycountry, loaded when first needed --------------------------------


@cache
@cache
def _data(name: str) -> dict[str, Any]:
    """A table of the package's data folder, parsed once (callers only read it)."""
    import tomllib

    path = _data_path(name)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PackageDataMissing(f"cannot read partnerctl's country table {path}: {exc}; "
                                 "reinstall partnerctl") from None


def _data_path(name: str) -> Path:
    # Read beside this module (importlib.resources costs a command that shows a country more than the file).
    return Path(__file__).resolve().parent.parent.joinpath("data", name)


def _pycountry() -> Any:
    # Imported here, not at the top: loading it costs a read command that shows no country.
    import pycountry

    return pycountry


@cache
def _french(domain: str) -> gettext.NullTranslations:
    """pycountry's French catalogue for *domain* (``iso3166-1``, ``iso3166-2``)."""
    import gettext

    try:
        return gettext.translation(domain, _pycountry().LOCALES_DIR, ["fr"])
    except OSError:  # a pycountry installed without its locales: names stay English
        return gettext.NullTranslations()


class _Entry(NamedTuple):
    code: str
    en: str  # the names shown
    fr: str
    english: tuple[str, ...]  # every name accepted
    french: tuple[str, ...]
    alpha_3: str | None


# What keeps the table ``_countries`` builds between runs (``partnerctl.core.KEEPERS["countries"]``, set by
# storage/kept.py): ``keeper(inputs, build)`` returns ``build()``'s rows, from a copy an earlier run kept when
# none of *inputs* changed since. Building it imports pycountry, whose package metadata alone costs ~35 ms.
Keeper = Callable[[Sequence[Path], Callable[[], list[list[Any]]]], list[list[Any]]]


def table_inputs() -> list[Path]:
    """Every file the country table is built from (this module, the package's table, pycountry's ISO 3166-1
    database and French catalogue), found without importing pycountry."""
    import importlib.util

    spec = importlib.util.find_spec("pycountry")
    inputs = [Path(__file__), _data_path("countries.toml")]
    if spec is not None and spec.origin is not None:
        folder = Path(spec.origin).parent
        inputs += [folder / "__init__.py", folder / "db.py", folder / "databases" / "iso3166-1.json",
                   folder / "locales" / "fr" / "LC_MESSAGES" / "iso3166-1.mo"]
    return inputs


@cache
def _countries() -> dict[str, _Entry]:
    """Every country by alpha-2 code: ISO's (through pycountry) and the extra ones of countries.toml."""
    from partnerctl.core import KEEPERS

    keeper: Keeper | None = KEEPERS.get("countries")
    rows = keeper(table_inputs(), _country_rows) if keeper is not None else _country_rows()
    return {row[0]: _Entry(row[0], row[1], row[2], tuple(row[3]), tuple(row[4]), row[5]) for row in rows}


def _country_rows() -> list[list[Any]]:
    """The country table as JSON-ready rows: code, name shown (en, fr), names accepted (en, fr), alpha-3."""
    data = _data("countries.toml")
    shown: dict[str, dict[str, str]] = data["names"]
    catalogue = _french("iso3166-1")
    rows: list[list[Any]] = []
    for c in _pycountry().countries:
        iso = [n for n in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)) if n]
        override = shown.get(c.alpha_2, {})
        en = override.get("en") or getattr(c, "common_name", None) or c.name
        fr = override.get("fr") or catalogue.gettext(getattr(c, "common_name", None) or c.name)
        english = list(dict.fromkeys([en, *iso]))
        french = list(dict.fromkeys([fr, *(catalogue.gettext(n) for n in iso)]))
        rows.append([c.alpha_2, en, fr, english, french, c.alpha_3])
    for code, names in data["extra_countries"].items():
        rows.append([code, names["en"], names["fr"], [names["en"]], [names["fr"]], None])
    return rows


class _Index(NamedTuple):
    exact: dict[str, Resolution]  # text.casefold() -> code, how
    folded: dict[str, str]  # key(name) -> code
    spelled: dict[str, str]  # key(name) -> the name as written, for did-you-mean


@cache
def _index() -> _Index:
    """The look-up tables of every ISO code and name, built once (a few milliseconds)."""
    exact: dict[str, Resolution] = {}
    folded: dict[str, set[str]] = {}
    spelled: dict[str, str] = {}
    entries = _countries().values()
    for e in entries:
        for code in filter(None, (e.code, e.alpha_3)):
            exact[code.casefold()] = Resolution(e.code, "code")
    # English before French: a name that is English for one country and French for
    # another (none today) keeps its English meaning.
    for how, attr in (("name", "english"), ("french", "french")):
        for e in entries:
            for n in getattr(e, attr):
                k = key(n)
                exact.setdefault(n.casefold(), Resolution(e.code, how))
                folded.setdefault(k, set()).add(e.code)
                spelled.setdefault(k, n)
    # A folded form shared by two countries answers neither (none today).
    return _Index(exact, {k: codes.pop() for k, codes in folded.items() if len(codes) == 1}, spelled)


@cache
def _iso_subdivisions(country: str) -> dict[str, frozenset[str]]:
    """key(name) -> codes of the ISO 3166-2 subdivisions of *country* that go by that name."""
    catalogue = _french("iso3166-2")
    names: dict[str, set[str]] = {}
    for sub in _pycountry().subdivisions.get(country_code=country) or ():
        for n in {sub.name, catalogue.gettext(sub.name)}:
            for variant in _name_variants(n):
                if key(variant):
                    names.setdefault(key(variant), set()).add(sub.code)
    return {k: frozenset(codes) for k, codes in names.items()}


def _name_variants(name: str) -> list[str]:
    """A subdivision's name as ISO writes it and without its asides.

    "Wales [Cymru GB-CYM]" -> also "Wales" and "Cymru"; "Guyane (française)" -> also "Guyane".
    """
    bare = _PARENTHESISED.sub("", _BRACKETED.sub("", name)).strip()
    asides = [re.sub(r"\b[A-Z]{2}-[A-Z0-9]{1,3}\b", "", a).strip() for a in _BRACKETED.findall(name)]
    return [name, bare, *(a for a in asides if a)]


def _subdivision(code: str) -> Any:
    return _pycountry().subdivisions.get(code=code) if _SUBDIVISION_CODE.fullmatch(code) else None


def _territories() -> dict[str, str]:
    territories: dict[str, str] = _data("countries.toml")["territories"]
    return territories


def known(code: str) -> bool:
    """Whether *code* is a country code (``IT``, ``XK``) or an ISO 3166-2 subdivision code (``GB-ENG``)."""
    if "-" not in code:
        # Every country has a continent (country_continents.toml is written from pycountry's codes):
        # checking a registry's codes needs no pycountry.
        return code in _continents() or code in _data("countries.toml")["extra_countries"]
    return _subdivision(code) is not None


def _continents() -> dict[str, str]:
    continents: dict[str, str] = _data("country_continents.toml")["continents"]
    return continents


def code_problem(code: str) -> str | None:
    """Why *code* is not a country code a registry may hold (``IT``, ``GB-ENG``), or None when it is one.

    A name where a code belongs (a registry written before codes, an edit by hand) is told which code
    to write instead, when it names one.
    """
    if (_ALPHA_2.fullmatch(code) or _SUBDIVISION_CODE.fullmatch(code)) and known(code):
        return None
    try:
        found = resolver().resolve(code)
    except InvalidInput:
        return f"{code!r} is not a country code (ISO 3166: IT, GB-ENG)"
    return f"{code!r} is not a country code: write {found!r} ({display(found)})"


def nation(code: str) -> str:
    """The ISO 3166-1 country of a code: ``GB`` for ``GB-ENG``, ``IT`` for ``IT``."""
    return code.split("-")[0]


def within(code: str, other: str) -> bool:
    """Whether *code* is *other* or lies in it: ``GB-ENG`` within ``GB``; ``GB-KEN`` within ``GB-ENG``."""
    if code == other:
        return True
    if nation(code) != nation(other):
        return False
    if "-" not in other:
        return True
    return "-" in code and other in _ancestors(code)


def overlap(a: str, b: str) -> bool:
    """Whether two codes can name the same place: one is, or lies in, the other (``GB`` and ``GB-ENG``)."""
    return within(a, b) or within(b, a)


def merged_aliases(own: Mapping[str, str]) -> dict[str, str]:
    """The alias table a registry resolves with: the shipped one, with the registry's own (*own*) over it.

    An alias of the registry replaces a shipped one that folds alike (``turkey`` over ``Turkey``).
    """
    mine = {key(alias) for alias in own}
    return {**{a: c for a, c in default_aliases().items() if key(a) not in mine}, **own}


def resolver(own: Mapping[str, str] | None = None) -> Resolver:
    """The Resolver of a registry whose own aliases are *own*, built once per table in a process."""
    return _resolver(tuple(sorted((own or {}).items())))


@cache
def _resolver(own: tuple[tuple[str, str], ...]) -> Resolver:
    return Resolver(merged_aliases(dict(own)))


def country(code: str) -> Country:
    """The ``Country`` of *code*; ``InvalidInput`` when no country or subdivision has it."""
    if not known(code):
        raise InvalidInput(_("no country has the code {code!r}").format(code=code))
    return Country(code)


@cache
def display(code: str, lang: Lang = "en") -> str:
    """The name shown for *code*: ``"Italy"``/``"Italie"``; a subdivision with its country,
    ``"England (United Kingdom)"``. ``InvalidInput`` for a code no country has."""
    entries = _countries()
    if code in entries:
        return entries[code].fr if lang == "fr" else entries[code].en
    sub = _subdivision(code)
    if sub is None:
        raise InvalidInput(_("no country has the code {code!r}").format(code=code))
    name = _french("iso3166-2").gettext(sub.name) if lang == "fr" else sub.name
    return f"{_name_variants(name)[1] or name} ({display(sub.country_code, lang)})"


# --- regions -----------------------------------------------------------------------------


def regions() -> dict[str, str]:
    """The world regions, slug -> label, in their declared order (``europe`` -> ``"Europe"``)."""
    return dict(_data("countries.toml")["regions"])


def default_regions() -> set[str]:
    """The slugs of the regions that are some country's default region."""
    data = _data("countries.toml")
    return {*data["continent_regions"].values(), *data["region_overrides"].values()}


@cache
def default_region(code: str) -> str:
    """The slug of *code*'s default world region: countries.toml's override, else its
    continent's region; a subdivision's is its country's. ``InvalidInput`` for an unknown code."""
    code = _territories().get(code, code).split("-")[0]
    if not known(code):
        raise InvalidInput(_("no country has the code {code!r}").format(code=code))
    data = _data("countries.toml")
    override: str | None = data["region_overrides"].get(code)
    if override is not None:
        return override
    continent = _continents()[code]
    region: str = data["continent_regions"][continent]
    return region


# --- aliases -----------------------------------------------------------------------------


def default_aliases() -> dict[str, str]:
    """The shipped alias table (country_aliases.toml): alias -> code, in file order."""
    return dict(_data("country_aliases.toml")["aliases"])


def alias_problems(aliases: Mapping[str, Any], *, subdivisions: bool = True, codes: bool = True) -> list[str]:
    """What is wrong with an alias table, one message per problem (empty when it is sound).

    An alias must have a letter or digit, name a known code, not be ISO's code or name of
    another country, and not fold alike to an alias of another code. With *subdivisions*
    false, a code shaped like a subdivision's (``GB-ENG``) is not looked up: loading
    ISO 3166-2 costs more than all the rest (``Resolver`` checks it when the alias is used).
    With *codes* false, an alias whose code is unknown is left to whoever checks codes (the
    model's schema): it is not reported here a second time.
    """
    index = _index()
    problems: list[str] = []
    seen: dict[str, str] = {}
    for alias, code in aliases.items():
        k = key(alias)
        if not k:
            problems.append(f"alias {alias!r} has no letter or digit")
            continue
        if not isinstance(code, str) or not (known(code) if subdivisions or "-" not in code
                                             else _SUBDIVISION_CODE.fullmatch(code)):
            if codes:
                problems.append(f"alias {alias!r}: no country has the code {code!r}")
            continue
        code = _territories().get(code, code)
        theirs = index.exact.get(alias.strip().casefold())
        theirs_code = theirs.code if theirs else index.folded.get(k)
        if theirs_code is not None and theirs_code != code:
            problems.append(f"alias {alias!r} -> {code} is ISO's name for {theirs_code}")
        elif seen.setdefault(k, code) != code:
            problems.append(f"aliases {alias!r} -> {code} and -> {seen[k]} are the same name")
    return problems


# --- the resolver ------------------------------------------------------------------------


class Resolver:
    """Turns what people and datasets write into codes, with one alias table.

    *aliases* (alias -> code) is the whole table: pass ``default_aliases()`` merged with a
    registry's own. A table with a problem (``alias_problems``) raises ``InvalidInput``;
    one whose subdivision code does not exist raises it when that alias is first used
    (a registry's validation calls ``alias_problems`` for the full check). Build one and
    keep it: the ISO tables are indexed on first use, once per process.
    """

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        aliases = dict(aliases or {})
        problems = alias_problems(aliases, subdivisions=False)
        if problems:
            raise InvalidInput("country aliases: " + "; ".join(problems))
        self._aliases = {key(a): _territories().get(code, code) for a, code in aliases.items()}
        self._alias_spelled = {key(a): a for a in aliases}
        self._checked: set[str] = set()

    def _alias(self, k: str) -> str | None:
        """The code the alias folded to *k* names, its subdivision code checked on first use."""
        code = self._aliases.get(k)
        if code is not None and "-" in code and code not in self._checked:
            if not known(code):
                raise InvalidInput(_("country aliases: alias {alias!r}: no country has the code {code!r}").format(
                                       alias=self._alias_spelled[k], code=code))
            self._checked.add(code)
        return code

    def resolve(self, text: str) -> str:
        """The code *text* names (``"Italie"`` -> ``"IT"``); ``InvalidInput`` with a did-you-mean else."""
        return self.explain(text).code

    def explain(self, text: str) -> Resolution:
        """The code *text* names and the rule that found it (see the module's docstring)."""
        text = text.strip()
        if not key(text):
            raise InvalidInput(_("a country must have a name, not {text!r}").format(text=text))
        # Folding would drop them, and "\x1bItaly" or an undecodable byte is no spelling of Italy.
        if _CONTROL.search(text):
            raise InvalidInput(_("a country name must be one line without control characters, not {text!r}").format(
                                   text=text))
        found = self._whole(text)
        if found is not None:
            return found
        # "X, Y": Y after any comma, the longest that names a country (ISO names hold
        # commas); none is longer than _LONGEST, so a long X costs no look-up per comma.
        for at in (i for i, c in enumerate(text) if c == "," and len(text) - i <= _LONGEST):
            part, of = text[:at].strip(), self._whole(text[at + 1:].strip())
            if of is not None and key(part):
                return self._part_of(part, of.code)
        # The whole text, and what follows its last comma ("Paris, Frnace").
        raise InvalidInput(_("unknown country {text!r}{hint}").format(
                               text=text, hint=self._hint(text, text.rpartition(',')[2])))

    def analyse(self, strings: Iterable[str]) -> list[Analysis]:
        """How each distinct text of *strings* resolves, with how often it occurs, most frequent first."""
        result = []
        for text, rows in Counter(strings).most_common():
            try:
                r = self.explain(text)
            except InvalidInput as exc:
                result.append(Analysis(text, rows, UNRESOLVED, None, str(exc)))
            else:
                result.append(Analysis(text, rows, r.how, r.code))
        return result

    def _whole(self, text: str) -> Resolution | None:
        index = _index()
        found = index.exact.get(text.casefold())
        if found is not None:
            return found
        if _subdivision(text.upper()) is not None:
            return Resolution(_territories().get(text.upper(), text.upper()), "code")
        k = key(text)
        if k in index.folded:
            return Resolution(index.folded[k], "folded")
        alias = self._alias(k)
        if alias is not None:
            return Resolution(alias, "alias")
        return None

    def _part_of(self, part: str, of: str) -> Resolution:
        """*part* of the country or subdivision *of* ("England" of GB)."""
        nation = of.split("-")[0]
        territories = _territories()
        # A part with its own ISO 3166-1 code: "Åland Islands, Finland" -> AX.
        whole = self._whole(part)
        if whole is not None and any(sub.startswith(f"{nation}-") and own == whole.code
                                     for sub, own in territories.items()):
            return Resolution(whole.code, "territory")
        k = key(part)
        codes = set(_iso_subdivisions(nation).get(k, ()))
        alias = self._alias(k)
        if alias is not None and alias.startswith(f"{nation}-"):
            codes.add(alias)
        if len(codes) > 1:  # "Madrid": a province and a community; the top one
            codes = {c for c in codes if not _subdivision(c).parent_code} or codes
        if len(codes) == 1:
            code = codes.pop()
            if of == nation or code == of or of in _ancestors(code):
                if code in territories:
                    return Resolution(territories[code], "territory")
                return Resolution(code, "subdivision")
        return Resolution(of, "country-of")

    def _hint(self, *texts: str) -> str:
        """``; did you mean 'A', 'B'?``: up to three names of different countries, the closest to any of *texts*."""
        import difflib

        spelled = {**_index().spelled, **self._alias_spelled}
        scored = []
        for k in {key(t) for t in texts} - {""}:
            for near in difflib.get_close_matches(k, spelled, n=10, cutoff=0.6):
                scored.append((-difflib.SequenceMatcher(None, k, near).ratio(), near))
        names: dict[str, str] = {}
        for _score, near in sorted(scored):
            names.setdefault(self._whole(spelled[near]).code, spelled[near])  # type: ignore[union-attr]
        close = list(names.values())[:3]
        # Quoted: ISO names hold commas ("Åland, Îles").
        return _("; did you mean {names}?").format(names=", ".join(map(repr, close))) if close else ""


def _ancestors(code: str) -> list[str]:
    """The subdivisions *code* lies in, nearest first (GB-KEN -> [GB-ENG])."""
    chain = []
    sub = _subdivision(code)
    while sub is not None and sub.parent_code:
        chain.append(sub.parent_code)
        sub = _subdivision(sub.parent_code)
    return chain
