"""Candidates for shell completion and prompts: partner ids, theme and network slugs, event ids, values in use.

Each function returns ``(value, help)`` pairs for the values that start with
*prefix*; the shell shows the help beside the value (zsh, fish). Only values
that start with what was typed are offered, as Typer keeps no other (a shell
would replace the typed word with something else).

They run on partnership records (``model.record``) as the read API hands
them over: from the index, only those that can be candidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from partnerctl.core.fields import FieldSpec
from partnerctl.core.query import Snapshot
from partnerctl.core.text import counted

if TYPE_CHECKING:
    from partnerctl.core.stats import Count


def partners(snap: Snapshot, prefix: str) -> list[tuple[str, str]]:
    """Partnership ids starting with *prefix*, with the city and its country's name as help."""
    return [(pid, f"{p['city']} ({snap.shown('country', p['country'])})")
            for pid, p in sorted(snap.partnerships.items()) if pid.startswith(prefix)]


def vocabulary(vocab: Mapping[str, str], prefix: str) -> list[tuple[str, str]]:
    """Slugs of a vocabulary (themes, networks) starting with *prefix*, with the label as help."""
    return [(slug, label) for slug, label in sorted(vocab.items()) if slug.startswith(prefix)]


def events(snap: Snapshot, pid: str | None, prefix: str) -> list[tuple[str, str]]:
    """Event ids starting with *prefix*: of partnership *pid* when given, else of every partnership."""
    pids = [pid] if pid else sorted(snap.partnerships)
    seen: dict[str, str] = {}
    for one in pids:
        for event in snap.partnerships[one]["events"]:  # a record lists them in date order
            if event["id"].startswith(prefix):
                seen.setdefault(event["id"], event["title"] if pid else f"{one}: {event['title']}")
    return list(seen.items())


def field(spec: FieldSpec, snap: Snapshot, used: Sequence[Count] = ()) -> list[tuple[str, str]]:
    """What a prompt for the field *spec* offers: its vocabulary's slugs (label as help), its choices,
    or the values the registry uses for it (*used*: ``stats.count`` of its dimension, most used first)."""
    if spec.meta.vocab:
        return vocabulary(snap.vocabulary(spec.meta.vocab), "")
    if spec.choices:
        return [(choice, "") for choice in spec.choices]
    if spec.meta.country:
        return country_names(used)
    return [(c.key, counted(c.count, "partnership")) for c in used if c.key is not None]


def country_names(used: Sequence[Count] = ()) -> list[tuple[str, str]]:
    """Country names (as shown, English) for a prompt: those the registry uses first, counted, then every
    other country with its code as help. An answer is resolved as ``--country`` is (name, alias or code)."""
    from partnerctl.core import countries

    offered: dict[str, str] = {}
    for c in used:
        if c.key is not None and countries.known(c.key):
            offered.setdefault(countries.display(c.key), counted(c.count, "partnership"))
    for code in sorted(countries._countries()):  # noqa: SLF001 - the table of every country, loaded once
        offered.setdefault(countries.display(code), code)
    return list(offered.items())
