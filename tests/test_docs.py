"""The README stays true: every command has a section and a ``--help`` with an example, and its examples run.

As sqlite-utils' ``tests/test_docs.py``: the commands are read from the app
itself, so a new command without docs fails here. The README's examples are
run in order, as a user would type them, in a folder of their own (with the
sample registry as ``data/registry.toml`` and the files the examples name).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import partnerctl.cli

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
SHIPPED = REPO / "data" / "registry.toml"


def _commands() -> dict[str, object]:
    """Every command, sub-commands as ``themes add``."""
    root = typer.main.get_command(partnerctl.cli.app)
    out: dict[str, object] = {}
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        out[name] = command
        for sub, subcommand in getattr(command, "commands", {}).items():
            out[f"{name} {sub}"] = subcommand
    return out


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_has_a_help_with_an_example(name: str) -> None:
    command = _commands()[name]
    if getattr(command, "commands", None):  # a group lists its commands; its callback is documented as a command
        help_text = command.help or ""  # type: ignore[attr-defined]
        assert help_text, name
        return
    assert re.search(r"Example: (\w+=\S+ )*partnerctl ", command.help or ""), \
        f"{name}: no 'Example:' in its help"  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(n for n in _commands() if " " not in n))
def test_every_command_has_a_readme_section(name: str) -> None:
    headings = [line for line in README.splitlines() if line.startswith("### ")]
    assert any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", h) for h in headings), \
        f"no README section (### heading) names {name!r}"


# Examples that cannot run here, and why. Keep each reason true.
SKIP = {
    "python3 -m venv": "the set-up itself (CI runs it)",
    "rm -r ~/.cache/partnerctl": "deletes a folder of the user's",
    'EDITOR="code --wait"': "needs a graphical editor",
    "twin_cities_raw.csv": "the twin-towns dataset is not part of the repository",
    "--install-completion": "changes the shell's start-up files",
    "partnerctl log": "needs a git repository (tests/test_git_team.py runs it in one)",
    "partnerctl diff HEAD": "needs a git repository (tests/test_git_team.py runs it in one)",
    "partnerctl git-setup": "needs a git repository (tests/test_git_team.py runs it in one)",
}


def _examples() -> list[str]:
    lines = []
    for block in re.findall(r"```\n(.*?)```", README, re.S):
        for line in block.splitlines():
            if re.match(r"(\w+=\S+ )*partnerctl\b", line.strip()) and not line.strip().startswith("partnerctl:"):
                lines.append(line.strip())
    return lines


EXAMPLES = _examples()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as a user's: the sample registry as data/registry.toml, and the files the examples name."""
    home = tmp_path_factory.mktemp("readme")
    (home / "data").mkdir()
    shutil.copyfile(SHIPPED, home / "data" / "registry.toml")
    for name in ("my.toml", "other.toml"):
        shutil.copyfile(SHIPPED, home / name)
    (home / "events.jsonl").write_text('{"partner": "turin", "date": "2026-05", "title": "Study visit"}\n',
                                       encoding="utf-8")
    (home / "turin.txt").write_text("Turin and Lyon have been partners since 1991.\n", encoding="utf-8")
    return home


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) > 50


@pytest.mark.parametrize("example", EXAMPLES)
def test_readme_example_runs(example: str, workspace: Path) -> None:
    for needle, why in SKIP.items():
        if needle in example:
            pytest.skip(why)
    if "| jq" in example and shutil.which("jq") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("jq is missing: .ci/run installs it")
        pytest.skip("needs jq (CI installs it)")
    init = re.match(r"partnerctl init (\S+\.toml)", example)
    if init and (workspace / init.group(1)).exists():
        # The examples use these files before showing how they are made: make them again.
        os.unlink(workspace / init.group(1))
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(workspace),
           "EDITOR": "true", "VISUAL": "true", "PARTNERCTL_NO_BACKUP": "1"}
    env.pop("PARTNERCTL_REGISTRY", None)
    done = subprocess.run(["bash", "-o", "pipefail", "-c", example], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, (example, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
