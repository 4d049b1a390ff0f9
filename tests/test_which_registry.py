"""Which registry is read: said once and shown (--registry after the command, partnerctl use, the settings
files, the notice when the bundled sample is read on a terminal, a missing registry named with its setting)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHIPPED_REGISTRY
from partnerctl.cli.launch import registry_first


def run(cwd: Path, *args: str, tty: bool = False, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "PARTNERCTL_REGISTRY"}
    full.update(env or {})
    if tty:
        full["PARTNERCTL_FORCE_TTY"] = "1"
    done = subprocess.run([sys.executable, "-m", "partnerctl", *args], cwd=cwd, capture_output=True, text=True,
                          env=full, check=False)
    assert "Traceback" not in done.stderr
    return done


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A folder with my.toml (a copy of the sample with Turin suspended), no data/registry.toml."""
    where = tmp_path / "work"
    where.mkdir()
    shutil.copyfile(SHIPPED_REGISTRY, where / "my.toml")
    assert run(where, "-r", "my.toml", "set", "turin", "status", "suspended").returncode == 0
    return where


@pytest.mark.parametrize(("argv", "expected"), [
    (["timeline", "turin", "-r", "my.toml"], ["-r", "my.toml", "timeline", "turin"]),
    (["timeline", "--registry", "my.toml", "turin"], ["--registry", "my.toml", "timeline", "turin"]),
    (["show", "turin", "--registry=my.toml"], ["--registry=my.toml", "show", "turin"]),
    (["show", "turin", "-rmy.toml"], ["-rmy.toml", "show", "turin"]),
    (["--lock-timeout", "3", "set", "turin", "since", "1991", "-r", "a.toml"],
     ["--lock-timeout", "3", "-r", "a.toml", "set", "turin", "since", "1991"]),
    (["-r", "a.toml", "show", "turin", "-r", "b.toml"], ["-r", "a.toml", "-r", "b.toml", "show", "turin"]),
    (["search", "--", "-r", "x"], ["search", "--", "-r", "x"]),
    (["--help"], ["--help"]),
])
def test_registry_after_the_command_moves_before_it(argv: list[str], expected: list[str]) -> None:
    assert registry_first(argv) == expected


def test_registry_option_after_the_command_is_read(home: Path) -> None:
    done = run(home, "show", "turin", "--json", "-r", "my.toml")
    assert done.returncode == 0, done.stderr
    assert '"status": "suspended"' in done.stdout


def test_the_bundled_sample_is_never_read_silently_on_a_terminal(home: Path) -> None:
    done = run(home, "show", "turin", "--json", tty=True)
    assert done.returncode == 0
    assert done.stderr == ("partnerctl: reading the bundled Lyon sample (read-only); choose your registry with "
                           "'partnerctl use PATH' or --registry PATH\n")
    # Piped into a script: stdout stays what the script reads, and nothing is said.
    assert run(home, "show", "turin", "--json").stderr == ""
    assert run(home, "-r", "my.toml", "show", "turin", "--json", tty=True).stderr == ""


def test_use_writes_the_users_setting_and_reads_follow_it(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    env = {"XDG_CONFIG_HOME": str(config)}
    done = run(home, "use", "my.toml", env=env)
    assert done.returncode == 0, done.stderr
    file = config / "partnerctl" / "config.toml"
    assert file.read_text() == f'registry = "{(home / "my.toml").resolve()}"\n'
    assert done.stderr == f"partnerctl: the default registry is now my.toml (set in {file})\n"
    other = tmp_path / "elsewhere"
    other.mkdir()
    shown = run(other, "show", "turin", "--json", tty=True, env=env)
    assert '"status": "suspended"' in shown.stdout and shown.stderr == ""
    which = run(other, "use", env=env)
    assert which.stdout == f"{(home / 'my.toml').resolve()}\n"
    assert f"named by the registry setting in {file}" in which.stderr


def test_use_keeps_the_other_settings_and_comments(home: Path, tmp_path: Path) -> None:
    file = tmp_path / "config" / "partnerctl" / "config.toml"
    file.parent.mkdir(parents=True)
    file.write_text('# mine\nregistry = "old.toml"\nlang = "fr"\n\n[site]\ntitle = "X"\n')
    assert run(home, "use", "my.toml", env={"XDG_CONFIG_HOME": str(tmp_path / "config")}).returncode == 0
    assert file.read_text() == f'# mine\nregistry = "{(home / "my.toml").resolve()}"\nlang = "fr"\n\n[site]\ntitle = "X"\n'


def test_use_repository_writes_partnerctl_toml_relative_to_it(home: Path) -> None:
    (home / "data").mkdir()
    shutil.move(home / "my.toml", home / "data" / "team.toml")
    done = run(home, "use", "--repository", "data/team.toml")
    assert done.returncode == 0, done.stderr
    assert (home / "partnerctl.toml").read_text() == 'registry = "data/team.toml"\n'
    sub = home / "data"
    assert '"status": "suspended"' in run(sub, "show", "turin", "--json").stdout  # found walking up


def test_a_missing_registry_says_which_setting_named_it_and_how_to_create_it(home: Path) -> None:
    (home / "partnerctl.toml").write_text('registry = "gone.toml"\n')
    done = run(home, "show", "turin")
    assert done.returncode == 3
    assert done.stderr == (f"partnerctl: error: registry not found: {home / 'gone.toml'} (named by the registry "
                           f"setting in {home / 'partnerctl.toml'}; create it with: partnerctl init "
                           f"{home / 'gone.toml'} --sample, or --owner CITY --country COUNTRY)\n")
    write = run(home, "set", "turin", "since", "1990")
    assert write.returncode == 3 and "named by the registry setting" in write.stderr
    env_named = run(home, "show", "turin", env={"PARTNERCTL_REGISTRY": "nope.toml"})
    assert "named by $PARTNERCTL_REGISTRY" in env_named.stderr
    assert "named by --registry" in run(home, "show", "turin", "-r", "nope.toml").stderr


def test_use_of_a_missing_file_is_refused(home: Path) -> None:
    done = run(home, "use", "nope.toml")
    assert done.returncode == 3 and "partnerctl init nope.toml" in done.stderr
