"""Comments inside a block (and the head) that a write rewrites are carried into its new text: a comment on
its own line stays above the key or table it was above, one at the end of a line stays on its key's line, and
a comment whose key or table is removed moves to the nearest place that survives (docs/registry-format.md,
"Comments and hand formatting"). Every write command, on the real file's bytes; the file still validates."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from conftest import SMALL_REGISTRY_TOML
from partnerctl.core import semantic
from partnerctl.storage import comments, store
from partnerctl.storage import toml as tomlfile

# (what the file says before, as written in the file): each comment inside alder's block or the head.
ABOVE_ALDER = "# alder: ask Juliette first\n"
HEADER = "[partnerships.alder]  # our oldest twin\n"
ABOVE_KIND = '# checked in 2024\nkind = "twinning"\n'
PROJECTS = 'projects = [  # EU-funded\n    "CITYLOG",\n]\n'  # tomli-w writes a list one item a line
TRAM = '# the tram years\n[[partnerships.alder.events]]\nid = "2005-tram-exchange"\n'
FAIR = 'title = "Food fair"  # in the Halles\n'
ROLE = 'role = "desk officer"  # until 2027\n'
END_OF_ALDER = 'email = "ann@example.org"\n# end of alder\n'
THEME = 'culture = "Culture"  # the first theme\n'
ABOVE_BIRCH = "# ask Juliette before changing birch\n"
INSIDE_BIRCH = 'kind = "cooperation"  # since the 2001 agreement\n'
PLACES = [ABOVE_ALDER + HEADER, ABOVE_KIND, PROJECTS, TRAM, FAIR, ROLE, END_OF_ALDER, THEME, ABOVE_BIRCH, INSIDE_BIRCH]


def commented() -> str:
    text = SMALL_REGISTRY_TOML
    for plain, written in [
        ("[partnerships.alder]\n", ABOVE_ALDER + HEADER), ('kind = "twinning"\n', ABOVE_KIND),
        ('projects = ["CITYLOG"]\n', PROJECTS),
        ('[[partnerships.alder.events]]\nid = "2005-tram-exchange"\n', TRAM), ('title = "Food fair"\n', FAIR),
        ('role = "desk officer"\n', ROLE), ('email = "ann@example.org"\n', END_OF_ALDER),
        ('culture = "Culture"\n', THEME), ("[partnerships.birch]\n", ABOVE_BIRCH + "[partnerships.birch]\n"),
        ('kind = "cooperation"\n', INSIDE_BIRCH),
    ]:
        assert text.count(plain) == 1, plain
        text = text.replace(plain, written)
    return text


def comments_of(text: str) -> list[str]:
    """The comments of the text (none of this registry's strings holds a "#")."""
    return sorted(re.findall(r"#.*", text))


# Every write command that rewrites alder's block (or the head); where a comment moves, the text it moves to.
WRITES: dict[str, tuple[list[str], dict[str, str]]] = {
    "set": (["set", "alder", "status", "suspended"], {}),
    "unset": (["unset", "alder", "kind"], {ABOVE_KIND: '# checked in 2024\nsince = 1991\n'}),
    "add-to": (["add-to", "alder", "projects", "URBACT"],
               {PROJECTS: 'projects = [  # EU-funded\n    "CITYLOG",\n    "URBACT",\n]\n'}),
    "remove-from": (["remove-from", "alder", "projects", "CITYLOG"],
                    {PROJECTS: '# EU-funded\nsummary = "Marlow and Lyon'}),
    "tag": (["tag", "alder", "culture"], {}),
    "untag": (["untag", "alder", "good-food"], {}),
    "add-event": (["add-event", "alder", "--date", "2020", "--title", "Fair"], {}),
    "edit-event": (["edit-event", "alder", "2012-05-16-food-fair", "--title", "Fair"],
                   {FAIR: 'title = "Fair"  # in the Halles\n'}),
    "remove-event": (["remove-event", "alder", "2005-tram-exchange"],
                     {TRAM: '# the tram years\n[[partnerships.alder.events]]\nid = "2012-05-16-food-fair"\n'}),
    "add-contact": (["add-contact", "alder", "--name", "Awa Ndiaye"],  # the comment ending the block still ends it
                    {END_OF_ALDER: 'name = "Awa Ndiaye"\n# end of alder\n'}),
    "edit-contact": (["edit-contact", "alder", "Ann Exàmple", "--role", "head"],
                     {ROLE: 'role = "head"  # until 2027\n'}),
    "remove-contact": (["remove-contact", "alder", "ann example"],
                       {ROLE: FAIR + 'themes = [\n    "good-food",\n]\n# until 2027\n# end of alder\n\n',
                        END_OF_ALDER: "# end of alder\n\n"}),
    "rename": (["rename", "alder", "aldergrove"],
               {ABOVE_ALDER + HEADER: ABOVE_ALDER + "[partnerships.aldergrove]  # our oldest twin\n",
                TRAM: '# the tram years\n[[partnerships.aldergrove.events]]\nid = "2005-tram-exchange"\n'}),
    "merge": (["merge", "alder", "cedar", "--take", "since=keep", "--take", "status=keep"], {}),
    "themes-rename": (["themes", "rename", "culture", "arts"],
                      {THEME: '# the first theme\ngood-food = "Good food"\n'}),
    "themes-add": (["themes", "add", "sport", "Sport"], {}),
    "fmt": (["fmt"], {}),
}


@pytest.fixture
def registry(make_registry: Any) -> Path:
    """The registry with comments above and inside alder's block, in its head, above and inside birch's."""
    return Path(make_registry(commented()))


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize("index", ["index", "no-index"])
def test_every_write_keeps_the_comments_inside_the_block_it_rewrites(
        invoke: Any, registry: Path, name: str, index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if index == "no-index":
        monkeypatch.setenv("PARTNERCTL_NO_INDEX", "1")
    else:
        assert invoke(registry, "list").exit_code == 0  # a current index
    args, moved = WRITES[name]
    before = registry.read_text(encoding="utf-8")
    result = invoke(registry, *args)
    assert result.exit_code == 0, result.stderr
    after = registry.read_text(encoding="utf-8")
    assert after != before
    assert comments_of(after) == comments_of(before), after
    for place in PLACES:
        assert moved.get(place, place) in after, (name, place, after)
    assert invoke(registry, "validate").exit_code == 0
    # undo puts back the file as it was, comments and all.
    assert invoke(registry, "undo").exit_code == 0
    assert registry.read_text(encoding="utf-8") == before


def test_the_changed_block_is_canonical_plus_its_comments(invoke: Any, registry: Path) -> None:
    assert invoke(registry, "set", "alder", "status", "suspended").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    block = after[after.index(HEADER):after.index(ABOVE_BIRCH)]
    assert block == HEADER + """\
city = "Marlow"
aliases = [
    "Mårlø",
]
country = "IT"
region = "europe"
status = "suspended"
# checked in 2024
kind = "twinning"
since = 1991
themes = [
    "urban-mobility",
    "good-food",
]
networks = [
    "delice",
    "eurocities",
]
projects = [  # EU-funded
    "CITYLOG",
]
summary = "Marlow and Lyon twinned in April 1991."

[[partnerships.alder.events]]
id = "1991-first-contacts"
date = "1991"
title = "First contacts"

[[partnerships.alder.events]]
id = "1991-04-charter"
date = "1991-04"
title = "Twinning charter signed"

# the tram years
[[partnerships.alder.events]]
id = "2005-tram-exchange"
date = "2005"
end = "2008"
title = "Tram exchange programme"
themes = [
    "urban-mobility",
]

[[partnerships.alder.events]]
id = "2012-05-16-food-fair"
date = "2012-05-16"
title = "Food fair"  # in the Halles
themes = [
    "good-food",
]

[[partnerships.alder.contacts]]
name = "Ann Exàmple"
role = "desk officer"  # until 2027
email = "ann@example.org"
# end of alder

""", block


def test_comments_in_a_multi_line_value_go_above_its_key(invoke: Any, make_registry: Any) -> None:
    text = SMALL_REGISTRY_TOML.replace('networks = ["delice", "eurocities"]\n', """\
networks = [  # shared with Turin
  # the food network
  "delice",
  "eurocities",  # since 2001
]
""", 1)
    path = make_registry(text)
    assert invoke(path, "set", "alder", "status", "ended").exit_code == 0
    after = path.read_text(encoding="utf-8")
    assert ('# the food network\n# since 2001\nnetworks = [  # shared with Turin\n    "delice",\n    "eurocities",\n]\n'
            in after), after
    assert invoke(path, "validate").exit_code == 0


def test_a_comment_ending_a_block_stays_with_it_when_fmt_sorts(invoke: Any, make_registry: Any) -> None:
    # dune is written before cedar: fmt moves it, with its comment above and the one ending it.
    text = SMALL_REGISTRY_TOML
    cut = text.index("[partnerships.cedar]")
    dune = text[text.index("[partnerships.dune]"):]
    text = text[:cut] + "# about dune\n" + dune + "# dune ends here\n\n" + text[cut:text.index("[partnerships.dune]")]
    path = make_registry(text.rstrip("\n") + "\n")
    assert invoke(path, "fmt").exit_code == 0
    after = path.read_text(encoding="utf-8")
    assert after.endswith('# about dune\n[partnerships.dune]\ncity = "Bakel"\ncountry = "SN"\nregion = "africa"\n'
                          'themes = [\n    "good-food",\n    "culture",\n]\n# dune ends here\n'), after
    assert invoke(path, "fmt", "--check").exit_code == 0


def test_rename_and_merge_bring_a_blocks_comments_along(invoke: Any, registry: Path) -> None:
    # birch: a comment above it and one inside; renamed, both go with it.
    assert invoke(registry, "rename", "birch", "beech").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    assert ABOVE_BIRCH + "[partnerships.beech]\n" in after and INSIDE_BIRCH in after, after
    # merged into alder: its comment above goes above alder, the one inside to alder's same key.
    assert invoke(registry, "merge", "alder", "beech", "--take", "status=keep", "--take", "since=keep",
                  "--take", "country=keep", "--take", "region=keep", "--take", "kind=keep").exit_code == 0
    after = registry.read_text(encoding="utf-8")
    assert "beech" not in after
    assert ABOVE_ALDER + ABOVE_BIRCH + HEADER in after, after
    assert '# checked in 2024\nkind = "twinning"  # since the 2001 agreement\n' in after, after
    assert comments_of(after) == comments_of(commented())
    assert invoke(registry, "validate").exit_code == 0


# --- merging comments (merge-file's part; real git in tests/test_git_comments.py) -------------------

def merged(base: str, ours: str, theirs: str) -> tuple[str, list[str]]:
    """merge-file's steps on three texts: the registry merged by meaning, then the comments."""
    doc, conflicts = semantic.merge3(*(tomllib.loads(t) for t in (base, ours, theirs)))
    canonical = tomlfile.dump(store.parse_valid(tomli_w.dumps(doc), "merged"))
    text, found, problems = comments.merge3(base, ours, theirs, canonical)
    # The canonical text and comments (a blank line before the comments at the file's end).
    assert problems == [] and tomlfile.without_comments(text).rstrip("\n") + "\n" == canonical
    return text, semantic.describe_conflicts(conflicts + found)


def test_merging_comments_at_the_top_above_blocks_and_at_the_end() -> None:
    base = SMALL_REGISTRY_TOML
    ours = "# top, ours\n" + base.replace("[partnerships.cedar]\n", "# above cedar\n[partnerships.cedar]\n")
    theirs = base + "\n# the end, theirs\n"
    text, conflicts = merged(base, ours, theirs)
    assert conflicts == []
    assert text.startswith("# top, ours\n[registry]\n")
    assert "\n# above cedar\n[partnerships.cedar]\n" in text and text.endswith("\n\n# the end, theirs\n")


def test_comments_above_a_block_changed_on_both_sides_conflict() -> None:
    base = SMALL_REGISTRY_TOML.replace("[partnerships.cedar]\n", "# cedar\n[partnerships.cedar]\n")
    ours, theirs = base.replace("# cedar\n", "# cedar, ours\n"), base.replace("# cedar\n", "# cedar, theirs\n")
    text, conflicts = merged(base, ours, theirs)
    assert "# cedar, ours\n[partnerships.cedar]\n" in text and "theirs" not in text
    assert conflicts == ["partnerships.cedar.\"(comment above)\": ours '# cedar, ours', theirs '# cedar, theirs' "
                         "(base '# cedar')"]


def test_a_comment_added_to_a_partnership_the_other_side_removed_is_a_conflict() -> None:
    base = SMALL_REGISTRY_TOML
    cut = base.index("[partnerships.dune]")
    ours = base[:cut].rstrip("\n") + "\n"
    theirs = base.replace('region = "africa"\n', 'region = "africa"  # Sahel\n')
    text, conflicts = merged(base, ours, theirs)
    assert "dune" not in text
    assert conflicts == ["partnerships.dune.region.\"(comment)\": ours unset, theirs '  # Sahel' (base unset)"]


ALDER = SMALL_REGISTRY_TOML[SMALL_REGISTRY_TOML.index("[partnerships.alder]"):
                            SMALL_REGISTRY_TOML.index("[partnerships.birch]")].splitlines()


@pytest.mark.slow  # 80 cases of four writes each
@pytest.mark.parametrize("line", range(1, len(ALDER)))
@pytest.mark.parametrize("where", ["own line", "end of line"])
def test_a_comment_anywhere_in_a_block_survives_a_write_that_empties_keys_and_tables(
        invoke: Any, make_registry: Any, line: int, where: str) -> None:
    # A summary holding "#" (not a comment) and a comment on any line of alder, own or at its end.
    lines = list(ALDER)
    if where == "own line" or not lines[line]:
        lines.insert(line, "# the note")
    else:
        lines[line] += "  # the note"
    start = SMALL_REGISTRY_TOML.index("[partnerships.alder]")
    text = (SMALL_REGISTRY_TOML[:start] + "\n".join(lines) + "\n"
            + SMALL_REGISTRY_TOML[SMALL_REGISTRY_TOML.index("[partnerships.birch]"):])
    path = make_registry(text.replace('summary = "Marlow', 'summary = """#1 twin: Marlow').replace(
        'twinned in April 1991."', 'twinned in April 1991 # not a comment"""'))
    for args in (["unset", "alder", "summary"], ["remove-event", "alder", "2005-tram-exchange"],
                 ["remove-contact", "alder", "Ann Exàmple"], ["set", "alder", "status", "ended"]):
        result = invoke(path, *args)
        assert result.exit_code == 0, result.stderr
        after = path.read_text(encoding="utf-8")
        assert after.count("# the note") == 1, (args, after)
    assert invoke(path, "validate").exit_code == 0
