"""Bad input to `add-event`: the exit code, a one-line message, no traceback, the registry untouched."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import partnerctl.cli
from partnerctl.storage import reader, store

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "registry.toml"
ENV_TO_CLEAR = ("PARTNERCTL_REGISTRY", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "NO_COLOR")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def invoke(runner: CliRunner, registry: Path | None, *args: str) -> Any:
    prefix = ["--registry", str(registry)] if registry is not None else []
    return runner.invoke(partnerctl.cli.app, [*prefix, *args])


def add_event(*, partner: str = "turin", date: str = "2011-03", title: str = "A proper title",
              extra: tuple[str, ...] = ()) -> list[str]:
    return ["add-event", partner, "--date", date, "--title", title, *extra]


# --- registries to run against ---------------------------------------------------------------

def shipped_copy(tmp: Path) -> Path:
    path = tmp / "registry.toml"
    shutil.copyfile(SHIPPED, path)
    return path


def missing_file(tmp: Path) -> Path:
    return tmp / "absent.toml"


def missing_folder(tmp: Path) -> Path:
    return tmp / "missing-folder" / "registry.toml"


def malformed_toml(tmp: Path) -> Path:
    path = tmp / "registry.toml"
    lines = SHIPPED.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[4] == "[themes]\n"
    lines[4] = "[themes\n"  # line 5: an unclosed table header
    path.write_text("".join(lines), encoding="utf-8")
    return path


def schema_invalid(tmp: Path) -> Path:
    path = tmp / "registry.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count('city = "Turin"\n') == 1
    path.write_text(text.replace('city = "Turin"\n', 'city = "Turin"\ncolour = "blue"\n'), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file of *folder* (recursively) with its bytes; lock files are allowed to appear."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*")) if not p.name.endswith(".lock")}


ERROR_LINE = re.compile(r"\Apartnerctl: error: [^\n]+\n\Z")

BAD = [
    # id, registry, args, exit code, phrase in the message
    ("month-13", shipped_copy, add_event(date="2011-13"), 2, "month must be 01-12"),
    ("feb-30", shipped_copy, add_event(date="2011-02-30"), 2, "February 2011 has no day 30"),
    ("words-date", shipped_copy, add_event(date="March 2011"), 2, "write YYYY, YYYY-MM or YYYY-MM-DD"),
    ("end-before-date", shipped_copy, add_event(date="2011", extra=("--end", "2010")), 2,
     "end 2010 is before date 2011"),
    ("bad-end", shipped_copy, add_event(date="2011", extra=("--end", "2011-00")), 2, "month must be 01-12"),
    ("empty-title", shipped_copy, add_event(title=""), 2, "title: must not be empty"),
    ("blank-title", shipped_copy, add_event(title=" \t "), 2, "title: must not be empty"),
    ("multiline-title", shipped_copy, add_event(title="First line\nsecond line"), 2,
     "title: must be a single line"),
    ("cr-title", shipped_copy, add_event(title="First line\rsecond line"), 2, "title: must be a single line"),
    ("unknown-partner", shipped_copy, add_event(partner="atlantis"), 1, "no partnership 'atlantis'"),
    ("ambiguous-prefix", shipped_copy, add_event(partner="b"), 1,
     "'b' is ambiguous: bamako (Bamako, Mali), barcelona (Barcelona, Spain)"),
    ("unknown-theme", shipped_copy, add_event(extra=("--theme", "zzz")), 2, "unknown theme 'zzz'"),
    ("ambiguous-theme", shipped_copy, add_event(extra=("--theme", "urban")), 2, "theme 'urban' is ambiguous"),
    ("registry-missing", missing_file, add_event(), 3, "registry not found"),
    ("malformed-toml", malformed_toml, add_event(), 3, "registry.toml:5: column 8: invalid TOML"),
    ("schema-invalid", schema_invalid, add_event(), 3, "partnerships.turin.colour:1222: unknown key"),
    # Nothing to read: exit 3 like a missing file (add-event said exit 4 "cannot write" before a fix).
    ("missing-folder", missing_folder, add_event(), 3, "registry not found"),
]


@pytest.mark.parametrize(("make", "args", "code", "phrase"),
                         [pytest.param(*row[1:], id=row[0]) for row in BAD])
def test_bad_add_event_input(runner: CliRunner, tmp_path: Path, make: Callable[[Path], Path],
                             args: list[str], code: int, phrase: str) -> None:
    registry = make(tmp_path)
    before = snapshot(tmp_path)
    result = invoke(runner, registry, *args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert ERROR_LINE.match(result.stderr), result.stderr
    assert phrase in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stdout + result.stderr
    assert snapshot(tmp_path) == before  # registry byte-for-byte unchanged, no temp or backup file


def test_read_of_registry_in_missing_folder_is_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    # The read side agrees that a missing folder is an unreadable registry.
    result = invoke(runner, missing_folder(tmp_path), "show", "turin")
    assert result.exit_code == 3
    assert ERROR_LINE.match(result.stderr)
    assert "registry not found" in result.stderr


def test_bundled_registry_is_read_only(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no data/registry.toml here
    monkeypatch.delenv("PARTNERCTL_REGISTRY", raising=False)
    bundled = store.bundled_path()
    assert store.locate(None).bundled
    before = bundled.read_bytes()
    result = invoke(runner, None, *add_event())
    assert result.exit_code == 4, result.stderr
    assert ERROR_LINE.match(result.stderr), result.stderr
    assert "bundled" in result.stderr and "read-only" in result.stderr
    # It says how to get a writable copy: copy the file and name it with --registry.
    assert "copy it" in result.stderr
    assert "--registry PATH" in result.stderr
    assert str(bundled) in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert bundled.read_bytes() == before
    assert list(tmp_path.iterdir()) == []


def test_bundled_registry_still_reads(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, None, "show", "turin", "--format", "ids")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "turin\n"


def test_read_only_registry_file(runner: CliRunner, tmp_path: Path) -> None:
    registry = shipped_copy(tmp_path)
    registry.chmod(0o444)
    before = snapshot(tmp_path)
    would_write = os.access(registry, os.W_OK)  # True for root, whatever the mode
    result = invoke(runner, registry, *add_event())
    if would_write and result.exit_code == 0:
        pytest.skip("running as root: the write to a 0444 file succeeded")
    assert result.exit_code == 4, result.stderr
    assert ERROR_LINE.match(result.stderr), result.stderr
    assert "read-only" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert snapshot(tmp_path) == before
    assert registry.stat().st_mode & 0o777 == 0o444


def test_symlinked_registry_writes_the_target_and_keeps_the_link(runner: CliRunner, tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = shipped_copy(real_dir)
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    before = target.read_bytes()

    result = invoke(runner, link, *add_event(title="Written through a link", extra=("--format", "ids")))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "2011-03-written-through-a-link\n"
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    after = target.read_bytes()
    assert after != before
    assert b'id = "2011-03-written-through-a-link"' in after
    assert reader.problems(target) == []
    # Only the link and the real folder at the top: no file was put in the link's place.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.toml", "real"]
