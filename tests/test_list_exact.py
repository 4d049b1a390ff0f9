"""Where the index says its SQL keeps exactly what the filters keep (``Index.exact``), ``list`` takes the SQL's
rows without asking ``query.keeps`` again: per filter, on registries whose values inherit, default, fold
and hold subdivisions, the rows SQL keeps are the ones ``query.select`` keeps on the full load."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SHIPPED_REGISTRY, SMALL_REGISTRY_TOML, assert_same_with_and_without_index
from partnerctl.core import query
from partnerctl.core.model import table
from partnerctl.core.names import fold
from partnerctl.storage import index, reader

pytestmark = pytest.mark.usefixtures("index_on")

# Owners inherited and named (in other cases and accents), subdivisions, regions set and defaulted.
MANY_OWNERS = """\
[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"
mobility = "Urban mobility"

[networks]
eurocities = "Eurocities"

[regions]
africa = "Africa"
americas = "The Americas"
asia = "Asia"
europe = "Europe"

[partnerships.a]
city = "Leeds"
country = "GB-ENG"
status = "active"
since = 1990
themes = ["culture"]

[partnerships.b]
city = "London"
country = "GB"
owner = "LYON"
owner_country = "FR"
region = "americas"
since = 2005

[partnerships.c]
city = "Łódź"
country = "PL"
owner = "Łódź"
owner_country = "PL"
status = "ended"
themes = ["mobility", "culture"]
networks = ["eurocities"]
projects = ["CITYLOG"]

[partnerships.d]
city = "Osaka"
country = "JP"
owner = "Lodz"
owner_country = "PL"
status = "active"
since = 2000

[partnerships.e]
city = "Dakar"
country = "SN"
region = "africa"
owner = "Edinburgh"
owner_country = "GB-SCT"

[partnerships.f]
city = "Turin"
country = "IT"
since = 1958
networks = ["eurocities"]
"""


@pytest.fixture(params=["shipped", "small", "many owners"])
def registry(request: pytest.FixtureRequest, make_registry: Callable[..., Path]) -> Path:
    if request.param == "shipped":
        return make_registry(SHIPPED_REGISTRY.read_text(encoding="utf-8"))
    return make_registry(SMALL_REGISTRY_TOML if request.param == "small" else MANY_OWNERS)


def indexed_reader(path: Path) -> reader.Reader:
    """The registry at *path* read through its index (built by a first read if need be)."""
    reader.open_registry(path).close()
    found = reader.open_registry(path)
    assert found.indexed
    return found


def asked_values(loaded: reader.Reader) -> Iterator[query.Filters]:
    """One filter at a time, with each value the registry holds (as held, and in other spellings), then
    some it does not; two together; then every one of them at once."""
    snap = loaded.snapshot(dict(loaded.each_record()))
    from partnerctl.core import countries

    for spec in table().filters():
        held = {v for rec in snap.partnerships.values()
                for v in (snap.value(rec, spec.name) if spec.is_list else [snap.value(rec, spec.name)])
                if v is not None}
        kind = spec.meta.filter
        if kind == "year":
            for year in sorted(held) + [1900, 2100]:
                yield query.Filters(since=year)
                yield query.Filters(until=year)
                yield query.Filters(since=year, until=year + 10)
            continue
        tried: set[Any] = set()
        for value in sorted(held, key=str):
            tried |= {value, str(value).upper(), fold(str(value))}
            if kind == "country":
                tried |= {countries.nation(value), countries.display(value)}
        if kind == "enum":
            tried = set(spec.choices)
        for value in sorted(tried, key=str):
            yield query.Filters(values={spec.name: [value] if spec.is_list else value})
    yield query.Filters(values={"country": "GB", "status": "active"}, since=1980)
    yield query.Filters(values={"owner": "lodz", "themes": ["culture", "mobility"]})


def test_where_the_sql_is_exact_it_keeps_what_query_keeps(registry: Path, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv(index.ENV_OFF, "1")
    loaded = reader.open_registry(registry)
    monkeypatch.delenv(index.ENV_OFF)
    indexed = indexed_reader(registry)
    idx = indexed._guarded.source().idx  # type: ignore[union-attr]
    head = indexed.snapshot({})
    exact = 0
    for filters in asked_values(loaded):
        try:
            want = query.wanted(head, filters)
        except query.InvalidInput:
            continue  # a term no vocabulary or country has: a usage error, the same with or without the index
        expected = query.select(loaded.snapshot(dict(loaded.each_record())), filters)
        if idx.exact(want):
            exact += 1
            where, params = idx.narrowing(want)
            kept = [pid for pid, _facts, _h in idx.each_facts(where, params, lists=False)]
            assert kept == sorted(expected), filters
            # Each row SQL returns passes the check of its verified columns against what the SQL asked.
            admitted = idx.each_facts(where, params, lists=False, admits=idx.admitting(want))
            assert [pid for pid, _facts, _h in admitted] == kept, filters
        assert [rec["id"] for rec in indexed.select(filters)] == expected, filters
    assert exact > 20
    indexed.close()


@pytest.mark.parametrize(("filters", "exact"), [
    (query.Filters(values={"country": "Italy"}), True),
    (query.Filters(values={"country": "GB"}), True),
    (query.Filters(values={"owner": "Lyon"}), True),
    (query.Filters(values={"owner_country": "France"}), True),
    (query.Filters(values={"status": "active"}), True),
    (query.Filters(values={"region": "europe"}), True),
    (query.Filters(since=1990, until=2000), True),
    (query.Filters(values={"themes": ["culture"], "networks": ["eurocities"]}), True),
    (query.Filters(), True),
    # What the records decide: a subdivision (its key is its country's), a project, --involving.
    (query.Filters(values={"country": "GB-ENG"}), False),
    (query.Filters(values={"projects": ["CITYLOG"]}), False),
    (query.Filters(involving="Turin"), False),
])
def test_which_filters_the_sql_answers_exactly(make_registry: Callable[..., Path], filters: query.Filters,
                                               exact: bool) -> None:
    indexed = indexed_reader(make_registry(MANY_OWNERS))
    idx = indexed._guarded.source().idx  # type: ignore[union-attr]
    assert idx.exact(query.wanted(indexed.snapshot({}), filters)) is exact
    indexed.close()


LISTS = [
    ("list", "--country", "GB", "--format", "json"), ("list", "--country", "gb-eng", "--format", "json"),
    ("list", "--owner", "LODZ", "--sort", "city"), ("list", "--owner", "lyon", "--format", "json"),
    ("list", "--owner-country", "United Kingdom", "--format", "jsonl"), ("list", "--region", "europe"),
    ("list", "--region", "asia", "--sort", "since"), ("list", "--status", "active", "--sort", "country"),
    ("list", "--since", "1995", "--format", "csv"), ("list", "--until", "2000", "--sort", "since"),
    ("list", "--theme", "culture", "--network", "eurocities"), ("list", "--project", "citylog"),
    ("list", "--involving", "Lodz", "--format", "json"), ("list", "--country", "Poland", "--limit", "1"),
]


@pytest.mark.parametrize("args", LISTS, ids=" ".join)
def test_list_of_many_owners_is_the_same_with_and_without_the_index(
    invoke: Callable[..., Any], make_registry: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...]
) -> None:
    assert_same_with_and_without_index(invoke, make_registry(MANY_OWNERS), monkeypatch, args)


@pytest.mark.parametrize("args", [("--country", "Poland"), ("--status", "active", "--sort", "city"),
                                  ("--theme", "culture"), ("--since", "1995"), ("--region", "europe")])
def test_a_row_the_sql_returns_but_does_not_keep_is_damage(
    invoke: Callable[..., Any], make_registry: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...]
) -> None:
    """A damaged SQLite index can return a row its condition does not keep: where ``list`` takes the SQL's rows
    without ``query.keeps``, the row's verified columns are checked against the condition, and it is not listed."""
    path = make_registry(MANY_OWNERS)
    monkeypatch.setenv(index.ENV_OFF, "1")
    expected = invoke(path, "list", "--format", "json", *args).stdout
    monkeypatch.delenv(index.ENV_OFF)
    invoke(path, "list", "--limit", "1")  # builds the index
    narrowing = index.Index.narrowing

    def widened(self: index.Index, want: query.Wanted) -> tuple[str, list[Any]]:
        where, params = narrowing(self, want)
        return f"({where}) OR r.id = ?", [*params, "e"]  # e: Dakar, Edinburgh's, none of the filters'

    monkeypatch.setattr(index.Index, "narrowing", widened)
    indexed = indexed_reader(path)
    idx = indexed._guarded.source().idx  # type: ignore[union-attr]
    filters = {("--country", "Poland"): query.Filters(values={"country": "Poland"})}.get(args)
    if filters is not None:
        want = query.wanted(indexed.snapshot({}), filters)
        with pytest.raises(index.Damaged):
            list(idx.each_facts(*idx.narrowing(want), admits=idx.admitting(want)))
    indexed.close()
    result = invoke(path, "list", "--format", "json", *args)
    assert (result.exit_code, result.stdout) == (0, expected)
    assert '"e"' not in result.stdout
