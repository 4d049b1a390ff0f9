"""Settings: the repository's partnerctl.toml (nearest folder up) wins over the user's config.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from partnerctl.core.errors import RegistryInvalid
from partnerctl.storage import config


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    (home / "partnerctl").mkdir(parents=True)
    return home / "partnerctl" / "config.toml"


def test_the_nearest_file_wins_and_says_where(tmp_path: Path, user: Path) -> None:
    user.write_text('registry = "/srv/lyon.toml"\nlang = "fr"\n[site]\ntitle = "Mine"\nfooter = "Me"\n')
    repo = tmp_path / "repo"
    (repo / "deep" / "down").mkdir(parents=True)
    (repo / "partnerctl.toml").write_text('registry = "data/registry.toml"\n[site]\ntitle = "Team"\n')
    settings = config.load(repo / "deep" / "down")
    registry = settings.get("registry")
    assert registry is not None
    assert registry.value == repo / "data" / "registry.toml" and registry.source == repo / "partnerctl.toml"
    lang = settings.get("lang")
    assert lang is not None and lang.value == "fr" and lang.source == user
    assert settings.table("site") == {"title": "Team", "footer": "Me"}
    assert settings.get("templates") is None


def test_no_file_no_setting(tmp_path: Path, user: Path) -> None:
    assert config.load(tmp_path).get("registry") is None


def test_a_broken_file_is_named(tmp_path: Path, user: Path) -> None:
    user.write_text("registry = [\n")
    with pytest.raises(RegistryInvalid, match="config.toml"):
        config.load(tmp_path)
