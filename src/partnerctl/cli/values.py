"""The values of options that are not text: years, ``--days``, ``--limit``, parsed into usage errors
that name the option."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar, cast

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


SequenceT = TypeVar("SequenceT", bound=Sequence[Any])


def limited(items: SequenceT, n: int | None) -> SequenceT:
    """The first *n* of *items* (all when *n* is None), of the same type: a slice of a list is a list, of a
    ``reader.Selected`` a Selected (which reads nothing yet)."""
    return items if n is None else cast(SequenceT, items[:n])
