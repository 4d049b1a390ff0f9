"""What an index holds, row by row, to compare an index kept by writes with one built from scratch."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Where a partnership's search rows sit (rowids) is bookkeeping: it differs after a
# one-block write, while what the rows say must not (nor their hashes, which leave it out);
# index_meta's own hash covers search_next.
_BOOKKEEPING = {"index_records": "id, h, pos, owner_key, country_key, region_key, events, haystack, city, "
                                 "aliases, country, region, owner, status, since, projects, themes, networks, "
                                 "record_h, record",
                "index_meta": "* FROM index_meta WHERE key NOT IN ('search_next', 'check')"}


def index_contents(db: Path | str) -> dict[str, list[str]]:
    """Every row of every table (FTS shadow tables aside), sorted; checks the search rowid ranges."""
    con = sqlite3.connect(db)
    tables = [name for (name,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_%'")]
    rows = {}
    for table in tables:
        what = _BOOKKEEPING.get(table, "*")
        sql = f"SELECT {what}" if " FROM " in what else f"SELECT {what} FROM {table}"  # noqa: S608
        rows[table] = sorted(map(repr, con.execute(sql)))
    # Each partnership's recorded range holds exactly its own search rows.
    for pid, first, count in con.execute("SELECT id, search_first, search_count FROM index_records"):
        owners = con.execute("SELECT partnership_id FROM search WHERE rowid >= ? AND rowid < ?",
                             (first, first + count)).fetchall()
        assert owners == [(pid,)] * count, (pid, owners)
    total = con.execute("SELECT sum(search_count) FROM index_records").fetchone()[0] or 0
    assert con.execute("SELECT count(*) FROM search").fetchone()[0] == total
    con.close()
    return rows
