"""The validators' schemas kept in the cache folder (``index.prepare_validators``).

A write builds pydantic's schemas of the model, or takes them from the cache
folder when an earlier run kept them for this very model and pydantic. The cache
may make a write faster, never different: a damaged, foreign or planted file is
ignored and the write validates exactly as without it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from partnerctl.core import model
from partnerctl.core.model import Event, Partnership, Registry, problems_of
from partnerctl.storage import index

INVALID: list[tuple[type[Any], dict[str, Any]]] = [
    (Partnership, {"city": "Turin", "country": "IT", "since": "1991"}),
    (Partnership, {"city": "Turin", "country": "ZZ", "since": 1991, "color": "red"}),
    (Partnership, {"city": "Tu\u202erin", "country": "IT", "status": "asleep"}),
    (Partnership, {"city": "Turin", "country": "IT", "contacts": [{"name": "A", "email": "a@b"}]}),
    (Event, {"date": "1991-13", "title": "x"}),
    (Event, {"date": "2024", "title": "Visit", "internal": "yes"}),
    (Registry, {"registry": {"owner": "Lyon", "country": "FR"}, "themes": {"Bad Slug": "x"}}),
    (Registry, {"registry": {"owner": "Lyon"}, "partnerships": {"t": {"city": "T", "country": "IT", "lat": 91.0}}}),
]


def _problems(tp: type[Any], data: dict[str, Any]) -> list[tuple[str, str]]:
    from pydantic_core import ValidationError

    try:
        model.validate(tp, data)
    except ValidationError as exc:
        return [(p.where, p.message) for p in problems_of(exc)]
    return []


def test_validators_from_kept_schemas_judge_as_the_model_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_ADAPTERS", {})
    model.prepare()
    expected = [_problems(tp, data) for tp, data in INVALID]
    assert all(expected), "every sample is invalid"
    kept = index._load_schemas(pickle.dumps(model.schemas()))
    monkeypatch.setattr(model, "_ADAPTERS", {})
    assert model.prepare(kept) is True
    assert [_problems(tp, data) for tp, data in INVALID] == expected
    shipped = Path(__file__).resolve().parents[1] / "data" / "registry.toml"
    reg, problems = model.validate_registry(__import__("tomllib").loads(shipped.read_text("utf-8")))
    assert problems == [] and reg is not None and "turin" in reg.partnerships


def test_incomplete_schemas_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "_ADAPTERS", {})
    schemas = model.schemas()
    del schemas["Event"]
    assert model.prepare(schemas) is False
    assert model.ready()


class _Planted:
    """Unpickles as a call of os.system: what a planted cache file would try."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def _add_event(registry: Path, cache: Path, title: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PARTNERCTL_NO_BACKUP": "1"}
    return subprocess.run([sys.executable, "-m", "partnerctl", "-r", str(registry), "add-event", "turin",
                           "--date", "2024", "--title", title, "--format", "json"],
                          env=env, capture_output=True, text=True, check=False)


def _bad_event(registry: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PARTNERCTL_NO_BACKUP": "1"}
    return subprocess.run([sys.executable, "-m", "partnerctl", "-r", str(registry), "add-event", "turin",
                           "--date", "1991-13", "--title", "Bad"], env=env, capture_output=True, text=True,
                          check=False)


def test_a_write_keeps_the_schemas_and_the_next_one_uses_them(registry_path: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _add_event(registry_path, cache, "First")
    assert first.returncode == 0, first.stderr
    kept = sorted((cache / "partnerctl").glob("schemas-*.pickle"))
    assert len(kept) == 1
    stamp = kept[0].stat().st_mtime_ns
    second = _add_event(registry_path, cache, "Second")
    assert second.returncode == 0, second.stderr
    assert kept[0].stat().st_mtime_ns == stamp, "a matching cache is read, not written again"
    before = registry_path.read_bytes()
    bad = _bad_event(registry_path, cache)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "date" in bad.stderr and "Traceback" not in bad.stderr
    assert registry_path.read_bytes() == before


@pytest.mark.parametrize("content", ["garbage", "planted", "foreign"])
def test_a_damaged_or_planted_cache_is_only_a_miss(registry_path: Path, tmp_path: Path, content: str) -> None:
    cache = tmp_path / "cache"
    assert _add_event(registry_path, cache, "Warm").returncode == 0
    (kept,) = (cache / "partnerctl").glob("schemas-*.pickle")
    marker = tmp_path / "planted-ran"
    kept.write_bytes({"garbage": b"\x80\x05not a pickle",
                      "planted": pickle.dumps({"Registry": _Planted(marker)}),
                      "foreign": pickle.dumps({"Registry": {"type": "any"}})}[content])
    without = tmp_path / "without.toml"
    without.write_bytes(registry_path.read_bytes())
    done = _add_event(registry_path, cache, "After")
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), "the cache's unpickler runs nothing"
    reference = _add_event(without, tmp_path / "other-cache", "After")
    assert registry_path.read_bytes() == without.read_bytes()
    assert done.stdout == reference.stdout
    # The damaged file was replaced by good schemas; a bad event is refused with them as without.
    before = registry_path.read_bytes()
    assert _bad_event(registry_path, cache).returncode == 2
    assert registry_path.read_bytes() == before
