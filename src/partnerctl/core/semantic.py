"""Registry changes by meaning: a diff, its description, and a three-way merge.

Everything here works on registry documents as ``tomllib`` parses them (plain
dicts) and does no I/O. A document has:

- ``registry``: the head, a table of fields (``owner``, ``country``);
- ``partnerships``: ``{id: table}``;
- any other top-level table (``themes``, ``networks``): a vocabulary
  ``{slug: label}``. A label is opaque, compared by equality (it may become a
  ``{lang: label}`` table).

Inside a table (the head, a partnership, an event, a contact) no field name is
known here; a field's kind comes from its values, so new fields of the model
need no change here:

- a list of strings is a *list field*, set-like: items are added or removed
  (an absent field is an empty list; order is not a change);
- a list of tables that all hold a string ``id`` (events), or else all hold a
  string ``name`` (contacts, keyed by the folded name, ``names.fold``), with
  no key twice, is a list of *rows*: added, removed or changed one by one;
- anything else is a *scalar*, set, changed or unset as a whole.

TOML has no null, so ``None`` always means "absent" (in changes, conflicts and
their JSON).

Conflict report (what ``partnerctl merge-file``, the git merge driver, does with
``merge3``'s conflicts): the driver writes the merged registry in canonical form,
holding OURS' value at every conflict (so it is valid and every command reads
it), and writes ``<registry>.conflicts.json`` beside the registry: the JSON of
``conflict_report``, one entry per conflict with its path and the base, ours
and theirs values (``null`` = absent). It then exits 1, so git marks the file
as conflicted (``git status``: "both modified"; the report shows as an untracked
file). ``partnerctl validate`` treats an existing report as a problem (exit 3)
and lists its conflicts (``describe_conflicts``) until it is resolved: edit the
registry to the wanted values, delete the report, ``git add`` the registry.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from partnerctl.core.names import fold

Path = tuple[str, ...]

HEAD = "registry"
PARTNERSHIPS = "partnerships"
# What the head/vocabulary line of ``describe`` starts with: not a slug, so never a partnership's id.
HEAD_LINE = "(registry)"

# The kinds of change (Change.kind), a closed set.
FIELD_SET, FIELD_CHANGED, FIELD_UNSET = "field-set", "field-changed", "field-unset"
ITEMS_CHANGED = "items-changed"
TERM_ADDED, TERM_REMOVED, TERM_RELABELLED = "term-added", "term-removed", "term-relabelled"
PARTNERSHIP_ADDED, PARTNERSHIP_REMOVED = "partnership-added", "partnership-removed"
# Rows: events, contacts, and "row" for a list of tables the model may gain.
_ROW_NOUNS = {"events": "event", "contacts": "contact"}
ROW_KINDS = frozenset(f"{noun}-{what}" for noun in (*_ROW_NOUNS.values(), "row")
                      for what in ("added", "removed", "changed"))
KINDS = frozenset({FIELD_SET, FIELD_CHANGED, FIELD_UNSET, ITEMS_CHANGED, TERM_ADDED, TERM_REMOVED,
                   TERM_RELABELLED, PARTNERSHIP_ADDED, PARTNERSHIP_REMOVED}) | ROW_KINDS

_LIST = "list"
# The keys a row can be known by, tried in this order, and how each is compared.
_ROW_KEYS: dict[str, Callable[[str], str]] = {"id": lambda key: key, "name": fold}


@dataclass(frozen=True)
class Change:
    """One change by meaning.

    *path* locates what changed, from the document's top: ``("registry", "owner")``,
    ``("themes", "light")``, ``("partnerships", "turin")``, ``("partnerships", "turin",
    "status")``, ``("partnerships", "turin", "events", "2026-10-alice-visit")``, a
    contact by its name as written. *old* / *new*: the value before / after
    (None: absent). *added* / *removed*: the items of a list field. *changes*: the
    field changes of a changed row, with their full paths.
    """

    kind: str
    path: Path
    old: Any = None
    new: Any = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The change as JSON data: ``kind`` and ``path`` always, the other keys when they say something."""
        data: dict[str, Any] = {"kind": self.kind, "path": list(self.path)}
        if self.old is not None:
            data["old"] = jsonable(self.old)
        if self.new is not None:
            data["new"] = jsonable(self.new)
        if self.added:
            data["added"] = list(self.added)
        if self.removed:
            data["removed"] = list(self.removed)
        if self.changes:
            data["changes"] = [c.to_json() for c in self.changes]
        return data


@dataclass(frozen=True)
class Conflict:
    """A place both sides of a merge changed differently: the merged document holds *ours* there.

    *path* as in Change; *base*, *ours*, *theirs*: the three values (None: absent;
    a whole table when a partnership, event or contact was removed on one side and
    changed on the other).
    """

    path: Path
    base: Any
    ours: Any
    theirs: Any

    @property
    def where(self) -> str:
        """The path as a dotted TOML key: ``partnerships.turin.contacts."Ann Smith".email``."""
        return ".".join(_toml_key(part) for part in self.path)

    def to_json(self) -> dict[str, Any]:
        """The conflict as JSON data (``null`` for an absent value)."""
        return {"path": list(self.path), "where": self.where, "base": jsonable(self.base),
                "ours": jsonable(self.ours), "theirs": jsonable(self.theirs)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conflict:
        """The conflict that ``to_json`` gave *data* for (reading a conflict report back)."""
        return cls(tuple(data["path"]), data.get("base"), data.get("ours"), data.get("theirs"))


def jsonable(value: Any) -> Any:
    """*value* with TOML's date and time values as ISO strings, so ``json.dumps`` takes it."""
    if isinstance(value, dict):
        return {key: jsonable(v) for key, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------- kinds of values

def _keys(*tables: dict[str, Any]) -> list[str]:
    """The keys of *tables*, each once, in the order of the first table, then of the next..."""
    return list(dict.fromkeys(key for table in tables for key in table))


def _in_order(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys of *new* in its order, each key only *old* has placed after the key it followed there."""
    order = list(new)
    for at, key in enumerate(old):
        if key not in new:
            before = next((k for k in reversed(list(old)[:at]) if k in order), None)
            order.insert(order.index(before) + 1 if before is not None else 0, key)
    return order


def _field_kind(*values: Any) -> str | None:
    """What the values of one field are: ``_LIST``, a row key (``"id"``, ``"name"``), or None (a scalar)."""
    present = [v for v in values if v is not None]
    if not present or not all(isinstance(v, list) for v in present):
        return None
    items = [item for v in present for item in v]
    if all(isinstance(item, str) for item in items):
        return _LIST
    if all(isinstance(item, dict) for item in items):
        for key, norm in _ROW_KEYS.items():
            if all(isinstance(item.get(key), str) for item in items) and all(
                    len({norm(row[key]) for row in v}) == len(v) for v in present):
                return key
    return None


def _rows_by_key(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    norm = _ROW_KEYS[key]
    return {norm(row[key]): row for row in rows}


def _row_noun(list_name: str) -> str:
    return _ROW_NOUNS.get(list_name, "row")


def _all_tables(*values: Any) -> bool:
    return all(isinstance(v, dict) for v in values if v is not None)


# ---------------------------------------------------------------------------- diff

def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[Change]:
    """The changes by meaning from registry document *old* to *new* (None: no registry, an empty one).

    In document order: the head's fields, each vocabulary's entries, then the
    partnerships by id (each partnership's changes in the order of its fields,
    rows added or changed in the new order, then rows removed).
    """
    old, new = old or {}, new or {}
    changes: list[Change] = []
    for name in _keys(old, new):
        o, n = old.get(name), new.get(name)
        if o == n:
            continue
        if not _all_tables(o, n):
            changes += _diff_field((name,), o, n)
        elif name == PARTNERSHIPS:
            changes += _diff_partnerships(o or {}, n or {})
        elif name == HEAD:
            changes += _diff_table((name,), o or {}, n or {})
        else:
            changes += _diff_terms(name, o or {}, n or {})
    return changes


def _diff_partnerships(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for pid in sorted(old.keys() | new.keys()):
        o, n = old.get(pid), new.get(pid)
        if o == n:
            continue
        path = (PARTNERSHIPS, pid)
        if o is None:
            changes.append(Change(PARTNERSHIP_ADDED, path, new=n))
        elif n is None:
            changes.append(Change(PARTNERSHIP_REMOVED, path, old=o))
        elif isinstance(o, dict) and isinstance(n, dict):
            changes += _diff_table(path, o, n)
        else:
            changes += _diff_field(path, o, n)
    return changes


def _diff_terms(vocabulary: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for slug in _keys(old, new):
        o, n = old.get(slug), new.get(slug)
        if o == n:
            continue
        kind = TERM_ADDED if o is None else TERM_REMOVED if n is None else TERM_RELABELLED
        changes.append(Change(kind, (vocabulary, slug), old=o, new=n))
    return changes


def _diff_table(path: Path, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """The field changes of one table (the head, a partnership, a row): new's field order, then removed ones."""
    changes: list[Change] = []
    for name in _in_order(old, new):
        o, n = old.get(name), new.get(name)
        if o != n:
            changes += _diff_field(path + (name,), o, n)
    return changes


def _diff_field(path: Path, old: Any, new: Any) -> list[Change]:
    kind = _field_kind(old, new)
    if kind == _LIST:
        before, after = old or [], new or []
        added = tuple(dict.fromkeys(item for item in after if item not in before))
        removed = tuple(dict.fromkeys(item for item in before if item not in after))
        return [Change(ITEMS_CHANGED, path, added=added, removed=removed)] if added or removed else []
    if kind is not None:
        return _diff_rows(path, old or [], new or [], kind)
    if old is None:
        return [Change(FIELD_SET, path, new=new)]
    if new is None:
        return [Change(FIELD_UNSET, path, old=old)]
    return [Change(FIELD_CHANGED, path, old=old, new=new)]


def _diff_rows(path: Path, old: list[dict[str, Any]], new: list[dict[str, Any]], key: str) -> list[Change]:
    noun = _row_noun(path[-1])
    before, after = _rows_by_key(old, key), _rows_by_key(new, key)
    changes: list[Change] = []
    for k, row in after.items():
        prior = before.get(k)
        here = path + (row[key],)
        if prior is None:
            changes.append(Change(f"{noun}-added", here, new=row))
        elif prior != row:
            inner = _diff_table(here, prior, row)
            if inner:  # a row whose lists only changed order has not changed
                changes.append(Change(f"{noun}-changed", here, changes=tuple(inner)))
    changes += [Change(f"{noun}-removed", path + (row[key],), old=row) for k, row in before.items() if k not in after]
    return changes


# ---------------------------------------------------------------------------- describe

# A value shown as it is (``active``, ``2026-10``, ``https://...``); anything else is quoted.
_BARE = re.compile(r"[\w.:/@+#%=?&~-]+")
_SHOWN_LENGTH = 100


def _show(value: Any) -> str | None:
    """*value* for a one-line description: bare, or quoted by ``repr`` (which escapes control, bidi
    and invisible characters); None when it is too long or spans lines (then only its field is named)."""
    value = jsonable(value)
    if isinstance(value, str):
        if "\n" in value or len(value) > _SHOWN_LENGTH:
            return None
        return value if _BARE.fullmatch(value) else repr(value)
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_LENGTH else None


def _show_key(key: str) -> str:
    """An id, slug or contact name as part of a description: bare, else quoted."""
    return key if _BARE.fullmatch(key) else repr(key)


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 1 else name


def _phrases(change: Change) -> list[str]:
    """*change* in words: usually one phrase, two for a list field that gained and lost items."""
    kind, field = change.kind, change.path[-1]
    if kind == ITEMS_CHANGED:
        return ([f"+ {field} {', '.join(_show_key(i) for i in change.added)}"] if change.added else []) + \
               ([f"- {field} {', '.join(_show_key(i) for i in change.removed)}"] if change.removed else [])
    if kind == FIELD_SET:
        shown = _show(change.new)
        return [f"+ {field}" + (f" {shown}" if shown is not None else "")]
    if kind == FIELD_UNSET:
        shown = _show(change.old)
        return [f"- {field}" + (f" {shown}" if shown is not None else "")]
    if kind == FIELD_CHANGED:
        old, new = _show(change.old), _show(change.new)
        return [f"{field} {old} → {new}" if old is not None and new is not None else f"{field} changed"]
    if kind in (TERM_ADDED, TERM_REMOVED, TERM_RELABELLED):
        term = f"{_singular(change.path[0])} {_show_key(field)}"
        if kind == TERM_ADDED:
            return [f"+ {term} {_label(change.new)}"]
        if kind == TERM_REMOVED:
            return [f"- {term}"]
        return [f"{term} {_label(change.old)} → {_label(change.new)}"]
    if kind == PARTNERSHIP_ADDED:
        return ["+ partnership"]
    if kind == PARTNERSHIP_REMOVED:
        return ["- partnership"]
    noun, what = kind.rsplit("-", 1)
    row = f"{noun} {_show_key(field)}"
    if what == "added":
        return [f"+ {row}"]
    if what == "removed":
        return [f"- {row}"]
    return [f"{row} ({'; '.join(p for c in change.changes for p in _phrases(c))})"]


def _label(value: Any) -> str:
    # Labels are always quoted: a bare label would read as part of the sentence. A label per
    # language reads 'Urban mobility' (fr 'Mobilité urbaine'), English first.
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        first = "en" if "en" in value else next(iter(value))
        others = [f"{lang} {value[lang]!r}" for lang in value if lang != first and value[lang] != value[first]]
        shown = repr(value[first]) + (f" ({', '.join(others)})" if others else "")
        return shown if len(shown) <= _SHOWN_LENGTH else "(long label)"
    shown = repr(jsonable(value))
    return shown if len(shown) <= _SHOWN_LENGTH else "(long label)"


def describe(changes: Iterable[Change]) -> list[str]:
    """One line per partnership changed, and one first for the head and vocabularies.

    ``turin: + event 2026-10-alice-visit; status active → suspended; + themes light``;
    ``(registry): owner Lyon → 'Greater Lyon'; + theme light 'Light'``. A partnership's
    rows (events, contacts) come first, then its fields. Values are bare words or
    quoted (``repr``, which escapes control and invisible characters); a long or
    multi-line value is not repeated (``summary changed``).
    """
    head: list[str] = []
    partners: dict[str, tuple[list[str], list[str]]] = {}
    for change in changes:
        if change.path[0] == PARTNERSHIPS and len(change.path) > 1:
            rows, fields = partners.setdefault(change.path[1], ([], []))
            (rows if change.kind in ROW_KINDS else fields).extend(_phrases(change))
        else:
            head += _phrases(change)
    lines = [f"{HEAD_LINE}: " + "; ".join(head)] if head else []
    lines += [f"{pid}: " + "; ".join(rows + fields) for pid, (rows, fields) in partners.items()]
    return lines


# ---------------------------------------------------------------------------- merge

def merge3(base: dict[str, Any] | None, ours: dict[str, Any] | None,
           theirs: dict[str, Any] | None) -> tuple[dict[str, Any], list[Conflict]]:
    """Merge two registry documents changed from *base* (None: no common version, an empty one).

    Per partnership (by id), event (by id), contact (by folded name), vocabulary
    entry and field: a change made on one side only is taken; both sides making
    the same change is taken once; list fields take both sides' additions and
    removals (ours' order, then theirs' additions). A conflict is a scalar both
    changed differently, or a partnership, event, contact or vocabulary entry
    removed on one side and changed on the other: the merged document keeps ours'
    value there and the conflict is returned. Entries added on both sides with the
    same key are merged field by field against an empty base.
    """
    merge = _Merge()
    return merge.entries((), base or {}, ours or {}, theirs or {}, merge.section), merge.conflicts


class _Merge:
    """One three-way merge: the functions below, and the conflicts they found."""

    def __init__(self) -> None:
        self.conflicts: list[Conflict] = []

    def conflict(self, path: Path, base: Any, ours: Any, theirs: Any) -> Any:
        self.conflicts.append(Conflict(path, base, ours, theirs))
        return ours

    def entries(self, path: Path, base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any],
                both_changed: Callable[[Path, Any, Any, Any], Any],
                shown: Callable[[str], str] = lambda key: key) -> dict[str, Any]:
        """Merge keyed entries (sections, partnerships, rows, vocabulary entries, fields): a change on one
        side is taken, and *both_changed* merges what both changed; *shown* names a key in paths."""
        merged: dict[str, Any] = {}
        for key in _keys(ours, theirs, base):
            b, o, t = base.get(key), ours.get(key), theirs.get(key)
            if o == t or t == b:
                value = o
            elif o == b:
                value = t
            else:
                value = both_changed(path + (shown(key),), b, o, t)
            if value is not None:
                merged[key] = value
        return merged

    def section(self, path: Path, base: Any, ours: Any, theirs: Any) -> Any:
        """A top-level table both changed: an absent one is empty (a vocabulary may be left out)."""
        if not _all_tables(base, ours, theirs):
            return self.conflict(path, base, ours, theirs)
        b, o, t = base or {}, ours or {}, theirs or {}
        if path == (PARTNERSHIPS,):
            return self.entries(path, b, o, t, self.record)
        if path == (HEAD,):
            return self.table(path, b, o, t)
        return self.entries(path, b, o, t, self.conflict)  # a vocabulary: labels are opaque

    def record(self, path: Path, base: Any, ours: Any, theirs: Any) -> Any:
        """A partnership or row both changed: removed on one side is a conflict; added on both, or changed
        on both, merges field by field."""
        if isinstance(ours, dict) and isinstance(theirs, dict) and isinstance(base, (dict, type(None))):
            return self.table(path, base or {}, ours, theirs)
        return self.conflict(path, base, ours, theirs)

    def table(self, path: Path, base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
        return self.entries(path, base, ours, theirs, self.field)

    def field(self, path: Path, base: Any, ours: Any, theirs: Any) -> Any:
        """A field both changed: list fields and rows merge, a scalar is a conflict."""
        kind = _field_kind(base, ours, theirs)
        if kind == _LIST:
            return _merge_items(base or [], ours or [], theirs or []) or None
        if kind is not None:
            return self.rows(path, kind, base or [], ours or [], theirs or []) or None
        return self.conflict(path, base, ours, theirs)

    def rows(self, path: Path, key: str, base: list[dict[str, Any]], ours: list[dict[str, Any]],
             theirs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        b, o, t = (_rows_by_key(rows, key) for rows in (base, ours, theirs))
        # A row is named in paths by its key as one side wrote it (ours', else theirs', else base's).
        names = {k: row[key] for rows in (b, t, o) for k, row in rows.items()}
        return list(self.entries(path, b, o, t, self.record, names.__getitem__).values())


def _merge_items(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """A list field merged: ours' items less those theirs removed, then theirs' additions."""
    gone = set(base) - set(theirs)
    merged = [item for item in ours if item not in gone]
    seen, before = set(merged), set(base)
    for item in theirs:
        if item not in seen and item not in before:
            merged.append(item)
            seen.add(item)
    return merged


# ---------------------------------------------------------------------------- conflicts

REPORT_FORMAT = "partnerctl-conflicts"
REPORT_VERSION = 1


def conflict_report(conflicts: Iterable[Conflict]) -> dict[str, Any]:
    """The conflict report's JSON data (design: this module's docstring)."""
    return {"format": REPORT_FORMAT, "version": REPORT_VERSION,
            "conflicts": [conflict.to_json() for conflict in conflicts]}


def report_conflicts(report: dict[str, Any]) -> list[Conflict]:
    """The conflicts of a report that ``conflict_report`` made; ValueError if *report* is not one."""
    try:
        if report.get("format") != REPORT_FORMAT:
            raise ValueError(f"not a {REPORT_FORMAT} report")
        return [Conflict.from_json(entry) for entry in report["conflicts"]]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a {REPORT_FORMAT} report ({exc.__class__.__name__})") from None


def describe_conflicts(conflicts: Iterable[Conflict]) -> list[str]:
    """One line per conflict: ``partnerships.turin.status: ours 'active', theirs 'suspended' (base unset)``.

    A whole partnership, event or contact removed on one side and changed on the
    other reads ``ours removed, theirs changed (title 'A' → 'B')``.
    """
    lines = []
    for c in conflicts:
        base = ("" if isinstance(c.base, dict) else " (base unset)" if c.base is None
                else f" (base {repr(jsonable(c.base))})")
        lines.append(f"{c.where}: ours {_side(c.path, c.base, c.ours)}, theirs {_side(c.path, c.base, c.theirs)}{base}")
    return lines


def _side(path: Path, base: Any, value: Any) -> str:
    if value is None:
        return "removed" if isinstance(base, dict) else "unset"
    if isinstance(value, dict) and isinstance(base, (dict, type(None))):
        inner = "; ".join(p for c in _diff_table(path, base or {}, value) for p in _phrases(c))
        return f"{'added' if base is None else 'changed'} ({inner})"
    return repr(jsonable(value))


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(part: str) -> str:
    """One key of a dotted TOML key: bare, else a basic string with control and invisible characters escaped."""
    if _BARE_KEY.fullmatch(part):
        return part
    escaped = "".join(
        "\\\\" if c == "\\" else '\\"' if c == '"' else c if c.isprintable() else f"\\u{ord(c):04x}"
        if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in part)
    return f'"{escaped}"'
