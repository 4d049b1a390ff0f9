"""Exports never reach outside their target, never leave a partial output, and keep what is not theirs.

- ``-o FILE`` (json, jsonl, csv, ics, sqlite) is replaced all or nothing; a symbolic link there is
  replaced, never written through.
- ``-o FOLDER`` (html, markdown) is replaced as a whole: symbolic links inside it are never
  followed, files partnerctl did not write are kept, a folder no export wrote is refused.
- A full disk (injected in-process, and a real tiny tmpfs when the sandbox allows mounting one)
  fails with exit 4 and one line, the old output intact and no temporary file left.
- A killed export leaves the old or the new output; the next export clears its leftovers.
"""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import ENOSPC, FullDisk, snapshot
from partnerctl.formats import sqlite as sqlite_export
from partnerctl.storage import files
from partnerctl.storage import toml as tomlfile

FILE_FORMATS = ("json", "jsonl", "csv", "ics", "sqlite")
SITE_FORMATS = {"html": ".html", "markdown": ".md"}
MANIFEST = ".partnerctl-manifest.json"
TEMP = re.compile(r"\..+\.[0-9a-f]{16}\.(tmp|old)")


def temps(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if TEMP.fullmatch(name))


def export(invoke: Callable[..., Any], registry: Path, fmt: str, target: Path, *more: str) -> Any:
    return invoke(registry, "export", "--format", fmt, "-o", str(target), *more)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside every export's target, with a file and a folder an export must never touch."""
    folder = tmp_path / "outside"
    (folder / "pages").mkdir(parents=True)
    (folder / "precious.txt").write_bytes(b"precious\n")
    (folder / "pages" / "alder.html").write_bytes(b"not a partnerctl page\n")
    (folder / "pages" / "mine.html").write_bytes(b"someone's page\n")
    return folder


# --- symbolic links --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", SITE_FORMATS)
def test_links_inside_the_site_folder_are_never_followed(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path, outside: Path, fmt: str) -> None:
    ext = SITE_FORMATS[fmt]
    site = tmp_path / "site"
    assert export(invoke, small_registry, fmt, site).exit_code == 0
    fresh = snapshot(site)
    before = snapshot(outside)

    # A page partnerctl wrote, replaced by a link to an outside file: the link is dropped, not written through.
    page = site / "partnerships" / f"alder{ext}"
    page.unlink()
    page.symlink_to(outside / "precious.txt")
    result = export(invoke, small_registry, fmt, site)
    assert result.exit_code == 0, result.stderr
    assert snapshot(outside) == before
    assert not page.is_symlink() and snapshot(site) == fresh

    # The pages folder, replaced by a link to an outside folder: refused, nothing written or removed there.
    pages = site / "partnerships"
    os.rename(pages, tmp_path / "pages-aside")
    pages.symlink_to(outside / "pages")
    linked = snapshot(site)
    result = export(invoke, small_registry, fmt, site)
    assert result.exit_code == 4
    assert result.stderr == (f"partnerctl: error: {pages} was not written by partnerctl export; "
                             "not replacing it (move it away, then export again)\n")
    assert snapshot(outside) == before and snapshot(site) == linked

    # The manifest, replaced by a link to an outside file: not a manifest; refused, nothing changed.
    pages.unlink()
    os.rename(tmp_path / "pages-aside", pages)
    manifest = site / MANIFEST
    manifest.unlink()
    manifest.symlink_to(outside / "precious.txt")
    linked = snapshot(site)
    result = export(invoke, small_registry, fmt, site)
    assert result.exit_code == 4
    assert snapshot(outside) == before and snapshot(site) == linked


def test_a_page_link_not_in_the_manifest_is_refused(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path, outside: Path) -> None:
    site = tmp_path / "site"
    (site / "partnerships").mkdir(parents=True)
    (site / "partnerships" / "alder.html").symlink_to(outside / "precious.txt")
    before, linked = snapshot(outside), snapshot(site)
    result = export(invoke, small_registry, "html", site, "--force")
    assert result.exit_code == 4
    assert str(site / "partnerships" / "alder.html") in result.stderr
    assert snapshot(outside) == before and snapshot(site) == linked
    assert temps(tmp_path) == []


def test_a_site_folder_given_as_a_link_is_exported_at_its_real_path(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    real = tmp_path / "www" / "site"
    real.mkdir(parents=True)
    link = tmp_path / "site-link"
    link.symlink_to(real)
    result = export(invoke, small_registry, "html", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / "index.html").is_file() and (real / "partnerships" / "alder.html").is_file()
    assert export(invoke, small_registry, "html", link).exit_code == 0


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_a_file_target_that_is_a_link_is_replaced_not_written_through(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path, outside: Path, fmt: str) -> None:
    target = tmp_path / f"out.{fmt}"
    target.symlink_to(outside / "precious.txt")
    before = snapshot(outside)
    result = export(invoke, small_registry, fmt, target)
    assert result.exit_code == 0, result.stderr
    assert snapshot(outside) == before
    assert not target.is_symlink() and target.stat().st_size > 0


def test_dev_stdout_is_written_to_not_replaced(small_registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    with open(out, "wb") as f:
        subprocess.run([sys.executable, "-m", "partnerctl", "--registry", str(small_registry), "export",
                        "-o", "/dev/stdout"], stdout=f, check=True)
    assert Path("/dev/stdout").is_symlink() or Path("/dev/stdout").is_char_device()
    expected = subprocess.run([sys.executable, "-m", "partnerctl", "--registry", str(small_registry), "export"],
                              capture_output=True, check=True).stdout
    assert out.read_bytes() == expected


# --- files partnerctl did not write ----------------------------------------------------------

def test_files_partnerctl_did_not_write_are_kept(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path, outside: Path) -> None:
    site = tmp_path / "site"
    assert export(invoke, small_registry, "html", site).exit_code == 0
    (site / "README.md").write_text("about this site\n")
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[core]\n")
    (site / "empty").mkdir()
    (site / "partnerships" / "notes.txt").write_text("kept beside the pages\n")
    (site / "latest").symlink_to("partnerships/alder.html")
    (site / "elsewhere").symlink_to(outside / "precious.txt")
    readme_inode = (site / "README.md").stat().st_ino
    before = snapshot(outside)

    assert invoke(small_registry, "remove", "dune", "--yes").exit_code == 0
    result = export(invoke, small_registry, "html", site)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (f"partnerctl: wrote 3 partnership pages and index.html to {site}; removed 1 stale "
                             "page; kept 5 files partnerctl did not write\n")
    got = snapshot(site)
    assert got["README.md"] == b"about this site\n" and got[".git/config"] == b"[core]\n"
    assert got["empty"] == "dir" and got["partnerships/notes.txt"] == b"kept beside the pages\n"
    assert got["latest"] == ("link", "partnerships/alder.html")
    assert got["elsewhere"] == ("link", str(outside / "precious.txt"))
    assert (site / "README.md").stat().st_ino == readme_inode  # carried over, not copied
    assert "partnerships/dune.html" not in got
    assert snapshot(outside) == before
    assert temps(tmp_path) == []


def test_the_folder_keeps_its_mode_and_owner(invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert export(invoke, small_registry, "html", site).exit_code == 0
    site.chmod(0o750)
    (site / "own").mkdir(mode=0o700)
    (site / "own" / "x").write_text("x")
    if os.geteuid() == 0:  # root exporting into a folder the web server's user owns
        os.chown(site, 1234, 1234)
        os.chown(site / "own", 1235, 1235)
    before = {p: (p.stat().st_mode, p.stat().st_uid) for p in (site, site / "own")}
    assert invoke(small_registry, "remove", "dune", "--yes").exit_code == 0
    assert export(invoke, small_registry, "html", site).exit_code == 0
    assert {p: (p.stat().st_mode, p.stat().st_uid) for p in (site, site / "own")} == before


def test_a_folder_no_export_wrote_is_refused_unless_force(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    site = tmp_path / "docs"
    site.mkdir()
    (site / "handbook.md").write_text("# Handbook\n")
    before = snapshot(site)
    result = export(invoke, small_registry, "markdown", site)
    assert result.exit_code == 4
    assert result.stderr == (f"partnerctl: error: {site} is not empty and has no .partnerctl-manifest.json: it "
                             "was not written by partnerctl export; give --force to export into it (its files "
                             "are kept)\n")
    assert snapshot(site) == before

    result = export(invoke, small_registry, "markdown", site, "--force")
    assert result.exit_code == 0, result.stderr
    assert (site / "handbook.md").read_text() == "# Handbook\n" and (site / "index.md").is_file()
    # From now on the folder has a manifest: no --force needed.
    assert export(invoke, small_registry, "markdown", site).exit_code == 0
    assert (site / "handbook.md").read_text() == "# Handbook\n"
    # --force belongs to the folder formats.
    assert export(invoke, small_registry, "json", tmp_path / "x.json", "--force").exit_code == 2


def test_a_foreign_file_where_a_page_goes_is_refused(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert export(invoke, small_registry, "html", site).exit_code == 0
    # A hand-made page for a partnership added since: the next export would write that very path.
    (site / "partnerships" / "elm.html").write_text("<p>hand-made</p>\n")
    before = snapshot(site)
    assert invoke(small_registry, "add", "Elm", "--country", "Spain").exit_code == 0
    result = export(invoke, small_registry, "html", site)
    assert result.exit_code == 4
    assert result.stderr == (f"partnerctl: error: {site / 'partnerships' / 'elm.html'} was not written by "
                             "partnerctl export; not replacing it (move it away, then export again)\n")
    assert snapshot(site) == before and temps(tmp_path) == []


def test_without_folder_exchange_the_old_folder_is_renamed_aside(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    assert export(invoke, small_registry, "html", site).exit_code == 0
    (site / "README").write_text("kept\n")
    from partnerctl.storage import folders as outfolder

    monkeypatch.setattr(outfolder, "exchange", lambda a, b: False)
    assert invoke(small_registry, "remove", "dune", "--yes").exit_code == 0
    result = export(invoke, small_registry, "html", site)
    assert result.exit_code == 0, result.stderr
    assert (site / "README").read_text() == "kept\n" and not (site / "partnerships" / "dune.html").exists()
    assert temps(tmp_path) == []


def test_an_old_folder_left_aside_by_a_killed_export_is_put_back(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert export(invoke, small_registry, "html", site).exit_code == 0
    (site / "README").write_text("kept\n")
    # Killed between renaming the old folder aside and the new one in: no site at all.
    os.rename(site, tmp_path / ".site.0123456789abcdef.old")
    result = export(invoke, small_registry, "html", site)
    assert result.exit_code == 0, result.stderr
    assert (site / "README").read_text() == "kept\n" and (site / "index.html").is_file()
    assert temps(tmp_path) == []


# --- read-only folders -----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", [*FILE_FORMATS, *SITE_FORMATS])
def test_an_export_into_a_read_only_folder_is_refused_even_for_root(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / ("site" if fmt in SITE_FORMATS else f"out.{fmt}")
    try:
        result = export(invoke, small_registry, fmt, target)
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 4
    assert result.stderr == f"partnerctl: error: cannot write {target}: folder {folder} is read-only\n"
    assert os.listdir(folder) == []


def test_a_read_only_site_folder_is_refused_even_for_root(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert export(invoke, small_registry, "html", site).exit_code == 0
    assert invoke(small_registry, "remove", "dune", "--yes").exit_code == 0
    before = snapshot(site)
    site.chmod(0o555)
    try:
        result = export(invoke, small_registry, "html", site)
    finally:
        site.chmod(0o755)
    assert result.exit_code == 4
    assert result.stderr == f"partnerctl: error: cannot write {site}: the folder is read-only\n"
    assert snapshot(site) == before


# --- temporary names -------------------------------------------------------------------------

def test_temporary_files_are_named_exactly_and_created_new(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "ab.toml"
    seen: list[str] = []
    real = files.open_output

    def spy(fd: int) -> Any:
        seen.extend(name for name in os.listdir(tmp_path) if name != "ab.toml")
        return real(fd)

    monkeypatch.setattr(files, "open_output", spy)
    files.write_atomic(target, b"x")
    assert len(seen) == 1 and re.fullmatch(r"\.ab\.toml\.[0-9a-f]{16}\.tmp", seen[0])
    # Another file's temporary files are not this one's, however alike the names.
    others = [".ab.toml.v2.toml.0123456789abcdef.tmp", ".ab.toml.0123456789abcdef.tmp.toml.0123456789abcdef.tmp"]
    for name in others:
        (tmp_path / name).write_text("in flight")
    files.remove_stale_temps(target)
    assert sorted(os.listdir(tmp_path)) == sorted(["ab.toml", *others])


def test_a_live_writers_temporary_file_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with files.replacing(target) as (tmp, fd):
        os.write(fd, b"{}")
        files.remove_stale_temps(target)  # another writer clearing leftovers meanwhile
        assert tmp.exists()
    assert target.read_bytes() == b"{}" and temps(tmp_path) == []


# --- a full disk, injected -------------------------------------------------------------------

@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``full_disk(room)``: from now on, output files get *room* bytes in all, then ENOSPC."""

    def fill(room: int) -> None:
        left = [room]
        monkeypatch.setattr(files, "open_output", lambda fd: io.BufferedWriter(FullDisk(fd, left)))
        real_fill = sqlite_export.fill

        def small_database(con: sqlite3.Connection, reg: Any) -> Any:
            con.execute("PRAGMA max_page_count = 4")  # SQLite's own "database or disk is full"
            return real_fill(con, reg)

        monkeypatch.setattr(sqlite_export, "fill", small_database)

    return fill


def _target(tmp_path: Path, fmt: str) -> Path:
    return tmp_path / "out" / ("site" if fmt in SITE_FORMATS else f"lyon.{fmt}")


@pytest.mark.parametrize("old", [True, False], ids=["over-an-old-one", "new"])
@pytest.mark.parametrize("fmt", [*FILE_FORMATS, *SITE_FORMATS])
def test_a_full_disk_fails_cleanly(invoke: Callable[..., Any], small_registry: Path, registry_path: Path,
                                   tmp_path: Path, full_disk: Callable[[int], None], fmt: str, old: bool) -> None:
    target = _target(tmp_path, fmt)
    target.parent.mkdir()
    if old:
        assert export(invoke, small_registry, fmt, target).exit_code == 0
    lock = f".{target.name}.lock"
    before = {name: v for name, v in snapshot(target.parent).items() if name != lock}
    full_disk(3000)
    result = export(invoke, registry_path, fmt, target)
    assert result.exit_code == 4
    assert re.fullmatch(rf"partnerctl: error: cannot write {re.escape(str(target))}\S*: {ENOSPC}\n", result.stderr)
    after = {name: v for name, v in snapshot(target.parent).items() if name != lock}
    assert after == before  # the old output intact (or still absent), no temporary file; at most the lock file


def test_a_full_disk_during_a_registry_write_fails_cleanly(
        invoke: Callable[..., Any], registry_path: Path, full_disk: Callable[[int], None]) -> None:
    assert invoke(registry_path, "tag", "turin", "sport").exit_code == 0  # the lock file and the .bak exist
    before = snapshot(registry_path.parent)
    full_disk(3000)
    for args in (["tag", "milan", "sport"], ["add", "Zagreb", "--country", "Croatia"]):
        result = invoke(registry_path, *args)
        assert result.exit_code == 4
        assert result.stderr == f"partnerctl: error: cannot write {registry_path}: {ENOSPC}\n"
        assert snapshot(registry_path.parent) == before


# --- a full disk, for real: a tiny tmpfs -----------------------------------------------------

@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[str | None]:
    """Mount a tmpfs of *size* at *where* for the block: None, or why it cannot be mounted here."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        yield f"cannot mount a tmpfs here (needs root and a sandbox that allows it): {done.stderr.strip()}"
        return
    try:
        yield None
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for the test."""
    with tmpfs(tmp_path / "disk", "1m") as cannot:
        if cannot:
            pytest.skip(cannot)
        yield tmp_path / "disk"


def fill_up(disk: Path) -> Path:
    """Take every free byte of *disk* with one file; returns it (remove it to free the space)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def partnerctl(registry: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "partnerctl", "--registry", str(registry), *args],
                          capture_output=True, text=True, timeout=120)


def test_a_real_full_disk_fails_every_write_cleanly(small_registry: Path, registry_path: Path,
                                                    tiny_disk: Path) -> None:
    targets = {fmt: tiny_disk / ("site-" + fmt if fmt in SITE_FORMATS else f"lyon.{fmt}")
               for fmt in [*FILE_FORMATS, *SITE_FORMATS]}
    for fmt, target in targets.items():  # the old outputs, from the small registry
        assert partnerctl(small_registry, "export", "--format", fmt, "-o", str(target)).returncode == 0
    registry = tiny_disk / "registry.toml"
    registry.write_bytes(registry_path.read_bytes())
    assert partnerctl(registry, "tag", "turin", "sport").returncode == 0
    before = snapshot(tiny_disk)
    filler = fill_up(tiny_disk)

    for fmt, target in targets.items():  # the Lyon registry: more than the disk holds
        result = partnerctl(registry_path, "export", "--format", fmt, "-o", str(target))
        assert result.returncode == 4, (fmt, result.stderr)
        assert re.fullmatch(rf"partnerctl: error: cannot write {re.escape(str(target))}\S*: {ENOSPC}\n",
                            result.stderr), (fmt, result.stderr)
    result = partnerctl(registry, "add-event", "milan", "--date", "2024", "--title", "Too much")
    assert result.returncode == 4 and result.stderr == f"partnerctl: error: cannot write {registry}: {ENOSPC}\n"
    filler.unlink()
    assert snapshot(tiny_disk) == before


# --- killed exports --------------------------------------------------------------------------

KILL_PARTNERSHIPS = 3000
KILLS = 8


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """Where the kill test works: a tmpfs when one can be mounted, else the test's folder.

    Removing thousands of files that have reached a disk can take seconds (an export
    removes the old site's); in memory it does not, and the renames are the same.
    """
    with tmpfs(tmp_path / "scratch", "512m") as cannot:
        yield tmp_path if cannot else tmp_path / "scratch"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["html", "sqlite"])
def test_a_killed_export_leaves_the_old_or_the_new_output(scratch: Path, fmt: str) -> None:
    from conftest import large_registry

    tmp_path = scratch
    reg = large_registry(KILL_PARTNERSHIPS)
    registry = tmp_path / "registry.toml"
    registry.write_text(tomlfile.dump(reg), encoding="utf-8")
    target = tmp_path / "out" / ("site" if fmt == "html" else "out.sqlite")
    target.parent.mkdir()

    def run(path: Path, out: Path) -> None:
        result = partnerctl(path, "export", "--format", fmt, "-o", str(out))
        assert result.returncode == 0, result.stderr

    def state() -> Any:
        return snapshot(target) if fmt == "html" else target.read_bytes()

    # The old output: the registry as it was. The new one: every page differs (the owner is on each),
    # one partnership fewer.
    run(registry, target)
    old = state()
    reg.registry.owner = "Lyon Métropole"
    del reg.partnerships["city-00007"]
    changed = tmp_path / "changed.toml"
    changed.write_text(tomlfile.dump(reg), encoding="utf-8")
    reference = tmp_path / "reference" / target.name
    reference.parent.mkdir()
    run(changed, reference)
    new = snapshot(reference) if fmt == "html" else reference.read_bytes()
    assert new != old

    command = [sys.executable, "-m", "partnerctl", "--registry", str(changed), "export", "--format", fmt,
               "-o", str(target)]
    started = time.monotonic()
    run(changed, target)
    duration = time.monotonic() - started
    assert state() == new
    run(registry, target)

    outcomes = {"old": 0, "new": 0}
    for k in range(KILLS):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=duration * (k + 1) / (KILLS + 1))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        now = state()
        assert now in (old, new), f"kill {k} left an output that is neither the old nor the new one"
        if now == new:
            outcomes["new"] += 1
            run(registry, target)
        else:
            outcomes["old"] += 1
    assert outcomes["old"] > 0

    run(changed, target)
    assert state() == new
    assert temps(target.parent) == []
    print(f"{KILL_PARTNERSHIPS} partnerships, {fmt} export {duration:.2f}s, {KILLS} kills: {outcomes}")
