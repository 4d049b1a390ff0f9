"""The derived SQLite index: same answers as a full load, trusted only when current, kept current by writes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    assert_same_with_and_without_index,
    costly_loads,
    fresh_index_contents,
    index_contents,
    no_full_load,
    outputs,
)
from partnerctl.core import edit
from partnerctl.storage import index, location, store
from partnerctl.storage import toml as tomlfile

pytestmark = pytest.mark.usefixtures("index_on")


# Read commands whose output must not depend on where the records come from.
READS = [
    ("show", "turin", "--format", "json"),
    ("show", "Frankfurt am Main", "--format", "tsv"),
    ("show", "tur"),
    ("show", "lodz", "--format", "csv"),
    ("show", "m"),  # ambiguous
    ("show", "xyzturn"),  # not found, with a hint
    ("show", "qqqqqqqq"),  # not found, no hint
    ("show", ""),
    ("list", "--format", "json"),
    ("list", "--theme", "mobility", "--format", "json"),
    ("list", "--theme", "urban", "--network", "eurocities", "--sort", "since"),
    ("list", "--region", "europe", "--sort", "city", "--format", "csv"),
    ("list", "--country", "ITALY", "--format", "ids"),
    ("list", "--owner", "lyon", "--since", "1990", "--until", "2005", "--sort", "country"),
    ("list", "--status", "active", "--format", "jsonl"),
    ("list", "--project", "citylog", "--format", "json"),
    ("list", "--theme", "nonesuch"),
    ("timeline", "--format", "json"),
    ("timeline", "turin", "Turin", "milan", "--since", "2010", "--until", "2015", "--format", "jsonl"),
    ("timeline", "--theme", "light", "--format", "csv"),
    ("timeline", "nowhere-at-all"),
    ("themes", "--format", "json"),
    ("networks", "--format", "tsv"),
    ("list",),
    ("timeline",),
    ("search", "lyon", "--format", "json"),
    ("search", "TRAM"),
    ("search", "é", "--format", "jsonl"),
    ("search", "nowhere-at-all-xyz"),
    ("stats", "--format", "json"),
    ("stats", "--by", "theme", "--region", "europe", "--format", "csv"),
    ("stats", "--theme", "mobility", "--owner", "lyon", "--since", "1990"),
    ("stats", "--status", "active", "--by", "status", "--by", "decade", "--format", "json"),
]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_reads_through_the_index_equal_reads_of_the_file(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    assert_same_with_and_without_index(invoke, registry_path, monkeypatch, args)


SMALL_READS = [
    ("show", "marlo", "--format", "json"), ("show", "MÅRLØ"), ("show", "e"), ("show", "élan"),
    ("show", "kings"), ("show", "bakl"), ("list", "--sort", "country", "--format", "json"),
    ("list", "--theme", "urban", "--format", "json"), ("list", "--network", "luci", "--region", "The Americas"),
    ("list", "--status", "suspended"), ("list", "--until", "1991"),
    ("timeline", "alder", "--format", "json"), ("timeline", "--since", "2006", "--format", "json"),
    ("timeline", "--theme", "mobility"), ("themes",), ("networks", "--format", "json"),
    ("search", "marlo", "--format", "json"), ("search", "CITYLOG"), ("search", "ann@", "--format", "json"),
    ("search", "  "), ("stats", "--format", "json"), ("stats",), ("stats", "--project", "citylog", "--format", "json"),
    ("stats", "--network", "eurocities", "--by", "region", "--by", "country"), ("stats", "--theme", "nonesuch"),
]


@pytest.mark.parametrize("args", SMALL_READS, ids=" ".join)
def test_small_registry_reads_agree(
    invoke: Callable[..., Any], small_registry: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    assert_same_with_and_without_index(invoke, small_registry, monkeypatch, args)


NAMES_TOML = """\
[registry]
owner = "Lyon"

[partnerships.a-b]
city = "Ab"
aliases = ["Zz\U0010ffff", "Abc"]
country = "DE"

[partnerships.abc]
city = "Åbç"
country = "DE"

[partnerships.b]
city = "Zz\U0010ffffq"
country = "DE"

[partnerships.c]
city = "Ab"
country = "FR"

[partnerships.d]
city = "\u0301"
country = "FR"
"""


@pytest.mark.parametrize("name", ["ab", "abc", "ABC", "a", "a-", "zz", "zz\U0010ffff", "zz\U0010ffffq",
                                  "\u0301", " ", "b", "ç", "abd", "abcd", "c", "d", "\uffff"])
def test_resolution_through_the_index_is_query_resolve(
    invoke: Callable[..., Any], make_registry: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # Duplicate names, a name that folds to nothing, the highest code point at the end of a prefix.
    assert_same_with_and_without_index(invoke, make_registry(NAMES_TOML), monkeypatch,
                                       ("show", name, "--format", "ids"))


def test_a_current_index_answers_without_parsing_the_file(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = invoke(registry_path, "show", "turin", "--format", "json").stdout
    no_full_load(monkeypatch)
    result = invoke(registry_path, "show", "turin", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected


def test_the_index_lives_in_xdg_cache_home_named_after_the_real_path(
    invoke: Callable[..., Any], registry_path: Path, index_cache: Path, tmp_path: Path
) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(registry_path)
    assert index.db_path(link) == index.db_path(registry_path)
    assert index.db_path(registry_path).parent == index_cache / "partnerctl"
    invoke(link, "list")
    assert [p.suffix for p in (index_cache / "partnerctl").glob("*.sqlite")] == [".sqlite"]


def test_no_index_setting_writes_no_cache(
    invoke: Callable[..., Any], registry_path: Path, index_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERCTL_NO_INDEX", "1")
    assert invoke(registry_path, "list").exit_code == 0
    assert invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "T").exit_code == 0
    assert not (index_cache / "partnerctl").exists()


def test_a_hand_edit_of_the_same_size_and_mtime_is_seen(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    assert json.loads(invoke(registry_path, "show", "turin", "--format", "json").stdout)["city"] == "Turin"
    st = registry_path.stat()
    registry_path.write_bytes(registry_path.read_bytes().replace(b'city = "Turin"', b'city = "Turix"'))
    os.utime(registry_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert registry_path.stat().st_size == st.st_size
    assert json.loads(invoke(registry_path, "show", "turin", "--format", "json").stdout)["city"] == "Turix"


def test_a_hand_edit_that_breaks_the_registry_is_reported_not_hidden_by_the_index(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    invoke(registry_path, "list")
    registry_path.write_bytes(registry_path.read_bytes().replace(b"since = 1991", b'since = "1991"', 1))
    result = invoke(registry_path, "show", "turin")
    assert result.exit_code == 3
    assert "invalid registry" in result.stderr


@pytest.mark.parametrize("damage", [b"", b"garbage" * 100, b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_corrupt_index_is_ignored_and_rebuilt(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, damage: bytes
) -> None:
    expected = invoke(registry_path, "list", "--format", "json").stdout
    db = index.db_path(registry_path)
    db.write_bytes(damage)
    result = invoke(registry_path, "list", "--format", "json")
    assert (result.exit_code, result.stdout) == (0, expected)
    assert index_contents(db) == fresh_index_contents(registry_path, tmp_path)


def test_an_index_with_rows_that_disagree_with_its_key_is_not_trusted_once_the_file_changes(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    invoke(registry_path, "list")
    con = sqlite3.connect(index.db_path(registry_path))
    con.execute("UPDATE index_meta SET value = 'forged' WHERE key = 'digest'")
    con.commit()
    con.close()
    result = invoke(registry_path, "show", "turin", "--format", "json")
    assert json.loads(result.stdout)["id"] == "turin"
    con = sqlite3.connect(index.db_path(registry_path))
    assert con.execute("SELECT value FROM index_meta WHERE key = 'digest'").fetchone()[0] != "forged"


def test_a_hot_journal_left_by_a_dead_writer_never_corrupts_a_read(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    expected = invoke(registry_path, "list", "--format", "json").stdout
    db = index.db_path(registry_path)
    code = (
        "import os, sqlite3, sys\n"
        "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "con.execute('PRAGMA cache_size = 1')\n"
        "con.execute('BEGIN')\n"
        "con.execute(\"UPDATE index_records SET record = '{}'\")\n"
        "con.execute(\"UPDATE index_names SET id = 'x'\")\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(db)], check=False)
    assert db.with_name(db.name + "-journal").exists()
    result = invoke(registry_path, "list", "--format", "json")
    assert (result.exit_code, result.stdout) == (0, expected)


def test_the_index_can_be_deleted_at_any_time(invoke: Callable[..., Any], registry_path: Path) -> None:
    expected = invoke(registry_path, "timeline", "--format", "json").stdout
    index.db_path(registry_path).unlink()
    assert invoke(registry_path, "timeline", "--format", "json").stdout == expected
    assert index.db_path(registry_path).exists()


def test_an_unwritable_cache_only_costs_speed(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    result = invoke(registry_path, "show", "turin", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"] == "turin"
    assert invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "T").exit_code == 0


# --- writes: one block (or a few) rewritten, the same bytes as the full path -------------------

# Each write through the block path, with the partnerships it touches where they are hardest:
# the first and the last block, a new block before the first or after the last one, a block
# moving across the file, the blocks of every user of a vocabulary entry.
BLOCK_WRITES = [
    ("add-event", "tur", "--date", "2011-03", "--title", "Parks twinning charter", "--theme", "green spaces"),
    ("add-event", "addis-ababa", "--date", "2024", "--title", "First block"),
    ("add-event", "yokohama", "--date", "2024", "--title", "Last block"),
    ("set", "milan", "city", "Milano"),
    ("set", "milan", "summary", "Two lines:\n[partnerships.turin]\ncity = \"Turin\""),
    ("unset", "turin", "summary"),
    ("add-to", "milan", "aliases", "Mailand"),
    ("tag", "turin", "sport"),
    ("add-contact", "lodz", "--name", "Ann Other", "--role", "desk"),
    ("remove-event", "turin", "2004"),
    ("add", "Zürich", "--country", "Switzerland", "--theme", "culture", "--network", "eurocities"),
    ("add", "Aachen", "--country", "Germany"),  # before the first block
    ("add", "Zwickau", "--country", "Germany"),  # after the last one
    ("remove", "yerevan", "--yes"),
    ("remove", "addis-ababa", "--yes"),
    ("remove", "yokohama", "--yes"),
    ("rename", "turin", "torino-city"),
    ("rename", "yokohama", "aaa-first"),
    ("rename", "addis-ababa", "zzz-last"),
    ("rename", "milan", "milano"),  # stays where it is
    ("rename", "milan", "mil"),  # just before its old place
    ("themes", "add", "rowing", "Rowing"),
    ("themes", "rename", "urban-mobility", "mobility"),
    ("themes", "rename", "light", "light", "--label", "Lights"),
    ("themes", "remove", "culture", "--force"),
    ("themes", "remove", "waste", "--force"),
    ("networks", "rename", "eurocities", "euro-cities", "--label", "EUROCITIES"),
    ("networks", "remove", "luci", "--force"),
]


def _in_dir(out: tuple[int, str, str], folder: Path) -> tuple[int, str, str]:
    return out[0], out[1].replace(str(folder), "DIR"), out[2].replace(str(folder), "DIR")


@pytest.mark.parametrize("args", BLOCK_WRITES, ids=" ".join)
def test_a_write_through_the_block_path_writes_the_bytes_of_the_full_path(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...]
) -> None:
    reference = tmp_path / "reference" / "registry.toml"
    reference.parent.mkdir()
    reference.write_bytes(registry_path.read_bytes())
    invoke(registry_path, "list")  # builds the index
    with monkeypatch.context() as patched:
        no_full_load(patched)
        done = outputs(invoke, registry_path, args)
    assert done[0] == 0, done[2]
    monkeypatch.setenv(index.ENV_OFF, "1")
    assert _in_dir(done, tmp_path) == _in_dir(outputs(invoke, reference, args), reference.parent)
    assert registry_path.read_bytes() == reference.read_bytes()
    monkeypatch.delenv(index.ENV_OFF)
    # The index was updated in place, to exactly what a build from scratch holds.
    assert index_contents(index.db_path(registry_path)) == fresh_index_contents(registry_path, tmp_path)
    # .bak as on the full path: the previous version.
    assert (tmp_path / "registry.toml.bak").read_bytes() == reference.with_name("registry.toml.bak").read_bytes()


def test_the_first_read_after_a_block_write_needs_no_rebuild(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    assert invoke(registry_path, "add-event", "milan", "--date", "2024", "--title", "New one").exit_code == 0
    assert invoke(registry_path, "rename", "milan", "milano").exit_code == 0
    assert invoke(registry_path, "themes", "rename", "culture", "culture", "--label", "Arts").exit_code == 0
    no_full_load(monkeypatch)
    result = invoke(registry_path, "timeline", "milano", "--since", "2024", "--format", "json")
    assert [e["id"] for e in json.loads(result.stdout)] == ["2024-new-one"]
    assert invoke(registry_path, "show", "milan").exit_code == 0  # by its city
    assert "themes[" in invoke(registry_path, "search", "arts", "--format", "json").stdout


def test_a_full_write_refreshes_the_index(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    loc = store.Location(registry_path)
    store.write(loc, store.Change(lambda draft: edit.add_event(draft, "turin", date="2024", title="Whole file"),
                                  whole=True))
    assert index_contents(index.db_path(registry_path)) == fresh_index_contents(registry_path, tmp_path)
    no_full_load(monkeypatch)
    assert "Whole file" in invoke(registry_path, "timeline", "turin", "--since", "2024").stdout


def test_a_vocabulary_change_that_leaves_users_unwritten_takes_the_full_path(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relabel changes what search finds in every user's record; a change that rewrites none of
    # their blocks cannot update their rows alone: the whole file decides, and the index is rebuilt.
    invoke(registry_path, "list")
    users = json.loads(invoke(registry_path, "list", "--theme", "light", "--format", "json").stdout)
    assert users
    loc = store.Location(registry_path)

    def relabel(draft: Any) -> None:
        draft.themes["light"] = "Festival of lights"

    store.write(loc, store.Change(relabel))
    reg = store.load(registry_path)
    assert reg.themes["light"] == "Festival of lights"
    assert registry_path.read_text(encoding="utf-8") == tomlfile.dump(reg)
    assert index_contents(index.db_path(registry_path)) == fresh_index_contents(registry_path, tmp_path)
    no_full_load(monkeypatch)
    hits = json.loads(invoke(registry_path, "search", "festival of", "--format", "json").stdout)
    assert {h["partner"] for h in hits} >= {rec["id"] for rec in users}


def test_a_change_that_looks_at_other_partnerships_sees_them_all(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    no_full_load(monkeypatch)
    result = invoke(registry_path, "add-to", "milan", "aliases", "Turin")
    assert result.exit_code == 2
    assert "already in the registry as turin (Turin, Italy)" in result.stderr
    result = invoke(registry_path, "rename", "milan", "turin")
    assert result.exit_code == 2
    assert "partnership 'turin' already exists (Turin, Italy)" in result.stderr
    assert invoke(registry_path, "add-to", "milan", "aliases", "Milano").exit_code == 0
    result = invoke(registry_path, "themes", "remove", "light")
    assert result.exit_code == 2
    assert "is used by" in result.stderr


def test_a_file_not_in_canonical_form_is_written_in_full(
    invoke: Callable[..., Any], small_registry: Path
) -> None:
    # SMALL_REGISTRY_TOML keeps alder's events out of date order: not canonical.
    invoke(small_registry, "list")
    args = ("add-event", "birch", "--date", "2020", "--title", "Late")
    assert invoke(small_registry, *args).exit_code == 0
    reg = store.load(small_registry)
    assert small_registry.read_text() == tomlfile.dump(reg)


def test_a_dry_run_through_the_block_path_writes_nothing(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    before = registry_path.read_bytes()
    db_before = index.db_path(registry_path).read_bytes()
    no_full_load(monkeypatch)
    result = invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "Maybe", "--dry-run")
    assert result.exit_code == 0
    assert "+title = \"Maybe\"" in result.stdout + result.stderr
    result = invoke(registry_path, "remove", "turin", "--dry-run")
    assert result.exit_code == 0
    assert "-[partnerships.turin]" in result.stdout
    assert registry_path.read_bytes() == before
    assert index.db_path(registry_path).read_bytes() == db_before


def test_bad_input_on_the_block_path_changes_nothing(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    before = registry_path.read_bytes()
    db_before = index.db_path(registry_path).read_bytes()
    no_full_load(monkeypatch)
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-02-30", "--title", "Bad")
    assert result.exit_code == 2
    assert "February 2011 has no day 30" in result.stderr
    result = invoke(registry_path, "rename", "turin", "Not A Slug")
    assert result.exit_code == 2
    assert registry_path.read_bytes() == before
    assert index.db_path(registry_path).read_bytes() == db_before


@pytest.mark.parametrize("args", [("show", "turin", "--format", "json"), ("list", "--format", "json"),
                                  ("timeline", "--format", "json")])
def test_a_piped_indexed_read_loads_no_rich_and_validates_nothing(
    registry_path: Path, index_cache: Path, args: tuple[str, ...]
) -> None:
    # A real process: what matters is what the interpreter loads.
    first, second, loaded = costly_loads(registry_path, args, index_cache)
    assert loaded == []
    assert second == first and json.loads(second)


def _long_after_the_last_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read happens 10 s after the file's last change: its key is settled (``index.key_of``)."""
    import time

    monkeypatch.setattr(index, "clock", lambda: time.time_ns() + 10 * 10**9)


def test_a_settled_key_answers_from_the_stat_without_reading_the_file(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _long_after_the_last_change(monkeypatch)
    expected = invoke(registry_path, "show", "turin", "--format", "json").stdout  # builds the index, settled

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the registry's bytes were read")

    monkeypatch.setattr(location, "read_open", refuse)  # where every read reads the file's bytes
    result = invoke(registry_path, "show", "turin", "--format", "json")
    assert (result.exit_code, result.stdout) == (0, expected)


def test_a_settled_key_still_sees_a_hand_edit_of_the_same_size_and_mtime(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _long_after_the_last_change(monkeypatch)
    assert json.loads(invoke(registry_path, "show", "turin", "--format", "json").stdout)["city"] == "Turin"
    st = registry_path.stat()
    registry_path.write_bytes(registry_path.read_bytes().replace(b'city = "Turin"', b'city = "Turix"'))
    os.utime(registry_path, ns=(st.st_atime_ns, st.st_mtime_ns))  # ctime cannot be set back
    assert json.loads(invoke(registry_path, "show", "turin", "--format", "json").stdout)["city"] == "Turix"


def test_a_key_read_just_after_a_change_is_checked_by_hash_then_recorded(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")  # the file was just copied: not settled, its bytes hashed on each read
    con = sqlite3.connect(index.db_path(registry_path))
    assert con.execute("SELECT value FROM index_meta WHERE key = 'settled'").fetchone() == (0,)
    con.close()
    _long_after_the_last_change(monkeypatch)
    invoke(registry_path, "list")  # same bytes, hashed, now settled: recorded
    con = sqlite3.connect(index.db_path(registry_path))
    assert con.execute("SELECT value FROM index_meta WHERE key = 'settled'").fetchone() == (1,)
    con.close()
    no_full_load(monkeypatch)
    assert invoke(registry_path, "show", "turin").exit_code == 0


def test_the_index_of_a_registry_that_no_longer_exists_is_pruned_at_the_next_build(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, index_cache: Path
) -> None:
    other = tmp_path / "other.toml"
    other.write_bytes(registry_path.read_bytes())
    moved = tmp_path / "moved.toml"
    invoke(registry_path, "list")
    invoke(other, "list")
    folder = index_cache / "partnerctl"
    assert len(list(folder.glob("*.sqlite"))) == 2
    registry_path.rename(moved)
    invoke(other, "list")  # no build: nothing pruned yet
    assert index.db_path(registry_path).exists()
    invoke(moved, "list")  # a build: the index of the old path goes, with its lock file
    assert sorted(folder.iterdir()) == sorted(
        p for db in (index.db_path(other), index.db_path(moved)) for p in (db, db.with_name(db.name + ".lock")))


def test_fmt_check_on_a_canonical_file_takes_the_index_s_word(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [outputs(invoke, registry_path, ("fmt", "--check", *more)) for more in ((), ("--format", "json"))]
    assert expected[0][0] == 0
    invoke(registry_path, "list")  # builds the index
    no_full_load(monkeypatch)
    monkeypatch.setattr(tomlfile, "dump_parts", lambda *a: pytest.fail("the registry was dumped"))
    assert [outputs(invoke, registry_path, ("fmt", "--check", *more)) for more in ((), ("--format", "json"))] == expected


def test_fmt_check_on_a_file_not_in_canonical_form_still_says_so(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    registry_path.write_bytes(registry_path.read_bytes().replace(b'city = "Turin"', b'city  =  "Turin"'))
    invoke(registry_path, "list")  # an index, current, of a file not in canonical form
    result = invoke(registry_path, "fmt", "--check")
    assert (result.exit_code, result.stderr) == (1, f"partnerctl: {registry_path} is not in canonical form\n")


def test_a_canonical_registry_is_indexed_a_block_at_a_time(
    invoke: Callable[..., Any], small_canonical: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No index yet: a canonical file is indexed block by block (never loaded whole, so memory does not
    grow with it), into exactly the index a full load builds."""
    monkeypatch.setenv(index.ENV_OFF, "1")
    expected = outputs(invoke, small_canonical, ("list", "--format", "json"))
    monkeypatch.delenv(index.ENV_OFF)
    no_full_load(monkeypatch)
    assert outputs(invoke, small_canonical, ("list", "--format", "json")) == expected
    assert index_contents(index.db_path(small_canonical)) == fresh_index_contents(small_canonical, tmp_path)


@pytest.mark.parametrize("change", ["not canonical", "invalid block", "invalid head"])
def test_a_file_the_blocks_cannot_index_is_loaded_whole(
    invoke: Callable[..., Any], small_canonical: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    text = small_canonical.read_text(encoding="utf-8")
    if change == "not canonical":
        text = text.replace("\n[partnerships.", "\n\n[partnerships.", 1)
    elif change == "invalid block":
        text = text.rstrip("\n") + '\nstatus = "maybe"\n'
    else:
        text = text.replace("[themes]\n", "[themes]\nBad_Slug = \"x\"\n", 1)
    small_canonical.write_text(text, encoding="utf-8")
    args = ("list", "--format", "json")
    assert_same_with_and_without_index(invoke, small_canonical, monkeypatch, args)
    code = outputs(invoke, small_canonical, args)[0]
    assert code == (0 if change == "not canonical" else 3)
