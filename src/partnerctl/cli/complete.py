"""Shell completion: partner ids, vocabulary slugs and event ids, read from the registry in use.

Each callback (Typer's ``autocompletion=``) reads the registry named on the same
command line (``--registry``), else ``$PARTNERCTL_REGISTRY``, else the default,
through the index like every read, and never raises: a broken registry must not
break the user's shell. Which options complete what comes from the field table.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from partnerctl.core.fields import FieldSpec

Candidates = list[tuple[str, str]]


def _reader(ctx: Any) -> Any:
    """The registry in use while completing."""
    from partnerctl.storage.location import locate
    from partnerctl.storage.reader import open_registry

    explicit = ctx.find_root().params.get("registry") or os.environ.get("PARTNERCTL_REGISTRY")
    return open_registry(locate(Path(explicit) if explicit else None).path)


def _completer(candidates: Callable[[Any, Any, str], Candidates]) -> Callable[[Any, str], Candidates]:
    """A completion callback over ``candidates(reader, ctx, incomplete)`` that never raises."""

    def complete(ctx: Any, incomplete: str) -> Candidates:
        try:
            return candidates(_reader(ctx), ctx, incomplete)
        except Exception:  # noqa: BLE001 - a broken registry must not break the user's shell
            return []

    return complete


def _vocabulary(kind: str) -> Callable[[Any, str], Candidates]:
    from partnerctl.core import completion

    return _completer(lambda reader, ctx, incomplete: completion.vocabulary(
        getattr(reader.head, f"{kind}s"), incomplete))


# PARTNER arguments; --theme / --network options; event ids (of the command's PARTNER when typed).
partner = _completer(lambda reader, ctx, incomplete: reader.complete_partners(incomplete))
theme = _vocabulary("theme")
network = _vocabulary("network")
event = _completer(lambda reader, ctx, incomplete: reader.complete_events(ctx.params.get("partner"), incomplete))

_VOCABULARIES = {"theme": theme, "network": network, "region": _vocabulary("region")}


def completer_for(spec: FieldSpec) -> Callable[[Any, str], Candidates] | None:
    """The completion of a field's option: the slugs of its vocabulary, or nothing."""
    return _VOCABULARIES.get(spec.meta.vocab or "")
