"""The merge driver keeps the comments of both sides (issue 12): in a real git repository set up with
``partnerctl git-setup``, Alice and Bob each add a comment and an event to Turin on their branches; git's
merge through ``partnerctl merge-file`` keeps both events and both comments. A comment both changed
differently is a conflict like any other: ours kept, reported, exit non-zero."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SHIPPED_REGISTRY
from conftest import in_team_repo as run
from conftest import team_turin as turin

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (apt-get install git)")

ABOVE_TURIN = "# Turin: ask Juliette before changing\n"
SINCE = 'agreements"  # renewed in 2012\nsince = 1991\n'  # Turin's (Barcelona has a 1991 too)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository set up with git-setup, holding the Lyon registry with a comment above Turin and one in it."""
    where = tmp_path / "team"
    where.mkdir()
    run(where, "git", "init", "-q", "-b", "main")
    text = SHIPPED_REGISTRY.read_text(encoding="utf-8")
    text = text.replace("[partnerships.turin]\n", ABOVE_TURIN + "[partnerships.turin]\n")
    text = text.replace('kind = "bilateral cooperation agreements"\n',
                        'kind = "bilateral cooperation agreements"  # renewed in 2012\n')
    (where / "registry.toml").write_text(text, encoding="utf-8")
    run(where, "git-setup")
    run(where, "git", "add", "-A")
    run(where, "git", "commit", "-q", "-m", "Lyon registry")
    return where


def branch(repo: Path, who: str, edits: list[tuple[str, str]], *changes: tuple[str, ...]) -> None:
    """*who*'s branch from main: hand *edits* of the registry (old text, new text), then partnerctl *changes*."""
    run(repo, "git", "checkout", "-q", "-b", who.lower(), "main")
    path = repo / "registry.toml"
    for old, new in edits:
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")
    for change in changes:
        run(repo, *change, who=who)
    run(repo, "git", "commit", "-q", "-am", f"{who}'s change", who=who)


def test_alice_and_bob_each_add_a_comment_and_an_event_and_git_keeps_all(repo: Path) -> None:
    branch(repo, "Alice", [(SINCE, SINCE.replace("since", "# Alice: the 1991 date is from the city's site\nsince"))],
           ("add-event", "turin", "--date", "2026-10", "--title", "Alice visit"))
    branch(repo, "Bob", [("[partnerships.yerevan]\n", "# Bob: the next visit is in May\n[partnerships.yerevan]\n"),
                         ('region = "europe"\nkind = "bilateral', 'region = "europe"  # Bob: checked\nkind = "bilateral')],
           ("add-event", "turin", "--date", "2026-11", "--title", "Bob visit"))
    run(repo, "git", "checkout", "-q", "alice")
    merged = run(repo, "git", "merge", "-q", "--no-edit", "bob", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    text = (repo / "registry.toml").read_text(encoding="utf-8")
    ids = [e["id"] for e in turin(repo)["events"]]  # type: ignore[union-attr]
    assert ids[-2:] == ["2026-10-alice-visit", "2026-11-bob-visit"]
    # Both sides' comments, the ones already there, each at its place.
    assert ABOVE_TURIN + "[partnerships.turin]\n" in text
    assert 'kind = "bilateral cooperation agreements"  # renewed in 2012\n' in text
    assert "# Alice: the 1991 date is from the city's site\nsince = 1991\n" in text
    assert 'region = "europe"  # Bob: checked\n' in text
    assert "# Bob: the next visit is in May\n[partnerships.yerevan]\n" in text
    assert run(repo, "validate").stderr == "partnerctl: registry.toml: valid\n"
    assert not (repo / "registry.toml.conflicts.json").exists()
    assert run(repo, "git", "status", "--porcelain").stdout == ""


def test_a_comment_both_changed_differently_is_a_conflict_ours_kept(repo: Path) -> None:
    branch(repo, "Alice", [("# renewed in 2012", "# renewed in 2012 (Alice)")])
    branch(repo, "Bob", [("# renewed in 2012", "# renewed in 2013")],
           ("add-event", "turin", "--date", "2026-11", "--title", "Bob visit"))
    run(repo, "git", "checkout", "-q", "alice")
    merged = run(repo, "git", "merge", "--no-edit", "bob", check=False)
    assert merged.returncode != 0 and "CONFLICT" in merged.stdout
    text = (repo / "registry.toml").read_text(encoding="utf-8")
    assert 'kind = "bilateral cooperation agreements"  # renewed in 2012 (Alice)\n' in text
    assert "renewed in 2013" not in text
    assert [e["id"] for e in turin(repo)["events"]][-1] == "2026-11-bob-visit"  # type: ignore[index]
    report = json.loads((repo / "registry.toml.conflicts.json").read_text(encoding="utf-8"))
    assert report["conflicts"] == [{
        "path": ["partnerships", "turin", "kind", "(comment)"], "where": 'partnerships.turin.kind."(comment)"',
        "base": "  # renewed in 2012", "ours": "  # renewed in 2012 (Alice)", "theirs": "  # renewed in 2013"}]
    checked = run(repo, "validate", check=False)
    assert checked.returncode == 3 and "renewed in 2013" in checked.stderr
