"""Nothing a person wrote is lost: comments above, between and inside blocks survive every write command;
a comment inside a block that a change rewrites is carried into its new text (tests/test_comments_inside.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from conftest import SMALL_REGISTRY_TOML

TOP = "# The team's registry: ask before changing the vocabularies\n"
ABOVE_BIRCH = "# ask Juliette before changing birch\n"
BETWEEN = "# cedar: see the 2019 file\n\n"
INSIDE_BIRCH = 'kind = "cooperation"  # since the 2001 agreement\n'
END = "\n# end of file\n"


def commented() -> str:
    text = TOP + SMALL_REGISTRY_TOML
    text = text.replace("[partnerships.birch]\n", ABOVE_BIRCH + "[partnerships.birch]\n")
    text = text.replace("[partnerships.cedar]\n", BETWEEN + "[partnerships.cedar]\n")
    text = text.replace('kind = "cooperation"\n', INSIDE_BIRCH)
    assert text.count("#") == 4
    return text + END


COMMENTS = [TOP, ABOVE_BIRCH, BETWEEN, INSIDE_BIRCH, END]

# Every write command, on partnerships other than birch (whose block holds a comment inside).
WRITES: dict[str, list[str]] = {
    "add-event": ["add-event", "alder", "--date", "2020", "--title", "Fair"],
    "add": ["add", "Łódź", "--country", "Poland", "--since", "1991"],
    "set": ["set", "alder", "kind", "jumelage"],
    "unset": ["unset", "alder", "kind"],
    "tag": ["tag", "dune", "urban-planning"],
    "untag": ["untag", "alder", "good-food"],
    "add-to": ["add-to", "alder", "projects", "URBACT"],
    "remove-from": ["remove-from", "alder", "projects", "CITYLOG"],
    "edit-event": ["edit-event", "alder", "2005-tram-exchange", "--title", "Tram"],
    "remove-event": ["remove-event", "alder", "2005-tram-exchange"],
    "add-contact": ["add-contact", "dune", "--name", "Awa Ndiaye"],
    "edit-contact": ["edit-contact", "alder", "Ann Exàmple", "--role", "head"],
    "remove-contact": ["remove-contact", "alder", "ann example"],
    "rename": ["rename", "alder", "aldergrove"],
    "remove": ["remove", "dune", "--yes"],
    "themes-add": ["themes", "add", "sport", "Sport"],
    "themes-rename": ["themes", "rename", "culture", "arts"],
    "themes-remove": ["themes", "remove", "culture", "--force"],
    "networks-add": ["networks", "add", "open", "Open cities"],
    "networks-rename": ["networks", "rename", "delice", "delicious"],
    "networks-remove": ["networks", "remove", "delice", "--force"],
    "import": ["import", "{jsonl}"],
}


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(commented(), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize("index", ["index", "no-index"])
def test_every_write_keeps_every_comment(invoke: Any, registry: Path, tmp_path: Path, name: str, index: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if index == "no-index":
        monkeypatch.setenv("PARTNERCTL_NO_INDEX", "1")
    else:
        assert invoke(registry, "list").exit_code == 0  # a current index
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text('{"id": "elm", "city": "Elmshorn", "country": "Germany"}\n', encoding="utf-8")
    args = [str(jsonl) if a == "{jsonl}" else a for a in WRITES[name]]
    before = registry.read_text(encoding="utf-8")
    result = invoke(registry, *args)
    assert result.exit_code == 0, result.stderr
    after = registry.read_text(encoding="utf-8")
    assert after != before
    for comment in COMMENTS:
        assert comment in after, (comment, after)
    # Birch's block is untouched byte for byte.
    birch = before[before.index(ABOVE_BIRCH):before.index("[partnerships.cedar]")]
    assert birch in after
    assert invoke(registry, "validate").exit_code == 0


def test_untouched_text_stays_byte_for_byte(invoke: Any, registry: Path) -> None:
    before = registry.read_text(encoding="utf-8")
    assert invoke(registry, "set", "cedar", "status", "active").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    cut = before.index("[partnerships.cedar]")
    assert after.startswith(before[:cut])  # the head, alder, birch and the comments before cedar
    assert after.endswith(before[before.index("[partnerships.dune]") - 1:])  # dune and the end


def test_a_comment_inside_a_changed_block_is_kept_on_its_key_line(invoke: Any, registry: Path) -> None:
    assert invoke(registry, "set", "birch", "status", "active").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    assert INSIDE_BIRCH in after and 'status = "active"\n' + INSIDE_BIRCH in after
    assert all(c in after for c in COMMENTS)
    assert invoke(registry, "validate").exit_code == 0


def test_removing_a_partnership_removes_the_comment_above_it(invoke: Any, registry: Path) -> None:
    assert invoke(registry, "remove", "cedar", "--yes").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    assert "cedar" not in after and "2019 file" not in after
    assert all(c in after for c in (TOP, ABOVE_BIRCH, END))


def test_fmt_keeps_comments_above_blocks_and_sorts_them_with_their_blocks(invoke: Any, registry: Path) -> None:
    registry.write_text(commented().replace(INSIDE_BIRCH, 'kind = "cooperation"\n'), encoding="utf-8")
    assert invoke(registry, "fmt").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    assert after.startswith(TOP) and ABOVE_BIRCH + "[partnerships.birch]" in after and END.strip() in after
    assert invoke(registry, "fmt", "--check").exit_code == 0
    data = tomllib.loads(after)
    assert list(data["partnerships"]) == ["alder", "birch", "cedar", "dune"]


def test_fmt_keeps_a_comment_inside_a_block_it_rewrites(invoke: Any, registry: Path) -> None:
    assert invoke(registry, "fmt").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    assert all(c in after for c in COMMENTS), after
    assert invoke(registry, "fmt", "--check").exit_code == 0


def test_fmt_keeps_a_comment_inside_a_block_canonical_but_for_it(invoke: Any, registry: Path) -> None:
    registry.write_text(commented().replace(INSIDE_BIRCH, 'kind = "cooperation"\n'), encoding="utf-8")
    assert invoke(registry, "fmt").exit_code == 0
    text = registry.read_text(encoding="utf-8").replace('kind = "cooperation"\n', INSIDE_BIRCH)
    registry.write_text(text, encoding="utf-8")
    result = invoke(registry, "fmt", "--check")
    assert (result.exit_code, result.stderr) == (0, f"partnerctl: {registry} is canonical\n")
    assert invoke(registry, "set", "alder", "since", "1990").exit_code == 0
    assert INSIDE_BIRCH in registry.read_text(encoding="utf-8")


def test_a_file_that_cannot_be_cut_into_blocks_is_refused_while_it_holds_comments(
        invoke: Any, make_registry: Any) -> None:
    # dune's table among alder's events: no block can be rewritten alone, and the comment would be lost.
    text = SMALL_REGISTRY_TOML
    dune = text[text.index("[partnerships.dune]"):]
    text = text[:text.index("[partnerships.dune]")].replace(
        "[[partnerships.alder.events]]\nid = \"2005", dune + "\n[[partnerships.alder.events]]\nid = \"2005", 1)
    path = make_registry("# a comment\n" + text)
    before = path.read_bytes()
    result = invoke(path, "set", "cedar", "status", "active")
    assert result.exit_code == 2
    assert "its blocks are not laid out one partnership after another" in result.stderr
    assert path.read_bytes() == before


def test_an_invalid_change_to_a_file_with_comments_names_its_problem(invoke: Any, registry: Path) -> None:
    before = registry.read_bytes()
    result = invoke(registry, "add-event", "birch", "--date", "2020", "--title", "Fair", "--theme", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr, result.stderr
    assert registry.read_bytes() == before
