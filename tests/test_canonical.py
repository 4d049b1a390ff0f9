"""Canonical form: load + dump is the identity on canonical text, dump is idempotent, writes keep the mode."""

from __future__ import annotations

import calendar
import copy
import os
import stat
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHIPPED_REGISTRY
from partnerctl.core import dates, model
from partnerctl.core.model import Registry, validate_registry
from partnerctl.core.names import INVISIBLE
from partnerctl.storage import store
from partnerctl.storage import toml as tomlfile


def roundtrip(text: str) -> str:
    """dump(validate(parse(text)))."""
    data = tomllib.loads(text)
    parsed, problems = validate_registry(data)
    assert problems == []
    assert parsed is not None
    return tomlfile.dump(parsed)


# --- the shipped registry ----------------------------------------------------------------------

def test_shipped_registry_is_canonical() -> None:
    assert tomlfile.dump(store.load(SHIPPED_REGISTRY)).encode("utf-8") == SHIPPED_REGISTRY.read_bytes()


def test_dump_is_idempotent_on_the_shipped_registry() -> None:
    once = tomlfile.dump(store.load(SHIPPED_REGISTRY))
    assert roundtrip(once) == once
    assert roundtrip(roundtrip(once)) == once


NON_CANONICAL = """\
[partnerships.zeta]
country = "CL"
city = "Zeta"
events = [
    {title = "Later", date = "2012-05-16", id = "b-later", description = "Given in full: a day, a month and a year."},
    {title = "Month", date = "2012-05", id = "c-month", description = "Given as a month: sorts after its year."},
    {title = "Year first", date = "2012", id = "d-year", description = "Given as a year: sorts before its months."},
    {title = "Same year, second", date = "2012", id = "e-year-two", description = "Same date as d-year: keeps its place."},
]
themes = ["food"]
aliases = []

[partnerships.alpha]
city = "Alpha"
country = "PE"
summary = "Two\\nlines"

[themes]
mobility = "Mobility"
food = "Food"

[networks]

[registry]
country = "FR"
owner = "Lyon"
"""

CANONICAL = '''\
[registry]
owner = "Lyon"
country = "FR"

[themes]
food = "Food"
mobility = "Mobility"

[networks]

[partnerships.alpha]
city = "Alpha"
country = "PE"
summary = """
Two
lines"""

[partnerships.zeta]
city = "Zeta"
country = "CL"
themes = [
    "food",
]

[[partnerships.zeta.events]]
id = "d-year"
date = "2012"
title = "Year first"
description = "Given as a year: sorts before its months."

[[partnerships.zeta.events]]
id = "e-year-two"
date = "2012"
title = "Same year, second"
description = "Same date as d-year: keeps its place."

[[partnerships.zeta.events]]
id = "c-month"
date = "2012-05"
title = "Month"
description = "Given as a month: sorts after its year."

[[partnerships.zeta.events]]
id = "b-later"
date = "2012-05-16"
title = "Later"
description = "Given in full: a day, a month and a year."
'''


def test_dump_puts_a_registry_in_canonical_form() -> None:
    assert roundtrip(NON_CANONICAL) == CANONICAL
    assert roundtrip(CANONICAL) == CANONICAL


# --- random registries ---------------------------------------------------------------------------

SLUG_WORD = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
SLUGS = st.lists(SLUG_WORD, min_size=1, max_size=3).map("-".join)
CHARS = st.characters(exclude_categories=("Cs",))  # any code point UTF-8 can hold
TRICKY = st.sampled_from(['"', '""', '"""', "'", "'''", "\\", "\\\\", "\\n", "\\u00e9", "\n", "\n\n", "\t",
                          "\r", " ", "é", "Łódź", "東京", "#", "=", "[x]", "\x1b[31m", "\x7f", "\x00"])
# Carriage returns are stored as newlines (the model normalises "\r\n" and "\r" to "\n");
# _expected applies the same rule.
FREE_TEXT = st.lists(st.one_of(TRICKY, st.text(CHARS, max_size=4)), max_size=8).map("".join)
ONE_LINE = (st.lists(st.one_of(TRICKY, st.text(CHARS, min_size=1, max_size=4)), min_size=1, max_size=6)
            .map("".join)
            .map(lambda s: s.replace("\n", " ").replace("\r", " "))
            .filter(lambda s: s.strip() != ""))
# Names and labels hold no invisible or bidirectional control character (the model refuses them).
NAME = ONE_LINE.filter(lambda s: not INVISIBLE.search(s))
YEARS = st.one_of(st.integers(1990, 1992), st.integers(1, 9999))


@st.composite
def partial_dates(draw: Any) -> str:
    year = draw(YEARS)
    precision = draw(st.sampled_from(["year", "month", "day"]))
    if precision == "year":
        return f"{year:04d}"
    month = draw(st.integers(1, 12))
    if precision == "month":
        return f"{year:04d}-{month:02d}"
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    return f"{year:04d}-{month:02d}-{day:02d}"


def _maybe(draw: Any, out: dict[str, Any], key: str, strategy: Any) -> None:
    value = draw(st.none() | strategy)
    if value is not None and value != []:
        out[key] = value


# Countries as a registry stores them: ISO 3166 codes, a subdivision's too.
COUNTRIES = st.sampled_from(["FR", "IT", "GB", "GB-ENG", "GB-SCT", "US", "XK", "PS", "SN"])


@st.composite
def registry_data(draw: Any) -> dict[str, Any]:
    """A small valid registry as TOML data, without empty values (as the canonical form leaves them out)."""
    themes = draw(st.dictionaries(SLUGS, NAME, max_size=4))
    networks = draw(st.dictionaries(SLUGS, NAME, max_size=3))
    regions = draw(st.dictionaries(SLUGS, NAME, max_size=3))
    links = st.lists(SLUGS.map(lambda s: f"https://example.org/{s}"), max_size=2)
    partnerships: dict[str, Any] = {}
    for pid in draw(st.lists(SLUGS, unique=True, max_size=4)):
        p: dict[str, Any] = {"city": draw(NAME), "country": draw(COUNTRIES)}
        _maybe(draw, p, "aliases", st.lists(NAME, max_size=2))
        for key in ("kind", "since_note"):
            _maybe(draw, p, key, ONE_LINE)
        if regions:
            _maybe(draw, p, "region", st.sampled_from(sorted(regions)))
        _maybe(draw, p, "owner", NAME)
        _maybe(draw, p, "owner_country", COUNTRIES)
        _maybe(draw, p, "lat", st.floats(-90, 90, allow_nan=False))
        _maybe(draw, p, "lon", st.floats(-180, 180, allow_nan=False))
        _maybe(draw, p, "status", st.sampled_from(["active", "suspended", "ended"]))
        _maybe(draw, p, "since", st.integers(1, 9999))
        if themes:
            _maybe(draw, p, "themes", st.lists(st.sampled_from(sorted(themes)), unique=True, max_size=3))
        if networks:
            _maybe(draw, p, "networks", st.lists(st.sampled_from(sorted(networks)), unique=True, max_size=2))
        _maybe(draw, p, "projects", st.lists(ONE_LINE, max_size=2))
        _maybe(draw, p, "links", links)
        _maybe(draw, p, "summary", FREE_TEXT)
        events = []
        for eid in draw(st.lists(SLUGS, unique=True, max_size=5)):
            e: dict[str, Any] = {"id": eid, "date": draw(partial_dates()), "title": draw(ONE_LINE)}
            end = draw(st.none() | partial_dates())
            if end is not None:
                e["date"], e["end"] = sorted([e["date"], end], key=dates.sort_key)
            _maybe(draw, e, "description", FREE_TEXT)
            if themes:
                _maybe(draw, e, "themes", st.lists(st.sampled_from(sorted(themes)), unique=True, max_size=2))
            _maybe(draw, e, "links", links)
            events.append(e)
        if events:
            p["events"] = events
        contacts = []
        for _ in range(draw(st.integers(0, 2))):
            c: dict[str, Any] = {"name": draw(NAME)}
            for key in ("role", "organisation", "phone"):
                _maybe(draw, c, key, FREE_TEXT)
            _maybe(draw, c, "email", SLUGS.map(lambda s: f"{s}@example.org"))
            contacts.append(c)
        if contacts:
            p["contacts"] = contacts
        partnerships[pid] = p
    data: dict[str, Any] = {"registry": {"owner": draw(NAME)}, "themes": themes, "networks": networks}
    _maybe(draw, data["registry"], "country", COUNTRIES)
    if regions:
        data["regions"] = regions
    if partnerships:
        data["partnerships"] = partnerships
    return data


def _expected(data: dict[str, Any]) -> dict[str, Any]:
    """*data* as the canonical text must read back: events in date order, same dates in their order."""
    def newlines(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\r\n", "\n").replace("\r", "\n")
        if isinstance(value, list):
            return [newlines(v) for v in value]
        if isinstance(value, dict):
            return {k: newlines(v) for k, v in value.items()}
        return value

    out = newlines(copy.deepcopy(data))
    for p in out.get("partnerships", {}).values():
        if "events" in p:
            p["events"] = sorted(p["events"], key=lambda e: dates.sort_key(e["date"]))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registry_data())
def test_random_registries_round_trip(data: dict[str, Any]) -> None:
    registry = model.validate(Registry, data)
    text = tomlfile.dump(registry)
    assert text.startswith("[registry]\n")

    reread = tomllib.loads(text)
    assert reread == _expected(data)
    for p in reread.get("partnerships", {}).values():
        keys = [dates.sort_key(e["date"]) for e in p.get("events", [])]
        assert keys == sorted(keys)

    again, problems = validate_registry(reread)
    assert problems == []
    assert again is not None
    assert tomlfile.dump(again) == text
    # Through the file, as the CLI reads it.
    assert store.parse_valid(text, "random.toml") == again


# --- writes ------------------------------------------------------------------------------------

def test_no_op_save_after_add_event_leaves_identical_bytes(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-03", "--title", "Joint light festival",
                 "--description", "Line one\nline two \"quoted\" \\ backslash", "--theme", "light")
    assert result.exit_code == 0, result.stderr
    after_add = registry_path.read_bytes()
    assert after_add != SHIPPED_REGISTRY.read_bytes()
    st_before = registry_path.stat()

    change = store.write(store.Location(registry_path), store.Change(lambda draft: None, whole=True))
    assert change.result is None
    assert change.written is False
    assert change.new_text == change.old_text == after_add.decode("utf-8")
    assert registry_path.read_bytes() == after_add
    st_after = registry_path.stat()
    assert (st_after.st_ino, st_after.st_mtime_ns) == (st_before.st_ino, st_before.st_mtime_ns)


def test_a_change_undone_in_the_same_save_leaves_identical_bytes(registry_path: Path) -> None:
    before = registry_path.read_bytes()

    def add_and_remove(draft: Any) -> None:
        events = draft.get("turin").events
        events.append(replace(events[0], id="temporary"))
        events.pop()

    change = store.write(store.Location(registry_path), store.Change(add_and_remove))
    assert change.written is False
    assert registry_path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o664])
def test_write_keeps_file_permissions(invoke, registry_path: Path, mode: int) -> None:
    registry_path.chmod(mode)
    ino = registry_path.stat().st_ino
    result = invoke(registry_path, "add-event", "turin", "--date", "2019", "--title", "Permission check")
    assert result.exit_code == 0, result.stderr
    assert b'id = "2019-permission-check"' in registry_path.read_bytes()
    assert stat.S_IMODE(registry_path.stat().st_mode) == mode
    assert registry_path.stat().st_ino != ino  # replaced by rename, not rewritten in place
    # No temporary file left behind.
    assert [p.name for p in registry_path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_write_ignores_umask_for_the_kept_mode(invoke, registry_path: Path) -> None:
    registry_path.chmod(0o666)
    old = os.umask(0o077)
    try:
        result = invoke(registry_path, "add-event", "turin", "--date", "2019", "--title", "Umask check")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(registry_path.stat().st_mode) == 0o666


# --- bugs found ----------------------------------------------------------------------------------

TINY = """\
[registry]
owner = "Lyon"

[themes]

[networks]

[partnerships.alder]
city = "Marlow"
country = "IT"
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    assert roundtrip(TINY) == TINY  # canonical to start with
    return path


def _removed_lines(old: str, new: str) -> list[str]:
    import difflib

    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0))
    return [line for line in diff[2:] if line.startswith("-")]


def test_short_event_is_written_as_a_documented_events_table(invoke, tiny: Path) -> None:
    result = invoke(tiny, "add-event", "alder", "--date", "2011", "--title", "Charter")
    assert result.exit_code == 0, result.stderr
    text = tiny.read_text(encoding="utf-8")
    assert text == TINY + '\n[[partnerships.alder.events]]\nid = "2011-charter"\ndate = "2011"\ntitle = "Charter"\n'


def test_adding_a_long_event_after_short_ones_only_adds_lines(invoke, tiny: Path) -> None:
    for title in ("Charter", "Visit"):
        assert invoke(tiny, "add-event", "alder", "--date", "2011", "--title", title).exit_code == 0
    old = tiny.read_text(encoding="utf-8")
    long_title = "A long event title of the kind the shipped registry holds, well past a hundred characters in all"
    result = invoke(tiny, "add-event", "alder", "--date", "2012", "--title", long_title)
    assert result.exit_code == 0, result.stderr
    assert _removed_lines(old, tiny.read_text(encoding="utf-8")) == []


def test_carriage_return_before_crlf_is_stable_across_saves(invoke, registry_path: Path) -> None:
    result = invoke(registry_path, "add-event", "turin", "--date", "2019", "--title", "Pasted text",
                 "--description", "x\r\r\ny")
    assert result.exit_code == 0, result.stderr
    once = registry_path.read_text(encoding="utf-8")
    assert roundtrip(once) == once  # dump(parse(dump(x))) == dump(x)
    result = invoke(registry_path, "add-event", "milan", "--date", "2019", "--title", "Unrelated")
    assert result.exit_code == 0, result.stderr
    assert _removed_lines(once, registry_path.read_text(encoding="utf-8")) == []
