"""Changes to a registry in memory; ``store.update`` validates and writes them."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from partnerctl import query
from partnerctl.errors import InvalidInput
from partnerctl.model import Event, Registry, problems_of
from partnerctl.names import slugify



def build(cls: type[Any], data: dict[str, Any], what: str) -> Any:
    """Validate command-line input into a model; the first problem becomes InvalidInput."""
    try:
        return cls.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        problem = problems_of(exc)[0]
        raise InvalidInput(f"{what}: {problem.where}: {problem.message}") from None


def new_event_id(taken: set[str], date: str, title: str) -> str:
    """A stable id from the date and the first words of the title, unique among *taken*."""
    base = "-".join(filter(None, [date, slugify(title, max_words=5)]))
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def add_event(
    reg: Registry,
    pid: str,
    *,
    date: str,
    title: str,
    end: str | None = None,
    description: str | None = None,
    themes: list[str] | None = None,
    links: list[str] | None = None,
) -> tuple[str, Event]:
    """Append an event to partnership *pid*; returns the id and the new event."""
    p = reg.partnerships[pid]
    fields = {"date": date, "end": end, "title": title, "description": description,
              "themes": query.resolve_themes(reg, themes or []), "links": links or []}
    # Validate the fields before deriving an id from them, so errors name the field.
    build(Event, {"id": "x", **fields}, "invalid event")
    event = build(Event, {"id": new_event_id({e.id for e in p.events}, date, title), **fields}, "invalid event")
    p.events.append(event)
    return pid, event
