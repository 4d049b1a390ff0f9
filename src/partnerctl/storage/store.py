"""Where the registry is, reading it, and the one write pipeline.

``write(location, change)`` is every write of partnerctl. Its steps, once:
the target (``writable_target``: never the bundled sample, never a read-only
file or folder), the lock (``files.locked``: one writer at a time, waiting in
the kernel), the read of the file as it is now (so concurrent writers never
lose an update), the change (a function of a ``Draft``, see ``core.edit``),
the new text, its validation exactly as the next read will see it, the commit
(``files.write_atomic``: temporary file, fsync, the previous version kept in the
undo journal and as ``<registry>.bak``, rename), and the index brought up to date.

The pipeline chooses how to do it. With a current index of a canonical file
and a change that does not need every partnership, the change runs on a
``BlockDraft``: only the head and the blocks it touches are read (each checked
against the hash the index recorded), validated, written again and spliced
between the untouched bytes (the new file is those pieces, ``NewFile``, hashed and
written as they are: a 30 MB registry is never copied in memory), and the index
is updated for those blocks alone.
Otherwise it runs on a ``FullDraft`` of the whole registry, loaded and
validated, and the file is written whole in canonical form. The change runs
once either way; the result is the same bytes.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from partnerctl.core.errors import InvalidInput, Problem, RegistryInvalid, WriteFailed
from partnerctl.core.i18n import _
from partnerctl.core.text import counted
from partnerctl.storage import files, location
from partnerctl.storage import toml as tomlfile

if TYPE_CHECKING:
    # The model is imported where a registry is validated: a read through the
    # index locates and reads the file here without it.
    from partnerctl.core.edit import Draft
    from partnerctl.core.model import Owner, Partnership, Registry
    from partnerctl.storage.index import ContentHash, Index

# The read side's names (storage/location.py), kept here too: the write pipeline takes a Location and
# reads the file the same way, and callers of the pipeline name them from here.
Location = location.Location
bundled_path = location.bundled_path
check_exists = location.check_exists
decode = location.decode
locate = location.locate
not_found = location.not_found
open_file = location.open_file
read_file = location.read_file
read_open = location.read_open
read_text = location.read_text

T = TypeVar("T")
# A waiting writer is queued in the kernel and a dead holder releases the lock: waiting long costs only time,
# giving up loses what the person typed. 80 writers on a 2-core machine at load ~60 all landed within 140 s.
DEFAULT_LOCK_TIMEOUT = 300.0

# A progress callback: (stage, done, total or None when unknown). Long writes (import) call
# it from each stage, so a progress bar on a terminal moves and says what is going on.
Progress = Callable[[str, int, int | None], None]


def no_progress(stage: str, done: int, total: int | None) -> None:
    """The progress callback that shows nothing."""


def check_text(text: str, name: str,
               tick: Callable[[int, int], None] | None = None) -> tuple[Registry | None, list[Problem]]:
    """Parse and validate registry text: the registry, or None and every problem.

    *tick* gets (partnerships validated, total) as validation goes (``model.parse_registry``).
    """
    from partnerctl.core.model import validate_registry
    from partnerctl.storage import index

    data, problems = tomlfile.parse(text, name)
    if data is None:
        return None, problems
    index.prepare_validators()  # from the kept schemas: building them costs more than a small registry's check
    reg, problems = validate_registry(data, tick)
    located = [Problem(f"{name}: {p.where}", p.message, tomlfile.line_of(text, p.where)) for p in problems]
    return reg, located


def parse_document(data: bytes, name: str) -> dict[str, Any]:
    """Registry bytes as a TOML document (not validated); RegistryInvalid naming the problem when they are not."""
    parsed, problems = tomlfile.parse(decode(data, Path(name)), name)
    if parsed is None:
        raise _invalid(problems)
    return parsed


def _invalid(problems: list[Problem]) -> RegistryInvalid:
    more = (_(" (and {count}; run 'partnerctl validate')").format(count=counted(len(problems) - 1, "more problem"))
            if len(problems) > 1 else "")
    return RegistryInvalid(_("invalid registry: {problems}{more}").format(problems=problems[0], more=more), problems)


def parse_valid(text: str, name: str, tick: Callable[[int, int], None] | None = None) -> Registry:
    """The registry in *text*, or RegistryInvalid naming the first problem (*tick*: see ``check_text``)."""
    reg, problems = check_text(text, name, tick)
    if reg is None:
        raise _invalid(problems)
    return reg


def load(path: Path) -> Registry:
    """Load and validate the registry at *path*."""
    return parse_valid(read_text(path), str(path))


def read_head(path: Path) -> Registry:
    """The head of the registry at *path* (owner, vocabularies, country aliases) without its partnerships:
    from its index when current, else from the file, parsed and its head alone validated."""
    from dataclasses import replace

    from partnerctl.core.model import Registry, validate
    from partnerctl.storage import index

    data, st = read_file(path)
    if index.enabled():
        idx = index.open_current(path, st, lambda: (data, st))
        if idx is not None:
            idx.close()
            return idx.registry_head()
    parsed, problems = tomlfile.parse(decode(data, path), str(path))
    if parsed is None:
        raise _invalid(problems)
    try:
        head = validate(Registry, {k: v for k, v in parsed.items() if k != "partnerships"})
    except Exception:  # noqa: BLE001 - whatever is wrong, the full load says it with every problem
        return load(path)
    return replace(head, partnerships={})


def initial_text(sample: bool, owner: str | None, country: str | None,
                 name: str | None = None) -> tuple[str, str]:
    """What ``init`` writes, and how to say it: a copy of the bundled sample, or an empty registry with the
    sample's theme vocabulary and world regions: of *owner* (in *country*), or named *name* for many owners."""
    from partnerctl.core.edit import new_registry

    if sample and (owner or country or name):
        raise InvalidInput(_("--sample copies the Lyon registry: give no --owner, --country or --name with it"))
    if sample:
        return read_text(bundled_path()), _("a copy of the Lyon sample")
    if owner is None and name is None:
        raise InvalidInput(_("give --owner CITY and --country COUNTRY for one city's registry, --name NAME for "
                             "a registry of many owners, or --sample"))
    if owner is not None and country is None:
        raise InvalidInput(_("give the owner's --country too (a code, a name or an alias: FR, France)"))
    if owner is None and country is not None:
        raise InvalidInput(_("--country is the owner's country: give --owner with it"))
    sample_reg = load(bundled_path())
    # The theme and region vocabularies with their labels in every language; no networks.
    translations = {lang: {kind: labels[kind] for kind in ("themes", "regions") if kind in labels}
                    for lang, labels in sample_reg.translations.items()}
    reg = new_registry(owner, country, sample_reg.themes, name=name, regions=sample_reg.regions,
                       translations={lang: t for lang, t in translations.items() if t})
    what = (_("empty, owner {owner}").format(owner=owner) if owner
            else _("empty, {name!r}, for many owners").format(name=name))
    return tomlfile.dump(reg), what


def writable_target(loc: Location) -> Path:
    """The file a write replaces (a symbolic link's target); WriteFailed or RegistryInvalid when it cannot be."""
    if loc.bundled:
        raise WriteFailed(
            _("the bundled Lyon registry ({path}) is read-only; copy it (partnerctl init PATH --sample) "
              "and choose the copy: partnerctl use PATH (or --registry PATH)").format(path=loc.path)
        )
    # Write through a symbolic link to its target instead of replacing the link.
    target = Path(os.path.realpath(loc.path))
    if not target.parent.is_dir():
        # Nothing there to read: the same exit 3 as a missing file (and as a read of that path).
        raise RegistryInvalid(_("registry not found: {path} (folder {parent} does not exist)").format(
            path=loc.path, parent=target.parent))
    check_exists(loc)
    files.refuse_read_only(target, loc.path)
    return target




@dataclass
class Change(Generic[T]):
    """A change to make: a function of a Draft returning what the command reports.

    *whole*: it needs every partnership (``Draft.everything``), so it always runs
    on the whole registry (import, ``fmt``).
    """

    fn: Callable[[Draft], T]
    whole: bool = False
    # Run on the parsed document before it is validated (``upgrade``: a file written before the model
    # changed). Only with *whole*: the file is read in full.
    prepare: Callable[[dict[str, Any]], None] | None = None
    # ``fmt``: every block written again in canonical form (comments above blocks kept).
    reformat: bool = False


@dataclass(frozen=True)
class NewFile:
    """A write's new file: its bytes as pieces written one after another (spans of the old file's bytes,
    not copied, and the blocks written again), and how many of its first bytes are the old file's.

    A one-block write of a 30 MB registry never joins them: they are hashed (``index.ContentHash``),
    compared with the old bytes and written (``files.write_atomic``) as they are.
    """

    pieces: files.Pieces
    same: int = 0

    @classmethod
    def whole(cls, data: bytes) -> NewFile:
        """A new file written whole."""
        return cls([data])

    def size(self) -> int:
        """Its length in bytes."""
        return sum(len(piece) for piece in self.pieces)

    def equals(self, old: bytes) -> bool:
        """Whether its bytes are exactly *old* (compared where they lie: nothing joined or copied)."""
        if self.size() != len(old):
            return False
        at = 0
        for piece in self.pieces:
            if at + len(piece) > self.same and not old.startswith(piece, at):
                return False
            at += len(piece)
        return True

    def join(self) -> bytes:
        """Its bytes in one piece (a diff, ``fmt``'s report)."""
        if len(self.pieces) == 1 and isinstance(self.pieces[0], bytes):
            return self.pieces[0]
        return b"".join(self.pieces)


@dataclass
class Written(Generic[T]):
    """What a write did: the change's result, the old bytes and the new file, and whether it was written."""

    result: T
    old_data: bytes
    new: NewFile
    written: bool

    @functools.cached_property
    def new_data(self) -> bytes:
        """The file's bytes after the write (joined when first asked)."""
        return self.new.join()

    # Decoded only when asked (fmt, a diff): decoding a 33 MB registry twice is most of a one-block write.
    @property
    def old_text(self) -> str:
        """The file's text before the write (UTF-8: the write read it as such)."""
        return self.old_data.decode("utf-8")

    @property
    def new_text(self) -> str:
        """The file's text after the write."""
        return self.new_data.decode("utf-8")

    def diff(self, name: str) -> str:
        """A unified diff from the old to the new text (empty when nothing changes)."""
        return "".join(difflib.unified_diff(
            self.old_text.splitlines(keepends=True), self.new_text.splitlines(keepends=True),
            fromfile=name, tofile=f"{name} (new)"))


# Set once a registry write has landed in this process: from then on, a failure (to print the
# result, say) must not be reported as a failed write (see cli.app's error mapping).
LANDED: list[Path] = []


def write(loc: Location, change: Change[T], *, dry_run: bool = False,
          lock_timeout: float = DEFAULT_LOCK_TIMEOUT, backup: bool = True,
          progress: Progress = no_progress) -> Written[T]:
    """Apply *change* to the registry at *loc* under the lock and write the result (see the module's steps).

    An invalid result raises InvalidInput and leaves the file untouched. *dry_run*
    does everything but the commit. *progress* hears of each stage of a long write.
    The previous version goes to the undo journal (``files.journal_push``).
    """
    # Everything the write needs is imported and built before the lock: other writers wait as little as can be.
    from partnerctl.core import edit, model, query  # noqa: F401 - the changes and drafts use them
    from partnerctl.storage import index

    index.prepare_validators()

    target = loc.path if dry_run else writable_target(loc)
    with nullcontext() if dry_run else files.locked(target, lock_timeout):
        data, st = read_file(target)
        # The old bytes are hashed only if the index's key needs it, once; the new file's hash starts from there.
        old_hash = index.ContentHash(data)
        block = (_block_draft(target, data, st, str(loc.path), old_hash)
                 if index.enabled() and not change.whole else None)
        draft: FullDraft | BlockDraft | None = block
        if block is not None:
            try:
                result, new = _run(change, block, data, progress)
            except _Retry:
                draft = None  # the index turned out damaged: the file decides, from the start
            except Exception:
                if not block.stale():
                    raise
                draft = None  # the index was not the file's: what the change was told does not count
            else:
                if block.stale():
                    draft = None
        if draft is None:
            progress(_("reading the registry"), 0, None)
            draft = FullDraft(_prepared(decode(data, loc.path), str(loc.path), change.prepare)
                              if change.prepare is not None else
                              parse_valid(decode(data, loc.path), str(loc.path),
                                          _ticker(progress, _("reading the registry"))), change.reformat)
            result, new = _run(change, draft, data, progress)
        written = not dry_run and not new.equals(data)
        if written:
            progress(_("writing the registry"), 0, None)
            # One SHA-256 of the new bytes, the journal entry's name and the index's key, hashed while
            # they are written and synced (hashlib and the writes let go of the GIL).
            hashing = index.Background(lambda: old_hash.of_copy(new.pieces, new.same))
            entries: list[files.JournalEntry] = []

            def keep_previous() -> None:
                entries.append(files.journal_push(target, data, new_hash=hashing.result(), linked=True))

            try:
                files.write_atomic(target, new.pieces, backup=backup, shown=loc.path, before_rename=keep_previous)
            except BaseException:
                # Nothing was written: the journal keeps no version of a write that did not happen.
                for entry in entries:
                    with contextlib.suppress(OSError):
                        entry.file.unlink()
                raise
            finally:
                new_hash = hashing.result()
            LANDED.append(target)
            new_st = os.stat(target)  # the stat of what this write made (the index's key holds it)
    # The index has its own lock and key check: it is brought up to date after the registry's lock is
    # released, so the next writer need not wait for it (if that writer is first, this update is refused
    # by the key check and the next read catches up).
    if written and index.enabled():
        progress(_("updating the index"), 0, None)
        draft.reindex(target, new, new_st, new_hash)
    return Written(result, data, new, written)


def _prepared(text: str, name: str, prepare: Callable[[dict[str, Any]], None]) -> Registry:
    """The registry in *text* once *prepare* has changed the parsed document, validated."""
    from partnerctl.core.model import validate_registry

    data, problems = tomlfile.parse(text, name)
    if data is None:
        raise _invalid(problems)
    prepare(data)
    reg, problems = validate_registry(data)
    if reg is None:
        raise _invalid([Problem(f"{name}: {p.where}", p.message, p.line) for p in problems])
    return reg


def undo(loc: Location, *, force: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
         backup: bool = True) -> tuple[Any, bytes, bytes]:
    """Put back the version the last write through partnerctl replaced (``files.undo``).

    Returns (the journal entry used, the bytes before, the bytes put back). The
    version put back is validated first; the undo itself is not journalled (a
    second undo goes one write further back).
    """
    from partnerctl.storage import index

    target = writable_target(loc)
    restored: list[tuple[bytes, Registry, os.stat_result]] = []

    def put_back(old: bytes) -> None:
        reg = parse_valid(decode(old, loc.path), f"{loc.path} (previous version)")
        files.write_atomic(target, old, backup=backup, shown=loc.path)
        LANDED.append(target)
        restored.append((old, reg, os.stat(target)))

    with files.locked(target, lock_timeout):
        current, _ = read_file(target)
        entry = files.undo(target, current, put_back, force=force)
    old, reg, st = restored[0]
    if index.enabled():
        index.save(target, reg, old, st)
    return entry, current, old


def _block_draft(target: Path, data: bytes, st: os.stat_result, name: str,
                 old_hash: ContentHash) -> BlockDraft | None:
    """A BlockDraft when the index is current, intact and the file canonical; else None (after a discard).

    *old_hash* hashes *data* if the index's key needs it (the new file's hash then starts from it)."""
    from partnerctl.storage import index

    later: list[ContentHash] = []

    def hash_meanwhile(_data: bytes) -> None:
        # The file's stat does not vouch for its bytes: they are hashed while the change runs, and compared
        # with the index's key before anything the index said is used (``BlockDraft.stale``).
        old_hash.start()
        later.append(old_hash)

    idx = index.open_current(target, st, lambda: (data, st), hasher=hash_meanwhile)
    if idx is None:
        return None
    try:
        draft = BlockDraft.open(idx, data, name, target)
        draft.unverified = later[0] if later else None
        return draft
    except index.FAULTS:
        idx.close()
        index.discard(target)
        return None


def _run(change: Change[T], draft: FullDraft | BlockDraft, data: bytes, progress: Progress) -> tuple[T, NewFile]:
    """Run *change* on *draft* once and render the new file; a BlockDraft's index fault is ``_Retry``."""
    from partnerctl.storage import index

    if isinstance(draft, FullDraft):
        result = change.fn(draft)
        return result, draft.render(data, progress)
    try:
        result = change.fn(draft)
        return result, draft.render(data, progress)
    except index.FAULTS as exc:
        draft.close()
        index.discard(draft.idx_path)
        raise _Retry from exc
    finally:
        draft.close()


class _Retry(Exception):
    """The index was found damaged during a block write; ``write`` is run again on the file."""


def _ticker(progress: Progress, stage: str) -> Callable[[int, int], None]:
    return lambda done, total: progress(stage, done, total)


def create(path: Path, text: str, *, dry_run: bool = False,
           lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> tuple[Registry, Written[None]]:
    """Write a new registry at *path* (creating its folder), validated first (``init``).

    An existing file (or link) at *path* is never replaced: WriteFailed.
    """
    reg = parse_valid(text, str(path))
    if os.path.lexists(path):
        raise WriteFailed(_("{path} already exists; not overwriting it").format(path=path))
    if not dry_run:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteFailed(_("cannot create folder {parent}: {strerror}").format(
                parent=path.parent, strerror=exc.strerror)) from None
        with files.locked(path, lock_timeout):
            files.write_atomic(path, text, exclusive=True)
        LANDED.append(path)
    return reg, Written(None, b"", NewFile.whole(text.encode("utf-8")), written=not dry_run)


# --- drafts: the registry as a change sees it ----------------------------------------------

class FullDraft:
    """Every partnership, loaded and validated: any change runs on it; the file is written whole."""

    def __init__(self, reg: Registry, reformat: bool = False) -> None:
        from partnerctl.core.model import registry_data

        self.reg = reg
        self.owner = reg.registry
        self.themes = reg.themes
        self.networks = reg.networks
        self.translations = reg.translations
        self.regions = reg.regions
        self.countries = reg.countries
        self._names: dict[str, set[str]] | None = None
        self._checked: Registry | None = None
        # What the change may have changed: the blocks written again when the file holds comments.
        self.reformat = reformat
        self.touched: set[str] = set()
        self.all_touched = False
        self.moved: dict[str, str] = {}  # a partnership removed -> the one it lives on in (rename, merge)
        self.head_before = registry_data(reg)

    def _records(self) -> Any:
        from partnerctl.core.query import snapshot

        # Resolution reads the names only (and what tells candidates apart): the models answer as records do.
        names = {pid: _facts(p) for pid, p in self.reg.partnerships.items()}
        return snapshot(self.reg, names)

    def resolve(self, text: str) -> str:
        from partnerctl.core import query

        return query.resolve(self._records(), text)

    def get(self, pid: str) -> Partnership:
        self._names = None
        self.touched.add(pid)
        return self.reg.partnerships[pid]

    def peek(self, pid: str) -> Partnership:
        return self.reg.partnerships[pid]

    def put(self, pid: str, p: Partnership) -> None:
        self._names = None
        self.touched.add(pid)
        self.reg.partnerships[pid] = p

    def has(self, pid: str) -> bool:
        return pid in self.reg.partnerships

    def add(self, pid: str, p: Partnership) -> None:
        self._names = None
        self.touched.add(pid)
        self.reg.partnerships[pid] = p

    def remove(self, pid: str, into: str | None = None) -> Partnership:
        self._names = None
        self.touched.add(pid)
        if into is not None:
            self.moved[pid] = into
        return self.reg.partnerships.pop(pid)

    def name_owners(self, key: str) -> dict[str, dict[str, Any]]:
        from partnerctl.core import query

        if self._names is None:
            self._names = {}
            for pid, p in self.reg.partnerships.items():
                for name in query.names_of(pid, p):
                    self._names.setdefault(name, set()).add(pid)
        return {pid: _facts(self.reg.partnerships[pid]) for pid in self._names.get(key, ())}

    def users(self, kind: str, slug: str) -> list[str]:
        from partnerctl.core.edit import _holds

        return [pid for pid, p in self.reg.partnerships.items()
                if _holds(p, kind, slug) or (kind == "theme" and any(slug in e.themes for e in p.events))]

    def everything(self) -> Registry:
        self.all_touched = True
        return self.reg

    def render(self, data: bytes, progress: Progress) -> NewFile:
        """The new file, checked as the next read will see it: the whole registry in canonical form, or, when
        the file holds comments, its text with only the changed blocks written again (``_kept_layout``)."""
        canonical = text = tomlfile.dump(self.reg)
        old = data.decode("utf-8")
        # A quick look first ("#" on a line outside its strings), then the whole text (multi-line strings).
        if ("#" in old and any(tomlfile.has_comment(line) for line in old.splitlines() if "#" in line)
                and tomlfile.has_comment(old)):
            text = self._kept_layout(old, canonical)
        # Validate what will be written, exactly as the next read will see it.
        progress(_("checking the new registry"), 0, None)
        new_reg, problems = check_text(text, "new registry", _ticker(progress, _("checking the new registry")))
        if new_reg is None:
            raise InvalidInput(str(problems[0]).removeprefix("new registry: "))
        # The text kept with its comments must mean exactly the registry the change made.
        if text is not canonical and tomlfile.dump(new_reg) != canonical:
            raise InvalidInput(_("partnerctl cannot keep the comments of the registry for this change; "
                                 "run 'partnerctl fmt' first, or make the change by hand"))
        self._checked = new_reg
        return NewFile.whole(text.encode("utf-8"))

    def _kept_layout(self, old: str, canonical: str) -> str:
        """*old* with the changed blocks (and head) written again canonically, the rest byte for byte.

        A comment above a block belongs to it (kept, and removed with it); the comments
        inside a block (or the head) that changes are carried into its new text
        (``storage.comments``); a partnership renamed or merged into another brings its
        comments to it. ``fmt`` (*reformat*) rewrites every block, sorted by id.
        """
        from partnerctl.core.model import Partnership, partnership_data, registry_data, validate

        layout = tomlfile.Layout.cut(old)
        if layout is None:
            raise InvalidInput(_(
                "the registry holds comments, and its blocks are not laid out one partnership after another "
                "(a partnership's tables split, or a quoted id): partnerctl cannot keep the comments while "
                "writing it; move each partnership's tables together, or remove the comments"))
        head_above, head_body = _split_above(layout.head)
        head = layout.head
        if self.reformat or registry_data(self.reg) != self.head_before:
            head = head_above + _carried([(head_body, ())], tomlfile.dump_head(self.reg), (),
                                         _("the head of the registry ([registry], [themes], [networks])"))
        # A partnership renamed or merged into another: its comments, above and inside, go to that one.
        moved: dict[str, list[tuple[str, str]]] = {}
        for pid, above, body in layout.parts:
            if pid not in self.reg.partnerships and pid in self.moved:
                moved.setdefault(self.moved[pid], []).append((pid, above + body))
        parts: list[tuple[str, str, str]] = []
        for pid, above, body in layout.parts:
            if pid not in self.reg.partnerships:
                continue  # removed, with the comments above it (or moved, above)
            new_p = self.reg.partnerships[pid]
            extra = moved.pop(pid, [])
            if extra or self.reformat or self.all_touched or pid in self.touched:
                block = tomlfile.dump_block(pid, new_p)
                # A block canonical but for its comments is kept as it is, comments and all.
                if extra or (block != body and block != tomlfile.without_comments(body)):
                    table = tomlfile.loads(above + body)["partnerships"][pid]  # parsed once already by Layout.cut
                    same = partnership_data(validate(Partnership, table)) == partnership_data(new_p)
                    if extra or not same or self.reformat:
                        above += "".join(_comment_lines(text)[0] for _other, text in extra)
                        body = _carried([(body, _block_key(pid))] + [(_comment_lines(text)[1], _block_key(other))
                                                                     for other, text in extra],
                                        block, _block_key(pid), _("the block of {id}").format(id=pid))
            parts.append((pid, above, body))
        present = {pid for pid, _, _ in parts}
        for pid in sorted(set(self.reg.partnerships) - present):
            at = next((n for n, (other, _, _) in enumerate(parts) if other > pid), len(parts))
            extra = moved.pop(pid, [])
            above = "\n" + "".join(_comment_lines(text)[0] for _other, text in extra)
            body = _carried([(_comment_lines(text)[1], _block_key(other)) for other, text in extra],
                            tomlfile.dump_block(pid, self.reg.partnerships[pid]), _block_key(pid),
                            f"the block of {pid}")
            parts.insert(at, (pid, above, body))
        if self.reformat:
            parts.sort(key=lambda part: part[0])
            parts = [(pid, above if above.startswith("\n") else "\n" + above, body) for pid, above, body in parts]
        return tomlfile.Layout(head, parts, layout.tail).text()  # checked by render, as the next read sees it

    def reindex(self, target: Path, new: NewFile, st: os.stat_result, digest: str) -> None:
        """Build the index of the new file (whose stat is *st*, whose hash *digest*), so the next read needs
        no rebuild."""
        from partnerctl.storage import index

        assert self._checked is not None
        index.save(target, self._checked, new.join(), st, digest=digest)


def _block_key(pid: str) -> tuple[str, ...]:
    """The key path of partnership *pid*'s own table (what ``comments.scan`` takes off its anchors)."""
    return ("partnerships", pid)


def _carried(olds: list[tuple[str, tuple[str, ...]]], new: str, prefix: tuple[str, ...], what: str) -> str:
    """*new* with the comments of the *olds* carried into it (``storage.comments.carry``); *new* itself when
    they hold none. InvalidInput (nothing written) in the unforeseen case that they cannot be placed."""
    olds = [(text, key) for text, key in olds if tomlfile.has_comment(text)]
    if not olds:
        return new
    from partnerctl.storage import comments

    try:
        return comments.carry(olds, new, prefix)
    except (comments.Unplaceable, ValueError, LookupError, RecursionError) as exc:  # never a traceback
        raise InvalidInput(_("{what} holds comments that partnerctl cannot place in its new text ({reason}); "
                             "move them above the block's first line and run the command again").format(
                                 what=what, reason=exc)) from None


def _comment_lines(text: str) -> tuple[str, str]:
    """The comment lines of *text*'s leading comment and blank lines (without the blank ones), and the rest."""
    above, rest = _split_above(text)
    return "".join(line for line in above.splitlines(keepends=True) if line.strip()), rest


def _split_above(text: str) -> tuple[str, str]:
    """*text*'s leading comment and blank lines, and the rest."""
    lines = text.splitlines(keepends=True)
    n = 0
    while n < len(lines) and (not lines[n].strip() or lines[n].lstrip().startswith("#")):
        n += 1
    return "".join(lines[:n]), "".join(lines[n:])


def _facts(p: Partnership) -> dict[str, Any]:
    """What resolution and the name checks read of a partnership (as the index's facts have it)."""
    return {"city": p.city, "aliases": p.aliases, "country": p.country, "owner": p.owner,
            "owner_country": p.owner_country}


@dataclass
class _Touched:
    """A partnership a BlockDraft has read: as it was (None when new) and as it is now (None when removed)."""

    before: Partnership | None
    now: Partnership | None
    block: tuple[int, int] | None = None  # where it was in the file


class BlockDraft:
    """The head and the partnerships a change asks for, read block by block through a current index.

    Every block used is found in the file by its header and checked against the
    hash the index recorded (``toml.verified_block``); a failure is the index's
    fault (``index.FAULTS``), and the write starts again on the whole file.
    """

    def __init__(self, idx: Index, data: bytes, name: str, head: Registry, head_end: int, path: Path) -> None:
        from partnerctl.core.model import registry_data

        self.idx = idx
        self.idx_path = path
        self.data = data
        self.name = name
        self.head = head
        self.head_end = head_end
        self.head_before = registry_data(head)
        self.owner: Owner = head.registry
        self.themes: dict[str, str] = head.themes
        self.networks: dict[str, str] = head.networks
        self.translations: dict[Any, Any] = head.translations
        self.regions: dict[str, str] = head.regions
        self.countries: dict[str, str] = head.countries
        self.touched: dict[str, _Touched] = {}
        self._update: Any = None
        # The old bytes' hash, computed meanwhile, when the file's stat did not vouch for them: until it is
        # compared with the index's key (``stale``), the change's outcome does not count.
        self.unverified: ContentHash | None = None

    @classmethod
    def open(cls, idx: Index, data: bytes, name: str, path: Path) -> BlockDraft:
        """A BlockDraft of *data*, the file *idx* is current for; the head is checked and read now."""
        from partnerctl.core.model import Registry, validate

        if not idx.canonical:
            raise tomlfile.Damaged("the file is not in canonical form")
        # The head's text ends before the blank line that precedes the first block (as ``dump_parts`` has it).
        start = data.find(b"\n[partnerships.")
        head_end = start if start >= 0 else len(data)
        if tomlfile.bytes_hash(data[:head_end]) != idx.head_hash:
            raise tomlfile.Damaged("the head is not the one the index recorded")
        parsed, problems = tomlfile.parse(data[:head_end].decode("utf-8"), name)
        if parsed is None or "partnerships" in parsed:
            raise tomlfile.Damaged("the head does not parse alone")
        head = validate(Registry, parsed)
        return cls(idx, data, name, head, head_end, path)

    def close(self) -> None:
        """End the index's read transaction (before the index is updated)."""
        self.idx.close()

    def stale(self) -> bool:
        """Whether the index turns out not to be the file's (its bytes hashed meanwhile: ``unverified``)."""
        return self.unverified is not None and self.unverified.hexdigest() != self.idx.key.digest

    # --- the Draft ---------------------------------------------------------------------------

    def _block(self, pid: str) -> tuple[tuple[int, int], Partnership]:
        """Where partnership *pid*'s block is and what it holds, checked against the index's hash."""
        from partnerctl.core.model import Partnership, validate

        digest = self.idx.block_hash(pid)
        needle = b"\n" + tomlfile.header(pid)
        at = self.data.find(needle, self.head_end - 1)
        while at >= 0:
            start = at + 1
            stop = self.data.find(b"\n\n[partnerships.", start)
            stop = len(self.data) if stop < 0 else stop + 1
            try:
                table = tomlfile.verified_block(self.data, self.head_end, pid, (start, stop, digest))
            except tomlfile.Damaged:
                at = self.data.find(needle, at + 1)  # that header was text inside another block
                continue
            return (start, stop), validate(Partnership, table)
        raise tomlfile.Damaged(f"the block of {pid!r} is not where the index says it is")

    def _listed(self, pid: str) -> bool:
        """Whether the index lists partnership *pid*; when it does not, its header must not be in the file.

        A block the index lost (its row under another id) would otherwise be taken for a missing
        partnership: written again beside itself, or reported not found. Text holding the header
        line makes this say Damaged too: the whole file decides then.
        """
        if self.idx.has(pid):
            return True
        if self.data.find(b"\n" + tomlfile.header(pid), self.head_end) >= 0:
            raise tomlfile.Damaged(f"the file holds a block of {pid!r} the index does not list")
        return False

    def _touch(self, pid: str) -> _Touched:
        if pid not in self.touched:
            if not self._listed(pid):
                from partnerctl.core.errors import NotFound

                raise NotFound(_("no partnership {pid!r}").format(pid=pid))
            span, p = self._block(pid)
            from copy import deepcopy

            self.touched[pid] = _Touched(p, deepcopy(p), span)
        return self.touched[pid]

    def resolve(self, text: str) -> str:
        from partnerctl.core import query

        found = self.idx.named(query.name_key(text)) or self.idx.facts()
        records: dict[str, Any] = dict(found)
        for pid, t in self.touched.items():
            if t.now is None:
                records.pop(pid, None)
            else:
                records[pid] = _facts(t.now)
        return query.resolve(query.snapshot(self.head, records), text)

    def get(self, pid: str) -> Partnership:
        t = self._touch(pid)
        if t.now is None:
            raise KeyError(pid)
        return t.now

    def peek(self, pid: str) -> Partnership:
        if pid in self.touched and self.touched[pid].now is not None:
            return self.touched[pid].now  # type: ignore[return-value]
        return self._block(pid)[1]

    def put(self, pid: str, p: Partnership) -> None:
        self._touch(pid).now = p

    def has(self, pid: str) -> bool:
        if pid in self.touched:
            return self.touched[pid].now is not None
        return self._listed(pid)

    def add(self, pid: str, p: Partnership) -> None:
        if pid in self.touched or self._listed(pid):
            self._touch(pid).now = p  # as FullDraft: an id taken is replaced (changes check has() first)
        else:
            self.touched[pid] = _Touched(None, p)

    def remove(self, pid: str, into: str | None = None) -> Partnership:
        t = self._touch(pid)  # a canonical file holds no comment: *into* has nothing to carry
        p, t.now = t.now, None
        assert p is not None
        return p

    def name_owners(self, key: str) -> dict[str, dict[str, Any]]:
        from partnerctl.core import query

        owners = {pid for pid in self.idx.name_owners(key) if pid not in self.touched}
        found = dict(self.idx.facts(f"r.id IN ({', '.join('?' * len(owners))})", sorted(owners))) if owners else {}
        if set(found) != owners:
            raise tomlfile.Damaged("index_names names partnerships index_records does not hold")
        for pid, t in self.touched.items():
            if t.now is not None and key in query.names_of(pid, t.now):
                found[pid] = _facts(t.now)
        return found

    def users(self, kind: str, slug: str) -> list[str]:
        from partnerctl.core.edit import _holds

        users = {pid for pid in self.idx.users(kind, slug) if pid not in self.touched}
        for pid, t in self.touched.items():
            p = t.now
            if p is not None and (_holds(p, kind, slug)
                                  or (kind == "theme" and any(slug in e.themes for e in p.events))):
                users.add(pid)
        return sorted(users)

    def everything(self) -> Registry:
        raise AssertionError("a change that needs every partnership is a Change(whole=True)")

    # --- writing ---------------------------------------------------------------------------

    def render(self, data: bytes, progress: Progress) -> NewFile:
        """The file with the touched blocks (and the head, if changed) rewritten, checked, spliced in."""
        from partnerctl.core.model import Registry, record, registry_data
        from partnerctl.storage import index

        head_changed = registry_data(self.head) != self.head_before
        head_text = tomlfile.dump_head(self.head).encode("utf-8") if head_changed else data[:self.head_end]
        edits: list[tuple[int, int, bytes]] = []
        if head_changed:
            edits.append((0, self.head_end, head_text))
        removed = {pid for pid, t in self.touched.items() if t.now is None}
        blocks: dict[str, bytes] = {}
        for pid in sorted(self.touched):
            t = self.touched[pid]
            if t.now is not None:
                blocks[pid] = tomlfile.dump_block(pid, t.now).encode("utf-8")
            if t.block is not None:
                start, stop = t.block
                if t.now is None:
                    edits.append((start - 1, stop, b""))  # with the blank line before it
                else:
                    edits.append((start, stop, blocks[pid]))
            elif t.now is not None:
                edits.append(self._insertion(pid, blocks[pid], removed))
        pieces = tomlfile.splice(data, edits)
        # Check what will be written as the next read will see it: the head and every new block.
        text = head_text.decode("utf-8") + "".join("\n" + blocks[pid].decode("utf-8") for pid in sorted(blocks))
        checked, problems = check_text(text, "new registry")
        if checked is None:
            raise InvalidInput(str(problems[0]).removeprefix("new registry: "))
        # A vocabulary entry removed, renamed or relabelled changes every block (and search text) that
        # uses it: a change must have touched them all, else the whole file decides.
        before, after = self.head_before, registry_data(checked)
        if before.get("regions") != after.get("regions") or before["registry"] != after["registry"]:
            # A region's label, a region declared or not, the owner: what every partnership's region or
            # owner holds may change (a country's default region, the owner it inherits), so every row does.
            raise tomlfile.Damaged("the head's owner or regions changed: the whole registry is indexed again")
        changed_vocabulary = False
        for kind in ("theme", "network"):
            changed = {slug for slug, label in before[f"{kind}s"].items() if after[f"{kind}s"].get(slug) != label}
            if changed and not changed_vocabulary:
                # users() reads the links of one slug: a link row moved to another slug would hide a user.
                self.idx.check_links()
                changed_vocabulary = True
            for slug in changed:
                if any(pid not in self.touched for pid in self.idx.users(kind, slug)):
                    raise tomlfile.Damaged(f"{kind} {slug!r} changed but not all its users were rewritten")
        head = Registry(registry=checked.registry, themes=checked.themes, networks=checked.networks,
                        regions=checked.regions, countries=checked.countries, translations=checked.translations)
        records = {pid: (record(pid, checked.partnerships[pid]) if pid in checked.partnerships else None)
                   for pid in self.touched}
        self._update = index.Update(head, tomlfile.bytes_hash(head_text), records,
                                    {pid: tomlfile.bytes_hash(block) for pid, block in blocks.items()})
        return NewFile(pieces, same=min((start for start, _stop, _new in edits), default=len(data)))

    def _insertion(self, pid: str, block: bytes, removed: set[str]) -> tuple[int, int, bytes]:
        """Where a new block goes: before the first block after it in id order still there, else at the end.

        The blocks the index lists from the one before *pid* up to that place must follow one
        another in the file: a block the index lost would otherwise be passed over, and the new
        block put out of order.
        """
        previous = self.idx.previous_id(pid)
        expected = self.head_end if previous is None else self._span(previous)[1]
        after = pid
        while True:
            following = self.idx.next_ids(after, 16)
            for other in following:
                start, stop = self._span(other)
                if start != expected + 1:
                    raise tomlfile.Damaged(f"a block the index does not list lies before {other!r}")
                if other not in removed:
                    return start, start, block + b"\n"
                expected = stop
            if len(following) < 16:
                if expected != len(self.data):
                    raise tomlfile.Damaged("a block the index does not list ends the file")
                return len(self.data), len(self.data), b"\n" + block
            after = following[-1]

    def _span(self, pid: str) -> tuple[int, int]:
        """Where partnership *pid*'s block is in the file as read (checked against its hash)."""
        t = self.touched.get(pid)
        return t.block if t is not None and t.block is not None else self._block(pid)[0]

    def reindex(self, target: Path, new: NewFile, st: os.stat_result, digest: str) -> None:
        """Update the index for the blocks rewritten (and the head), so the next read needs no rebuild.

        *st* is the stat of the file just written and *digest* its hash: a key not settled (``index.key_of``).
        """
        from partnerctl.storage import index

        index.apply(target, self.idx.key, index.Key(digest, index.stat_key(st)), self._update)


@dataclass
class Merged:
    """What ``merge_files`` did: the conflicts (one line each), the validation problems, where the report is."""

    conflicts: list[str]
    problems: list[str]
    report: Path | None


def merge_files(base: Path, ours: Path, theirs: Path, registry: Path) -> Merged:
    """Three-way merge of registry files by meaning (``core.semantic.merge3``), the result written over *ours*.

    As git's merge driver: *base*, *ours*, *theirs* are git's temporary files and
    *registry* the registry's path in the work tree (``%P``). A clean merge is
    written in canonical form (plus the comments of both sides, merged the same way:
    ``storage.comments.merge3``) and validated; an old conflict report of *registry*
    is removed. A conflict (a comment changed on both sides differently is one), or a
    merged registry that is not valid (ours removed a theme theirs started using),
    keeps ours' value, is written the same way, and
    ``<registry>.conflicts.json`` says what (design: ``core.semantic``'s docstring).
    A side that is not a readable registry is RegistryInvalid (exit 3): *ours* is left as it was.
    """
    import json

    import tomli_w

    from partnerctl.core import semantic
    from partnerctl.storage import history

    docs, texts = [], []
    for side in (base, ours, theirs):
        try:
            data = side.read_bytes()
        except OSError as exc:
            raise InvalidInput(_("cannot read {file}: {reason}").format(file=side, reason=exc.strerror)) from None
        docs.append(parse_document(data, str(side)) if data.strip() else {})
        texts.append(data.decode("utf-8"))  # parse_document decoded it
    merged, conflicts = semantic.merge3(*docs)
    reg, found = check_text(tomli_w.dumps(merged, multiline_strings=True), str(registry))
    text = tomlfile.dump(reg) if reg is not None else tomli_w.dumps(merged, multiline_strings=True)
    problems = [str(p) for p in found]
    if reg is not None and any("#" in side for side in texts[1:]):
        # The comments of both sides, merged in the same way (``storage.comments.merge3``).
        from partnerctl.storage import comments

        try:
            text, comment_conflicts, lost = comments.merge3(texts[0], texts[1], texts[2], text)
        except (comments.Unplaceable, ValueError, LookupError, RecursionError) as exc:
            comment_conflicts, lost = [], [f"the comments of both sides are not kept: {exc}"]
        conflicts, problems = conflicts + comment_conflicts, problems + lost
    files.write_atomic(ours, text)
    report = history.conflicts_path(registry)
    if conflicts or problems:
        found_data = {**semantic.conflict_report(conflicts), "problems": problems}
        files.write_atomic(report, json.dumps(found_data, ensure_ascii=False, indent=2) + "\n")
        return Merged(semantic.describe_conflicts(conflicts), problems, report)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(report)
    return Merged([], [], None)
