"""The registry's TOML text: parsing, the canonical form, and its blocks.

The canonical text is the head (owner and vocabularies) followed by one block
per partnership, sorted by id and joined by blank lines; a block holds the
partnership's table, its events and its contacts and nothing else, so a change
to one partnership changes one block. The index records where each block lies;
``verified_block`` checks such a span against the bytes before anything relies
on it, and ``splice`` rewrites blocks between untouched bytes.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any

from partnerctl.core.errors import Problem
from partnerctl.core.i18n import _

try:  # CPython's own BLAKE2: hashlib would load OpenSSL too, a few ms of every start-up
    from _blake2 import blake2b as blake2b
except ImportError:  # pragma: no cover - another Python
    from hashlib import blake2b as blake2b

if TYPE_CHECKING:
    from partnerctl.core.model import Partnership, Registry


class Damaged(Exception):
    """What the index recorded about the file (a span, a hash) is not what the file holds."""

_AT_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``, imported on first use: a read the index answers never parses TOML."""
    import tomllib

    return tomllib.loads(text)


def parse(text: str, name: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse TOML text; a syntax error becomes a problem with its line and column.

    Text nested too deeply for the parser, or holding a number too long to
    convert, is a problem too, never an exception.
    """
    import tomllib

    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _AT_LINE.search(message)
        line = int(m.group(1)) if m else None
        if m:
            message = _("column {n}: invalid TOML: {what}").format(n=m.group(2), what=message[:m.start()].strip())
        else:
            message = _("invalid TOML: {what}").format(what=message)
        return None, [Problem(name, message, line)]
    except RecursionError:
        return None, [Problem(name, _("invalid TOML: arrays or tables nested too deeply"))]
    except ValueError as exc:
        # tomllib lets int() refuse a number of thousands of digits (Python's own limit).
        what = "a number with too many digits" if "digits" in str(exc) else str(exc)
        return None, [Problem(name, _("invalid TOML: {what}").format(what=what))]


def dump_block(pid: str, p: Partnership) -> str:
    """The canonical TOML block of one partnership."""
    import tomli_w

    from partnerctl.core.model import partnership_data

    data = partnership_data(p)
    tables = {key: data.pop(key) for key in ("events", "contacts") if key in data}
    text = tomli_w.dumps({"partnerships": {pid: data}}, multiline_strings=True)
    # Always [[...]] tables: tomli-w would inline short ones, so the layout of
    # every event would flip when one long event joins them.
    for key, rows in tables.items():
        for row in rows:
            text += f"\n[[partnerships.{pid}.{key}]]\n" + tomli_w.dumps(row, multiline_strings=True)
    return text


def dump_head(reg: Registry) -> str:
    """The canonical TOML head of a registry: owner and vocabularies.

    An entry with labels in several languages is one line, an inline table
    (``urban-mobility = { en = "Urban mobility", fr = "Mobilité urbaine" }``):
    tomli-w would make it a table of its own, three lines and a header.
    """
    import tomli_w

    from partnerctl.core.model import VOCABULARIES, registry_data

    data = registry_data(reg)
    inline: dict[str, str] = {}
    for kind in VOCABULARIES:
        for slug, label in data.get(kind, {}).items():
            if isinstance(label, dict):
                # A stand-in tomli-w writes as a plain string, then replaced by the inline table.
                token = f"partnerctl-inline-{len(inline)}-{blake2b(slug.encode()).hexdigest()}"
                inline[tomli_w.dumps({"v": token})[4:-1]] = "{ " + ", ".join(
                    f"{lang} = {tomli_w.dumps({'v': text})[4:-1]}" for lang, text in label.items()) + " }"
                data[kind][slug] = token
    text = tomli_w.dumps(data, multiline_strings=True)
    for token, table in inline.items():
        text = text.replace(token, table, 1)
    return text


def dump_parts(reg: Registry) -> list[tuple[str | None, str]]:
    """The canonical text in parts, joined by one newline (a blank line) in this order.

    ``(None, head)`` first, then ``(id, block)`` for each partnership by id:
    the index keeps where each block lies to rewrite one block alone.
    """
    return [(None, dump_head(reg))] + [(pid, dump_block(pid, reg.partnerships[pid]))
                                       for pid in sorted(reg.partnerships)]


def dump(reg: Registry) -> str:
    """The canonical TOML text of a whole registry."""
    return "\n".join(text for _, text in dump_parts(reg))


def line_of(text: str, where: str) -> int | None:
    """The line of the partnership block a key path points into, if it names one."""
    m = re.match(r"partnerships\.([a-z0-9-]+)", where)
    if not m:
        return None
    found = re.search(rf"^\[partnerships\.{re.escape(m.group(1))}\]", text, re.M)
    return text.count("\n", 0, found.start()) + 1 if found else None


def bytes_hash(data: bytes) -> int:
    """A 64-bit BLAKE2b hash of *data*, as a signed integer (SQLite stores it as it is)."""
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "big", signed=True)


def header(pid: str) -> bytes:
    """The first line of partnership *pid*'s block."""
    return f"[partnerships.{pid}]\n".encode()


def verified_block(data: bytes, head_end: int, pid: str, recorded: tuple[int, int, int]) -> dict[str, Any]:
    """The parsed table of partnership *pid*, from the span the index *recorded* (start, stop, hash).

    The span must lie on the canonical layout's boundaries (after the head, each
    part ending in a newline and the next one following a blank line), the hash of
    its bytes must be the recorded one, and those bytes must parse to exactly one
    table, ``[partnerships.<pid>]``. Otherwise a splice there could cut into, or
    remove, another partnership: ``Damaged``, and the caller takes the full path.
    """
    start, stop, digest = recorded
    on_boundaries = (
        head_end < start < stop <= len(data)
        and data[start - 2:start] == b"\n\n" and data.startswith(header(pid), start)
        and data[stop - 1:stop] == b"\n" and (stop == len(data) or data.startswith(b"\n[partnerships.", stop))
    )
    if not on_boundaries or bytes_hash(data[start:stop]) != digest:
        raise Damaged(f"the indexed span of {pid!r} is not its block")

    try:
        tables = loads(data[start:stop].decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        raise Damaged(f"the indexed block of {pid!r} does not parse") from exc
    if list(tables) != ["partnerships"] or list(tables["partnerships"]) != [pid]:
        raise Damaged(f"the indexed block of {pid!r} holds other tables")
    table: dict[str, Any] = tables["partnerships"][pid]
    return table


def splice(data: bytes, edits: list[tuple[int, int, bytes]]) -> list[bytes | memoryview]:
    """*data* with each span ``[start, stop)`` of *edits* replaced by its bytes, as the pieces that make it
    one after another: the untouched spans are views of *data*, never copied (joined, they are the file).

    The spans must not overlap; an empty span inserts.
    """
    view = memoryview(data)
    out: list[bytes | memoryview] = []
    at = 0
    for start, stop, new in sorted(edits, key=lambda e: (e[0], e[1])):
        out += [view[at:start], new]
        at = stop
    out.append(view[at:])
    return [piece for piece in out if len(piece)]


def parse_block(pid: str, text: str, vocabs: Mapping[str, Container[str] | None], owned: bool = True) -> Partnership:
    """The partnership in an edited block (``partnerctl edit``), checked against the vocabularies (kind:
    declared slugs, ``model.vocabularies``) and, in a registry without an owner (*owned* false), for its owner.

    The text must hold exactly the table ``[partnerships.<pid>]`` (with its
    events and contacts); anything else is InvalidInput saying what is wrong.
    """
    from pydantic_core import ValidationError

    from partnerctl.core.errors import InvalidInput
    from partnerctl.core.model import Partnership, partnership_references, problems_of, validate

    data, problems = parse(text, "edited text")
    if data is None:
        raise InvalidInput(str(problems[0]))
    tables = data.get("partnerships")
    others = sorted(set(data) - {"partnerships"})
    if others:
        raise InvalidInput(_("only the table [partnerships.{pid}] may be in the text, not [{others}]").format(
            pid=pid, others=others[0]))
    if not isinstance(tables, dict) or list(tables) != [pid]:
        # A renamed header leaves the events' [[partnerships.<old>.events]] behind: one new id is a rename.
        new_ids = [t for t in tables if t != pid] if isinstance(tables, dict) else []
        left = tables.get(pid, {}) if isinstance(tables, dict) else {}
        if len(new_ids) == 1 and isinstance(left, dict) and set(left) <= {"events", "contacts"}:
            raise InvalidInput(_("the id cannot change here (found [partnerships.{new_ids}]); keep "
                                 "{pid} and rename it with: partnerctl rename {pid} {new_ids}").format(
                                     new_ids=new_ids[0], pid=pid))
        raise InvalidInput(_("the text must hold exactly one partnership, [partnerships.{pid}]").format(pid=pid)
                           + (_("; found {ids}").format(ids=", ".join(new_ids)) if new_ids else ""))
    try:
        p = validate(Partnership, tables[pid])
    except ValidationError as exc:
        raise InvalidInput(str(problems_of(exc, f"partnerships.{pid}")[0])) from None
    problems = partnership_references(pid, p, vocabs, owned)
    if problems:
        raise InvalidInput(str(problems[0]))
    return p



# --- a hand-edited file: comments and layout kept ----------------------------------------------

# A partnership's header line as people write it: ``[partnerships.turin]``, spaces and a comment allowed.
_HEADER_LINE = re.compile(r"^[ \t]*\[[ \t]*partnerships[ \t]*\.[ \t]*([A-Za-z0-9_-]+)[ \t]*\][ \t]*(?:#.*)?$")
_QUIET = re.compile(r"^[ \t]*(?:#.*)?$")  # a blank or comment-only line


class Layout:
    """A registry's text cut into the head and one part per partnership, each with the comment and blank
    lines just above it (a comment above a block belongs to it).

    ``parts``: ``(pid, above, body)`` in file order, *above* the comment/blank lines
    before the header, *body* from the header to its last line that is not blank or a
    comment, with the comment lines right after that line when a blank line parts them
    from what follows (they end the block). ``None`` from ``cut`` when the file does not fall into such parts (a
    partnership's tables split around another's, a quoted id): then nothing can be
    spliced and the caller refuses if there are comments to lose.
    """

    def __init__(self, head: str, parts: list[tuple[str, str, str]], tail: str) -> None:
        self.head, self.parts, self.tail = head, parts, tail

    @classmethod
    def cut(cls, text: str) -> Layout | None:
        lines = text.splitlines(keepends=True)
        starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _HEADER_LINE.match(line))]
        if not starts:
            return None

        def above_start(i: int) -> int:
            while i > 0 and _QUIET.match(lines[i - 1]):
                i -= 1
            return i

        def part_stop(i: int) -> int:
            """Where the part before the header at *i* ends: comment lines right after its last line end it
            when a blank line parts them from the header; the rest is above the header."""
            j = above_start(i)
            while j < i and lines[j].strip():
                j += 1
            return j if j < i else above_start(i)

        head_end = part_stop(starts[0][0])
        head = "".join(lines[:head_end])
        parts = []
        for n, (at, pid) in enumerate(starts):
            stop = part_stop(starts[n + 1][0]) if n + 1 < len(starts) else _tail_start(lines, starts)
            begin = part_stop(at) if n else head_end
            parts.append((pid, "".join(lines[begin:at]), "".join(lines[at:stop])))
        tail = "".join(lines[_tail_start(lines, starts):])
        layout = cls(head, parts, tail)
        return layout if layout.text() == text and layout._separate() else None

    def text(self) -> str:
        """The text the parts make, joined as they are."""
        return self.head + "".join(above + body for _, above, body in self.parts) + self.tail

    def _separate(self) -> bool:
        """Whether each part parses alone to exactly its own partnership, and the head to no partnership."""
        try:
            if "partnerships" in loads(self.head):
                return False
            seen = set()
            for pid, above, body in self.parts:
                tables = loads(above + body)
                if list(tables) != ["partnerships"] or list(tables["partnerships"]) != [pid] or pid in seen:
                    return False
                seen.add(pid)
            return not loads(self.tail) if self.tail.strip() else True
        except (ValueError, RecursionError):
            return False


def _tail_start(lines: list[str], starts: list[tuple[int, str]]) -> int:
    """Where the comment and blank lines after the last block begin (they stay at the end): comment lines
    right after its last line end the block."""
    i = len(lines)
    while i > starts[-1][0] + 1 and _QUIET.match(lines[i - 1]):
        i -= 1
    while i < len(lines) and lines[i].strip():
        i += 1
    return i


def _comments(text: str) -> list[tuple[int, int]]:
    """The spans of the comments of TOML *text*: from a ``#`` outside every string to the end of its line."""
    found, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            found.append((i, end))
            i = end
            continue
        if c in "\"'":
            triple = text.startswith(c * 3, i)
            quote = c * 3 if triple else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                if c == '"' and text[i] == "\\":
                    i += 1
                elif not triple and text[i] == "\n":
                    break
                i += 1
            i += len(quote)
            continue
        i += 1
    return found


def has_comment(text: str) -> bool:
    """Whether TOML *text* holds a comment: a ``#`` outside every string."""
    return bool(_comments(text))


def without_comments(text: str) -> str:
    """*text* with its comments taken out (and the spaces before them; comment-only lines removed)."""
    out, at = [], 0
    for start, stop in _comments(text):
        before = text[at:start]
        line_start = before.rfind("\n") + 1
        if not before[line_start:].strip():  # a comment-only line: the line goes
            out.append(before[:line_start])
            at = stop + 1
        else:
            out.append(before.rstrip(" \t"))
            at = stop
    out.append(text[at:])
    return "".join(out)
