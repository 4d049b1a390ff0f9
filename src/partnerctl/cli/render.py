"""Rich renderings for people: tables, the partnership page, the timeline.

Only imported to draw a ``table`` format. Every registry string goes into a
``rich.text.Text`` (never parsed as markup) after ``output.clean``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from partnerctl.cli.io import IOStreams
from partnerctl.core import dates
from partnerctl.core.i18n import _
from partnerctl.core.query import Snapshot
from partnerctl.core.text import clean


def console(file: Any = None, stderr: bool = False, terminal: bool | None = None) -> Console:
    """A console for *file* (stdout, or stderr); Rich itself honours NO_COLOR and ``COLUMNS``."""
    return Console(file=file, stderr=stderr, highlight=False, emoji=False, force_terminal=terminal)


def show(io: IOStreams, draw: Callable[[Console], RenderableType | Iterator[str]],
         footer: str | None = None) -> None:
    """Draw what *draw* makes on stdout: for a terminal, or plain lines when piped.

    *draw* gives one Rich renderable, or the lines of a long table already drawn
    (``records_table``), part after part: each part is written as soon as it is
    drawn, so the first screen does not wait for the last row. *footer* ends the
    output on a terminal (a count line).
    """
    con = console(io.stdout, terminal=io.stdout_tty)
    drawn = draw(con)
    if isinstance(drawn, Iterator):
        for part in drawn:
            io.stdout.write(part)
            io.stdout.flush()
    else:
        print_plain_or_rich(con, drawn, io.stdout)
    if footer and con.is_terminal:
        con.print(Text(clean(footer), style="dim"))


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


def _link(url: str) -> Text:
    """A URL on one line, shortened with "…" when longer than the line (never folded)."""
    return Text(clean(url), style="underline dim", no_wrap=True, overflow="ellipsis")


def timeline(con: Console, items: Sequence[dict[str, Any]], show_partner: bool = True) -> Table:
    """Events as a vertical timeline: date, a marker, the title and its description."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column(justify="right", style="bold green", no_wrap=True)
    table.add_column(style="blue", no_wrap=True)
    table.add_column(overflow="ellipsis")
    marker = "●" if con.is_terminal else "*"
    for item in items:
        head = Text()
        if show_partner:
            head.append(clean(item["partner"]) + "  ", style="bold cyan")
        head.append(clean(item["title"]), style="bold")
        head.append(f"  [{clean(item['id'])}]", style="dim")
        if item.get("internal"):
            head.append("  (internal)", style="yellow")
        body: list[RenderableType] = [head]
        if item.get("description"):
            body.append(Text(clean(item["description"], multiline=True)))
        if item.get("notes"):
            body.append(Text(_("note (internal): ") + clean(item["notes"], multiline=True), style="yellow"))
        if item.get("themes"):
            body.append(Text(_("themes: ") + clean(", ".join(item["themes"])), style="magenta"))
        for link in item.get("links") or []:
            body.append(_link(link))
        table.add_row(Text(dates.humanize_span(item["date"], item.get("end"))), marker, Group(*body))
    return table


def anniversaries(con: Console, rows: Sequence[dict[str, Any]]) -> Table:
    """Anniversaries, one a row: the date, the years (jubilees starred), the partnership and what is celebrated."""
    from partnerctl.core.anniversaries import describe
    from partnerctl.core.records import heading

    table = Table(box=_box(con) and box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    for name, justify in (("date", "right"), ("years", "right"), ("partner", "left"), ("anniversary", "left")):
        table.add_column(heading(name), justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        jubilee = row["jubilee"]
        years = Text(f"{row['years']}" + (" ★" if jubilee else ""), style="bold yellow" if jubilee else "")
        table.add_row(Text(dates.humanize(row["date"])), years, _t(row["partner"], "bold cyan"),
                      Text(clean(describe(row))))
    return table


def partnership(con: Console, snap: Snapshot, rec: dict[str, Any]) -> RenderableType:
    """One partnership laid out like the owner's public page: its facts (``records.facts``), then the rest."""
    from partnerctl.core.records import facts

    owner = clean(str(snap.value(rec, "owner")))
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="ellipsis")
    for row in facts(snap, rec):
        table.add_row(Text(clean(row.label)), _t(row.values, multiline=False))
    parts: list[RenderableType] = [table]
    if rec["summary"]:
        parts += [Text(""), Text(clean(rec["summary"].strip(), multiline=True), overflow="ellipsis")]
    if rec.get("notes"):
        parts += [Text(""), Text("Notes (internal)", style="bold yellow"),
                  Text(clean(rec["notes"].strip(), multiline=True), overflow="ellipsis")]
    for link in rec["links"]:
        parts.append(_link(link))
    if rec["events"]:
        heading = _("{owner} – {city} cooperation, key dates").format(owner=owner, city=clean(rec["city"]))
        parts += [Text(""), Text(heading, style="bold underline"),
                  timeline(con, rec["events"], show_partner=False)]
    if rec["contacts"]:
        parts += [Text(""), Text(_("Contact"), style="bold underline")]
        for c in rec["contacts"]:
            parts.append(Text(clean(c["name"]) + (_("  (internal)") if c.get("internal") else ""), style="bold"))
            for key in ("role", "organisation", "email", "phone"):
                if c.get(key):
                    parts.append(Text("  " + clean(c[key])))
            if c.get("notes"):
                parts.append(Text("  " + _("note (internal): ") + clean(c["notes"], multiline=True), style="yellow"))
    country = clean(snap.shown("country", rec["country"]))
    title = Text(_("International relations, {owner} - {city} ({country})").format(
        owner=owner, city=clean(rec["city"]), country=country), style="bold")
    if not con.is_terminal:
        return Group(title, Text(""), *parts)
    return Panel(Group(*parts), title=title, title_align="left", box=box.ROUNDED, padding=(1, 2))


def vocab_table(con: Console, rows: Sequence[tuple[str, str, int]], kind: str) -> Table:
    """A vocabulary with the number of partnerships using each entry."""
    table = Table(box=_box(con) and box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    from partnerctl.core.records import heading

    table.add_column(heading("slug"), style="bold cyan")
    table.add_column(heading(kind))
    table.add_column(heading("partnerships"), justify="right")
    for slug, label, count in rows:
        table.add_row(_t(slug), _t(label), str(count))
    return table


_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(count: int, top: int, width: int) -> str:
    """A horizontal bar of *count* against the largest *top*, *width* cells long at most (eighth cells)."""
    eighths = round(count / top * width * 8) if top else 0
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def bar_chart(con: Console, title: str, rows: Sequence[tuple[str, int, float]], width: int = 40) -> Table:
    """Counts as horizontal bars scaled to the largest, one labelled row each, with their percentage."""
    from partnerctl.core.stats import shown_percent

    table = Table(title=Text(clean(title), style="bold"), title_justify="left", box=None,
                  show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column(no_wrap=True, max_width=36, overflow="ellipsis")
    table.add_column(no_wrap=True, style="cyan")
    table.add_column(justify="right", style="bold")
    table.add_column(justify="right", style="dim")
    top = max((n for _, n, _ in rows), default=0)
    for label, n, share in rows:
        table.add_row(Text(clean(label)), bar(n, top, width), str(n), shown_percent(share))
    return table


def bar_charts(con: Console, charts: Sequence[tuple[str, Sequence[tuple[str, int, float]]]]) -> Group:
    """Several bar charts, one under the other."""
    parts: list[RenderableType] = []
    for title, rows in charts:
        parts += [bar_chart(con, title, rows), Text("")]
    return Group(*parts[:-1])


def highlighted(text: str, spans: Sequence[tuple[int, int]], style: str = "bold black on yellow") -> Text:
    """Untrusted *text* with *spans* (indices into *text*) highlighted.

    The text is cleaned piece by piece, so the spans still fall on the matched
    words when cleaning makes a control character longer.
    """
    out = Text()
    marks: list[tuple[int, int]] = []
    pos = 0
    for start, end in spans:
        out.append(clean(text[pos:start]))
        first = len(out.plain)
        out.append(clean(text[start:end]))
        marks.append((first, len(out.plain)))
        pos = end
    out.append(clean(text[pos:]))
    for first, last in marks:
        out.stylize(style, first, last)
    return out


def excerpt(text: str, spans: Sequence[tuple[int, int]], before: int = 60,
            length: int = 200) -> tuple[str, list[tuple[int, int]]]:
    """A window of a long *text* around its first span, with the spans moved into it."""
    if len(text) <= length or not spans:
        return text, list(spans)
    lo = max(0, spans[0][0] - before)
    hi = min(len(text), lo + length)
    head = "…" if lo > 0 else ""
    tail = "…" if hi < len(text) else ""
    moved = [(max(s, lo) - lo + len(head), min(e, hi) - lo + len(head)) for s, e in spans if s < hi and e > lo]
    return head + text[lo:hi] + tail, moved


def search_hits(con: Console, hits: Sequence[dict[str, Any]]) -> Table:
    """Search hits: the partnership, the field, and the text with the matches highlighted."""
    table = Table(box=_box(con) and box.SIMPLE_HEAD, header_style="bold", show_edge=False)
    from partnerctl.core.records import heading

    table.add_column(heading("partner"), style="bold cyan", no_wrap=True)
    table.add_column(heading("field"), style="dim", max_width=32, overflow="ellipsis")
    table.add_column(heading("text"), overflow="ellipsis")
    for hit in hits:
        text, spans = excerpt(hit["text"], [tuple(s) for s in hit["spans"]])
        table.add_row(Text(clean(hit["partner"])), Text(clean(hit["field"])), highlighted(text, spans))
    return table


@contextmanager
def progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress bar on stderr, gone when done; the callback takes (stage, done, total or None)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console(stderr=True), transient=True,
                  redirect_stdout=False, redirect_stderr=False) as bar:
        current: dict[str, Any] = {"stage": None, "task": bar.add_task("", total=None)}

        def tick(stage: str, done: int, total: int | None) -> None:
            # A task per stage: Rich cannot set a task's total back to unknown (None), and the
            # elapsed time then says how long this stage has taken.
            if stage != current["stage"]:
                bar.remove_task(current["task"])
                current.update(stage=stage, task=bar.add_task(clean(stage), total=total, completed=done))
            else:
                bar.update(current["task"], completed=done, total=total)

        yield tick
