"""The country table kept in the cache folder (``storage/kept.py``).

Building the table imports pycountry (its package metadata alone is ~35 ms); a
run keeps what it built and the next takes it from the cache folder. The cache
may make a command faster, never different: the kept table equals the built one,
a damaged file is only a miss, and another input is another file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from partnerctl.core import countries
from partnerctl.storage import kept

pytestmark = pytest.mark.usefixtures("index_on")


def test_the_kept_table_is_the_built_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = countries._country_rows()
    assert kept.country_table(countries.table_inputs(), countries._country_rows) == built
    (path,) = (tmp_path / "partnerctl").glob("countries-*.json")
    assert json.loads(path.read_bytes()) == built

    def refuse() -> list[list[object]]:
        raise AssertionError("a kept table for the same inputs is read, not built")

    assert kept.country_table(countries.table_inputs(), refuse) == built
    entries = {r[0]: r for r in built}
    assert entries["IT"][1:3] == ["Italy", "Italie"] and entries["DE"][5] == "DEU"


@pytest.mark.parametrize("content", [b"not json", b"[]", b'[["IT", "Italy"]]', b'{"IT": 1}',
                                     b'[["IT", "Italy", "Italie", ["Italy"], [3], "ITA"]]'])
def test_a_damaged_kept_table_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = countries._country_rows()
    kept.country_table(countries.table_inputs(), countries._country_rows)
    (path,) = (tmp_path / "partnerctl").glob("countries-*.json")
    path.write_bytes(content)
    assert kept.country_table(countries.table_inputs(), countries._country_rows) == built
    assert json.loads(path.read_bytes()) == built, "the damaged file is replaced by the table"


def test_another_input_is_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = tmp_path / "names.toml"
    data.write_text("a = 1\n", encoding="utf-8")
    inputs = [*countries.table_inputs(), data]
    assert kept.country_table(inputs, lambda: [["IT", "Italy", "Italie", ["Italy"], ["Italie"], "ITA"]])
    data.write_text("a = 2\n", encoding="utf-8")  # an upgraded input: the old file does not answer
    assert kept.country_table(inputs, lambda: [["FR", "France", "France", [], [], "FRA"]])[0][0] == "FR"
    assert len(list((tmp_path / "cache" / "partnerctl").glob("countries-*.json"))) == 2
    data.unlink()  # an input that cannot be read: built each time, nothing kept
    assert kept.country_table(inputs, lambda: [["XK", "Kosovo", "Kosovo", [], [], None]])[0][0] == "XK"
    assert len(list((tmp_path / "cache" / "partnerctl").glob("countries-*.json"))) == 2


def test_the_inputs_are_every_file_the_table_reads() -> None:
    names = [p.name for p in countries.table_inputs()]
    assert names == ["countries.py", "countries.toml", "__init__.py", "db.py", "iso3166-1.json", "iso3166-1.mo"]
    assert all(p.is_file() for p in countries.table_inputs())


def _stats(registry: Path, cache: Path, lang: str, *, index: bool = True) -> subprocess.CompletedProcess[str]:
    """``stats --by country`` drawn as on a terminal (countries by name, in *lang*), with -X importtime."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PARTNERCTL_FORCE_TTY": "1", "NO_COLOR": "1",
           "COLUMNS": "80", "PARTNERCTL_PAGER": "cat"}
    env.pop("PARTNERCTL_NO_INDEX", None)
    if not index:
        env["PARTNERCTL_NO_INDEX"] = "1"
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "partnerctl", "-r", str(registry),
                           "--lang", lang, "stats", "--by", "country"],
                          env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("lang", "name"), [("en", "Italy"), ("fr", "Italie")])
def test_a_second_run_names_countries_without_pycountry(registry_path: Path, tmp_path: Path, lang: str,
                                                         name: str) -> None:
    cache = tmp_path / "cache"
    first = _stats(registry_path, cache, lang)
    assert first.returncode == 0, first.stderr
    assert "pycountry" in first.stderr, "the first run builds the table"
    second = _stats(registry_path, cache, lang)
    assert second.returncode == 0, second.stderr
    assert "pycountry" not in second.stderr, "the second takes it from the cache folder"
    assert second.stdout == first.stdout
    assert _stats(registry_path, cache, lang, index=False).stdout == first.stdout
    assert name in first.stdout.split()


def test_no_index_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PARTNERCTL_NO_INDEX", "1")
    assert kept.country_table(countries.table_inputs(), countries._country_rows) == countries._country_rows()
    assert not (tmp_path / "partnerctl").exists()
