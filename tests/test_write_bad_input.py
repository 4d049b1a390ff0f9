"""Bad input to every write command: its exit code, a one-line message with the key phrase,
nothing on stdout, and the registry folder byte-for-byte unchanged (no temp or backup file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ERROR_LINE = re.compile(r"\Apartnerctl: error: [^\n]+\n\Z")

# id, arguments after `partnerctl --registry small.toml`, exit code, phrase in the message
BAD = [
    # add
    ("add-no-country", ["add", "Zagreb"], 2, "missing option --country"),
    ("add-id-not-slug", ["add", "Zagreb", "--country", "Croatia", "--id", "Zagreb City"], 2,
     "id 'Zagreb City' is not a slug"),
    ("add-id-clash", ["add", "Alder", "--country", "Italy"], 2, "partnership 'alder' already exists (Marlow, Italy)"),
    ("add-city-names-another", ["add", "Kingsford", "--country", "UK", "--id", "kingsford-uk"], 2,
     "'Kingsford' already names partnership birch"),
    ("add-empty-city", ["add", "", "--country", "Croatia", "--id", "x"], 2, "city: must not be empty"),
    ("add-no-slug-possible", ["add", "東京", "--country", "Japan"], 2, "cannot make an id from the city name"),
    ("add-since-words", ["add", "Zagreb", "--country", "Croatia", "--since", "nineteen"], 2,
     "since: 'nineteen' is not a year (digits, 1 to 9999, such as 1991)"),
    ("add-bad-status", ["add", "Zagreb", "--country", "Croatia", "--status", "dormant"], 2,
     "status: Input should be 'active', 'suspended' or 'ended'"),
    ("add-unknown-theme", ["add", "Zagreb", "--country", "Croatia", "--theme", "zzz"], 2, "unknown theme 'zzz'"),
    ("add-unknown-network", ["add", "Zagreb", "--country", "Croatia", "--network", "zzz"], 2, "unknown network 'zzz'"),
    # set / unset
    ("set-unknown-field", ["set", "alder", "colour", "blue"], 2,
     "unknown field 'colour'; settable fields: city, country, region, owner, owner_country, status, kind, since"),
    ("set-list-field", ["set", "alder", "themes", "culture"], 2, "themes is a list: use 'partnerctl add-to'"),
    ("set-since-words", ["set", "alder", "since", "nineteen"], 2,
     "since: 'nineteen' is not a year (digits, 1 to 9999, such as 1991)"),
    ("set-since-zero", ["set", "alder", "since", "0"], 2, "since: '0' is not a year"),
    ("set-bad-status", ["set", "alder", "status", "dormant"], 2, "alder: status: Input should be 'active'"),
    ("set-empty", ["set", "alder", "kind", " "], 2, "empty value for kind; to remove it: partnerctl unset alder kind"),
    # A required field: the advice is not `unset`, which refuses it.
    ("set-empty-city", ["set", "alder", "city", ""], 2,
     "empty value for city; a partnership must have a city: give one"),
    ("set-since-underscore", ["set", "alder", "since", "1_991"], 2, "since: '1_991' is not a year"),
    ("set-since-arabic-indic", ["set", "alder", "since", "١٩٩١"], 2, "since: '١٩٩١' is not a year"),
    ("set-since-huge", ["set", "alder", "since", "99999999999999999999"], 2,
     "since: '99999999999999999999' is not a year"),
    ("add-since-underscore", ["add", "Zagreb", "--country", "Croatia", "--since", "1_991"], 2,
     "since: '1_991' is not a year"),
    ("set-multiline-city", ["set", "alder", "city", "Mar\nlow"], 2, "city: must be a single line"),
    ("set-unknown-partner", ["set", "atlantis", "kind", "x"], 1, "no partnership 'atlantis'"),
    ("unset-required", ["unset", "alder", "country"], 2, "country is required and cannot be unset"),
    ("unset-unknown-field", ["unset", "alder", "colour"], 2, "unknown field 'colour'"),
    # tag / untag / add-to / remove-from
    ("tag-unknown", ["tag", "alder", "zzz"], 2, "unknown theme 'zzz'; declared themes: culture (Culture)"),
    ("tag-ambiguous", ["tag", "dune", "urban"], 2, "theme 'urban' is ambiguous: urban-mobility, urban-planning"),
    ("tag-present", ["tag", "alder", "food"], 2, "alder already has theme 'good-food'"),
    ("untag-absent", ["untag", "alder", "culture"], 1,
     "alder has no theme 'culture'; its themes: urban-mobility, good-food"),
    ("add-to-unknown-field", ["add-to", "alder", "colours", "blue"], 2, "unknown field 'colours'; list fields: aliases, themes"),
    ("add-to-alias-of-another", ["add-to", "alder", "aliases", "élan"], 2, "'élan' is already in the registry as cedar (Élan, Italy): the same relation"),
    ("add-to-empty-project", ["add-to", "alder", "projects", ""], 2, "alder: projects[1]: must not be empty"),
    ("remove-from-absent", ["remove-from", "alder", "projects", "URBACT"], 1,
     "alder has no project 'URBACT'; its projects: CITYLOG"),
    ("remove-from-unknown-network", ["remove-from", "alder", "networks", "zzz"], 2, "unknown network 'zzz'"),
    # rename / remove
    ("rename-not-slug", ["rename", "alder", "Great Marlow"], 2, "id 'Great Marlow' is not a slug"),
    # rename has no --id: the message does not send the user to one.
    ("rename-clash", ["rename", "alder", "birch"], 2,
     "partnership 'birch' already exists (Kingsford, Canada); choose another new id"),
    ("rename-same", ["rename", "alder", "alder"], 2, "'alder' is already the id of this partnership"),
    ("remove-no-yes", ["remove", "alder"], 2, "refusing to remove without --yes when not on a terminal"),
    ("remove-unknown", ["remove", "atlantis", "--yes"], 1, "no partnership 'atlantis'"),
    # edit-event / remove-event
    ("edit-event-unknown", ["edit-event", "alder", "2099-nothing", "--title", "X"], 1,
     "alder has no event '2099-nothing'; its events: 1991-04-charter"),
    ("edit-event-ambiguous", ["edit-event", "alder", "1991", "--title", "X"], 1,
     "event '1991' of alder is ambiguous: 1991-04-charter, 1991-first-contacts"),
    ("edit-event-nothing", ["edit-event", "alder", "2005-tram-exchange"], 2, "nothing to change"),
    ("edit-event-bad-date", ["edit-event", "alder", "2005-tram-exchange", "--date", "2005-13"], 2,
     "month must be 01-12"),
    ("edit-event-end-before", ["edit-event", "alder", "2005-tram-exchange", "--end", "2004"], 2,
     "end 2004 is before date 2005"),
    ("edit-event-empty-title", ["edit-event", "alder", "2005-tram-exchange", "--title", ""], 2,
     "title: must not be empty"),
    ("edit-event-duplicate-id", ["edit-event", "alder", "2005-tram-exchange", "--id", "1991-04-charter"], 2,
     "alder already has an event '1991-04-charter'"),
    ("edit-event-id-not-slug", ["edit-event", "alder", "2005-tram-exchange", "--id", "Tram 2005"], 2,
     "'Tram 2005' is not a slug"),
    ("edit-event-unknown-theme", ["edit-event", "alder", "2005-tram-exchange", "--theme", "zzz"], 2,
     "unknown theme 'zzz'"),
    ("edit-event-unset-title", ["edit-event", "alder", "2005-tram-exchange", "--unset", "title"], 2,
     "--unset 'title': only end, description, themes, links, notes, internal can be unset"),
    ("edit-event-unset-and-set", ["edit-event", "alder", "2005-tram-exchange", "--end", "2009", "--unset", "end"], 2,
     "--unset end and a new end contradict each other"),
    ("remove-event-unknown", ["remove-event", "cedar", "1999"], 1, "cedar has no event '1999'"),
    # contacts
    ("add-contact-no-name", ["add-contact", "dune"], 2, "missing option --name"),
    ("add-contact-empty-name", ["add-contact", "dune", "--name", " "], 2, "name: must not be empty"),
    ("add-contact-bad-email", ["add-contact", "dune", "--name", "Awa", "--email", "awa.example.org"], 2,
     "'awa.example.org' is not an e-mail address"),
    ("add-contact-duplicate", ["add-contact", "alder", "--name", "ann example"], 2,
     "alder already has a contact named 'Ann Exàmple'"),
    ("edit-contact-unknown", ["edit-contact", "alder", "Bob", "--role", "x"], 1,
     "alder has no contact 'Bob'; its contacts: Ann Exàmple"),
    ("edit-contact-bad-email", ["edit-contact", "alder", "Ann Exàmple", "--email", "ann@"], 2,
     "'ann@' is not an e-mail address"),
    ("edit-contact-nothing", ["edit-contact", "alder", "Ann Exàmple"], 2, "nothing to change"),
    ("remove-contact-unknown", ["remove-contact", "dune", "Awa"], 1, "dune has no contact 'Awa'; its contacts: none"),
    # vocabularies
    ("themes-add-spaces", ["themes", "add", "night life", "Night life"], 2,
     "theme slug 'night life' is not a slug (lower-case letters and digits joined by hyphens, e.g. 'night-life')"),
    ("themes-add-upper", ["themes", "add", "Sport", "Sport"], 2, "theme slug 'Sport' is not a slug"),
    ("themes-add-duplicate", ["themes", "add", "culture", "Arts"], 2, "theme 'culture' already exists (Culture)"),
    ("themes-add-empty-label", ["themes", "add", "sport", ""], 2, "theme label must be one line of text"),
    ("themes-rename-unknown", ["themes", "rename", "mobility", "transport"], 2,
     "no theme with the slug 'mobility'; did you mean urban-mobility?"),
    ("themes-rename-not-slug", ["themes", "rename", "culture", "Arts & culture"], 2,
     "theme slug 'Arts & culture' is not a slug"),
    ("themes-rename-onto-existing", ["themes", "rename", "culture", "good-food"], 2,
     "theme 'good-food' already exists (Good food)"),
    ("themes-remove-in-use", ["themes", "remove", "culture"], 2,
     "theme 'culture' is used by 1 partnership (dune); --force removes it from them too"),
    ("themes-remove-unknown", ["themes", "remove", "zzz", "--force"], 2,
     "no theme with the slug 'zzz'; declared: culture"),
    ("networks-add-spaces", ["networks", "add", "open cities", "Open Cities"], 2,
     "network slug 'open cities' is not a slug"),
    ("networks-add-duplicate", ["networks", "add", "luci", "LUCI"], 2, "network 'luci' already exists (LUCI)"),
    ("networks-rename-unknown", ["networks", "rename", "zzz", "yyy"], 2, "no network with the slug 'zzz'"),
    ("networks-remove-in-use", ["networks", "remove", "eurocities"], 2,
     "network 'eurocities' is used by 2 partnerships (alder, birch)"),
    # add-event --from-jsonl (the file is written by the test: see JSONL)
    ("jsonl-bad-line", ["add-event", "--from-jsonl", "{jsonl}"], 2, "line 2: not JSON"),
    ("jsonl-with-partner", ["add-event", "alder", "--from-jsonl", "{jsonl}"], 2,
     "--from-jsonl takes the events from the file: give no PARTNER or event options"),
    ("jsonl-missing-file", ["add-event", "--from-jsonl", "{missing}"], 2, "cannot read"),
    ("add-event-no-partner", ["add-event", "--date", "2011", "--title", "X"], 2, "missing argument PARTNER"),
    ("add-event-no-title", ["add-event", "alder", "--date", "2011"], 2, "missing option --title"),
    # init and fmt
    ("init-existing", ["init", "{registry}", "--owner", "X", "--country", "FR"], 4,
     "already exists; not overwriting it"),
    ("init-no-owner", ["init", "{new}"], 2,
     "give --owner CITY and --country COUNTRY for one city's registry, --name NAME for a registry of many owners, "
     "or --sample"),
    ("init-sample-and-owner", ["init", "{new}", "--sample", "--owner", "X"], 2, "--sample copies the Lyon registry"),
    ("fmt-contradictory-formats", ["fmt", "--json", "--format", "csv"], 2,
     "--json and --format csv contradict each other"),
    ("set-contradictory-formats", ["set", "alder", "kind", "x", "--json", "--format", "csv"], 2,
     "--json and --format csv contradict each other"),
    ("edit-contradictory-formats", ["edit", "alder", "--json", "--format", "tsv"], 2,
     "--json and --format tsv contradict each other"),
    ("init-contradictory-formats", ["init", "{new}", "--sample", "--json", "--format", "ids"], 2,
     "--json and --format ids contradict each other"),
    ("init-empty-owner", ["init", "{new}", "--owner", " ", "--country", "FR"], 2, "owner: must not be empty"),
    ("init-unknown-country", ["init", "{new}", "--owner", "Pau", "--country", "Frnace"], 2,
     "--country: unknown country 'Frnace'; did you mean 'France'"),
]

JSONL = '{"partner": "alder", "date": "2020", "title": "Fine"}\n{"partner": "alder", "date": 2020\n'


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of *folder* with its bytes; the lock file may appear."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if not p.name.endswith(".lock") and p.name != ".partnerctl"}  # the lock, the undo journal


@pytest.mark.parametrize(("args", "code", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in BAD])
def test_bad_write_input(invoke: Any, small_registry: Path, tmp_path: Path, args: list[str], code: int,
                         phrase: str) -> None:
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(JSONL, encoding="utf-8")
    places = {"jsonl": str(jsonl), "missing": str(tmp_path / "absent.jsonl"), "registry": str(small_registry),
              "new": str(tmp_path / "new.toml")}
    args = [a.format(**places) if a.startswith("{") else a for a in args]
    before = snapshot(tmp_path)
    result = invoke(small_registry, *args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert ERROR_LINE.match(result.stderr), result.stderr
    assert phrase in result.stderr
    assert result.stdout == ""
    assert snapshot(tmp_path) == before


WRITE_COMMANDS = {"init", "add", "set", "unset", "tag", "untag", "add-to", "remove-from", "add-event",
                  "edit-event", "remove-event", "add-contact", "edit-contact", "remove-contact", "rename",
                  "remove", "edit", "fmt"}


def test_every_write_command_has_a_bad_input_row() -> None:
    import typer.main

    import partnerctl.cli

    commands = typer.main.get_command(partnerctl.cli.app).commands  # type: ignore[attr-defined]
    assert WRITE_COMMANDS <= set(commands)
    assert {row[1][0] for row in BAD} >= WRITE_COMMANDS
    vocab_rows = {tuple(row[1][:2]) for row in BAD if row[1][0] in ("themes", "networks")}
    assert vocab_rows == {(k, verb) for k in ("themes", "networks") for verb in ("add", "rename", "remove")}
