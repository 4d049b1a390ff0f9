"""The registry's history (partnerctl.storage.history): git log/show by meaning, with real git in a
temporary repository, and the undo journal."""

from __future__ import annotations

import copy
import os
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from conftest import ALICE_EVENT, BOB_EVENT, SHIPPED_REGISTRY, canonical
from partnerctl.core.errors import (
    ChangedSinceWrite,
    GitFailed,
    NotARepository,
    NothingToUndo,
    UnknownRevision,
    WriteFailed,
)
from partnerctl.core.semantic import describe, merge3
from partnerctl.storage import files
from partnerctl.storage.files import JOURNAL_KEEP, journal_folder, journal_list, journal_pop, journal_push, undo
from partnerctl.storage.history import git_log, git_show


@pytest.fixture
def lyon() -> dict[str, Any]:
    return tomllib.loads(SHIPPED_REGISTRY.read_text(encoding="utf-8"))


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed (apt-get install git)")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git repository whose git ignores the user's and the system's configuration."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed (apt-get install git)")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    where = tmp_path / "repo"
    where.mkdir()
    git(where, "init", "-q", "-b", "main")
    return where


def git(repo: Path, *args: str, author: str = "Alice", date: str = "2026-11-29T10:00:00+01:00",
        check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author.lower()}@example.org",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": f"{author.lower()}@example.org",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", "-C", str(repo), *args], check=check, capture_output=True, text=True, env=env)


def commit(repo: Path, path: Path, text: str, message: str, **who: str) -> None:
    path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, **who)


@pytest.fixture
def history_repo(repo: Path, lyon: dict[str, Any]) -> tuple[Path, list[str]]:
    """data/registry.toml in three commits: Alice adds it, Bob adds an event and a status to Turin,
    Alice edits Łódź; a commit touching another file comes between. Returns the registry and its texts."""
    (repo / "data").mkdir()
    registry = repo / "data" / "registry.toml"
    v1 = canonical(lyon)
    commit(repo, registry, v1, "Add the Lyon registry", author="Alice", date="2026-11-27T09:00:00+01:00")
    bob = copy.deepcopy(lyon)
    bob["partnerships"]["turin"]["events"].append(ALICE_EVENT)
    bob["partnerships"]["turin"]["status"] = "suspended"
    v2 = canonical(bob)
    commit(repo, registry, v2, "Turin: Alice's visit", author="Bob", date="2026-11-28T10:30:00+01:00")
    commit(repo, repo / "README", "notes\n", "Notes", author="Bob", date="2026-11-28T11:00:00+01:00")
    third = copy.deepcopy(bob)
    third["partnerships"]["lodz"]["since"] = 1990
    v3 = canonical(third)
    commit(repo, registry, v3, "Łódź: since 1990", author="Alice", date="2026-11-29T08:15:00+01:00")
    return registry, [v1, v2, v3]


# ---------------------------------------------------------------------------- git

def test_git_log_lists_the_registry_commits_with_their_authors(history_repo: tuple[Path, list[str]]) -> None:
    registry, _ = history_repo
    commits = git_log(registry)
    assert [(c.author, c.date, c.message, c.path) for c in commits] == [
        ("Alice", "2026-11-29T08:15:00+01:00", "Łódź: since 1990", "data/registry.toml"),
        ("Bob", "2026-11-28T10:30:00+01:00", "Turin: Alice's visit", "data/registry.toml"),
        ("Alice", "2026-11-27T09:00:00+01:00", "Add the Lyon registry", "data/registry.toml"),
    ]
    assert commits[-1].parent is None and commits[-1].old_path is None
    assert all(c.changes is None for c in commits)


def test_git_log_says_what_each_commit_changed(history_repo: tuple[Path, list[str]]) -> None:
    registry, _ = history_repo
    commits = git_log(registry, changes=True)
    assert describe(commits[0].changes or ()) == ["lodz: since 1991 → 1990"]
    assert describe(commits[1].changes or ()) == ["turin: + event 2026-10-alice-visit; + status suspended"]
    first = describe(commits[2].changes or ())
    shipped = tomllib.loads(SHIPPED_REGISTRY.read_text())
    assert first[0] == f"(registry): + owner Lyon; + country {shipped['registry']['country']}; " + "; ".join(
        f"+ {kind} {slug} {label!r}" for kind in ("theme", "network", "region")
        for slug, label in shipped[f"{kind}s"].items())
    assert first[1:] == [f"{pid}: + partnership" for pid in sorted(tomllib.loads(SHIPPED_REGISTRY.read_text())["partnerships"])]


def test_git_log_of_one_partner(history_repo: tuple[Path, list[str]]) -> None:
    registry, _ = history_repo
    turin = git_log(registry, "turin")
    assert [c.message for c in turin] == ["Turin: Alice's visit", "Add the Lyon registry"]
    assert describe(turin[0].changes or ()) == ["turin: + event 2026-10-alice-visit; + status suspended"]
    assert describe(turin[1].changes or ()) == ["turin: + partnership"]
    assert [c.message for c in git_log(registry, "lodz")] == ["Łódź: since 1990", "Add the Lyon registry"]
    assert git_log(registry, "no-such-partner") == []


def test_git_log_follows_a_renamed_registry(history_repo: tuple[Path, list[str]]) -> None:
    registry, _ = history_repo
    repo = registry.parents[1]
    git(repo, "mv", "data/registry.toml", "lyon.toml")
    git(repo, "commit", "-q", "-m", "Rename", author="Bob")
    commits = git_log(repo / "lyon.toml", changes=True)
    assert [(c.message, c.path, c.old_path) for c in commits] == [
        ("Rename", "lyon.toml", "data/registry.toml"),
        ("Łódź: since 1990", "data/registry.toml", "data/registry.toml"),
        ("Turin: Alice's visit", "data/registry.toml", "data/registry.toml"),
        ("Add the Lyon registry", "data/registry.toml", None),
    ]
    assert commits[0].changes == ()
    assert describe(commits[1].changes or ()) == ["lodz: since 1991 → 1990"]


def test_a_version_that_is_not_a_registry_has_unknown_changes(history_repo: tuple[Path, list[str]]) -> None:
    registry, texts = history_repo
    repo = registry.parents[1]
    commit(repo, registry, "[registry\n", "Broken", author="Bob")
    commit(repo, registry, texts[2], "Fixed", author="Alice")
    commits = git_log(registry, "turin")
    # What the broken commit and its fix did cannot be told: both are listed, with no changes.
    assert [(c.message, c.changes) for c in commits[:2]] == [("Fixed", None), ("Broken", None)]
    assert [c.message for c in commits[2:]] == ["Turin: Alice's visit", "Add the Lyon registry"]


def test_git_show_gives_the_file_at_a_revision(history_repo: tuple[Path, list[str]]) -> None:
    registry, texts = history_repo
    assert git_show(registry, "HEAD") == texts[2].encode("utf-8")
    assert git_show(registry, "HEAD~2") == texts[1].encode("utf-8")
    assert git_show(registry, "main~3") == texts[0].encode("utf-8")
    git(registry.parents[1], "tag", "first", "HEAD~3")
    assert git_show(registry, "first") == texts[0].encode("utf-8")


def test_git_show_of_a_commit_without_the_file_is_none(repo: Path) -> None:
    commit(repo, repo / "README", "notes\n", "Notes")
    registry = repo / "registry.toml"
    commit(repo, registry, "[registry]\n", "Add")
    assert git_show(registry, "HEAD~1") is None


@pytest.mark.parametrize("rev", ["nope", "HEAD~10", "-h", "--all", "", "HEAD:registry.toml"])
def test_git_show_of_an_unknown_revision_is_a_typed_error(history_repo: tuple[Path, list[str]], rev: str) -> None:
    registry, _ = history_repo
    with pytest.raises(UnknownRevision, match="unknown revision"):
        git_show(registry, rev)


@needs_git
def test_outside_a_repository_is_not_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    registry = tmp_path / "registry.toml"
    registry.write_text("[registry]\n")
    with pytest.raises(NotARepository, match=f"^{registry} is not in a git repository$"):
        git_log(registry)
    with pytest.raises(NotARepository):
        git_show(registry, "HEAD")


def test_without_git_is_not_a_repository(history_repo: tuple[Path, list[str]], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    registry, _ = history_repo
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NotARepository, match="git is not installed"):
        git_log(registry)


def test_a_damaged_repository_is_git_failed(history_repo: tuple[Path, list[str]]) -> None:
    registry, _ = history_repo
    repo = registry.parents[1]
    blob = git(repo, "rev-parse", "HEAD~2:data/registry.toml").stdout.strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    # Not read as "the file did not exist then" (which would say every partnership was removed).
    with pytest.raises(GitFailed, match="object missing"):
        git_log(registry, changes=True)
    with pytest.raises(GitFailed):
        git_show(registry, "HEAD~2")
    assert git_show(registry, "HEAD") is not None


def test_a_repository_without_commits_has_no_history(repo: Path) -> None:
    registry = repo / "registry.toml"
    registry.write_text("[registry]\n")
    assert git_log(registry) == []


def test_an_untracked_registry_has_no_history(history_repo: tuple[Path, list[str]]) -> None:
    registry, _ = history_repo
    assert git_log(registry.with_name("other.toml")) == []


def test_file_names_are_literal(repo: Path) -> None:
    weird = repo / "[a]*.toml"
    commit(repo, repo / "a.toml", "x = 1\n", "A decoy the glob would match")
    commit(repo, weird, "[registry]\n", "Add")
    assert [c.message for c in git_log(weird)] == ["Add"]


def test_alice_and_bob_branches_merge_by_meaning(repo: Path, lyon: dict[str, Any]) -> None:
    """Two branches each add an event to Turin: git's line merge conflicts, the merge by meaning keeps both."""
    registry = repo / "registry.toml"
    commit(repo, registry, canonical(lyon), "Lyon")
    for who, event in (("alice", ALICE_EVENT), ("bob", BOB_EVENT)):
        doc = copy.deepcopy(lyon)
        doc["partnerships"]["turin"]["events"].append(event)
        git(repo, "checkout", "-q", "-b", who, "main")
        commit(repo, registry, canonical(doc), f"{who}'s event", author=who.title())
    git(repo, "checkout", "-q", "alice")
    assert git(repo, "merge", "-q", "bob", check=False).returncode != 0  # both inserted at one place
    git(repo, "merge", "--abort")
    base = git(repo, "merge-base", "alice", "bob").stdout.strip()
    docs = [tomllib.loads((git_show(registry, rev) or b"").decode()) for rev in (base, "alice", "bob")]
    merged, conflicts = merge3(*docs)
    assert conflicts == []
    assert [e["id"] for e in merged["partnerships"]["turin"]["events"]][-2:] == [ALICE_EVENT["id"], BOB_EVENT["id"]]
    canonical(merged)


# ---------------------------------------------------------------------------- journal

@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "lyon" / "registry.toml"
    path.parent.mkdir()
    path.write_bytes(b"v0\n")
    return path


def write(path: Path, data: bytes) -> None:
    """A write through partnerctl: the previous version journalled, then the atomic write."""
    journal_push(path, path.read_bytes(), new_bytes=data)
    files.write_atomic(path, data)


def test_the_journal_is_beside_the_registry(registry: Path) -> None:
    assert journal_folder(registry) == registry.parent / ".partnerctl" / "journal" / "registry.toml"
    write(registry, b"v1\n")
    [entry] = journal_list(registry)
    assert entry.file.parent == journal_folder(registry)
    assert entry.read() == b"v0\n" and entry.number == 1 and entry.after == files.digest(b"v1\n")


def test_the_journal_keeps_the_last_ten(registry: Path) -> None:
    for n in range(1, 13):
        write(registry, f"v{n}\n".encode())
    entries = journal_list(registry)
    assert JOURNAL_KEEP == 10
    assert [e.number for e in entries] == list(range(12, 2, -1))
    assert [e.read() for e in entries] == [f"v{n}\n".encode() for n in range(11, 1, -1)]
    assert sorted(p.name for p in journal_folder(registry).iterdir()) == sorted(e.file.name for e in entries)


def test_journal_pop_takes_the_newest(registry: Path) -> None:
    assert journal_pop(registry) is None
    write(registry, b"v1\n")
    write(registry, b"v2\n")
    assert journal_pop(registry) == b"v1\n"
    assert [e.read() for e in journal_list(registry)] == [b"v0\n"]


def test_undo_goes_back_one_write_at_a_time(registry: Path) -> None:
    write(registry, b"v1\n")
    write(registry, b"v2\n")
    restore = lambda data: files.write_atomic(registry, data)  # noqa: E731 - the pipeline's write, no journal
    assert undo(registry, registry.read_bytes(), restore).number == 2
    assert registry.read_bytes() == b"v1\n"
    undo(registry, registry.read_bytes(), restore)
    assert registry.read_bytes() == b"v0\n"
    with pytest.raises(NothingToUndo):
        undo(registry, registry.read_bytes(), restore)
    assert registry.read_bytes() == b"v0\n"


def test_undo_refuses_to_lose_a_change_made_since(registry: Path) -> None:
    write(registry, b"v1\n")
    registry.write_bytes(b"v1 edited by hand\n")
    restore = lambda data: files.write_atomic(registry, data)  # noqa: E731
    with pytest.raises(ChangedSinceWrite, match="changed since partnerctl's last write"):
        undo(registry, registry.read_bytes(), restore)
    assert registry.read_bytes() == b"v1 edited by hand\n"
    assert len(journal_list(registry)) == 1
    undo(registry, registry.read_bytes(), restore, force=True)
    assert registry.read_bytes() == b"v0\n" and journal_list(registry) == []


def test_a_failed_restore_keeps_the_entry(registry: Path) -> None:
    write(registry, b"v1\n")

    def failing(data: bytes) -> None:
        raise WriteFailed("disk full")

    with pytest.raises(WriteFailed):
        undo(registry, registry.read_bytes(), failing)
    assert [e.read() for e in journal_list(registry)] == [b"v0\n"]


def test_the_journal_follows_a_symbolic_link_to_the_registry(registry: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(registry)
    journal_push(link, b"v0\n")
    assert journal_folder(link) == journal_folder(registry)
    assert [e.read() for e in journal_list(registry)] == [b"v0\n"]


@pytest.mark.parametrize(("file_mode", "folder_mode"), [(0o600, 0o700), (0o644, 0o755), (0o664, 0o775)])
def test_journal_permissions_follow_the_registry(registry: Path, file_mode: int, folder_mode: int) -> None:
    registry.chmod(file_mode)
    write(registry, b"v1\n")
    [entry] = journal_list(registry)
    assert stat.S_IMODE(entry.file.stat().st_mode) == file_mode
    for folder in (registry.parent / ".partnerctl", registry.parent / ".partnerctl" / "journal", entry.file.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == folder_mode


def test_a_journal_that_cannot_be_written_is_write_failed(registry: Path) -> None:
    (registry.parent / ".partnerctl").write_text("not a folder")
    with pytest.raises(WriteFailed, match="cannot keep the previous version"):
        journal_push(registry, b"v0\n")
    assert journal_list(registry) == []


def test_other_files_in_the_journal_are_left_alone(registry: Path) -> None:
    journal_folder(registry).mkdir(parents=True)
    (journal_folder(registry) / "notes.txt").write_text("mine")
    for n in range(1, 13):
        write(registry, f"v{n}\n".encode())
    assert (journal_folder(registry) / "notes.txt").read_text() == "mine"
    assert len(journal_list(registry)) == JOURNAL_KEEP
