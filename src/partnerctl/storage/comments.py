"""Comments inside a block that a write rewrites: where each one is attached, and carried to the new text.

A TOML text is read as *statements*: a table header (``[partnerships.turin]``,
``[[partnerships.turin.events]]``) or a key and its value (which may span lines:
a multi-line array or string). Each statement has an *anchor* that survives a
rewrite: its table relative to the block (``""`` the partnership's own table,
``"events"``), the row of an array of tables (an event by its ``id``, a contact
by its ``name``), and its key (``""`` for the header). A comment is attached:

- on its own line: to the statement that follows it (comments after the last
  statement of a text end it);
- at the end of a line: to the statement on that line, and written back on its key's
  line (after the ``[`` of a list written one item a line; after the closing quotes
  of a multi-line string); a second one on the same statement (e.g. after items of a
  multi-line array) goes on its own line above;
- on its own line inside a multi-line value: above that statement.

``carry`` writes the comments of old texts into a new canonical text at the
statements with the same anchors. A comment whose statement is gone (a key
unset, a list emptied, an event removed) is kept at the nearest place that
survives: above the statement that followed it in its table, else after the one
before it; a table's comments when the table is gone, above the next table that
survives, else after the end of the previous one; comments that ended the text
still end it. The result is the canonical
text plus comment lines and end-of-line comments, nothing else: taking the
comments out (``toml.without_comments``) gives the canonical text back.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

from partnerctl.core.i18n import _
from partnerctl.storage.toml import without_comments

Anchor = tuple[str, str, str]  # (table relative to the block, row, key); key "" for the table's header


@dataclass
class Statement:
    """A header or a key with its value: its lines and the comments attached to it."""

    anchor: Anchor
    first: int
    last: int
    before: list[str] = field(default_factory=list)  # own-line comments above it (and inside its value)
    eol: list[str] = field(default_factory=list)  # end-of-line comments, with the spaces before the "#"
    after: list[str] = field(default_factory=list)  # own-line comments after it (carry's orphans)


class Unplaceable(Exception):
    """The comments could not be carried so that the text stays canonical but for them."""


def _lines(text: str) -> list[tuple[str, str, bool]]:
    """Per line of TOML *text*: its code, its comment (from the spaces before ``#``), and whether it
    continues a statement begun above (inside a multi-line string, array or inline table)."""
    out = []
    quote: str | None = None
    depth = 0
    for line in text.split("\n"):
        continued = quote is not None or depth > 0
        i, n = 0, len(line)
        cut: int | None = None
        while i < n:
            if quote is not None:
                if quote[0] == '"' and line[i] == "\\":
                    i += 2
                elif line.startswith(quote, i):
                    i += len(quote)
                    if len(quote) == 3:  # up to two quotes of the content may touch the closing ones
                        extra = 0
                        while extra < 2 and i < n and line[i] == quote[0]:
                            i, extra = i + 1, extra + 1
                    quote = None
                else:
                    i += 1
                continue
            c = line[i]
            if c == "#":
                cut = i
                break
            if c in "\"'":
                quote = c * 3 if line.startswith(c * 3, i) else c
                i += len(quote)
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
            i += 1
        if quote is not None and len(quote) == 1:
            quote = None  # a one-line string ends with its line (the text parses, so it did)
        if cut is None:
            out.append((line, "", continued))
        else:
            code = line[:cut].rstrip(" \t")
            out.append((code, line[len(code):], continued))
    return out


def _header_path(code: str) -> tuple[tuple[str, ...], bool]:
    """The key path of a table header line, and whether it is an array of tables."""
    node: Any = tomllib.loads(code)
    path: list[str] = []
    array = False
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        path.append(key)
        array = isinstance(node, list)
        if array:
            node = node[-1]
    return tuple(path), array


def scan(text: str, prefix: tuple[str, ...]) -> tuple[list[Statement], list[str]]:
    """The statements of TOML *text* (which parses) with their comments, and the comments after the last one.

    *prefix*: the key path of the block's own table (``("partnerships", "turin")``), taken off
    the anchors so that a block renamed or merged into another keeps its comments' places.
    """
    data = tomllib.loads(text)
    statements: list[Statement] = []
    pending: list[str] = []
    table: tuple[str, str] = ("", "")
    seen: dict[tuple[str, ...], int] = {}
    rows: dict[tuple[str, str], int] = {}
    lines = _lines(text)
    for i, (code, comment, continued) in enumerate(lines):
        current = statements[-1] if statements else None
        if continued and current is not None:
            current.last = i
            if comment:
                (current.eol if code.strip() else current.before).append(
                    comment if code.strip() else comment.lstrip(" \t"))
            continue
        if not code.strip():
            if comment:
                pending.append(comment.lstrip(" \t"))
            continue
        if code.lstrip().startswith("["):
            path, array = _header_path(code.strip())
            rel = ".".join(path[len(prefix):] if path[:len(prefix)] == prefix else ("",) + path)
            row = ""
            if array:
                n = seen[path] = seen.get(path, -1) + 1
                row = _row_name(_at(data, path)[n])
                k = rows[(rel, row)] = rows.get((rel, row), -1) + 1
                row = f"{row}#{k}" if k else row
            table = (rel, row)
            anchor: Anchor = (*table, "")
        else:
            key = code.split("=", 1)[0].strip()
            if key[:1] in "\"'":
                try:
                    key = next(iter(tomllib.loads(f"{key} = 0")))
                except tomllib.TOMLDecodeError:
                    pass  # an "=" inside the quoted key: its text as it is still names it
            anchor = (*table, key.split(".")[0].strip())
        statements.append(Statement(anchor, i, i, pending, [comment] if comment else []))
        pending = []
    return statements, pending


def _at(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path:
        node = node[key] if isinstance(node, dict) else node[-1][key]
    return node


def _row_name(row: Any) -> str:
    """What a row of an array of tables is known by: an event's id, a contact's name."""
    for key in ("id", "name"):
        if isinstance(row, dict) and isinstance(row.get(key), str):
            return str(row[key])
    return ""


def carry(olds: list[tuple[str, tuple[str, ...]]], new: str, prefix: tuple[str, ...]) -> str:
    """*new* (canonical TOML) with the comments of each old text (with its own *prefix*) attached at their
    places (this module's docstring). Unplaceable if the result would not be *new* but for comments."""
    return place([scan(text, old_prefix) for text, old_prefix in olds], new, prefix)


def place(olds: list[tuple[list[Statement], list[str]]], new: str, prefix: tuple[str, ...]) -> str:
    """*new* with the comments of the scanned *olds* (``scan``'s statements and trailing comments) placed."""
    targets, _trailing = scan(new, prefix)
    if not targets:
        raise Unplaceable(_("the new text holds no statement"))
    by_anchor: dict[Anchor, Statement] = {}
    for s in targets:
        by_anchor.setdefault(s.anchor, s)
    for old, trailing in olds:
        for n, s in enumerate(old):
            target = by_anchor.get(s.anchor)
            if target is not None:
                target.before += s.before
                target.eol += s.eol
                continue
            lost = s.before + [c.lstrip(" \t") for c in s.eol]
            if lost:
                _orphan(old, n, lost, by_anchor, targets)
        targets[-1].after += trailing  # they ended the text: they still do
    out = render(new, targets)
    if without_comments(out) != new:
        raise Unplaceable(_("the comments do not fit the canonical text"))
    return out


def _orphan(old: list[Statement], n: int, lost: list[str], by_anchor: dict[Anchor, Statement],
            targets: list[Statement]) -> None:
    """Put the comments *lost* of ``old[n]`` (whose anchor is gone) at the nearest place that survives."""
    s = old[n]
    table_kept = s.anchor[2] and (s.anchor[0], s.anchor[1], "") in by_anchor

    def near(other: Statement) -> bool:
        if other.anchor not in by_anchor:
            return False
        return other.anchor[:2] == s.anchor[:2] if table_kept else other.anchor[2] == ""

    following = next((o for o in old[n + 1:] if near(o)), None)
    if following is not None:
        by_anchor[following.anchor].before += lost
        return
    previous = next((o for o in reversed(old[:n]) if near(o)), None)
    if previous is not None:
        end = by_anchor[previous.anchor] if table_kept else _table_end(targets, previous.anchor)
        end.after += lost
        return
    _table_end(targets, targets[0].anchor).after += lost  # the block's own table always survives


def _table_end(targets: list[Statement], anchor: Anchor) -> Statement:
    """The last statement of the table *anchor* belongs to."""
    return [s for s in targets if s.anchor[:2] == anchor[:2]][-1]


def render(text: str, statements: list[Statement]) -> str:
    """*text* with the comments of its *statements* written in: own lines above and below, one at a line's end."""
    lines = text.split("\n")
    for s in reversed(statements):
        eol = s.eol[:1]
        above = s.before + [c.lstrip(" \t") for c in s.eol[1:]]
        if eol:
            # On the key's own line: after the "[" that opens a list written one item a line, else at the
            # statement's end (after a multi-line string's closing quotes: its first line is the string's).
            at = s.first if lines[s.first].rstrip().endswith(("[", "{")) else s.last
            lines[at] += eol[0] if eol[0][:1] in " \t" else "  " + eol[0]
        lines[s.last + 1:s.last + 1] = s.after
        lines[s.first:s.first] = above
    return "\n".join(lines)


# --- three-way merge (git's merge driver, ``partnerctl merge-file``) --------------------------------

Key = tuple[str, ...]  # where comments are: ("top",), ("tail",), ("head", *anchor), ("above", pid), ...
Comments = tuple[tuple[str, ...], tuple[str, ...]]  # the own-line comments and the end-of-line ones


class _Side:
    """One version's comments by place, and the order of the statements of each text (head, each block)."""

    def __init__(self) -> None:
        self.at: dict[Key, Comments] = {}
        self.order: dict[str, list[Anchor]] = {}

    def add(self, key: Key, before: list[str], eol: list[str] | None = None) -> None:
        if before or eol:
            self.at[key] = (tuple(before), tuple(eol or ()))

    def statements(self, scope: str, text: str, prefix: tuple[str, ...]) -> None:
        found, trailing = scan(text, prefix)
        self.order[scope] = [s.anchor for s in found]
        for s in found:
            self.add((scope, *s.anchor), s.before, s.eol)
        self.add((scope, "(end)"), trailing)


def _side(text: str) -> _Side | None:
    """The comments of a registry's *text* by place; None when its blocks cannot be told apart."""
    from partnerctl.storage.toml import Layout, has_comment

    side = _Side()
    if not has_comment(text):
        return side
    layout = Layout.cut(text)
    if layout is None:
        return None
    top, head = _leading(layout.head)
    side.add(("top",), top)
    side.statements("", head, ())
    for pid, above, body in layout.parts:
        side.add(("above", pid), [line for line in above.splitlines() if line.strip()])
        side.statements(pid, body, ("partnerships", pid))
    side.add(("tail",), [line for line in layout.tail.splitlines() if line.strip()])
    return side


def _leading(text: str) -> tuple[list[str], str]:
    """The comment lines at the start of *text* (before its first statement), and the rest."""
    lines = text.splitlines(keepends=True)
    n = 0
    while n < len(lines) and (not lines[n].strip() or lines[n].lstrip().startswith("#")):
        n += 1
    return [line.rstrip("\n") for line in lines[:n] if line.strip()], "".join(lines[n:])


def _path(key: Key) -> tuple[str, ...]:
    """A conflict's path for comments at *key* (``core.semantic.Conflict``)."""
    if key in (("top",), ("tail",)):
        return (f"(comment at the {'start' if key[0] == 'top' else 'end'})",)
    if key[0] == "above":
        return ("partnerships", key[1], "(comment above)")
    scope, rest = key[0], [part for part in key[1:] if part]
    return (*(("partnerships", scope) if scope else ()), *rest, "(comment)")


def _shown(value: Comments | None) -> str | None:
    return "\n".join(value[0] + value[1]) if value else None


def merge3(base: str, ours: str, theirs: str, merged: str) -> tuple[str, list[Any], list[str]]:
    """The *merged* canonical text with the comments of both sides merged in: one side's change to the
    comments at a place is taken; both changing them differently is a conflict (ours kept). Returns the text,
    the conflicts (``core.semantic.Conflict``) and problems (comments of a side that could not be read)."""
    from partnerctl.core.semantic import Conflict
    from partnerctl.storage.toml import Layout

    sides, problems = [], []
    for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        side = _side(text)
        if side is None:
            if name != "base":
                problems.append(_("the comments of {side} are not kept: its partnerships' tables are not laid "
                                  "out one partnership after another").format(side=name))
            side = _Side()
        sides.append(side)
    b, o, t = sides
    if not o.at and not t.at:
        return merged, [], problems
    chosen: dict[Key, Comments] = {}
    conflicts = []
    for key in sorted(set(b.at) | set(o.at) | set(t.at)):
        was, mine, other = b.at.get(key), o.at.get(key), t.at.get(key)
        if mine == other or other == was:
            value = mine
        elif mine == was:
            value = other
        else:
            value = mine
            conflicts.append(Conflict(_path(key), _shown(was), _shown(mine), _shown(other)))
        if value:
            chosen[key] = value
    layout = Layout.cut(merged)
    head_text = layout.head if layout is not None else merged
    out = [_comment_lines(chosen.pop(("top",), None)), _placed("", head_text, (), chosen, o, t)]
    for pid, above, body in layout.parts if layout is not None else []:
        out += [above, _comment_lines(chosen.pop(("above", pid), None)),
                _placed(pid, body, ("partnerships", pid), chosen, o, t)]
    tail = _comment_lines(chosen.pop(("tail",), None))
    out.append(("\n" + tail) if tail else "")
    # Comments of a partnership the merge removed: kept only when neither side changed them.
    for key in chosen:
        if b.at.get(key) != chosen[key]:
            conflicts.append(Conflict(_path(key), _shown(b.at.get(key)), _shown(o.at.get(key)),
                                      _shown(t.at.get(key))))
    return "".join(out), conflicts, problems


def _comment_lines(value: Comments | None) -> str:
    return "".join(line + "\n" for line in value[0]) if value else ""


def _placed(scope: str, text: str, prefix: tuple[str, ...], chosen: dict[Key, Comments],
            ours: _Side, theirs: _Side) -> str:
    """*text* (the head or a block of the merged registry) with the chosen comments of its *scope* placed."""
    order = list(ours.order.get(scope, []))
    for n, anchor in enumerate(theirs.order.get(scope, [])):
        if anchor not in order:  # after the statement it follows in theirs
            before = theirs.order[scope][:n]
            at = max((order.index(a) + 1 for a in before if a in order), default=0)
            order.insert(at, anchor)
    statements = []
    for anchor in order:
        value = chosen.pop((scope, *anchor), None)
        statements.append(Statement(anchor, 0, 0, list(value[0]) if value else [], list(value[1]) if value else []))
    end = chosen.pop((scope, "(end)"), None)
    if not any(s.before or s.eol for s in statements) and not end:
        return text
    return place([(statements, list(end[0]) if end else [])], text, prefix)
