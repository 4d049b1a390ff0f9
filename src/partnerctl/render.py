"""Rich renderings for people: tables, the partnership page, the timeline.

Only imported to draw a ``table`` format. Every registry string goes into a
``rich.text.Text`` (never parsed as markup) after ``output.clean``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from partnerctl import dates
from partnerctl.output import clean


def console(file: Any = None, stderr: bool = False) -> Console:
    """A console for stdout (or stderr); Rich itself honours NO_COLOR and non-terminals."""
    return Console(file=file, stderr=stderr, highlight=False, emoji=False)


def print_plain_or_rich(con: Console, renderable: RenderableType, out: Any) -> None:
    """Draw on a terminal; when piped, print unwrapped lines without trailing blanks."""
    if con.is_terminal:
        con.print(renderable)
        return
    wide = Console(width=100_000, highlight=False, emoji=False, no_color=True, force_terminal=False)
    with wide.capture() as captured:
        wide.print(renderable)
    out.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")


def _t(value: Any, style: str = "", multiline: bool = False) -> Text:
    if value is None or value == "" or value == []:
        return Text("—", style="dim")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return Text(clean(str(value), multiline=multiline), style=style)


def _box(con: Console) -> box.Box | None:
    # Piped: no box drawing.
    return box.ROUNDED if con.is_terminal else None


def records_table(con: Console, records: Sequence[dict[str, Any]], columns: Sequence[str],
                  titles: dict[str, str] | None = None) -> Table:
    """A table of records, one row each, the given columns."""
    table = Table(box=_box(con) and box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    for c in columns:
        table.add_column((titles or {}).get(c, c.replace("_", " ").upper()), overflow="fold")
    for r in records:
        table.add_row(*(_t(r.get(c), "bold cyan" if c == "id" else "") for c in columns))
    return table


def timeline(con: Console, items: Sequence[dict[str, Any]], show_partner: bool = True) -> Table:
    """Events as a vertical timeline: date, a marker, the title and its description."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column(justify="right", style="bold green", no_wrap=True)
    table.add_column(style="blue", no_wrap=True)
    table.add_column(overflow="fold")
    marker = "●" if con.is_terminal else "*"
    for item in items:
        head = Text()
        if show_partner:
            head.append(clean(item["partner"]) + "  ", style="bold cyan")
        head.append(clean(item["title"]), style="bold")
        head.append(f"  [{clean(item['id'])}]", style="dim")
        body: list[RenderableType] = [head]
        if item.get("description"):
            body.append(Text(clean(item["description"], multiline=True)))
        if item.get("themes"):
            body.append(Text("themes: " + clean(", ".join(item["themes"])), style="magenta"))
        for link in item.get("links") or []:
            body.append(Text(clean(link), style="underline dim"))
        table.add_row(Text(dates.humanize_span(item["date"], item.get("end"))), marker, Group(*body))
    return table


def partnership(con: Console, rec: dict[str, Any], themes: dict[str, str],
                networks: dict[str, str], owner: str) -> RenderableType:
    """One partnership laid out like the owner's public page."""
    owner = clean(owner)
    facts = Table(box=None, show_header=False, pad_edge=False)
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    since = rec["since"]
    rows: list[tuple[str, Any]] = [
        ("World region", rec["region"]),
        ("City name", f"{rec['city']} ({rec['country']})"),
        ("Also known as", rec["aliases"]),
        ("Partnership treated", [themes.get(s, s) for s in rec["themes"]]),
        ("First year", None if since is None else
         f"{since}" + (f" — {rec['since_note']}" if rec["since_note"] else "")),
        (f"Networks in common with {owner}", [networks.get(s, s) for s in rec["networks"]]),
        (f"European projects in common with {owner}", rec["projects"]),
        ("Kind of relation", rec["kind"]),
        ("Status", rec["status"]),
    ]
    if rec.get("owner"):
        rows.insert(0, ("Owner", f"{rec['owner']} ({rec.get('owner_country') or '?'})"))
    for label, value in rows:
        facts.add_row(Text(label), _t(value, multiline=False))
    parts: list[RenderableType] = [facts]
    if rec["summary"]:
        parts += [Text(""), Text(clean(rec["summary"].strip(), multiline=True))]
    for link in rec["links"]:
        parts.append(Text(clean(link), style="underline dim"))
    if rec["events"]:
        parts += [Text(""), Text(f"{owner} – {clean(rec['city'])} cooperation, key dates", style="bold underline"),
                  timeline(con, rec["events"], show_partner=False)]
    if rec["contacts"]:
        parts += [Text(""), Text("Contact", style="bold underline")]
        for c in rec["contacts"]:
            parts.append(Text(clean(c["name"]), style="bold"))
            for key in ("role", "organisation", "email", "phone"):
                if c.get(key):
                    parts.append(Text("  " + clean(c[key])))
    title = Text(f"International relations, {owner} - {clean(rec['city'])} ({clean(rec['country'])})",
                 style="bold")
    if not con.is_terminal:
        return Group(title, Text(""), *parts)
    return Panel(Group(*parts), title=title, title_align="left", box=box.ROUNDED, padding=(1, 2))


def vocab_table(con: Console, rows: Sequence[tuple[str, str, int]], kind: str) -> Table:
    """A vocabulary with the number of partnerships using each entry."""
    table = Table(box=_box(con) and box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    table.add_column("SLUG", style="bold cyan")
    table.add_column(kind.upper())
    table.add_column("PARTNERSHIPS", justify="right")
    for slug, label, count in rows:
        table.add_row(_t(slug), _t(label), str(count))
    return table
