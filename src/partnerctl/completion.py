"""Candidates for shell completion: partner ids, theme and network slugs, event ids.

Each function returns ``(value, help)`` pairs for the values that start with
*prefix*; the shell shows the help beside the value (zsh, fish). Only values
that start with what was typed are offered, as Typer keeps no other (a shell
would replace the typed word with something else).
"""

from __future__ import annotations

from partnerctl import query
from partnerctl.model import Registry, sorted_events


def partners(reg: Registry, prefix: str) -> list[tuple[str, str]]:
    """Partnership ids starting with *prefix*, with the city as help."""
    return [(pid, f"{p.city} ({p.country})") for pid, p in sorted(reg.partnerships.items())
            if pid.startswith(prefix)]


def vocabulary(reg: Registry, kind: str, prefix: str) -> list[tuple[str, str]]:
    """Theme (``kind="theme"``) or network slugs starting with *prefix*, with the label as help."""
    vocab = reg.themes if kind == "theme" else reg.networks
    return [(slug, label) for slug, label in sorted(vocab.items()) if slug.startswith(prefix)]


def events(reg: Registry, partner: str | None, prefix: str) -> list[tuple[str, str]]:
    """Event ids starting with *prefix*: of *partner* when it names one, else of every partnership."""
    pids = [query.resolve(reg, partner)] if partner else sorted(reg.partnerships)
    seen: dict[str, str] = {}
    for pid in pids:
        for event in sorted_events(reg.partnerships[pid].events):
            if event.id.startswith(prefix):
                seen.setdefault(event.id, event.title if partner else f"{pid}: {event.title}")
    return list(seen.items())
