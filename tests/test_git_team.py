"""A team's registry in git, through the command line in real processes: git-setup and the merge driver
(Alice and Bob on branches), log and diff by meaning, and undo from the journal."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import SHIPPED_REGISTRY
from conftest import in_team_repo as run
from conftest import team_turin as turin

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (apt-get install git)")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding a copy of the Lyon registry, set up with ``partnerctl git-setup``."""
    where = tmp_path / "team"
    where.mkdir()
    run(where, "git", "init", "-q", "-b", "main")
    shutil.copyfile(SHIPPED_REGISTRY, where / "registry.toml")
    setup = run(where, "git-setup")
    assert "merge=partnerctl" in setup.stderr
    assert (where / ".gitattributes").read_text() == "/registry.toml merge=partnerctl\n"
    assert (where / ".gitignore").read_text() == "*.bak\n*.lock\n.partnerctl/\n"
    assert run(where, "git-setup").stderr == "partnerctl: already set up\n"
    run(where, "git", "add", "-A")
    run(where, "git", "commit", "-q", "-m", "Lyon registry")
    return where


def branch(repo: Path, who: str, *changes: tuple[str, ...]) -> None:
    run(repo, "git", "checkout", "-q", "-b", who.lower(), "main")
    for change in changes:
        run(repo, *change, who=who)
    run(repo, "git", "commit", "-q", "-am", f"{who}'s change", who=who)


def test_alice_and_bob_add_events_to_turin_and_git_merges_both(repo: Path) -> None:
    branch(repo, "Alice", ("add-event", "turin", "--date", "2026-10", "--title", "Alice visit"))
    branch(repo, "Bob", ("add-event", "turin", "--date", "2026-11", "--title", "Bob visit"),
           ("tag", "turin", "sport"))
    run(repo, "git", "checkout", "-q", "alice")
    merged = run(repo, "git", "merge", "-q", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    ids = [e["id"] for e in turin(repo)["events"]]  # type: ignore[union-attr]
    assert ids[-2:] == ["2026-10-alice-visit", "2026-11-bob-visit"]
    assert run(repo, "fmt", "--check").returncode == 0  # canonical
    assert run(repo, "validate").stderr == "partnerctl: registry.toml: valid\n"
    assert not (repo / "registry.toml.conflicts.json").exists()
    assert run(repo, "git", "status", "--porcelain").stdout == ""


def test_both_setting_turins_status_is_a_conflict_naming_both_values(repo: Path) -> None:
    branch(repo, "Alice", ("set", "turin", "status", "suspended"))
    branch(repo, "Bob", ("set", "turin", "status", "ended"),
           ("add-event", "turin", "--date", "2026-11", "--title", "Bob visit"))
    run(repo, "git", "checkout", "-q", "alice")
    merged = run(repo, "git", "merge", "--no-edit", "bob", check=False)
    assert merged.returncode != 0
    assert "CONFLICT" in merged.stdout
    assert "UU registry.toml" in run(repo, "git", "status", "--porcelain").stdout
    report = json.loads((repo / "registry.toml.conflicts.json").read_text(encoding="utf-8"))
    assert report["conflicts"] == [{"path": ["partnerships", "turin", "status"], "where": "partnerships.turin.status",
                                    "base": None, "ours": "suspended", "theirs": "ended"}]
    # The merged file holds ours' value and everything that merged cleanly; it reads as a registry.
    assert turin(repo)["status"] == "suspended"
    assert [e["id"] for e in turin(repo)["events"]][-1] == "2026-11-bob-visit"  # type: ignore[index]
    checked = run(repo, "validate", check=False)
    assert checked.returncode == 3
    assert "partnerships.turin.status: ours 'suspended', theirs 'ended' (base unset)" in checked.stderr
    # Resolved: the wanted value, the report removed, the file added.
    run(repo, "set", "turin", "status", "ended")
    (repo / "registry.toml.conflicts.json").unlink()
    assert run(repo, "validate").returncode == 0


def test_a_theme_ours_removed_and_theirs_started_using_is_reported(repo: Path) -> None:
    branch(repo, "Alice", ("themes", "remove", "cleantech", "--force"))
    branch(repo, "Bob", ("tag", "turin", "cleantech"))
    run(repo, "git", "checkout", "-q", "alice")
    merged = run(repo, "git", "merge", "--no-edit", "bob", check=False)
    assert merged.returncode != 0
    report = json.loads((repo / "registry.toml.conflicts.json").read_text(encoding="utf-8"))
    assert report["conflicts"] == []
    assert any("cleantech" in problem for problem in report["problems"])
    assert run(repo, "validate", check=False).returncode == 3


def test_log_tells_turins_story_with_authors_and_dates(repo: Path) -> None:
    run(repo, "add-event", "turin", "--date", "2026-10", "--title", "Alice visit")
    run(repo, "git", "commit", "-q", "-am", "Alice's visit", who="Alice", date="2026-11-28T09:00:00+01:00")
    run(repo, "set", "turin", "status", "suspended")
    run(repo, "git", "commit", "-q", "-am", "Suspended", who="Bob", date="2026-11-29T09:00:00+01:00")
    log = run(repo, "log", "turin")
    lines = log.stdout.splitlines()
    assert lines[0] == "2026-11-29 Bob: turin: + status suspended"
    assert lines[1] == "2026-11-28 Alice: turin: + event 2026-10-alice-visit"
    assert lines[2].startswith("2026-11-29 Alice: turin: + partnership")
    as_json = json.loads(run(repo, "log", "turin", "--format", "json").stdout)
    assert [c["author"] for c in as_json] == ["Bob", "Alice", "Alice"]
    assert as_json[0]["changes"] == [{"kind": "field-set", "path": ["partnerships", "turin", "status"],
                                      "new": "suspended"}]
    # The whole registry's first commit is summed up, not one line per partnership.
    first = run(repo, "log").stdout.splitlines()[-1]
    assert re.fullmatch(r"2026-11-29 Alice: \d+ partnerships: \d+ added", first), first


def test_diff_between_versions(repo: Path) -> None:
    run(repo, "set", "turin", "status", "suspended")
    assert run(repo, "diff").stdout == "turin: + status suspended\n"
    run(repo, "git", "commit", "-q", "-am", "x")
    assert run(repo, "diff").stdout == ""
    assert run(repo, "diff").stderr == "partnerctl: no changes since HEAD\n"
    assert run(repo, "diff", "HEAD~1", "HEAD").stdout == "turin: + status suspended\n"
    run(repo, "set", "turin", "status", "ended")
    assert run(repo, "diff", "HEAD").stdout == "turin: status suspended → ended\n"
    unknown = run(repo, "diff", "no-such-rev", check=False)
    assert (unknown.returncode, unknown.stderr) == (1, "partnerctl: error: unknown revision 'no-such-rev'\n")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder outside git holding a copy of the Lyon registry."""
    where = tmp_path / "plain"
    where.mkdir()
    shutil.copyfile(SHIPPED_REGISTRY, where / "registry.toml")
    return where


def test_undo_restores_the_previous_versions_one_by_one(folder: Path) -> None:
    v0 = (folder / "registry.toml").read_bytes()
    run(folder, "set", "turin", "status", "suspended")
    v1 = (folder / "registry.toml").read_bytes()
    run(folder, "add-event", "turin", "--date", "2026-10", "--title", "Visit")
    assert run(folder, "diff").stdout == "turin: + event 2026-10-visit\n"  # outside git: since the last write
    undone = run(folder, "undo")
    assert undone.stdout == "turin: - event 2026-10-visit\n"
    assert (folder / "registry.toml").read_bytes() == v1
    run(folder, "undo")
    assert (folder / "registry.toml").read_bytes() == v0
    nothing = run(folder, "undo", check=False)
    assert nothing.returncode == 1 and "nothing to undo" in nothing.stderr
    # The index follows: reads after an undo are right.
    assert json.loads(run(folder, "show", "turin", "--json").stdout)["status"] is None


def test_undo_refuses_to_lose_a_hand_edit_unless_forced(folder: Path) -> None:
    v0 = (folder / "registry.toml").read_bytes()
    run(folder, "set", "turin", "status", "suspended")
    edited = (folder / "registry.toml").read_bytes().replace(b'status = "suspended"', b'status = "ended"')
    (folder / "registry.toml").write_bytes(edited)
    refused = run(folder, "undo", check=False)
    assert refused.returncode == 4 and "would lose that change" in refused.stderr
    assert (folder / "registry.toml").read_bytes() == edited
    run(folder, "undo", "--force")
    assert (folder / "registry.toml").read_bytes() == v0


def test_the_journal_keeps_ten(folder: Path) -> None:
    for year in range(1990, 2002):
        run(folder, "set", "turin", "since", str(year))
    assert len(os.listdir(folder / ".partnerctl" / "journal" / "registry.toml")) == 10
