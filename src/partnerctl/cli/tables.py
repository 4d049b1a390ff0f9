"""The long table of records (``list``, ``duplicates``, ...): partnerctl's own row printer.

Rich lays out a whole table at once (most of a minute at 26,000 rows); this one fixes
the column widths from the first rows (``fit_widths``), wraps at spaces, shortens
with "…" and never splits a word, and yields lines a hundred rows at a time with
Rich's styles, so the first screen shows at once. Every cell goes through
``text.clean`` (registry text is data, never markup).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from rich.console import Console
from rich.text import Text

from partnerctl.core.text import clean

# Rows per part of a long table: a screen or two, drawn and written before the next.
CHUNK = 100
# An id column narrower than its ids shows them shortened with "…", down to this width.
ID_MIN = 12
# The rows whose cells set the column widths of a long table (a multiple of CHUNK).
FIT_ROWS = 2000


class Mapped(Sequence[dict[str, Any]]):
    """*items* each passed through *fn* when taken (a slice maps lazily too): a table's rows made as drawn."""

    def __init__(self, items: Sequence[Any], fn: Callable[[Any], dict[str, Any]]) -> None:
        self.items = items
        self.fn = fn

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, at: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, at: slice) -> Mapped: ...

    def __getitem__(self, at: int | slice) -> dict[str, Any] | Mapped:
        if isinstance(at, slice):
            return Mapped(self.items[at], self.fn)
        return self.fn(self.items[at])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self.fn, self.items)


def records_table(con: Console, records: Sequence[dict[str, Any]], columns: Sequence[str],
                  titles: dict[str, str] | None = None) -> Iterator[str]:
    """A table of records, one row each, the given columns: its lines, ``CHUNK`` rows at a time.

    Drawn here rather than by Rich, which lays out a whole table at once and takes
    most of a minute for 26,000 rows. The column widths are fixed first
    (``fit_widths``) so that the table fits the console: text wraps at spaces, and
    an id or a word longer than its column is shortened with "…", never split.
    Styles are Rich's, as the console renders them (none when piped or NO_COLOR).
    """
    from partnerctl.core.records import heading

    heads = [(titles or {}).get(c) or heading(c) for c in columns]
    ids = [c == "id" for c in columns]

    def cells(rows: Sequence[dict[str, Any]]) -> list[list[str | None]]:
        return [[_cell(r.get(c)) for c in columns] for r in rows]

    # The widths come from the first rows, so the first screen does not wait for the last
    # row; a longer value further down wraps or is shortened like any other.
    sample = cells(records[:FIT_ROWS])
    widths = fit_widths(con.width if con.is_terminal else None, heads, sample, fixed=ids)
    bold, id_style, dim = (_ansi(con, style) for style in ("bold", "bold cyan", "dim"))

    def lines(row: Sequence[str | None], styles: Sequence[tuple[str, str]]) -> list[str]:
        parts = [[("—", dim)] if v is None else [(line, st) for line in _wrap(v, w, no_wrap)]
                 for v, w, no_wrap, st in zip(row, widths, ids, styles, strict=True)]
        return ["  ".join(_styled(p[i], w) if i < len(p) else " " * w
                          for p, w in zip(parts, widths, strict=True)).rstrip() + "\n"
                for i in range(max(map(len, parts)))]

    head = lines(heads, [bold] * len(heads))
    if con.is_terminal:
        head.append(dim[0] + "─" * (sum(widths) + 2 * (len(widths) - 1)) + dim[1] + "\n")
    styles = [id_style if i else ("", "") for i in ids]
    for start in range(0, len(records), CHUNK):
        rows = sample[start:start + CHUNK] if start + CHUNK <= FIT_ROWS else cells(records[start:start + CHUNK])
        yield "".join(head if start == 0 else ()) + "".join(line for row in rows for line in lines(row, styles))
    if not records:
        yield "".join(head)


def _ansi(con: Console, style: str) -> tuple[str, str]:
    """What *con* writes before and after text in *style* (nothing when it has no colours or styles)."""
    with con.capture() as captured:
        con.print(Text("\0", style=style), end="")
    before, _, after = captured.get().partition("\0")
    return before, after


def _styled(cell: tuple[str, tuple[str, str]], width: int) -> str:
    """A line of a cell in its style (escapes before and after), then blanks to *width* cells."""
    from rich.cells import cell_len

    text, (before, after) = cell
    return before + text + after + " " * (width - (len(text) if text.isascii() else cell_len(text)))


def _wrap(text: str, width: int, no_wrap: bool = False) -> list[str]:
    """*text* in lines of at most *width* cells, broken at blanks; a word too long is shortened with "…"."""
    from rich.cells import cell_len

    if no_wrap:
        return [_shorten(text, width)]
    if text.isascii() and len(text) <= width and "\n" not in text:
        return [text]
    out: list[str] = []
    line = ""
    for word in text.split():
        if cell_len(word) > width:
            word = _shorten(word, width)
        if not line:
            line = word
        elif cell_len(line) + 1 + cell_len(word) <= width:
            line += " " + word
        else:
            out.append(line)
            line = word
    return [*out, line]


def _shorten(text: str, width: int) -> str:
    """*text* cut to *width* cells, its end an ellipsis when it was longer."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)) + "…"


def _cell(value: Any) -> str | None:
    """A cell's text (None for an empty value, drawn as a dim dash)."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return clean(str(value))


def fit_widths(width: int | None, heads: Sequence[str], cells: Sequence[Sequence[str | None]],
               fixed: Sequence[bool]) -> list[int]:
    """Column widths for *cells* under *heads* that fit a table *width* cells wide (None: no limit).

    Each column gets its widest cell when all fit. Otherwise every column keeps
    at least its longest word (an id, one that is *fixed*, its whole width if
    that leaves room, else at least ``ID_MIN``)
    and shares what is left in proportion to how much more it would use; when
    even the longest words do not fit, the widest columns give way (down to the
    longest word of their heading) and their long words are shortened with "…".
    """
    from rich.cells import cell_len

    n = len(heads)
    widest = [max((cell_len(w) for w in h.split()), default=1) for h in heads]
    longest = list(widest)
    for row in cells:
        for i, v in enumerate(row):
            if v is None:
                continue
            size = cell_len(v)
            if size > widest[i]:
                widest[i] = size
            if fixed[i]:
                word = size
            else:
                word = max(map(cell_len, v.split())) if " " in v else size
            if word > longest[i]:
                longest[i] = word
    if width is None:
        return widest
    room = max(width - 2 * (n - 1), n)  # between two columns: a blank and the box's (blank) divider
    if sum(widest) <= room:
        return widest
    # Whole ids first (a shortened id cannot be copied), if the other columns keep their longest words.
    floor = [w if f else min(w, lw) for w, lw, f in zip(widest, longest, fixed, strict=True)]
    if sum(floor) > room:
        floor = [min(w, ID_MIN) if f else fl for w, fl, f in zip(widest, floor, fixed, strict=True)]
    spare = room - sum(floor)
    if spare >= 0:
        want = [w - f for w, f in zip(widest, floor, strict=True)]
        total = sum(want)
        out = [f + want[i] * spare // total for i, f in enumerate(floor)]
        # What the rounding down left goes to the columns that want the most.
        for i in sorted(range(n), key=lambda i: want[i] - (out[i] - floor[i]), reverse=True)[:room - sum(out)]:
            out[i] += 1
        return out
    # Not even the longest words fit: take from the widest columns, one cell at a time, none
    # narrower than the longest word of its heading (or 3).
    out = list(floor)
    least = [max(3, min(f, max((cell_len(w) for w in h.split()), default=1)))
             for f, h in zip(floor, heads, strict=True)]
    while sum(out) > room:
        give = [i for i in range(n) if out[i] > least[i]]
        if not give:
            break
        out[max(give, key=lambda i: out[i])] -= 1
    return out
