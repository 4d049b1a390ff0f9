"""Reading and writing the registry's TOML text, in canonical form.

The canonical text is the head (owner and vocabularies) followed by one block
per partnership, sorted by id; a block holds the partnership's table, its events
and its contacts and nothing else, so a change to one partnership changes one
block.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import tomli_w

from partnerctl.errors import Problem
from partnerctl.model import Partnership, Registry, partnership_data, registry_data

_AT_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse(text: str, name: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse TOML text; a syntax error becomes a problem with its line and column."""
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


def dump_block(pid: str, p: Partnership) -> str:
    """The canonical TOML block of one partnership."""
    return tomli_w.dumps({"partnerships": {pid: partnership_data(p)}}, multiline_strings=True)


def dump(reg: Registry) -> str:
    """The canonical TOML text of a whole registry."""
    parts = [tomli_w.dumps(registry_data(reg), multiline_strings=True)]
    parts += [dump_block(pid, reg.partnerships[pid]) for pid in sorted(reg.partnerships)]
    return "\n".join(parts)


def line_of(text: str, where: str) -> int | None:
    """The line of the partnership block a key path points into, if it names one."""
    m = re.match(r"partnerships\.([a-z0-9-]+)", where)
    if not m:
        return None
    found = re.search(rf"^\[partnerships\.{re.escape(m.group(1))}\]", text, re.M)
    return text.count("\n", 0, found.start()) + 1 if found else None
