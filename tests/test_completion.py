"""Shell completion: candidates from the registry in use, for a prefix; never an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import partnerctl.cli
from conftest import completion_context
from partnerctl.cli import complete


def _values(candidates: list[tuple[str, str]]) -> list[str]:
    return [value for value, _ in candidates]


def test_partner_ids_for_a_prefix(small_registry: Path) -> None:
    assert complete.partner(completion_context(small_registry), "") == [
        ("alder", "Marlow (Italy)"), ("birch", "Kingsford (Canada)"), ("cedar", "Élan (Italy)"),
        ("dune", "Bakel (Senegal)")]
    assert _values(complete.partner(completion_context(small_registry), "c")) == ["cedar"]
    assert complete.partner(completion_context(small_registry), "zz") == []


def test_theme_and_network_slugs_for_a_prefix(small_registry: Path) -> None:
    assert complete.theme(completion_context(small_registry), "urban-") == [
        ("urban-mobility", "Urban mobility"), ("urban-planning", "Urban planning")]
    assert complete.network(completion_context(small_registry), "e") == [("eurocities", "Eurocities")]


def test_event_ids_of_the_partner_already_typed(small_registry: Path) -> None:
    assert _values(complete.event(completion_context(small_registry, partner="Marlow"), "1991")) == [
        "1991-first-contacts", "1991-04-charter"]
    # Without a partner: every partnership's events, the partnership named in the help.
    assert complete.event(completion_context(small_registry), "20") == [
        ("2005-tram-exchange", "alder: Tram exchange programme"),
        ("2012-05-16-food-fair", "alder: Food fair"),
        ("2010-03-planning-study", "birch: Joint planning study"),
        ("2003-01-15-agreement", "cedar: Agreement signed"),
        ("2011-bike-plan", "cedar: Bike plan")]


def test_registry_from_the_environment(small_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_REGISTRY", str(small_registry))
    assert _values(complete.partner(completion_context(None), "d")) == ["dune"]


@pytest.mark.parametrize("contents", [None, "not = [valid", "[registry]\nowner = 3\n"])
def test_a_broken_registry_completes_nothing(tmp_path: Path, contents: str | None) -> None:
    path = tmp_path / "broken.toml"
    if contents is not None:
        path.write_text(contents)
    for callback in (complete.partner, complete.theme, complete.network, complete.event):
        assert callback(completion_context(path, partner="x"), "") == []
    # An unknown partner for event ids: nothing, not an error.
    assert complete.event(completion_context(None, partner="no-such-partner"), "") == []


def test_through_the_shell_protocol(small_registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARTNERCTL_REGISTRY", raising=False)
    result = CliRunner().invoke(partnerctl.cli.app, [], prog_name="partnerctl", env={
        "_PARTNERCTL_COMPLETE": "complete_zsh",
        "_TYPER_COMPLETE_ARGS": f"partnerctl --registry {small_registry} list --theme urban-p"})
    assert result.exit_code == 0
    assert '"urban-planning":"Urban planning"' in result.stdout
    assert "urban-mobility" not in result.stdout


def test_install_and_show_completion_exist(invoke, small_registry: Path) -> None:
    result = invoke(small_registry, "--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout
    shown = CliRunner().invoke(partnerctl.cli.app, ["--show-completion", "bash"], prog_name="partnerctl")
    assert shown.exit_code == 0
    assert "_PARTNERCTL_COMPLETE=complete_bash" in shown.stdout
