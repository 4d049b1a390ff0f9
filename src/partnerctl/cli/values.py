"""The values of options that are not text: years, ``--days``, ``--limit``, parsed into usage errors
that name the option."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerctl.core.i18n import _


def year(text: str) -> int:
    """A year option's value (``dates.parse_year``); a usage error naming the option otherwise."""
    from partnerctl.core import dates

    try:
        return dates.parse_year(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def days(text: str) -> int:
    """A ``--days`` value (``dates.parse_days``); a usage error naming the option otherwise."""
    from partnerctl.core import dates

    try:
        return dates.parse_days(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def limit(text: str) -> int:
    """A ``--limit`` value: a whole number of at least 1; a usage error naming the option otherwise."""
    if not text.strip().isdigit() or int(text) < 1:
        raise typer.BadParameter(_("{text!r} is not a whole number of at least 1").format(text=text))
    return int(text)


LimitOpt = Annotated[int | None, typer.Option(
    "--limit", parser=limit, metavar="N", help="At most N rows: the first N in the order shown.")]


def limited(items: list[Any], n: int | None) -> list[Any]:
    """The first *n* of *items* (all when *n* is None)."""
    return items if n is None else items[:n]
