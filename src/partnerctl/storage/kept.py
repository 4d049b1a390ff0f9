"""Tables a run builds from installed data and keeps in the cache folder for the next run.

The country table (``core.countries``): building it imports pycountry, whose
package metadata alone costs about 35 ms of every command that names a country
(``stats``, a table, a did-you-mean). A kept copy is one small JSON file,
``countries-<key>.json`` beside the indexes, where the key is a hash of every
file the table is built from (``countries.table_inputs``: partnerctl's module
and table, pycountry's code, database and French catalogue), so an upgrade of
either is another name and a miss. Like the index, it is only a cache: a file
that does not load or does not have the table's shape is a miss, the table is
built again and kept; ``PARTNERCTL_NO_INDEX=1`` keeps nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from partnerctl.storage.index import cache_dir, enabled, inputs_key


def keep_country_names() -> None:
    """Have ``core.countries`` take its table from the cache folder (``country_table``) from now on."""
    from partnerctl.core import KEEPERS

    KEEPERS.setdefault("countries", country_table)


def country_table(inputs: Sequence[Path], build: Callable[[], list[list[Any]]]) -> list[list[Any]]:
    """*build*'s rows, from the copy kept for exactly these *inputs* when there is one, else built and kept."""
    folder = cache_dir() if enabled() else None
    key = inputs_key(inputs) if folder is not None else None
    if folder is None or key is None:
        return build()
    path = folder / f"countries-{key}.json"
    with suppress(Exception):  # whatever the file holds, it is only a cache: build instead
        rows = json.loads(path.read_bytes())
        if _is_table(rows):
            return rows  # type: ignore[no-any-return]
    from partnerctl.storage.files import write_atomic

    rows = build()
    with suppress(Exception):  # a cache that cannot be written is only a slower next run
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(rows, ensure_ascii=False, separators=(",", ":")))
    return rows


def _is_table(rows: Any) -> bool:
    """Whether *rows* have the shape of ``countries._country_rows``'s (codes, names, lists of names)."""

    def names(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(n, str) for n in value)

    return isinstance(rows, list) and bool(rows) and all(
        isinstance(r, list) and len(r) == 6 and all(isinstance(v, str) for v in r[:3])
        and names(r[3]) and names(r[4]) and (r[5] is None or isinstance(r[5], str)) for r in rows)
