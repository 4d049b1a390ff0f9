"""`init` (a new registry) and `fmt` (canonical form, `--check` for CI)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import partnerctl.cli
from partnerctl.storage import reader, store

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "registry.toml"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run partnerctl without --registry (init names its file itself)."""
    monkeypatch.delenv("PARTNERCTL_REGISTRY", raising=False)
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(partnerctl.cli.app, list(args), **kw)


# --- init ------------------------------------------------------------------------------------

def test_init_empty_registry_has_the_lyon_themes_and_no_networks(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "grenoble.toml"
    result = run("init", str(target), "--owner", "Grenoble", "--country", "France", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"partnerctl: created {target} (empty, owner Grenoble)\n"
    lyon = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == {"path": str(target), "name": None, "owner": "Grenoble", "country": "FR",
                                         "themes": len(lyon["themes"]), "networks": 0, "partnerships": 0}
    assert tomllib.loads(target.read_text(encoding="utf-8")) == {
        "registry": {"owner": "Grenoble", "country": "FR"}, "themes": lyon["themes"], "networks": {},
        "regions": lyon["regions"]}
    assert reader.problems(target) == []
    # A new registry is writable at once.
    add = run("--registry", str(target), "add", "Essen", "--country", "Germany", "--theme", "culture")
    assert add.exit_code == 0, add.stderr


def test_init_sample_copies_the_bundled_bytes(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "lyon.toml"
    result = run("init", str(target), "--sample")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert target.read_bytes() == store.bundled_path().read_bytes()


def test_init_default_path_is_data_registry_toml(run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init", "--owner", "Nantes", "--country", "France")
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads((tmp_path / "data" / "registry.toml").read_text())["registry"]["owner"] == "Nantes"
    # ... which is then the registry every command uses in this folder.
    assert run("add", "Cardiff", "--country", "Wales").exit_code == 0
    assert run("show", "cardiff", "--format", "ids").stdout == "cardiff\n"


def test_init_uses_the_registry_option(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "named.toml"
    result = run("--registry", str(target), "init", "--sample")
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() == store.bundled_path().read_bytes()


def test_init_refuses_to_overwrite(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "registry.toml"
    target.write_text("keep me\n")
    result = run("init", str(target), "--sample")
    assert result.exit_code == 4
    assert result.stderr == f"partnerctl: error: {target} already exists; not overwriting it\n"
    assert target.read_text() == "keep me\n"


def test_init_dry_run_prints_the_new_file_and_creates_nothing(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "new.toml"
    result = run("init", str(target), "--owner", "Lille", "--country", "France", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("--- new.toml\n+++ new.toml (new)\n@@ -0,0 +1,")
    assert '+owner = "Lille"\n' in result.stdout
    assert not (tmp_path / "sub").exists()


# --- fmt -------------------------------------------------------------------------------------

def test_fmt_check_fails_on_a_non_canonical_file_and_fmt_fixes_it(small_registry: Path, invoke: Any) -> None:
    before = small_registry.read_bytes()
    check = invoke(small_registry, "fmt", "--check")
    assert check.exit_code == 1
    assert check.stderr == f"partnerctl: {small_registry} is not in canonical form\n"
    assert small_registry.read_bytes() == before

    result = invoke(small_registry, "fmt")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"partnerctl: reformatted {small_registry}\n"
    # Same data, canonical text: alder's events now in date order.
    alder = tomllib.loads(small_registry.read_text())["partnerships"]["alder"]
    assert alder["events"][0]["id"] == "1991-first-contacts"
    again = invoke(small_registry, "fmt", "--check", "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout) == {"path": str(small_registry), "changed": False}
    after = small_registry.read_bytes()
    assert invoke(small_registry, "fmt").stderr == "partnerctl: no changes\n"
    assert small_registry.read_bytes() == after


def test_fmt_check_passes_on_the_shipped_registry(registry_path: Path, invoke: Any) -> None:
    result = invoke(registry_path, "fmt", "--check")
    assert result.exit_code == 0, result.stderr


def test_fmt_dry_run_prints_the_diff(small_registry: Path, invoke: Any) -> None:
    before = small_registry.read_text(encoding="utf-8")
    result = invoke(small_registry, "fmt", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("--- small.toml\n+++ small.toml (new)\n")
    assert '-themes = ["urban-mobility", "good-food"]\n' in result.stdout
    assert small_registry.read_text(encoding="utf-8") == before


def test_fmt_of_an_invalid_registry_is_exit_3(tmp_path: Path, invoke: Any) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[registry]\nowner = "X"\ncolour = "red"\n')
    result = invoke(path, "fmt", "--check")
    assert result.exit_code == 3
    assert "registry.colour: unknown key" in result.stderr
