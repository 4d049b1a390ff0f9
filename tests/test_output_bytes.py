"""The machine formats' fast paths write the bytes of the slow ones.

Indented JSON is written by json's C encoder (``text.indented``), byte for byte what
``json.dumps(indent=N)``'s pure-Python encoder writes: on every value a record can hold and many it
cannot. A CSV/TSV cell skips the escaping and formula patterns when its text cannot hold what they
look for (``text.clean``, ``text.neutralise``), and is the cell the patterns make."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DATASET, SHIPPED_REGISTRY, SMALL_REGISTRY_TOML, needs_dataset
from partnerctl.core import text
from partnerctl.storage import reader


def reference(value: Any, indent: int = 2, margin: str = "") -> str:
    """What ``dumps_json(value, indent, margin=margin)`` wrote before: json's own indented text, escaped."""
    written = json.dumps(value, ensure_ascii=False, indent=indent).replace("\n", "\n" + margin)
    return text._JSON_ESCAPED.sub(lambda m: text._json_escape(m.group()), written)


def assert_same(value: Any) -> None:
    for indent in (0, 1, 2, 4):
        assert text.indented(value, indent) == json.dumps(value, ensure_ascii=False, indent=indent)
    for margin in ("", "  ", "    "):
        assert text.dumps_json(value, indent=2, margin=margin) == reference(value, 2, margin)


AWKWARD_STRINGS = ["", " ", "a\nb", "line\r\nbreak\ttab", '"quoted" \\ back\\slash', "\x00\x1f\x7f\x85\x9f", "ascii but DEL \x7f",
                   "\u202e right-to-left \u2066", "\u200b\ufeff\u00ad", "é à ü ñ", "東京 Москва", "\U0001f600",
                   "\U000e0041 tag", "[1, 2]", "{\"a\": 1}", ",\n  ", "null", "ends with a newline\n"]
AWKWARD = [
    None, True, False, 0, -1, 2**70, 1.5, -0.0, 1e16, 1e-7, float("nan"), float("inf"), float("-inf"),
    *AWKWARD_STRINGS, [], {}, [[]], [{}], {"": []}, {"a": {}}, [[], {}, [[]]], (), ("a", ("b", [])),
    {"k": ("tuple", 1)}, {1: "int key", 2.5: "float key", None: "null key", False: "bool key", "s": "str"},
    {"nested": {1: [1, {2: {}}]}}, [{"events": [{"id": "x", "themes": ["a", "b"], "end": None}], "contacts": []}],
    {s: s for s in AWKWARD_STRINGS},
]


@pytest.mark.parametrize("value", AWKWARD, ids=repr)
def test_awkward_values_are_written_as_json_writes_them(value: Any) -> None:
    assert_same(value)
    assert_same({"record": value, "list": [value, value]})
    assert_same([value, {"x": [value]}])


def test_what_json_refuses_is_refused_the_same_way() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    for bad, error in ((cycle, ValueError), ({"a": [object()]}, TypeError), ({("t",): 1}, TypeError),
                       ([{"a": {(1,): 2}}], TypeError)):
        with pytest.raises(error) as ours:
            text.indented(bad, 2)
        with pytest.raises(error) as theirs:
            json.dumps(bad, ensure_ascii=False, indent=2)
        assert str(ours.value) == str(theirs.value)


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text() | st.sampled_from(AWKWARD_STRINGS))
keys = st.text() | st.sampled_from(AWKWARD_STRINGS)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
                      | st.dictionaries(keys, inner, max_size=6)
                      | st.dictionaries(st.integers() | st.booleans() | st.none(), inner, max_size=3),
                      max_leaves=40)


@settings(max_examples=1500, deadline=None)
@given(values)
def test_any_json_value_is_written_as_json_writes_it(value: Any) -> None:
    assert_same(value)


def records_of(path: Path) -> list[Any]:
    found = reader.open_registry(path)
    try:
        return [rec for _pid, rec in found.each_record()]
    finally:
        found.close()


@pytest.mark.parametrize("which", ["shipped", "small"])
def test_every_record_of_a_registry_is_written_as_json_writes_it(which: str, make_registry: Callable[..., Path]
                                                                 ) -> None:
    path = SHIPPED_REGISTRY if which == "shipped" else make_registry(SMALL_REGISTRY_TOML)
    records = records_of(path)
    assert records and any(rec["events"] for rec in records)
    for rec in records:
        assert_same(rec)
    assert_same(records)


@needs_dataset
def test_the_dataset_s_names_in_records_are_written_as_json_writes_them() -> None:
    assert DATASET is not None
    with DATASET.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    template = records_of(SHIPPED_REGISTRY)[0]
    records = [{**template, "id": str(n), "city": row[0] if row else "", "aliases": row[1:],
                "summary": "\n".join(row), "themes": row[2:3]} for n, row in enumerate(rows)]
    assert text.dumps_json(records, indent=2) == reference(records)


def slow_clean(value: str, multiline: bool = False) -> str:
    cleaned = text._SHOWN_ESCAPED.sub(lambda m: text._escape(m.group()), value)
    return cleaned if multiline else cleaned.replace("\n", " ").replace("\t", " ")


def slow_neutralise(value: str) -> str:
    return "'" + value if text._FORMULA.match(value) else value


CELL_TEXT = ["", "plain", "=1+2", "'=x", "''+y", "-3", "@sum", "\tx", "\rx", "a\tb", "a\nb", "\x1b[31m", "\x7f",
             "\u202e", "é", "'", "''", " =x", *AWKWARD_STRINGS]


@settings(max_examples=3000, deadline=None)
@given(st.text() | st.sampled_from(CELL_TEXT) | st.builds(lambda a, b: a + b, st.sampled_from(CELL_TEXT), st.text()))
def test_a_cell_s_text_is_the_one_the_patterns_make(value: str) -> None:
    for multiline in (False, True):
        assert text.clean(value, multiline=multiline) == slow_clean(value, multiline)
    assert text.neutralise(value) == slow_neutralise(value)
    from partnerctl.formats.output import cell

    assert cell(value) == slow_neutralise(slow_clean(value))
    assert cell(value, raw=True) == slow_clean(value)
