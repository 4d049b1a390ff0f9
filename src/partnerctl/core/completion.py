"""Candidates for shell completion: partner ids, theme and network slugs, event ids.

Each function returns ``(value, help)`` pairs for the values that start with
*prefix*; the shell shows the help beside the value (zsh, fish). Only values
that start with what was typed are offered, as Typer keeps no other (a shell
would replace the typed word with something else).

They run on partnership records (``model.record``, with attribute access) as
``partnerctl.view`` hands them over: from the index, only those that can be
candidates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerctl.storage.view import Light, View


def partners(reg: Light, prefix: str) -> list[tuple[str, str]]:
    """Partnership ids starting with *prefix*, with the city as help."""
    return [(pid, f"{p.city} ({p.country})") for pid, p in sorted(reg.partnerships.items())
            if pid.startswith(prefix)]


def vocabulary(reg: Light | View, kind: str, prefix: str) -> list[tuple[str, str]]:
    """Theme (``kind="theme"``) or network slugs starting with *prefix*, with the label as help."""
    vocab = reg.themes if kind == "theme" else reg.networks
    return [(slug, label) for slug, label in sorted(vocab.items()) if slug.startswith(prefix)]


def events(reg: Light, pid: str | None, prefix: str) -> list[tuple[str, str]]:
    """Event ids starting with *prefix*: of partnership *pid* when given, else of every partnership."""
    pids = [pid] if pid else sorted(reg.partnerships)
    seen: dict[str, str] = {}
    for one in pids:
        for event in reg.partnerships[one].events:  # a record lists them in date order
            if event.id.startswith(prefix):
                seen.setdefault(event.id, event.title if pid else f"{one}: {event.title}")
    return list(seen.items())
