"""An unknown partner name: the did-you-mean hint from the index's names table, the same as from the file;
``Reader.record`` of an id the registry lacks."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import assert_same_with_and_without_index, no_full_load
from partnerctl.core import query
from partnerctl.core.errors import NotFound
from partnerctl.storage import index, reader

# Names that share letters in many ways: repeated letters, accents, other scripts, one-letter and long names,
# aliases, one name held by two partnerships (the hint names the one of the greater id, as a full load does).
CITIES = [
    ("turin", "Turin", "IT", ["Torino"]), ("tours", "Tours", "FR", []), ("torun", "Toruń", "PL", ["Thorn"]),
    ("trier", "Trier", "DE", []), ("aa", "Aa", "NL", []), ("aachen", "Aachen", "DE", ["Aix-la-Chapelle"]),
    ("ghent", "Ghent", "BE", ["Gent", "Gand"]), ("bordeaux", "Bordeaux", "FR", []),
    ("lodz", "Łódź", "PL", ["Lodsch"]), ("kyoto", "京都市", "JP", ["Kyoto"]), ("rio", "Rio de Janeiro", "BR", []),
    ("st-louis", "Saint-Louis", "SN", ["St Louis"]), ("st-louis-us", "Saint-Louis", "US", []),
    ("llanfair", "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", "GB-WLS", []),
    ("mississauga", "Mississauga", "CA", []), ("assisi", "Assisi", "IT", []), ("y", "Y", "FR", []),
]


def registry_text() -> str:
    blocks = []
    for pid, city, country, aliases in CITIES:
        also = f"\naliases = [{', '.join(repr(a).replace(chr(39), chr(34)) for a in aliases)}]" if aliases else ""
        blocks.append(f'[partnerships.{pid}]\ncity = "{city}"\ncountry = "{country}"{also}\n')
    return '[registry]\nowner = "Lyon"\ncountry = "FR"\n\n' + "\n".join(blocks)


UNKNOWN = ["Tuirn", "Tors", "Torrun", "Trir", "c", "ab", "Achen", "Gant", "Bordo", "Lotz", "Kioto", "Rioo",
           "Saint Luis", "Llanfairpwllgwyngyll-gogerych", "Misisauga", "Asisi", "yy", "qqqqqqqq", "zz top", "Tourrs", "Ttt"]


@pytest.fixture
def names_registry(make_registry: Callable[..., Path]) -> Path:
    return make_registry(registry_text())


@pytest.mark.parametrize("name", UNKNOWN)
def test_the_hint_is_the_same_with_and_without_the_index(
    invoke: Any, names_registry: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(index.ENV_OFF, "1")
    shown = invoke(names_registry, "show", name)
    assert shown.exit_code == 1
    assert shown.stderr.startswith(f"partnerctl: error: no partnership {name!r}")
    assert_same_with_and_without_index(invoke, names_registry, monkeypatch, ("show", name))


@pytest.mark.usefixtures("index_on")
def test_the_hint_text(invoke: Any, names_registry: Path) -> None:
    for _ in range(2):  # without the index (building it), then from it
        result = invoke(names_registry, "show", "Tuirn")
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == ("partnerctl: error: no partnership 'Tuirn'; did you mean torun (Toruń, Poland), "
                                 "tours (Tours, France), turin (Turin, Italy)?\n")
    result = invoke(names_registry, "show", "qqqqqqqq")
    assert result.stderr == "partnerctl: error: no partnership 'qqqqqqqq'; 'partnerctl list' shows them all\n"


@pytest.mark.usefixtures("index_on")
def test_an_unknown_name_reads_only_the_records_it_may_suggest(
    invoke: Any, names_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(names_registry, "list")  # builds the index
    read: list[int] = []
    rows = index.Index._rows

    def counting(self: index.Index, *args: Any, **kwargs: Any) -> Any:
        found = rows(self, *args, **kwargs)
        read.append(len(found))
        return found

    monkeypatch.setattr(index.Index, "_rows", counting)
    no_full_load(monkeypatch)
    result = invoke(names_registry, "show", "Tuirn")
    assert result.exit_code == 1 and "did you mean" in result.stderr
    assert sum(read) == 3  # torun, tours and turin (offered): not the 17 partnerships


@pytest.mark.usefixtures("index_on")
@pytest.mark.parametrize("key", [query.name_key(n) for n in UNKNOWN] + ["", "x", "st louis"])
def test_near_keeps_every_name_difflib_may_keep(names_registry: Path, key: str) -> None:
    r = reader.open_registry(names_registry)  # builds the index
    r.close()
    r = reader.open_registry(names_registry)
    assert r.indexed
    try:
        source = r._guarded.source()  # type: ignore[union-attr]
        assert isinstance(source, reader._Indexed)
        by_name = {n: pid for pid, rec in source.idx.facts().items() for n in query.names_of(pid, rec)}
        near = source.idx.near(key)
        close = set(difflib.get_close_matches(key, by_name, n=len(by_name), cutoff=query.HINT_CUTOFF))
        assert close <= set(near)
        assert all(near[n] == by_name[n] for n in near)
    finally:
        r.close()


@pytest.mark.usefixtures("index_on")
def test_a_record_the_index_lacks_is_not_found_without_loading_the_file(
    names_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader.open_registry(names_registry).close()  # builds the index
    no_full_load(monkeypatch)
    r = reader.open_registry(names_registry)
    try:
        assert r.indexed
        with pytest.raises(NotFound, match="no partnership 'nowhere'"):
            r.record("nowhere")
        assert r.record("turin")["city"] == "Turin"
        assert r.indexed
    finally:
        r.close()


def test_a_record_the_file_lacks_is_not_found(names_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(index.ENV_OFF, "1")
    r = reader.open_registry(names_registry)
    with pytest.raises(NotFound, match="no partnership 'nowhere'"):
        r.record("nowhere")
