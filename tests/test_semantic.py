"""Registry changes by meaning (partnerctl.core.semantic): diff, describe, three-way merge, conflict report.

Test data: the shipped Lyon registry, parsed with tomllib as the merge driver and
``log`` will parse each version.
"""

from __future__ import annotations

import copy
import json
import tomllib
from typing import Any

import pytest

from conftest import ALICE_EVENT, BOB_EVENT, SHIPPED_REGISTRY, canonical
from partnerctl.core.semantic import (
    Change,
    Conflict,
    conflict_report,
    describe,
    describe_conflicts,
    diff,
    merge3,
    report_conflicts,
)


@pytest.fixture
def base() -> dict[str, Any]:
    return tomllib.loads(SHIPPED_REGISTRY.read_text(encoding="utf-8"))


def edited(doc: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(doc)




def turin_event(doc: dict[str, Any], event_id: str) -> dict[str, Any]:
    return next(e for e in doc["partnerships"]["turin"]["events"] if e["id"] == event_id)


# ---------------------------------------------------------------------------- diff and describe

def test_no_change_is_no_change(base: dict[str, Any]) -> None:
    assert diff(base, edited(base)) == []
    assert describe([]) == []


def test_list_order_is_not_a_change(base: dict[str, Any]) -> None:
    new = edited(base)
    new["partnerships"]["turin"]["themes"].reverse()
    assert diff(base, new) == []


def test_describe_typical_changes_one_line_per_partnership(base: dict[str, Any]) -> None:
    new = edited(base)
    turin = new["partnerships"]["turin"]
    turin["events"].append(ALICE_EVENT)
    turin["status"] = "suspended"
    turin["themes"] = [t for t in turin["themes"] if t != "youth"] + ["light"]
    turin["since"] = 1990
    turin_event(new, "2009-cross-communication-campaigns")["title"] = "Joint campaigns"
    turin_event(new, "2004-tripartite-economic-agreement")["themes"].append("culture")
    turin["contacts"][0]["email"] = "juliette@example.org"
    del new["partnerships"]["yerevan"]
    new["partnerships"]["lodz"]["summary"] += " More."
    del new["partnerships"]["lodz"]["region"]
    new["themes"]["light-festivals"] = "Light festivals"
    new["networks"]["luci"] = "LUCI network"
    del new["networks"]["aimf"]
    new["registry"]["owner"] = "Greater Lyon"

    assert describe(diff(base, new)) == [
        "(registry): owner Lyon → 'Greater Lyon'; + theme light-festivals 'Light festivals'; "
        "- network aimf; network luci 'LUCI' → 'LUCI network'",
        "lodz: - region europe; summary changed",
        "turin: event 2004-tripartite-economic-agreement (+ themes culture); "
        "event 2009-cross-communication-campaigns "
        "(title 'Cross-communication campaigns for the major cultural events' → 'Joint campaigns'); "
        "+ event 2026-10-alice-visit; "
        "contact 'Juliette Cantau' (+ email juliette@example.org); "
        "since 1991 → 1990; + themes light; - themes youth; + status suspended",
        "yerevan: - partnership",
    ]


def test_diff_changes_are_typed_and_json(base: dict[str, Any]) -> None:
    new = edited(base)
    new["partnerships"]["turin"]["events"].append(ALICE_EVENT)
    new["partnerships"]["turin"]["status"] = "suspended"
    turin_event(new, "2009-cross-communication-campaigns")["title"] = "Joint campaigns"
    changes = diff(base, new)
    # In document order: the events (in their order), then the status added after them.
    assert [c.to_json() for c in changes] == [
        {"kind": "event-changed", "path": ["partnerships", "turin", "events", "2009-cross-communication-campaigns"],
         "changes": [{"kind": "field-changed",
                      "path": ["partnerships", "turin", "events", "2009-cross-communication-campaigns", "title"],
                      "old": "Cross-communication campaigns for the major cultural events",
                      "new": "Joint campaigns"}]},
        {"kind": "event-added", "path": ["partnerships", "turin", "events", "2026-10-alice-visit"],
         "new": ALICE_EVENT},
        {"kind": "field-set", "path": ["partnerships", "turin", "status"], "new": "suspended"},
    ]
    json.dumps([c.to_json() for c in changes])


def test_partnership_added_and_removed_carry_the_table(base: dict[str, Any]) -> None:
    new = edited(base)
    new["partnerships"]["kyiv"] = {"city": "Kyiv", "country": "Ukraine"}
    old_yerevan = new["partnerships"].pop("yerevan")
    assert diff(base, new) == [
        Change("partnership-added", ("partnerships", "kyiv"), new={"city": "Kyiv", "country": "Ukraine"}),
        Change("partnership-removed", ("partnerships", "yerevan"), old=old_yerevan),
    ]
    assert describe(diff(base, new)) == ["kyiv: + partnership", "yerevan: - partnership"]


def test_contact_renamed_only_in_case_is_one_contact_changed(base: dict[str, Any]) -> None:
    new = edited(base)
    new["partnerships"]["turin"]["contacts"][0]["name"] = "JULIETTE CANTAU"
    assert describe(diff(base, new)) == ["turin: contact 'JULIETTE CANTAU' (name 'Juliette Cantau' → 'JULIETTE CANTAU')"]


def test_describe_escapes_invisible_and_control_characters(base: dict[str, Any]) -> None:
    new = edited(base)
    new["partnerships"]["turin"]["kind"] = "twin\u202ening\x1b[31m"
    assert describe(diff(base, new)) == [
        "turin: kind 'bilateral cooperation agreements' → 'twin\\u202ening\\x1b[31m'"]


def test_unknown_fields_are_diffed_by_their_values() -> None:
    # The model will gain fields: a list of strings is a list field, anything else a scalar.
    old = {"partnerships": {"x": {"city": "X", "tags": ["a"], "budget": 10}}}
    new = {"partnerships": {"x": {"city": "X", "tags": ["a", "b"], "budget": 12}}}
    assert describe(diff(old, new)) == ["x: + tags b; budget 10 → 12"]


# ---------------------------------------------------------------------------- merge3

def test_alice_and_bob_each_add_an_event_to_turin(base: dict[str, Any]) -> None:
    alice, bob = edited(base), edited(base)
    alice["partnerships"]["turin"]["events"].append(ALICE_EVENT)
    bob["partnerships"]["turin"]["events"].append(BOB_EVENT)
    merged, conflicts = merge3(base, alice, bob)
    assert conflicts == []
    assert describe(diff(base, merged)) == ["turin: + event 2026-10-alice-visit; + event 2026-11-bob-visit"]
    # Valid, and written canonically: the same text whichever side is "ours".
    assert canonical(merged) == canonical(merge3(base, bob, alice)[0])


def test_both_set_turin_status_differently_is_one_conflict(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    ours["partnerships"]["turin"]["status"] = "active"
    theirs["partnerships"]["turin"]["status"] = "suspended"
    theirs["partnerships"]["turin"]["events"].append(BOB_EVENT)
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == [Conflict(("partnerships", "turin", "status"), None, "active", "suspended")]
    assert describe_conflicts(conflicts) == [
        "partnerships.turin.status: ours 'active', theirs 'suspended' (base unset)"]
    # Ours' value at the conflict, theirs' independent change taken: a valid registry.
    assert merged["partnerships"]["turin"]["status"] == "active"
    assert turin_event(merged, BOB_EVENT["id"]) == BOB_EVENT
    canonical(merged)


def test_same_change_on_both_sides_is_no_conflict(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    for doc in (ours, theirs):
        doc["partnerships"]["turin"]["status"] = "ended"
        doc["partnerships"]["turin"]["events"].append(ALICE_EVENT)
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == []
    assert merged == ours


def test_list_fields_take_both_sides_additions_and_removals(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    assert base["partnerships"]["turin"]["networks"] == ["delice", "eurocities", "iaec", "luci", "uclg"]
    ours["partnerships"]["turin"]["networks"] = ["mufpp", "delice", "eurocities", "iaec", "luci"]  # + mufpp, - uclg
    theirs["partnerships"]["turin"]["networks"] = ["eurocities", "iaec", "luci", "uclg", "aimf"]  # - delice, + aimf
    # Both remove from an event's list, one adds to a list the base lacks.
    turin_event(ours, "2009-cross-communication-campaigns")["themes"] = ["culture"]
    turin_event(theirs, "2009-cross-communication-campaigns")["themes"] = ["territorial-marketing", "tourism"]
    turin_event(theirs, "2012-05-new-cooperation-agreement")["themes"] = ["tourism"]
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == []
    assert merged["partnerships"]["turin"]["networks"] == ["mufpp", "eurocities", "iaec", "luci", "aimf"]
    assert turin_event(merged, "2009-cross-communication-campaigns")["themes"] == ["tourism"]
    assert turin_event(merged, "2012-05-new-cooperation-agreement")["themes"] == ["tourism"]
    canonical(merged)


def test_list_field_emptied_by_both_sides_is_left_out(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    ours["partnerships"]["turin"]["projects"] = ["CITYLOG"]
    theirs["partnerships"]["turin"]["projects"] = ["OPTICITIES"]
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == [] and "projects" not in merged["partnerships"]["turin"]


@pytest.mark.parametrize("ours_edits", [True, False], ids=["ours-edits", "ours-removes"])
def test_event_edited_on_one_side_and_removed_on_the_other_conflicts(base: dict[str, Any], ours_edits: bool) -> None:
    editor, remover = edited(base), edited(base)
    turin_event(editor, "2004-tripartite-economic-agreement")["title"] = "Economic agreement"
    remover["partnerships"]["turin"]["events"] = [
        e for e in base["partnerships"]["turin"]["events"] if e["id"] != "2004-tripartite-economic-agreement"]
    ours, theirs = (editor, remover) if ours_edits else (remover, editor)
    merged, conflicts = merge3(base, ours, theirs)
    path = ("partnerships", "turin", "events", "2004-tripartite-economic-agreement")
    before = turin_event(base, "2004-tripartite-economic-agreement")
    edit = turin_event(editor, "2004-tripartite-economic-agreement")
    assert conflicts == [Conflict(path, before, edit if ours_edits else None, None if ours_edits else edit)]
    changed = "changed (title 'Tripartite Barcelona/Lyon/Turin economic cooperation agreement' → 'Economic agreement')"
    sides = f"ours {changed}, theirs removed" if ours_edits else f"ours removed, theirs {changed}"
    assert describe_conflicts(conflicts) == [f"partnerships.turin.events.2004-tripartite-economic-agreement: {sides}"]
    kept = [e["id"] for e in merged["partnerships"]["turin"]["events"]]
    assert ("2004-tripartite-economic-agreement" in kept) is ours_edits
    canonical(merged)


def test_event_removed_on_one_side_and_untouched_on_the_other_is_removed(base: dict[str, Any]) -> None:
    ours = edited(base)
    ours["partnerships"]["turin"]["events"].pop(0)
    merged, conflicts = merge3(base, ours, edited(base))
    assert conflicts == [] and merged == ours


def test_partnership_removed_on_one_side_and_changed_on_the_other_conflicts(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    del ours["partnerships"]["yerevan"]
    theirs["partnerships"]["yerevan"]["status"] = "ended"
    merged, conflicts = merge3(base, ours, theirs)
    assert [c.path for c in conflicts] == [("partnerships", "yerevan")]
    assert describe_conflicts(conflicts) == ["partnerships.yerevan: ours removed, theirs changed (+ status ended)"]
    assert "yerevan" not in merged["partnerships"]


def test_partnership_added_on_both_sides_merges_field_by_field(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    ours["partnerships"]["kyiv"] = {"city": "Kyiv", "country": "Ukraine", "since": 1997, "themes": ["culture"]}
    theirs["partnerships"]["kyiv"] = {"city": "Kyiv", "country": "Ukraine", "since": 1998, "themes": ["youth"],
                                      "events": [BOB_EVENT]}
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == [Conflict(("partnerships", "kyiv", "since"), None, 1997, 1998)]
    assert merged["partnerships"]["kyiv"] == {"city": "Kyiv", "country": "Ukraine", "since": 1997,
                                              "themes": ["culture", "youth"], "events": [BOB_EVENT]}


def test_contacts_merge_by_folded_name(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    ours["partnerships"]["turin"]["contacts"][0]["email"] = "juliette@example.org"
    theirs["partnerships"]["turin"]["contacts"][0]["phone"] = "+33 4 00 00 00 00"
    theirs["partnerships"]["turin"]["contacts"].append({"name": "Ann Smith"})
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == []
    assert merged["partnerships"]["turin"]["contacts"] == [
        {**base["partnerships"]["turin"]["contacts"][0], "email": "juliette@example.org", "phone": "+33 4 00 00 00 00"},
        {"name": "Ann Smith"},
    ]


def test_vocabularies_and_head_merge_entry_by_entry(base: dict[str, Any]) -> None:
    ours, theirs = edited(base), edited(base)
    ours["themes"]["light-festivals"] = "Light festivals"
    theirs["themes"]["open-data"] = "Open data"
    ours["networks"]["luci"] = "LUCI network"
    del theirs["networks"]["luci"]
    theirs["networks"]["aimf"] = {"en": "AIMF", "fr": "AIMF"}  # a label may become a table: opaque
    theirs["registry"]["country"] = "France (FR)"
    merged, conflicts = merge3(base, ours, theirs)
    assert merged["themes"]["light-festivals"] == "Light festivals" and merged["themes"]["open-data"] == "Open data"
    assert merged["networks"]["aimf"] == {"en": "AIMF", "fr": "AIMF"}
    assert merged["registry"] == {"owner": "Lyon", "country": "France (FR)"}
    assert conflicts == [Conflict(("networks", "luci"), "LUCI", "LUCI network", None)]
    assert describe_conflicts(conflicts) == ["networks.luci: ours 'LUCI network', theirs unset (base 'LUCI')"]


def test_merge_without_a_common_version(base: dict[str, Any]) -> None:
    # Everything was added on both sides: merged against an empty base, field by field.
    theirs = edited(base)
    theirs["partnerships"]["turin"]["status"] = "active"
    theirs["partnerships"]["turin"]["since"] = 1990
    merged, conflicts = merge3(None, base, theirs)
    assert conflicts == [Conflict(("partnerships", "turin", "since"), None, 1991, 1990)]
    assert merged["partnerships"]["turin"] == {**base["partnerships"]["turin"], "status": "active"}


def test_unknown_fields_merge_by_their_values() -> None:
    base = {"partnerships": {"x": {"city": "X", "tags": ["a"], "budget": 10, "notes": [{"id": "n1", "text": "t"}]}}}
    ours = copy.deepcopy(base)
    theirs = copy.deepcopy(base)
    ours["partnerships"]["x"]["tags"].append("b")
    ours["partnerships"]["x"]["notes"][0]["text"] = "ours"
    theirs["partnerships"]["x"]["tags"].append("c")
    theirs["partnerships"]["x"]["budget"] = 12
    theirs["partnerships"]["x"]["notes"].append({"id": "n2", "text": "new"})
    merged, conflicts = merge3(base, ours, theirs)
    assert conflicts == []
    assert merged == {"partnerships": {"x": {"city": "X", "tags": ["a", "b", "c"], "budget": 12,
                                             "notes": [{"id": "n1", "text": "ours"}, {"id": "n2", "text": "new"}]}}}


# ---------------------------------------------------------------------------- conflict report

def test_conflict_report_is_json_and_reads_back() -> None:
    conflicts = [
        Conflict(("partnerships", "turin", "status"), None, "active", "suspended"),
        Conflict(("partnerships", "turin", "contacts", "Ann \u202eSmith", "role"), "a", "b", None),
    ]
    report = json.loads(json.dumps(conflict_report(conflicts)))
    assert report == {
        "format": "partnerctl-conflicts", "version": 1,
        "conflicts": [
            {"path": ["partnerships", "turin", "status"], "where": "partnerships.turin.status",
             "base": None, "ours": "active", "theirs": "suspended"},
            {"path": ["partnerships", "turin", "contacts", "Ann \u202eSmith", "role"],
             "where": 'partnerships.turin.contacts."Ann \\u202eSmith".role',
             "base": "a", "ours": "b", "theirs": None},
        ],
    }
    assert report_conflicts(report) == conflicts
    assert describe_conflicts(conflicts)[1] == 'partnerships.turin.contacts."Ann \\u202eSmith".role: ours \'b\', theirs unset (base \'a\')'


@pytest.mark.parametrize("report", [{}, {"format": "other"}, {"format": "partnerctl-conflicts"},
                                    {"format": "partnerctl-conflicts", "conflicts": [1]}, []])
def test_a_report_that_is_not_one_is_a_value_error(report: Any) -> None:
    with pytest.raises(ValueError):
        report_conflicts(report)
