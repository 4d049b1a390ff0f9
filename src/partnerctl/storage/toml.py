"""Reading and writing the registry's TOML text, in canonical form.

The canonical text is the head (owner and vocabularies) followed by one block
per partnership, sorted by id; a block holds the partnership's table, its events
and its contacts and nothing else, so a change to one partnership changes one
block.
"""

from __future__ import annotations

import re
import tomllib
from typing import TYPE_CHECKING, Any

import tomli_w

from partnerctl.core.errors import Problem

if TYPE_CHECKING:
    # Imported where a dump needs it: reading a registry through the index parses no TOML
    # and must not pay for the pydantic model's import.
    from partnerctl.core.model import Partnership, Registry

_AT_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse(text: str, name: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse TOML text; a syntax error becomes a problem with its line and column.

    Text nested too deeply for the parser, or holding a number too long to
    convert, is a problem too, never an exception.
    """
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _AT_LINE.search(message)
        line = int(m.group(1)) if m else None
        if m:
            message = f"column {m.group(2)}: invalid TOML: {message[:m.start()].strip()}"
        else:
            message = f"invalid TOML: {message}"
        return None, [Problem(name, message, line)]
    except RecursionError:
        return None, [Problem(name, "invalid TOML: arrays or tables nested too deeply")]
    except ValueError as exc:
        # tomllib lets int() refuse a number of thousands of digits (Python's own limit).
        what = "a number with too many digits" if "digits" in str(exc) else str(exc)
        return None, [Problem(name, f"invalid TOML: {what}")]


def dump_block(pid: str, p: Partnership) -> str:
    """The canonical TOML block of one partnership."""
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
    """The canonical TOML head of a registry: owner and vocabularies."""
    from partnerctl.core.model import registry_data

    return tomli_w.dumps(registry_data(reg), multiline_strings=True)


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
