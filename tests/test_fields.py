"""Every field of the model reaches every surface, or says in EXCLUDED why not.

The model (``core.model``) declares each field once, with its ``fields.Meta``;
every surface derives from that table. This test looks at what each surface
actually does (the SQLite schema it creates, the options ``add`` takes, the
columns ``list`` prints, what ``search`` finds, the facts a page shows...), not
at the table itself, so a surface written by hand that forgets a field fails
here. A field that must stay off a surface is listed in EXCLUDED with the
reason; a new field is one line in the model and, at most, lines here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import typer

import partnerctl.cli
from partnerctl.core.model import table

# (surface, field): why the field is not on that surface. Keep each reason true.
EXCLUDED: dict[tuple[str, str], str] = {
    # Text search looks in what names and describes a partnership, not in codes, years or places.
    **{("search", f): "a code, a year or a place, not words to search"
       for f in ("country", "region", "owner", "owner_country", "status", "kind", "since")},
    ("search", "since_note"): "a research note about the first year, not a description",
    ("search", "links"): "addresses, not words",
    **{("search", f): "coordinates, not words" for f in ("lat", "lon")},
    # Coordinates place the partner city on the site's map; people read the city and country instead.
    **{(surface, f): "coordinates, for the map (set by locate); in JSON, CSV and the exports"
       for surface in ("facts", "list columns", "filters", "stats") for f in ("lat", "lon")},
    # The list's rows are for scanning: long or secondary text stays in show, JSON and the CSV export.
    **{("list columns", f): "long or secondary text; in show, JSON and the CSV export"
       for f in ("aliases", "since_note", "links", "summary", "notes")},
    **{("list columns", f): "a column only where the registry holds several owners (test_many_owners)"
       for f in ("owner", "owner_country")},
    **{("list columns", f): "a list of records; in show and JSON"
       for f in ("events", "contacts")},
    # Filters and counts are on what people group partnerships by.
    **{("filters", f): "not something people select partnerships by"
       for f in ("city", "aliases", "kind", "since_note", "links", "summary", "notes",
                 "events", "contacts")},
    **{("stats", f): "not something people count partnerships by"
       for f in ("city", "aliases", "kind", "since_note", "projects", "links",
                 "summary", "notes", "events", "contacts")},
    # Events and contacts have commands of their own (add-event, add-contact...).
    **{("add options", f): "has commands of its own" for f in ("events", "contacts")},
    ("add options", "city"): "the command's argument, not an option",
    **{("edit commands", f): "has commands of its own (add-event, edit-contact...)" for f in ("events", "contacts")},
    # `add` on a terminal asks for the facts a partnership starts with; the rest is an option or a later set/add-to.
    **{("prompts", f): "secondary when a partnership is first entered: an option of add, or set/add-to later"
       for f in ("aliases", "owner", "owner_country", "since_note", "projects", "links", "summary")},
    **{("prompts", f): "has commands of its own, which ask for their fields" for f in ("events", "contacts")},
    **{("prompts", f): "filled by locate from the gazetteer, not typed when a partnership is added"
       for f in ("lat", "lon")},
    ("prompts", "notes"): "internal notes come later (set), not when a partnership is first entered",
}


def _marker(name: str) -> str:
    return f"zq{name.replace('_', '')}zq"


def _surfaces() -> dict[str, Callable[[], set[str]]]:
    """Surface name -> the partnership fields it actually covers, found by using it."""
    from partnerctl.core import query, search, stats
    from partnerctl.core.model import Contact, Event, Partnership, record
    from partnerctl.core.records import fact_fields
    from partnerctl.formats import exchange, sqlite
    from partnerctl.storage import index

    fields = table().names()

    def sql() -> set[str]:
        ddl = sqlite.schema()
        body = re.search(r"CREATE TABLE partnerships \((.*?)\n\);", ddl, re.S)
        assert body is not None
        columns = {line.split()[0] for line in body.group(1).splitlines() if line.strip()}
        links = set(re.findall(r"CREATE TABLE partnership_(\w+) ", ddl))
        children = {"events"} if "CREATE TABLE events" in ddl else set()
        children |= {"contacts"} if "CREATE TABLE contacts" in ddl else set()
        return (columns | links | children) & set(fields)

    def json_records() -> set[str]:
        return set(record("x", Partnership(city="C", country="K"))) & set(fields)

    def csv_columns() -> set[str]:
        return set(exchange.CSV_COLUMNS) | {"events", "contacts"}  # a flat row holds no list of records

    def command(name: str) -> Any:
        return typer.main.get_command(partnerctl.cli.app).commands[name]  # type: ignore[attr-defined]

    def add_options() -> set[str]:
        names = {opt.lstrip("-").replace("-", "_") for p in command("add").params
                 if p.param_type_name == "option" for opt in p.opts}
        return {f for f in fields if f in names or (table().get(f).meta.item or "") in names}

    def edit_commands() -> set[str]:
        help_set = command("set").params
        field_help = next(p for p in help_set if p.name == "field").help or ""
        list_help = next(p for p in command("add-to").params if p.name == "field").help or ""
        return {f for f in fields if re.search(rf"\b{f}\b", field_help) or re.search(rf"\b{f}\b", list_help)}

    def list_columns() -> set[str]:
        from partnerctl.core.records import shape

        return set(shape("partnership").columns) & set(fields)

    def facts() -> set[str]:
        sections = {s.name for s in table().with_("section")}
        return (fact_fields() | sections) & set(fields)

    def searched() -> set[str]:
        snap = query.Snapshot("Lyon", "France", {"t": "Tlabel"}, {"n": "Nlabel"}, {})
        found = set()
        for spec in table().partnership:
            if spec.kind == "int" or spec.kind == "records":
                continue
            value: Any = [_marker(spec.name)] if spec.is_list else _marker(spec.name)
            if spec.meta.vocab:
                value = ["t"] if spec.meta.vocab == "theme" else ["n"]
                snap = query.Snapshot("Lyon", "France", {"t": _marker(spec.name)}, {"n": _marker(spec.name)}, {})
            base = record("x", Partnership(city="C", country="K"))
            base[spec.name] = value
            hits = search.search(query.Snapshot(snap.owner, snap.country, snap.themes, snap.networks, {"x": base}),
                                 _marker(spec.name))
            if hits:
                found.add(spec.name)
        rec = record("x", Partnership(city="C", country="K", events=[Event(id="e", date="2020", title="T")],
                                      contacts=[Contact(name="N")]))
        rec["events"][0]["title"] = _marker("events")
        rec["contacts"][0]["name"] = _marker("contacts")
        plain = query.Snapshot("Lyon", "France", {}, {}, {"x": rec})
        found |= {f for f in ("events", "contacts") if search.search(plain, _marker(f))}
        return found

    def filters() -> set[str]:
        names = {p.name for p in command("list").params}
        return {f for f in fields if f"filter_{f}" in names or (f == "since" and "since" in names)}

    def counted() -> set[str]:
        return {spec.name for spec in table().dimensions().values()} & set(stats.dimensions() and fields)

    def prompted() -> set[str]:
        """The fields `add` asks for on a terminal, found by answering its questions (required ones with a value)."""
        import tempfile
        from pathlib import Path

        from typer.testing import CliRunner

        from partnerctl.cli import prompts

        labels = {prompts.label(spec): spec for spec in table().partnership}
        seen: list[str] = []

        def answering(io: Any) -> Any:
            def ask(question: Any) -> str:
                spec = labels.get(question.label)
                if spec is None:  # the id: its default
                    return ""
                seen.append(spec.name)
                if seen.count(spec.name) > 3:  # refused again and again: fail, never ask forever
                    raise AssertionError(f"{spec.name} is asked again and again")
                if not spec.required or seen.count(spec.name) > 1:
                    return ""
                if spec.meta.country:
                    return "HR"  # a country must be one
                return "2000" if spec.kind == "int" else _marker(spec.name)
            return ask

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "registry.toml"
            path.write_text('[registry]\nowner = "Lyon"\n', encoding="utf-8")
            plain, prompts._lines = prompts._lines, answering
            try:
                result = CliRunner().invoke(partnerctl.cli.app, ["-r", str(path), "add"],
                                            env={"PARTNERCTL_FORCE_TTY": "1"})
            finally:
                prompts._lines = plain
        assert result.exit_code == 0, result.stderr
        return set(seen)

    def indexed() -> set[str]:
        return set(index.facts_fields()) | set(json_records())

    return {"sqlite": sql, "json": json_records, "csv": csv_columns, "add options": add_options,
            "edit commands": edit_commands, "list columns": list_columns, "facts": facts, "search": searched,
            "filters": filters, "stats": counted, "index": indexed, "prompts": prompted}


@pytest.mark.parametrize("surface", sorted(_surfaces()))
def test_every_field_reaches_the_surface_or_says_why_not(surface: str) -> None:
    covered = _surfaces()[surface]()
    missing = {f for f in table().names() if f not in covered and (surface, f) not in EXCLUDED}
    assert not missing, (f"{surface} leaves out {sorted(missing)}: derive it from the field table, or add "
                         f"(\"{surface}\", field) to EXCLUDED with the reason")


def test_every_exclusion_is_still_needed() -> None:
    """An exclusion for a field that is on the surface after all is stale: remove it."""
    surfaces = _surfaces()
    stale = [(s, f) for s, f in EXCLUDED if f in surfaces[s]()]
    assert not stale, stale


def test_every_field_declares_its_surfaces() -> None:
    """A field without a Meta cannot be added: the table refuses it (the model would not import)."""
    for model in ("partnership", "event", "contact"):
        assert all(spec.meta.label for spec in table().of(model))


def test_event_and_contact_fields_are_options_of_their_commands() -> None:
    commands = typer.main.get_command(partnerctl.cli.app).commands  # type: ignore[attr-defined]
    for model, command in (("event", "add-event"), ("contact", "add-contact")):
        names = {opt.lstrip("-").replace("-", "_") for p in commands[command].params for opt in p.opts}
        for spec in table().of(model):
            if spec.name != "id":
                assert spec.name in names or (spec.meta.item or "") in names, (command, spec.name)


def test_statuses_are_the_models() -> None:
    from partnerctl.core.fields import STATUSES

    assert table().get("status").choices == STATUSES


def test_one_event_has_one_shape_everywhere(invoke: Any, small_registry: Any) -> None:
    listed = json.loads(invoke(small_registry, "timeline", "cedar", "--format", "json").stdout)[0]
    edited = json.loads(invoke(small_registry, "edit-event", "cedar", listed["id"], "--title", listed["title"] + "!",
                               "--format", "json").stdout)
    assert list(listed) == list(edited)
