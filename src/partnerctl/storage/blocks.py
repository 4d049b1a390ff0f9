"""One-block rewrites: change one partnership of a large canonical registry without parsing it all.

The canonical file is a head (owner, vocabularies) and one block per
partnership, in id order, joined by blank lines; the index knows each block's
byte span and the hash of its bytes. A change to one partnership parses the
head and that block into a registry of one partnership, runs the change, dumps
the block again and splices it between the untouched bytes around it. Because
the file was canonical, the result is byte for byte what a full canonical save
would write. The index never decides which bytes are replaced: a span is used
only once ``verified_span`` has checked it against the file itself.

A change may still look at the other partnerships (``edit`` refuses an alias
that names another one): the registry's ``partnerships`` mapping then loads
them from the index, read-only, in file order, the first time it is asked for
anything but the partnership being changed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerctl.storage.index import Index
    from partnerctl.core.model import Partnership, Registry


class LazyPartnerships(dict):  # type: ignore[type-arg]
    """``{pid: partnership}`` that loads the other partnerships on the first look beyond *pid*."""

    def __init__(self, pid: str, p: Partnership, load_all: Callable[[], list[tuple[str, Any]]]) -> None:
        super().__init__({pid: p})
        self._pid = pid
        self._load: Callable[[], list[tuple[str, Any]]] | None = load_all
        self.others: dict[str, Any] = {}
        self._ids: list[str] = []

    @property
    def loaded(self) -> bool:
        """Whether the other partnerships were loaded."""
        return self._load is None

    def _complete(self) -> None:
        if self._load is None:
            return
        load, self._load = self._load, None
        mine = dict.__getitem__(self, self._pid)
        dict.clear(self)
        for oid, other in load():
            if oid == self._pid:
                dict.__setitem__(self, oid, mine)
            else:
                self.others[oid] = other
                dict.__setitem__(self, oid, other)
        self._ids = list(dict.keys(self))

    def __getitem__(self, key: str) -> Any:
        if key != self._pid:
            self._complete()
        return dict.__getitem__(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key != self._pid:
            self._complete()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self._complete()
        dict.__delitem__(self, key)

    def __contains__(self, key: object) -> bool:
        if key != self._pid:
            self._complete()
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[str]:
        self._complete()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._complete()
        return dict.__len__(self)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self else default

    def keys(self) -> Any:
        self._complete()
        return dict.keys(self)

    def values(self) -> Any:
        self._complete()
        return dict.values(self)

    def items(self) -> Any:
        self._complete()
        return dict.items(self)

    def pop(self, key: str, *default: Any) -> Any:
        self._complete()
        return dict.pop(self, key, *default)

    def popitem(self) -> Any:
        self._complete()
        return dict.popitem(self)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._complete()
        return dict.setdefault(self, key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._complete()
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        self._complete()
        dict.clear(self)

    def copy(self) -> dict[str, Any]:
        self._complete()
        return dict(dict.items(self))

    def only_mine_changed(self) -> bool:
        """Whether the same ids are here as before the change, the other partnerships untouched.

        A change that adds, removes or renames a partnership, or replaces another
        one, cannot be written as one block: the caller takes the full path.
        """
        if not self.loaded:
            return list(dict.keys(self)) == [self._pid]
        return (list(dict.keys(self)) == self._ids
                and all(dict.__getitem__(self, oid) is other for oid, other in self.others.items()))


def _partnership_of(rec: dict[str, Any]) -> Partnership:
    """A Partnership from an indexed (already validated) record, without validating again."""
    from partnerctl.core.model import Contact, Event, Partnership

    fields = {k: v for k, v in rec.items() if k != "id"}
    fields["events"] = [Event.model_construct(**e) for e in fields["events"]]
    fields["contacts"] = [Contact.model_construct(**c) for c in fields["contacts"]]
    return Partnership.model_construct(**fields)


def load_one(idx: Index, reg: Registry, pid: str) -> Registry:
    """*reg* (head and the one partnership *pid*) with the others loadable on demand from *idx*.

    Loading them from a damaged index raises ``index.Damaged``.
    """
    from partnerctl.storage import index
    from partnerctl.core.model import Registry

    def load_all() -> list[tuple[str, Any]]:
        try:
            return [(oid, _partnership_of(json.loads(text))) for oid, text in idx.records()]
        except index.FAULTS as exc:
            raise index.Damaged(str(exc)) from exc

    partnerships = LazyPartnerships(pid, reg.partnerships[pid], load_all)
    return Registry.model_construct(registry=reg.registry, themes=reg.themes, networks=reg.networks,
                                    partnerships=partnerships)


def splice(data: bytes, span: tuple[int, int], block: bytes) -> bytes:
    """*data* with the bytes of *span* replaced by *block*, everything else copied as it is."""
    start, stop = span
    return b"".join((data[:start], block, data[stop:]))


def verified_span(data: bytes, head_end: int, pid: str, recorded: tuple[int, int, int]) -> tuple[int, int]:
    """The span ``[start, stop)`` of partnership *pid*'s block in *data*, once checked; else ``index.Damaged``.

    *recorded* is the index's (start, stop, hash). The span must lie on the
    canonical layout's boundaries (after the head, each part ending in a newline
    and the next one following a blank line), the BLAKE2b hash of its bytes must
    be the recorded one, and those bytes must parse to exactly one table,
    ``[partnerships.<pid>]``. Otherwise the splice could cut into, or remove,
    another partnership: the caller then takes the full path.
    """
    from partnerctl.storage import index

    start, stop, digest = recorded
    header = f"[partnerships.{pid}]\n".encode()
    on_boundaries = (
        head_end < start < stop <= len(data)
        and data[start - 2:start] == b"\n\n" and data.startswith(header, start)
        and data[stop - 1:stop] == b"\n" and (stop == len(data) or data.startswith(b"\n[partnerships.", stop))
    )
    if not on_boundaries or index.bytes_hash(data[start:stop]) != digest:
        raise index.Damaged(f"the indexed span of {pid!r} is not its block")
    try:
        tables = tomllib.loads(data[start:stop].decode("utf-8"))
    except ValueError as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        raise index.Damaged(f"the indexed block of {pid!r} does not parse") from exc
    if list(tables) != ["partnerships"] or list(tables["partnerships"]) != [pid]:
        raise index.Damaged(f"the indexed block of {pid!r} holds other tables")
    return start, stop
