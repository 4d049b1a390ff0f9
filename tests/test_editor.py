"""`partnerctl edit PARTNER`, driven by a fake $EDITOR.

The fake editor is a Python script that follows a plan (one step per time it is
opened): it records the text it was given, applies text replacements, may run a
command (another writer), and exits with the step's status.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from partnerctl.storage import store
from partnerctl.storage import toml as tomlfile


def opened(work: Path) -> int:
    counter = work / "plan.count"
    return int(counter.read_text()) if counter.exists() else 0


def alder(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["partnerships"]["alder"]


def test_good_edit_is_written(invoke: Any, small_canonical: Path, editor: Any) -> None:
    work = editor({"replace": [['kind = "twinning"', 'kind = "sister city"'], ["since = 1991", "since = 1990"]]})
    old_bytes = small_canonical.read_bytes()
    block = tomlfile.dump_block("alder", store.load(small_canonical).partnerships["alder"])
    result = invoke(small_canonical, "edit", "marlow")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: edited alder\n"
    assert result.stdout == ""
    # The editor got exactly alder's block, in a .toml file.
    assert (work / "seen-0.toml").read_text(encoding="utf-8") == block
    assert (work / "name-0.txt").read_text().endswith(".toml")
    assert alder(small_canonical)["kind"] == "sister city" and alder(small_canonical)["since"] == 1990
    assert small_canonical.with_name("small.toml.bak").read_bytes() == old_bytes
    # Only alder's lines changed.
    new = small_canonical.read_text(encoding="utf-8")
    assert new == old_bytes.decode().replace('kind = "twinning"', 'kind = "sister city"').replace(
        "since = 1991", "since = 1990")


def test_good_edit_json(invoke: Any, small_canonical: Path, editor: Any) -> None:
    editor({"replace": [['status = "active"', 'status = "suspended"']]})
    result = invoke(small_canonical, "edit", "alder", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "suspended"


@pytest.mark.parametrize(("replace", "problem"), [
    (["since = 1991", 'since = "1991"'], "partnerships.alder.since: Input should be a valid integer"),
    (['status = "active"', 'status = "dormant"'], "partnerships.alder.status: Input should be 'active'"),
    (['"good-food",', '"zzz",'], "partnerships.alder.themes: undeclared theme 'zzz'"),
    (['kind = "twinning"', 'colour = "blue"'], "partnerships.alder.colour: unknown key"),
    (['kind = "twinning"', "kind = twinning"], "invalid TOML"),
    (['date = "2012-05-16"', 'date = "2012-05-32"'], "May 2012 has no day 32"),
    (["[partnerships.alder]", "[partnerships.marlow]"],
     "the id cannot change here (found [partnerships.marlow]); keep alder and rename it with: "
     "partnerctl rename alder marlow"),
    (['[partnerships.alder]\n', '[partnerships.other]\ncity = "X"\ncountry = "Y"\n\n[partnerships.alder]\n'],
     "the text must hold exactly one partnership, [partnerships.alder]; found other"),
    (['[partnerships.alder]\n', '[networks]\nx = "X"\n\n[partnerships.alder]\n'],
     "only the table [partnerships.alder] may be in the text, not [networks]"),
])
def test_bad_edit_then_abort_leaves_the_file_untouched(invoke: Any, small_canonical: Path, editor: Any,
                                                        replace: list[str], problem: str) -> None:
    work = editor({"replace": [replace]})
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit", "alder", input="a\n")
    assert result.exit_code == 2
    assert problem in result.stderr
    assert "(e)dit again or (a)bort?" in result.stderr
    assert result.stderr.endswith("partnerctl: error: aborted; alder is unchanged\n")
    assert result.stdout == ""
    assert opened(work) == 1
    assert small_canonical.read_bytes() == before
    assert not small_canonical.with_name("small.toml.bak").exists()


def test_bad_edit_then_fix(invoke: Any, small_canonical: Path, editor: Any) -> None:
    work = editor({"replace": [["since = 1991", 'since = "nineteen ninety"']]},
                  {"replace": [['since = "nineteen ninety"', "since = 1990"]]})
    result = invoke(small_canonical, "edit", "alder", input="e\n")
    assert result.exit_code == 0, result.stderr
    assert "partnerships.alder.since: Input should be a valid integer" in result.stderr
    assert result.stderr.endswith("partnerctl: edited alder\n")
    # The editor re-opened the user's text, mistake included, not a fresh copy.
    assert 'since = "nineteen ninety"' in (work / "seen-1.toml").read_text(encoding="utf-8")
    assert opened(work) == 2
    assert alder(small_canonical)["since"] == 1990


def test_a_comment_typed_in_the_editor_is_never_dropped_silently(invoke: Any, small_canonical: Path,
                                                                 editor: Any) -> None:
    before = small_canonical.read_bytes()
    editor({"replace": [["since = 1991", "since = 1990  # per the 1990 letter"]]})
    result = invoke(small_canonical, "edit", "alder", input="a\n")
    assert result.exit_code == 2
    assert "comments are not kept from the editor" in result.stderr
    assert small_canonical.read_bytes() == before


def test_a_comment_typed_in_the_editor_is_shown_again_to_be_moved(invoke: Any, small_canonical: Path,
                                                                  editor: Any) -> None:
    work = editor({"replace": [["since = 1991", "since = 1990  # per the 1990 letter"]]},
                  {"replace": [["  # per the 1990 letter", ""]]})
    result = invoke(small_canonical, "edit", "alder", input="e\n")
    assert result.exit_code == 0, result.stderr
    # The editor re-opened the text with the comment, so the person still has it to put in the file.
    assert "# per the 1990 letter" in (work / "seen-1.toml").read_text(encoding="utf-8")
    assert alder(small_canonical)["since"] == 1990


def test_unknown_answers_are_asked_again_and_end_of_input_aborts(invoke: Any, small_canonical: Path,
                                                                  editor: Any) -> None:
    editor({"replace": [["since = 1991", "since = -5"]]})
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit", "alder", input="x\nmaybe\n")
    assert result.exit_code == 2
    assert result.stderr.count("(e)dit again or (a)bort?") == 3
    assert small_canonical.read_bytes() == before


def test_on_a_terminal_the_question_is_a_prompt(invoke: Any, small_canonical: Path, editor: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERCTL_FORCE_TTY", "1")
    editor({"replace": [["since = 1991", "since = 0"]]}, {"replace": [["since = 0", "since = 1992"]]})
    result = invoke(small_canonical, "edit", "alder", input="e\n")
    assert result.exit_code == 0, result.stderr
    assert "(e)dit again or (a)bort? [e]:" in result.stderr
    assert alder(small_canonical)["since"] == 1992


def test_no_change_writes_nothing(invoke: Any, small_canonical: Path, editor: Any) -> None:
    editor({})
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit", "alder")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: no changes\n"
    assert small_canonical.read_bytes() == before
    assert not small_canonical.with_name("small.toml.bak").exists()


def test_editor_failure_aborts(invoke: Any, small_canonical: Path, editor: Any) -> None:
    editor({"replace": [["since = 1991", "since = 1990"]], "exit": 1})
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit", "alder")
    assert result.exit_code == 2
    assert "exited with status 1; nothing changed" in result.stderr
    assert small_canonical.read_bytes() == before


def test_missing_editor(invoke: Any, small_canonical: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "/nonexistent/editor --wait")
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit", "alder")
    assert result.exit_code == 2
    assert result.stderr == ("partnerctl: error: cannot run the editor '/nonexistent/editor --wait': "
                             "No such file or directory; set $VISUAL or $EDITOR\n")
    assert small_canonical.read_bytes() == before


def test_visual_wins_over_editor(invoke: Any, small_canonical: Path, editor: Any,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    editor({"replace": [["since = 1991", "since = 1990"]]})
    import os

    monkeypatch.setenv("VISUAL", os.environ["EDITOR"])
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")
    result = invoke(small_canonical, "edit", "alder")
    assert result.exit_code == 0, result.stderr
    assert alder(small_canonical)["since"] == 1990


def test_change_by_someone_else_meanwhile_is_refused(invoke: Any, small_canonical: Path, editor: Any) -> None:
    other = [sys.executable, "-m", "partnerctl", "--registry", str(small_canonical), "set", "alder", "status", "ended"]
    editor({"run": other, "replace": [['kind = "twinning"', 'kind = "sister city"']]})
    result = invoke(small_canonical, "edit", "alder")
    assert result.exit_code == 4
    assert result.stderr == ("partnerctl: error: alder was changed by someone else while you edited; "
                             "run edit again\n")
    # The other writer's change stands; ours was not applied over it.
    assert alder(small_canonical)["status"] == "ended"
    assert alder(small_canonical)["kind"] == "twinning"


def test_change_elsewhere_meanwhile_is_kept(invoke: Any, small_canonical: Path, editor: Any) -> None:
    other = [sys.executable, "-m", "partnerctl", "--registry", str(small_canonical),
             "set", "birch", "kind", "friendship"]
    editor({"run": other, "replace": [['kind = "twinning"', 'kind = "sister city"']]})
    result = invoke(small_canonical, "edit", "alder")
    assert result.exit_code == 0, result.stderr
    data = tomllib.loads(small_canonical.read_text(encoding="utf-8"))["partnerships"]
    assert data["alder"]["kind"] == "sister city"
    assert data["birch"]["kind"] == "friendship"


def test_edit_dry_run(invoke: Any, small_canonical: Path, editor: Any) -> None:
    editor({"replace": [["since = 1991", "since = 1990"]]})
    before = small_canonical.read_bytes()
    result = invoke(small_canonical, "edit", "alder", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "partnerctl: would change alder\n"
    assert [line for line in result.stdout.splitlines()[2:] if line[:1] in "+-"] == ["-since = 1991", "+since = 1990"]
    assert small_canonical.read_bytes() == before
