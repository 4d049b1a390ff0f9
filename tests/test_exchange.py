"""Export to and import from json, jsonl and csv; --on-conflict; list --owner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from partnerctl.formats import exchange

EMPTY_LYON = '[registry]\nowner = "Lyon"\ncountry = "FR"\n'

# Values that CSV must carry unchanged: separators, quotes, backslashes, lines.
TRICKY_TOML = r'''[registry]
owner = "Lyon"
country = "FR"

[themes]
culture = "Culture"
good-food = "Good food"

[networks]
delice = "Délice"

[partnerships.cordoba-veracruz]
city = "Córdoba, Veracruz"
aliases = ["A;B", "back\\slash", "Quote \"q\"", "Łódź"]
country = "MX"
owner = "Lille"
owner_country = "FR"
status = "active"
kind = "twinning"
since = 2001
since_note = "maybe 2002, or not"
themes = ["good-food", "culture"]
networks = ["delice"]
projects = ["P;1", "P2"]
links = ["https://example.org/a;b"]
summary = """
Line one, with a comma.
Line "two"; with a semicolon	and a tab."""

[[partnerships.cordoba-veracruz.events]]
id = "2001-twinning"
date = "2001"
title = "Twinning"

[partnerships.plain]
city = "Plain"
country = "XK"
'''


def head_of(text: str) -> str:
    """The registry's owner and vocabularies without its partnerships."""
    return text.split("\n[partnerships.", 1)[0] + "\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tricky_registry(tmp_path: Path) -> Path:
    return write(tmp_path / "tricky.toml", TRICKY_TOML)


@pytest.fixture(params=["small", "shipped", "tricky"])
def any_registry(request: pytest.FixtureRequest) -> Path:
    """Each registry the round trips run on."""
    return request.getfixturevalue({"small": "small_registry", "shipped": "registry_path",
                                    "tricky": "tricky_registry"}[request.param])


def export(invoke: Callable[..., Any], reg: Path, fmt: str) -> str:
    result = invoke(reg, "export", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def import_file(invoke: Callable[..., Any], reg: Path, file: Path, *args: str) -> Any:
    return invoke(reg, "import", str(file), *args)


def summary(result: Any) -> str:
    return result.stderr.strip().splitlines()[-1]


# ------------------------------------------------------------------ round trips


def test_json_round_trip_into_an_empty_registry_is_exact(
        invoke: Callable[..., Any], any_registry: Path, tmp_path: Path) -> None:
    exported = export(invoke, any_registry, "json")
    file = write(tmp_path / "export.json", exported)
    empty = write(tmp_path / "empty.toml", EMPTY_LYON)

    result = import_file(invoke, empty, file)

    assert result.exit_code == 0, result.stderr
    n = len(json.loads(exported)["partnerships"])
    assert summary(result) == (f"partnerctl: read {n} rows from {file}: {n} imported, 0 updated, "
                               "0 skipped, 0 rejected")
    assert export(invoke, empty, "json") == exported


def test_json_import_rebuilds_the_shipped_registry_byte_for_byte(
        invoke: Callable[..., Any], registry_path: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "export.json", export(invoke, registry_path, "json"))
    empty = write(tmp_path / "empty.toml", EMPTY_LYON)
    assert import_file(invoke, empty, file).exit_code == 0
    assert empty.read_bytes() == registry_path.read_bytes()


def test_json_export_shape(invoke: Callable[..., Any], small_registry: Path) -> None:
    data = json.loads(export(invoke, small_registry, "json"))
    assert list(data) == ["registry", "themes", "networks", "regions", "partnerships"]
    assert data["registry"] == {"owner": "Lyon", "country": "FR"}
    assert data["networks"] == {"delice": "Délice", "eurocities": "Eurocities", "luci": "LUCI"}
    assert [r["id"] for r in data["partnerships"]] == ["alder", "birch", "cedar", "dune"]
    shown = invoke(small_registry, "show", "alder", "--format", "json")
    assert data["partnerships"][0] == json.loads(shown.stdout)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_jsonl_and_csv_round_trip_into_a_registry_with_the_vocabularies(
        invoke: Callable[..., Any], any_registry: Path, tmp_path: Path, fmt: str) -> None:
    exported = export(invoke, any_registry, fmt)
    file = write(tmp_path / f"export.{fmt}", exported)
    target = write(tmp_path / "target.toml", head_of(any_registry.read_text(encoding="utf-8")))

    result = import_file(invoke, target, file)

    assert result.exit_code == 0, result.stderr
    assert ", 0 rejected" in summary(result)
    assert export(invoke, target, fmt) == exported


def test_jsonl_carries_everything_but_the_vocabularies(
        invoke: Callable[..., Any], registry_path: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "export.jsonl", export(invoke, registry_path, "jsonl"))
    target = write(tmp_path / "target.toml", head_of(registry_path.read_text(encoding="utf-8")))
    assert import_file(invoke, target, file).exit_code == 0
    assert export(invoke, target, "json") == export(invoke, registry_path, "json")


def test_csv_cells(invoke: Callable[..., Any], tricky_registry: Path) -> None:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(export(invoke, tricky_registry, "csv"))))
    assert tuple(rows[0]) == exchange.CSV_COLUMNS
    assert "events" not in rows[0] and "contacts" not in rows[0]
    first = rows[0]
    assert first["aliases"] == r'A\;B;back\\slash;Quote "q";Łódź'
    assert first["themes"] == "good-food;culture"
    assert first["summary"] == 'Line one, with a comma.\nLine "two"; with a semicolon\tand a tab.'
    assert rows[1]["aliases"] == "" and rows[1]["since"] == ""


def test_csv_import_keeps_events_and_contacts_on_update(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "one.csv", "id,city,country,since\nalder,Marlow-on-Sea,Italy,1992\n")

    result = import_file(invoke, small_registry, file, "--on-conflict", "update")

    assert result.exit_code == 0, result.stderr
    assert summary(result).endswith(": 0 imported, 1 updated, 0 skipped, 0 rejected")
    alder = json.loads(invoke(small_registry, "show", "alder", "--json").stdout)
    assert (alder["city"], alder["since"], alder["region"]) == ("Marlow-on-Sea", 1992, "europe")
    assert len(alder["events"]) == 4 and alder["contacts"][0]["name"] == "Ann Exàmple"


# ------------------------------------------------------------------ conflicts


def _two_records(small_registry_json: str) -> str:
    """alder (changed) and a new elm, as jsonl."""
    alder = json.loads(small_registry_json)["partnerships"][0]
    alder["city"] = "Marlow Changed"
    elm = {"id": "elm", "city": "Elmshorn", "country": "Germany", "themes": ["culture"]}
    return json.dumps(alder) + "\n" + json.dumps(elm) + "\n"


def test_on_conflict_skip_keeps_the_existing_partnership(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "two.jsonl", _two_records(export(invoke, small_registry, "json")))

    result = import_file(invoke, small_registry, file)

    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"partnerctl: {file} line 1: skipped (already in the registry as alder): "
        + file.read_text(encoding="utf-8").splitlines()[0][:119] + "…",
        f"partnerctl: read 2 rows from {file}: 1 imported, 0 updated, 1 skipped (1 already in the registry), "
        "0 rejected",
    ]
    assert invoke(small_registry, "list", "--format", "ids").stdout == "alder\nbirch\ncedar\ndune\nelm\n"
    assert json.loads(invoke(small_registry, "show", "alder", "--json").stdout)["city"] == "Marlow"


def test_on_conflict_update_replaces_it(invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "two.jsonl", _two_records(export(invoke, small_registry, "json")))

    result = import_file(invoke, small_registry, file, "--on-conflict", "update")

    assert result.exit_code == 0, result.stderr
    assert summary(result) == f"partnerctl: read 2 rows from {file}: 1 imported, 1 updated, 0 skipped, 0 rejected"
    assert json.loads(invoke(small_registry, "show", "alder", "--json").stdout)["city"] == "Marlow Changed"


def test_on_conflict_fail_writes_nothing(invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "two.jsonl", _two_records(export(invoke, small_registry, "json")))
    before = small_registry.read_bytes()

    result = import_file(invoke, small_registry, file, "--on-conflict", "fail")

    assert result.exit_code == 2
    assert result.stderr == (f"partnerctl: error: {file} line 1: alder is already in the registry "
                             "(--on-conflict fail); nothing written\n")
    assert small_registry.read_bytes() == before


def test_dry_run_reports_the_same_and_writes_nothing(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "two.jsonl", _two_records(export(invoke, small_registry, "json")))
    before = small_registry.read_bytes()

    result = import_file(invoke, small_registry, file, "--on-conflict", "update", "--dry-run")

    assert result.exit_code == 0
    assert summary(result) == (f"partnerctl: read 2 rows from {file}: 1 imported, 1 updated, 0 skipped, "
                               "0 rejected (dry run: nothing written)")
    assert small_registry.read_bytes() == before


def test_vocabulary_label_conflicts_follow_on_conflict(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    data = json.loads(export(invoke, small_registry, "json"))
    data["themes"]["culture"] = "Arts and culture"
    data["themes"]["sport"] = "Sport"
    file = write(tmp_path / "relabelled.json", json.dumps(data))
    before = small_registry.read_bytes()

    failed = import_file(invoke, small_registry, file, "--on-conflict", "fail")
    assert failed.exit_code == 2 and "theme 'culture'" in failed.stderr
    assert small_registry.read_bytes() == before

    skipped = import_file(invoke, small_registry, file)
    assert ("partnerctl: theme culture: kept label 'Culture'; the file has 'Arts and culture'"
            in skipped.stderr.splitlines())
    themes = json.loads(invoke(small_registry, "themes", "--json").stdout)
    assert {t["slug"]: t["label"] for t in themes}["culture"] == "Culture"
    assert "sport" in {t["slug"] for t in themes}

    import_file(invoke, small_registry, file, "--on-conflict", "update")
    themes = json.loads(invoke(small_registry, "themes", "--json").stdout)
    assert {t["slug"]: t["label"] for t in themes}["culture"] == "Arts and culture"


# ------------------------------------------------------------------ bad rows and bad files


def test_bad_rows_are_reported_with_their_line(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "bad.csv", (
        "id,city,country,themes,since\n"
        "elm,Elmshorn,Germany,culture,1960\n"          # line 2: imported
        "fir,Firenze,Italy,opera,\n"                   # line 3: undeclared theme
        "Not A Slug,X,Germany,,\n"                     # line 4: bad id
        "gum,Gum,DE,,soon\n"                           # line 5: since not a year
        "hazel,Hazel\n"                                # line 6: 2 fields
        "elm,Elm Again,Germany,,\n"                    # line 7: same id as line 2
        "ivy,,Germany,,\n"                             # line 8: empty city
        "jay,Jay,Japa,,\n"))                           # line 9: unknown country
    before_ids = invoke(small_registry, "list", "--format", "ids").stdout

    result = import_file(invoke, small_registry, file)

    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(": ")[1] for line in lines[:-1]] == [
        f"{file} line {n}" for n in (3, 4, 5, 6, 7, 8, 9)]
    assert "rejected (themes: undeclared theme 'opera')" in lines[0]
    assert "rejected (same id elm as line 2)" in lines[4]
    assert lines[6] == (f"partnerctl: {file} line 9: rejected (country: unknown country 'Japa'; did you mean 'Japan'?): "
                        "jay,Jay,Japa,,")
    assert lines[-1] == (f"partnerctl: read 8 rows from {file}: 1 imported, 0 updated, 0 skipped, 7 rejected "
                         "(1 duplicate, 3 invalid, 1 undeclared theme or network, 1 unknown country, 1 unparsable); "
                         "1 row names undeclared theme (opera): declare them with 'partnerctl themes add SLUG LABEL', "
                         "or import what 'partnerctl export --format json' writes, which carries the vocabularies")
    assert invoke(small_registry, "list", "--format", "ids").stdout == before_ids + "elm\n"


@pytest.mark.parametrize(("name", "content", "args", "message"), [
    ("x.csv", "id,city,country,colour\n", [], "unknown column 'colour'"),
    ("x.csv", "city,country\n", [], "missing column 'id'"),
    ("x.json", "{not json", [], "not valid JSON"),
    ("x.json", '{"partnerships": [], "extra": 1}', [], "unknown key 'extra'"),
    ("x.txt", "id,city,country\n", [], "cannot tell the format"),
    ("x.csv", "id,city,country\n", ["--format", "xml"], "--format must be one of json, jsonl, csv"),
    ("x.csv", "id,city,country\n", ["--on-conflict", "merge"], "--on-conflict must be one of skip, update, fail"),
])
def test_bad_files_and_options_are_usage_errors(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path,
        name: str, content: str, args: list[str], message: str) -> None:
    file = write(tmp_path / name, content)
    before = small_registry.read_bytes()

    result = import_file(invoke, small_registry, file, *args)

    assert result.exit_code == 2
    assert result.stderr.startswith("partnerctl: error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert small_registry.read_bytes() == before


def test_missing_file_is_a_usage_error(invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    result = import_file(invoke, small_registry, tmp_path / "nope.json")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_import_reads_stdin(invoke: Callable[..., Any], small_registry: Path) -> None:
    result = invoke(small_registry, "import", "-", "--format", "jsonl",
                    input='{"id": "elm", "city": "Elmshorn", "country": "Germany"}\n')
    assert result.exit_code == 0, result.stderr
    assert summary(result) == "partnerctl: read 1 row from -: 1 imported, 0 updated, 0 skipped, 0 rejected"


def test_export_to_a_file_and_to_a_missing_folder(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = invoke(small_registry, "export", "--format", "jsonl", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"partnerctl: wrote 4 partnerships to {out} (jsonl)\n"
    assert out.read_text(encoding="utf-8") == export(invoke, small_registry, "jsonl")

    missing = invoke(small_registry, "export", "-o", str(tmp_path / "no" / "such" / "x.json"))
    assert missing.exit_code == 4 and missing.stderr.startswith("partnerctl: error: cannot write")


# ------------------------------------------------------------------ owners


def test_json_of_another_owner_keeps_its_owner(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "lyon.json", export(invoke, small_registry, "json"))
    turin = write(tmp_path / "turin.toml", '[registry]\nowner = "Turin"\ncountry = "IT"\n')

    assert import_file(invoke, turin, file).exit_code == 0

    alder = json.loads(invoke(turin, "show", "alder", "--json").stdout)
    assert (alder["owner"], alder["owner_country"]) == ("Lyon", "FR")
    assert invoke(turin, "list", "--owner", "lyon", "--format", "ids").stdout == "alder\nbirch\ncedar\ndune\n"
    assert invoke(turin, "list", "--owner", "Turin", "--format", "ids").stdout == ""


def test_list_owner_falls_back_to_the_registry_owner(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "more.jsonl", "".join(json.dumps(r) + "\n" for r in [
        {"id": "lodz-a", "city": "A", "country": "DE", "owner": "Łódź", "owner_country": "Poland"},
        {"id": "lodz-b", "city": "B", "country": "Germany", "owner": "LODZ"},
        {"id": "turin-c", "city": "C", "country": "Allemagne", "owner": "Turin"},
    ]))
    assert import_file(invoke, small_registry, file).exit_code == 0

    def ids(owner: str) -> str:
        result = invoke(small_registry, "list", "--owner", owner, "--format", "ids")
        assert result.exit_code == 0
        return result.stdout

    assert ids("lodz") == "lodz-a\nlodz-b\n"
    assert ids("Łódź") == "lodz-a\nlodz-b\n"
    assert ids("LYON") == "alder\nbirch\ncedar\ndune\n"
    assert ids("turin") == "turin-c\n"
    assert ids("Paris") == ""


def test_import_owner_option_selects_records(
        invoke: Callable[..., Any], small_registry: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "more.jsonl", "".join(json.dumps(r) + "\n" for r in [
        {"id": "lodz-a", "city": "A", "country": "DE", "owner": "Łódź"},
        {"id": "turin-c", "city": "C", "country": "DE", "owner": "Turin"},
        {"id": "elm", "city": "Elmshorn", "country": "Germany"},
    ]))

    result = import_file(invoke, small_registry, file, "--owner", "lodz")

    assert summary(result) == (f"partnerctl: read 3 rows from {file}: 1 imported, 0 updated, 0 skipped, "
                               "0 rejected, 2 not selected by --owner")
    assert "lodz-a" in invoke(small_registry, "list", "--format", "ids").stdout.split()
