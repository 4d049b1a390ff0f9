"""Import of the twin-towns dataset (city1,country1,city2,country2): ids, rejected rows, counts.

A small handmade file checks every rule row by row; one test runs the real
dataset from ../shared/data/ when it is there (it is not part of the project).
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import subprocess
import sys
import tomllib
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import DATASET, needs_dataset
from partnerctl.formats import exchange

WORLD = '[registry]\nowner = "World"\n'

# File lines (the header is line 1). The quoted name spanning lines 11-12 makes
# the line numbers after it differ from the row numbers: reports give file lines.
TWIN_CSV = """\
city1,country1,city2,country2
Lyon,France,Turin,Italy
Lyon,France,Turin,Italy
Lyon,France,"Córdoba, Veracruz",Mexico
Ningbo,China,"Varna, Bulgaria",
Córdoba,Argentina,Córdoba,Spain
Córdoba,Mexico,Córdoba,Spain
CÓRDOBA,argentina,Cordoba,Spain
Москва,Россия,Lyon,France
北京,China,東京,Japan
"Saint
Denis",France,Lyon,France
Berat,Albania,Fermo
,Albania,Fermo,Italy
Lyon,France,Turin,Italy,extra
lyon,France,Beersheba,Israel
"""
REPORTED = {  # file line -> what the report says
    3: "rejected (same pair as line 2)",
    5: "rejected (empty country2)",
    9: "rejected (country1: unknown country 'Россия')",  # a country is a code, an English or French name, an alias
    8: "rejected (same pair as line 6)",
    11: "rejected (line break in city1)",
    13: "rejected (3 fields, expected 4)",
    14: "rejected (empty city1)",
    15: "rejected (5 fields, expected 4)",
}


def sha_id(name: str) -> str:
    return "x" + hashlib.sha1(unicodedata.normalize("NFC", name).encode()).hexdigest()[:8]


IMPORTED = {  # file line -> (id, owner, owner_country, city, country)
    2: ("lyon-turin", "Lyon", "FR", "Turin", "IT"),
    4: ("lyon-cordoba-veracruz", "Lyon", "FR", "Córdoba, Veracruz", "MX"),
    6: ("cordoba-cordoba", "Córdoba", "AR", "Córdoba", "ES"),
    7: ("cordoba-cordoba-spain", "Córdoba", "MX", "Córdoba", "ES"),
    10: (f"{sha_id('北京')}-{sha_id('東京')}", "北京", "CN", "東京", "JP"),
    16: ("lyon-beersheba", "lyon", "FR", "Beersheba", "IL"),
}
DATA_ROWS = 14


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def partnerships(reg: Path) -> dict[str, dict[str, Any]]:
    return tomllib.loads(reg.read_text(encoding="utf-8")).get("partnerships", {})


@pytest.fixture
def twin_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "twins.csv", TWIN_CSV)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    return write(tmp_path / "world.toml", WORLD)


def test_every_row_is_imported_or_reported_by_its_line(
        invoke: Callable[..., Any], world: Path, twin_csv: Path) -> None:
    result = invoke(world, "import", str(twin_csv))

    assert result.exit_code == 0, result.stderr
    *row_lines, last = result.stderr.splitlines()
    reported = {}
    for line in row_lines:
        m = re.match(rf"partnerctl: {re.escape(str(twin_csv))} line (\d+): (.*?\)): ", line)
        assert m, line
        reported[int(m.group(1))] = m.group(2)
    assert reported == REPORTED
    assert last == (f"partnerctl: read {DATA_ROWS} rows from {twin_csv}: 6 imported, 0 updated, 0 skipped, "
                    "8 rejected (2 duplicate, 2 empty city or country, 1 invalid, 1 unknown country, 2 unparsable)")
    # Every data line is either reported or imported, and nothing else.
    data_lines = set(range(2, 17)) - {12}  # line 12 is the second line of the quoted name
    assert set(IMPORTED) | set(REPORTED) == data_lines and not set(IMPORTED) & set(REPORTED)
    got = {pid: (p["owner"], p["owner_country"], p["city"], p["country"]) for pid, p in partnerships(world).items()}
    assert got == {pid: tuple(rest) for pid, *rest in IMPORTED.values()}


def test_ids_follow_the_documented_scheme() -> None:
    taken: set[str] = set()
    assert exchange.twin_id("Lyon", "Turin", "Italy", taken) == "lyon-turin"
    taken.add("lyon-turin")
    assert exchange.twin_id("Lyon", "Turin", "Italy", taken) == "lyon-turin-italy"
    taken.add("lyon-turin-italy")
    assert exchange.twin_id("Lyon", "Turin", "Italy", taken) == "lyon-turin-italy-2"
    assert exchange.name_slug("الرياض") == sha_id("الرياض") and re.fullmatch(r"x[0-9a-f]{8}", sha_id("الرياض"))


def test_reimport_skips_every_pair_and_keeps_the_bytes(
        invoke: Callable[..., Any], world: Path, twin_csv: Path) -> None:
    invoke(world, "import", str(twin_csv))
    before = world.read_bytes()

    again = invoke(world, "import", str(twin_csv))

    assert again.stderr.splitlines()[-1].endswith(
        ": 0 imported, 0 updated, 6 skipped (6 already in the registry), 8 rejected "
        "(2 duplicate, 2 empty city or country, 1 invalid, 1 unknown country, 2 unparsable)")
    assert "line 7: skipped (already in the registry as cordoba-cordoba-spain): " in again.stderr
    assert world.read_bytes() == before

    failed = invoke(world, "import", str(twin_csv), "--on-conflict", "fail")
    assert failed.exit_code == 2
    assert failed.stderr == (f"partnerctl: error: {twin_csv} line 2: lyon-turin is already in the registry "
                             "(--on-conflict fail); nothing written\n")
    assert world.read_bytes() == before


def test_owner_option_imports_only_that_owners_rows(
        invoke: Callable[..., Any], world: Path, twin_csv: Path) -> None:
    result = invoke(world, "import", str(twin_csv), "--owner", "LYON")

    # Rows 13 and 15 cannot be read, so they are reported whatever --owner says.
    assert result.stderr.splitlines()[-1] == (
        f"partnerctl: read {DATA_ROWS} rows from {twin_csv}: 3 imported, 0 updated, 0 skipped, "
        "3 rejected (1 duplicate, 2 unparsable), 8 not selected by --owner")
    assert sorted(partnerships(world)) == ["lyon-beersheba", "lyon-cordoba-veracruz", "lyon-turin"]
    listed = invoke(world, "list", "--owner", "lyon", "--format", "ids")
    assert listed.stdout == "lyon-beersheba\nlyon-cordoba-veracruz\nlyon-turin\n"


def test_rows_of_the_registry_owner_join_its_own_partnerships(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "lyon.csv", "city1,country1,city2,country2\n"
                                        "Lyon,France,Marlow,Italy\n"      # alder, the registry's own
                                        "Lyon,France,Elmshorn,Germany\n"  # new, the registry's own
                                        "Turin,Italy,Marlow,Italy\n")     # another owner

    result = invoke(small_registry, "import", str(file))

    assert result.stderr.splitlines() == [
        f"partnerctl: {file} line 2: skipped (already in the registry as alder): Lyon,France,Marlow,Italy",
        f"partnerctl: read 3 rows from {file}: 2 imported, 0 updated, 1 skipped (1 already in the registry), "
        "0 rejected",
    ]
    found = partnerships(small_registry)
    assert "owner" not in found["lyon-elmshorn"]
    assert (found["turin-marlow"]["owner"], found["turin-marlow"]["owner_country"]) == ("Turin", "IT")
    assert len(found["alder"]["events"]) == 4


def test_no_progress_bar_when_stderr_is_not_a_terminal(
        invoke: Callable[..., Any], world: Path, twin_csv: Path) -> None:
    result = invoke(world, "import", str(twin_csv))
    assert all(line.startswith("partnerctl: ") for line in result.stderr.splitlines())


def test_progress_bar_on_a_terminal(world: Path, twin_csv: Path) -> None:
    # The process matters here: only a real terminal on stderr shows the bar.
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PARTNERCTL_REGISTRY")} | {
        "TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "partnerctl", "-r", str(world), "import", str(twin_csv)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    shown = b""
    # Read while it runs, so a full terminal buffer never blocks the writer.
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal's other end
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    # The bar's last frame names the last stage of the write.
    last_stage = b"writing the registry" if os.environ.get("PARTNERCTL_NO_INDEX") else b"updating the index"
    assert last_stage in shown
    assert b"6 imported" in shown


# The dataset's country strings that no rule resolves, by row: reported with the row, never guessed.
UNRESOLVED = {"Madagaskar", "in Italy", "Kazakhstah", "Island", "Japa"}


@needs_dataset
def test_the_whole_dataset_is_accounted_for(invoke: Callable[..., Any], world: Path) -> None:
    result = invoke(world, "import", str(DATASET))

    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    rows = [line for line in lines if re.match(r"partnerctl: .* line \d+: ", line)]
    last = lines[-1]
    m = re.fullmatch(r"partnerctl: read (\d+) rows from .*: (\d+) imported, 0 updated, (\d+) skipped "
                     r"\((\d+) duplicate\), (\d+) rejected \(5 empty city or country, 5 unknown country\)", last)
    assert m, last
    read, imported, skipped, duplicate, rejected = map(int, m.groups())
    # Every row: imported, or reported on a line of its own (with the file's line).
    assert read == 26114 and imported + skipped + rejected == 26114 and skipped == duplicate
    assert len(rows) == skipped + rejected and rejected == 10
    assert sum(" rejected (empty country2): " in row for row in rows) == 5
    unknown = {re.search(r"unknown country '([^']*)'", row).group(1) for row in rows if "unknown country" in row}
    assert unknown == UNRESOLVED
    assert all("skipped (duplicate of " in row for row in rows if "skipped" in row)
    # How each country was read, counted: two per row (the owner's and the partner's), but for the rows
    # rejected for an empty or unknown country.
    counts = next(line for line in lines if line.startswith("partnerctl: countries read: "))
    numbers = [int(n) for n in re.findall(r"(\d+) by ", counts)]
    assert sum(numbers) == 2 * (26114 - 10)
    assert len(partnerships(world)) == imported
    lyon = invoke(world, "list", "--owner", "Lyon", "--format", "json")
    assert len(json.loads(lyon.stdout)) == 16
    # Every country stored is a code; the coordinator's questions are one command each.
    poland = invoke(world, "list", "--involving", "Poland", "--format", "ids").stdout.split()
    by_owner = json.loads(invoke(world, "stats", "--by", "owner-country", "--involving", "PL", "--format",
                                 "json").stdout)
    assert len(poland) == sum(c["count"] for c in by_owner) > 1000


@needs_dataset
def test_the_dataset_for_one_owner(invoke: Callable[..., Any], small_registry: Path) -> None:
    result = invoke(small_registry, "import", str(DATASET), "--owner", "Lyon", "--dry-run")
    assert result.stderr.splitlines()[-1].endswith(
        ": 16 imported, 0 updated, 0 skipped, 0 rejected, 26098 not selected by --owner "
        "(dry run: nothing written)")
