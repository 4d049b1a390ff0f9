"""The derived SQLite index: same answers as a full load, trusted only when current, kept current by writes."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index_contents import index_contents
from partnerctl.core import edit
from partnerctl.storage import index, store
from partnerctl.storage import toml as tomlfile


@pytest.fixture(autouse=True)
def index_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the index: on, even in a run with PARTNERCTL_NO_INDEX=1."""
    monkeypatch.delenv(index.ENV_OFF, raising=False)


# Read commands whose output must not depend on where the records come from.
READS = [
    ("show", "turin", "--format", "json"),
    ("show", "Torino", "--format", "tsv"),
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
    ("timeline", "turin", "torino", "milan", "--since", "2010", "--until", "2015", "--format", "jsonl"),
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


def outputs(invoke: Callable[..., Any], path: Path, args: tuple[str, ...]) -> tuple[int, str, str]:
    result = invoke(path, *args)
    return result.exit_code, result.stdout, result.stderr


def damage_every_row(db: Path) -> None:
    """Alter every row a read can be handed, keeping it valid and where the filters find it: only hashes tell."""
    # A connection is freed by the cycle collector (it and its statement cache refer to each other):
    # an in-process read may still hold its read transaction.
    gc.collect()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("UPDATE index_records SET record = replace(record, '\"city\": \"', '\"city\": \"X'), "
                "city = 'X' || city")
    con.execute("UPDATE index_names SET id = (SELECT min(id) FROM index_records)")
    con.execute("UPDATE index_links SET position = position + 1000")
    con.close()


def assert_same_with_and_without_index(invoke: Callable[..., Any], path: Path, monkeypatch: pytest.MonkeyPatch,
                                       args: tuple[str, ...]) -> None:
    """Exit code, stdout and stderr: without the index, while building it, answered by it, and by it damaged."""
    monkeypatch.setenv(index.ENV_OFF, "1")
    without = outputs(invoke, path, args)
    monkeypatch.delenv(index.ENV_OFF)
    first = outputs(invoke, path, args)  # builds the index
    assert index.db_path(path).exists()
    second = outputs(invoke, path, args)  # answered by it
    assert first == without
    assert second == without
    damage_every_row(index.db_path(path))
    assert outputs(invoke, path, args) == without  # the damage seen, answered from the file


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
country = "X"

[partnerships.abc]
city = "Åbç"
country = "X"

[partnerships.b]
city = "Zz\U0010ffffq"
country = "X"

[partnerships.c]
city = "Ab"
country = "Y"

[partnerships.d]
city = "\u0301"
country = "Y"
"""


@pytest.mark.parametrize("name", ["ab", "abc", "ABC", "a", "a-", "zz", "zz\U0010ffff", "zz\U0010ffffq",
                                  "\u0301", " ", "b", "ç", "abd", "abcd", "c", "d", "\uffff"])
def test_resolution_through_the_index_is_query_resolve(
    invoke: Callable[..., Any], make_registry: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # Duplicate names, a name that folds to nothing, the highest code point at the end of a prefix.
    assert_same_with_and_without_index(invoke, make_registry(NAMES_TOML), monkeypatch,
                                       ("show", name, "--format", "ids"))


def no_full_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on a full parse of a registry fails the test: only the index may answer."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the registry was parsed in full")

    monkeypatch.setattr(store, "parse_valid", refuse)


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
    invoke: Callable[..., Any], registry_path: Path, damage: bytes
) -> None:
    expected = invoke(registry_path, "list", "--format", "json").stdout
    db = index.db_path(registry_path)
    db.write_bytes(damage)
    result = invoke(registry_path, "list", "--format", "json")
    assert (result.exit_code, result.stdout) == (0, expected)
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM partnerships").fetchone()[0] == len(json.loads(expected))


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
        "con.execute(\"UPDATE partnerships SET city = 'X'\")\n"
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


def index_rows(db: Path | str) -> dict[str, list[str]]:
    """Every row of every table, to compare two indexes (see index_contents.py)."""
    return index_contents(db)


def fresh_index_rows(path: Path, tmp_path: Path) -> dict[str, list[str]]:
    data, st = store.read_file(path)
    reg = store.parse_valid(data.decode(), str(path))
    target = tmp_path / "fresh.sqlite"
    target.unlink(missing_ok=True)
    con = sqlite3.connect(target, isolation_level=None)
    index.build_into(con, reg, data, st)
    con.close()
    return index_rows(target)


def test_add_event_rewrites_one_block_and_keeps_the_index_current(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = tmp_path / "reference.toml"
    reference.write_bytes(registry_path.read_bytes())
    invoke(registry_path, "list")
    args = ("add-event", "tor", "--date", "2011-03", "--title", "Parks twinning charter", "--theme", "green spaces")
    with monkeypatch.context() as patched:
        patched.setattr(store, "update", lambda *a, **k: pytest.fail("the full path was taken"))
        assert invoke(registry_path, *args).exit_code == 0
    monkeypatch.setenv(index.ENV_OFF, "1")
    assert invoke(reference, *args).exit_code == 0
    assert registry_path.read_bytes() == reference.read_bytes()
    assert index_rows(index.db_path(registry_path)) == fresh_index_rows(registry_path, tmp_path)
    # .bak as on the full path: the previous version.
    assert (tmp_path / "registry.toml.bak").read_bytes() == (tmp_path / "reference.toml.bak").read_bytes()


def test_the_first_read_after_a_block_write_needs_no_rebuild(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    assert invoke(registry_path, "add-event", "milan", "--date", "2024", "--title", "New one").exit_code == 0
    no_full_load(monkeypatch)
    result = invoke(registry_path, "timeline", "milan", "--since", "2024", "--format", "json")
    assert [e["id"] for e in json.loads(result.stdout)] == ["2024-new-one"]


def test_a_full_write_refreshes_the_index(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    loc = store.Location(registry_path)
    store.update(loc, lambda reg: edit.add_event(reg, "turin", date="2024", title="Whole file"))
    assert index_rows(index.db_path(registry_path)) == fresh_index_rows(registry_path, tmp_path)
    no_full_load(monkeypatch)
    assert "Whole file" in invoke(registry_path, "timeline", "turin", "--since", "2024").stdout


def test_update_one_falls_back_to_the_full_path_when_a_change_leaves_its_block(
    invoke: Callable[..., Any], registry_path: Path, tmp_path: Path
) -> None:
    invoke(registry_path, "list")
    loc = store.Location(registry_path)

    def rename(reg: Any, pid: str) -> str:
        return edit.rename_partnership(reg, pid, "torino-city")

    def add_theme_and_tag(reg: Any, pid: str) -> None:
        reg.themes["rowing"] = "Rowing"
        reg.partnerships[pid].themes.append("rowing")

    store.update_one(loc, "turin", rename)
    store.update_one(loc, "milan", add_theme_and_tag)
    reg = store.load(registry_path)
    assert "torino-city" in reg.partnerships and "turin" not in reg.partnerships
    assert "rowing" in reg.partnerships["milan"].themes
    assert registry_path.read_text() == tomlfile.dump(reg)
    assert index_rows(index.db_path(registry_path)) == fresh_index_rows(registry_path, tmp_path)


def test_a_change_that_looks_at_other_partnerships_sees_them_all(
    invoke: Callable[..., Any], registry_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(registry_path, "list")
    monkeypatch.setattr(store, "update", lambda *a, **k: pytest.fail("the full path was taken"))
    result = invoke(registry_path, "add-to", "milan", "aliases", "Torino")
    assert result.exit_code == 2
    assert "already names partnership turin" in result.stderr
    assert invoke(registry_path, "add-to", "milan", "aliases", "Milano").exit_code == 0


def test_a_file_not_in_canonical_form_is_written_in_full(
    invoke: Callable[..., Any], small_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SMALL_REGISTRY_TOML keeps alder's events out of date order: not canonical.
    invoke(small_registry, "list")
    args = ("add-event", "birch", "--date", "2020", "--title", "Late")
    assert invoke(small_registry, *args).exit_code == 0
    reg = store.load(small_registry)
    assert small_registry.read_text() == tomlfile.dump(reg)


def test_a_dry_run_through_the_block_path_writes_nothing(
    invoke: Callable[..., Any], registry_path: Path
) -> None:
    invoke(registry_path, "list")
    before = registry_path.read_bytes()
    db_before = index.db_path(registry_path).read_bytes()
    result = invoke(registry_path, "add-event", "turin", "--date", "2020", "--title", "Maybe", "--dry-run")
    assert result.exit_code == 0
    assert "+title = \"Maybe\"" in result.stdout + result.stderr
    assert registry_path.read_bytes() == before
    assert index.db_path(registry_path).read_bytes() == db_before


def test_bad_input_on_the_block_path_changes_nothing(invoke: Callable[..., Any], registry_path: Path) -> None:
    invoke(registry_path, "list")
    before = registry_path.read_bytes()
    result = invoke(registry_path, "add-event", "turin", "--date", "2011-02-30", "--title", "Bad")
    assert result.exit_code == 2
    assert "February 2011 has no day 30" in result.stderr
    assert registry_path.read_bytes() == before


@pytest.mark.parametrize("args", [("show", "turin", "--format", "json"), ("list", "--format", "json"),
                                  ("timeline", "--format", "json")])
def test_a_piped_indexed_read_imports_neither_rich_nor_the_model(
    registry_path: Path, index_cache: Path, args: tuple[str, ...]
) -> None:
    # A real process: what matters is what the interpreter imports.
    probe = (
        "import sys\n"
        "from partnerctl.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'rich' or m in "
        "('partnerctl.core.model', 'partnerctl.cli.render'))\n"
        "sys.stderr.write('LOADED=' + ','.join(loaded) + '\\n')\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(index_cache)}
    env.pop("PARTNERCTL_NO_INDEX", None)
    argv = ["-r", str(registry_path), *args]
    subprocess.run([sys.executable, "-c", probe, *argv], env=env, capture_output=True, check=True)
    done = subprocess.run([sys.executable, "-c", probe, *argv], env=env, capture_output=True, text=True, check=True)
    assert "LOADED=\n" in done.stderr, done.stderr
    assert json.loads(done.stdout)
