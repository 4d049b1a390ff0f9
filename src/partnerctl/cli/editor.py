"""Talking with the person at the terminal: ``partnerctl edit`` in their editor, and yes/no questions.

The edit session: the partnership's block of TOML goes to ``$VISUAL`` /
``$EDITOR``; what comes back is checked like the registry (``toml.parse_block``)
and against the other partnerships' names; on a mistake the person chooses to
edit again or abort, as with ``crontab -e``. The write then goes through the
pipeline, which refuses it if the partnership changed meanwhile.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from partnerctl.cli import complete
from partnerctl.cli.app import app, state
from partnerctl.cli.io import IOStreams
from partnerctl.cli.options import Writing, write_options
from partnerctl.cli.writing import report, write
from partnerctl.core.errors import InvalidInput
from partnerctl.core.i18n import N_, _


def ask(io: IOStreams, question: str, answers: dict[str, bool], default: str | None = None,
        end: bool | None = None) -> bool:
    """Ask *question* on stderr and read answers from stdin until one of *answers* (folded) is given.

    On a terminal the *default* answer is shown (``[e]``) and an empty answer takes
    it. The end of input is *end*, or, when that is None, an abort (exit 2). Off a
    terminal the answer is read anyway (scripts and tests pipe it) and not echoed back.
    """
    shown = _(" [{default}]:").format(default=default) if default is not None and io.stdin_tty else ""
    while True:
        io.stderr.write(f"{question}{shown} ")
        io.stderr.flush()
        line = io.stdin.readline()
        if not io.stdin_tty or not line:
            io.stderr.write("\n")  # what was piped in is not echoed: end the question's line
        if not line:
            if end is None:
                raise InvalidInput(_("aborted"))
            return end
        answer = line.strip().lower() or (default or "")
        if answer in answers:
            return answers[answer]


def answers(pairs: dict[str, bool]) -> dict[str, bool]:
    """The answers *pairs* gives (English), and the same words in the language in force (``oui``, ``non``)."""
    return {**pairs, **{_(word).lower(): meaning for word, meaning in pairs.items() if word}}


def confirm(io: IOStreams, question: str) -> bool:
    """A yes/no question (``[y/N]``, ``[o/N]`` in French): only yes says yes; the end of input aborts."""
    return ask(io, _("{question} [y/N]:").format(question=question),
               answers({N_("y"): True, N_("yes"): True, N_("n"): False, N_("no"): False, "": False}))


def run_editor(text: str, prefix: str) -> str:
    """Let the user edit *text* in ``$VISUAL`` / ``$EDITOR`` (default ``vi``); returns the saved text.

    The editor gets a temporary ``.toml`` file (removed afterwards). An editor
    that cannot start, or exits with a failure (vim's ``:cq``), is InvalidInput.
    """
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            status = subprocess.call([*shlex.split(editor), name])
        except OSError as exc:
            raise InvalidInput(_("cannot run the editor {editor!r}: {reason}; set $VISUAL or $EDITOR").format(
                editor=editor, reason=exc.strerror)) from None
        if status != 0:
            raise InvalidInput(_("the editor {editor!r} exited with status {status}; nothing changed").format(
                editor=editor, status=status))
        try:
            return Path(name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(_("the edited text is not UTF-8; nothing changed")) from None
        except OSError as exc:
            # The editor removed the file, or put a folder in its place.
            raise InvalidInput(_("cannot read the edited file {name}: {reason}; nothing changed").format(
                name=name, reason=exc.strerror)) from None
    finally:
        _remove_temp(name)


def _remove_temp(name: str) -> None:
    """Remove the editor's temporary file, or whatever the editor left at its name."""
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass
    except OSError:  # a folder: the name is ours (mkstemp), so is what is under it
        shutil.rmtree(name, ignore_errors=True)


def _names_free(reader: Any, pid: str, before: Any, p: Any) -> None:
    """The edited city and aliases must not name another partnership of its owner (checked again under the
    lock, by ``edit.put_block``)."""
    from partnerctl.core import edit, query

    own = set(query.names_of(pid, before))
    same = (p.owner, p.country) == (before.owner, before.country)
    for name in (p.city, *p.aliases):
        key = query.name_key(name)
        if key in own and same:
            continue
        others = {other: reader.record(other) for other in sorted(reader.name_owners(key) - {pid})}
        edit.check_name_free(_Names(reader, others), pid, None, name,  # type: ignore[arg-type]
                             p.owner or reader.owner, p.country)


class _Names:
    """What ``edit.check_name_free`` asks of a draft, answered by a reader: the registry's owner, and the
    partnerships a name names."""

    def __init__(self, reader: Any, others: dict[str, Any]) -> None:
        self.owner = reader.head.registry
        self._others = others

    def name_owners(self, key: str) -> dict[str, Any]:
        return self._others


@app.command("edit")
@write_options("partnership")
def edit_(ctx: typer.Context, writing: Writing,
          partner: Annotated[str, typer.Argument(help="Id, city name or alias.", autocompletion=complete.partner)]
          ) -> None:
    """Edit a partnership as TOML in $VISUAL or $EDITOR; it is checked when you save.

    Example: EDITOR=nano partnerctl edit turin
    """
    from partnerctl.core import edit
    from partnerctl.core.model import partnership_of, record, to_dict, vocabularies
    from partnerctl.storage import toml

    writing.out.check()  # a contradiction fails before the editor opens
    io = state(ctx).io
    reader = state(ctx).reader()
    pid = reader.resolve(partner)
    before = partnership_of(reader.record(pid))
    text = toml.dump_block(pid, before)
    while True:
        text = run_editor(text, f"partnerctl-{pid}-")
        try:
            if toml.has_comment(text):
                # The block comes back as data: a comment typed here would be dropped without a word.
                raise InvalidInput(_("comments are not kept from the editor: write them in the registry file "
                                     "itself (every write keeps them there), and take them out here"))
            new = toml.parse_block(pid, text, vocabularies(reader.head), reader.owner is not None)
            _names_free(reader, pid, before, new)
            break
        except InvalidInput as exc:
            io.say(str(exc))
            again = answers({N_("e"): True, N_("edit"): True, N_("a"): False, N_("abort"): False})
            if not ask(io, _("(e)dit again or (a)bort?"), again, default=_("e"), end=False):
                raise InvalidInput(_("aborted; {id} is unchanged").format(id=pid)) from None
    reader.close()
    if to_dict(new) == to_dict(before):
        io.say(_("no changes"))
        return

    def change(draft: Any) -> dict[str, Any]:
        return record(pid, edit.put_block(draft, pid, before, new))

    written = write(ctx, change, writing)
    report(ctx, written, writing, (_("edited {id}").format(id=pid), _("change {id}").format(id=pid)),
           [written.result])
