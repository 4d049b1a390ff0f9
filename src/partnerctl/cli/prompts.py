"""Questions for what ``add``, ``add-event`` and ``add-contact`` were not given, on a terminal.

A person at a terminal (stdin and stdout both terminals) who leaves out a
required argument or option is asked for it, as ``gh issue create`` does; off
a terminal the missing option stays a usage error. Which fields are asked for
comes from the field table (``Table.asked``: the required fields, then those
whose Meta says ``ask``), with the field's help as the hint and completion of
its vocabulary, its choices or the values the registry already uses (countries,
regions). Each answer is checked as its option would be (``edit.check_answer``,
the same model validation and the same messages); a wrong answer is said and
asked again with the wrong text to correct. Ctrl-C or Ctrl-D aborts the command
(``typer.Abort``: the error mapper says ``aborted``, exit 2) and nothing is written.

On a real terminal the questions are prompt_toolkit's (imported only then);
when the terminal is forced (``PARTNERCTL_FORCE_TTY=1``, a test's pipes) they
are plain lines on stderr, read from stdin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer

from partnerctl.cli import asking
from partnerctl.cli.app import state
from partnerctl.cli.asking import TEXTS, Ask, Question
from partnerctl.cli.io import IOStreams, _isatty
from partnerctl.cli.options import Writing
from partnerctl.core.errors import PartnerctlError
from partnerctl.core.fields import FieldSpec
from partnerctl.core.i18n import _
from partnerctl.core.model import table


def needed(io: IOStreams) -> bool:
    """Whether a missing argument or option can be asked for: a person is at a terminal."""
    return io.interactive


def ready(ctx: typer.Context, writing: Writing) -> None:
    """What would fail the write anyway fails before the questions, not after them: contradicting output
    options, a registry that cannot be written (the bundled one, a read-only file)."""
    from partnerctl.storage import store

    writing.out.check()
    if not writing.dry_run:
        store.writable_target(state(ctx).location())


# --- the two ways to ask -----------------------------------------------------------------

def _lines(io: IOStreams) -> Ask:
    """Questions as plain lines on stderr, answers read from stdin (a forced terminal: tests, scripts)."""
    echoed = _isatty(io.stdin)

    def ask(q: Question) -> str:
        io.stderr.write(asking.shown(q))
        io.stderr.flush()
        try:
            line = io.stdin.readline()
        except KeyboardInterrupt:
            raise typer.Abort() from None
        if not line:
            raise typer.Abort()  # the error mapper ends the question's line
        if not echoed:
            io.stderr.write("\n")  # what was piped in is not echoed: end the question's line
        return line.rstrip("\n")

    return ask


@dataclass
class Session:
    """What the questions of one command share: how to ask, the registry to check against, where to say."""

    io: IOStreams
    ask: Ask
    reader: Any
    looking: Any
    # The partnership the answers are for, once known: messages name it ("invalid partnership lodz: ...").
    pid: str | None = None
    # Checks of an answer beyond its option's own, by field name (a city must not name another partnership).
    more: dict[str, Callable[[Any], None]] = dataclasses.field(default_factory=dict)

    def until_valid(self, question: Question, check: Callable[[str], Any]) -> Any:
        """Ask *question* until *check(answer)* accepts it (returns what it returns); each refusal is said."""
        while True:
            answer = self.ask(question).strip()
            try:
                return check(answer)
            except PartnerctlError as exc:
                self.io.say(str(exc))
                question.retry = answer


@contextmanager
def session(ctx: typer.Context) -> Iterator[Session]:
    """The questions of one command, with the registry open for completion and checks (closed after)."""
    io = state(ctx).io
    reader = state(ctx).reader()
    real = _isatty(io.stdin) and (_isatty(io.stderr) or _isatty(io.stdout))
    try:
        yield Session(io, asking.terminal(io) if real else _lines(io), reader, asking.Looking(reader))
    finally:
        reader.close()


# --- what is asked -------------------------------------------------------------------------

def label(spec: FieldSpec) -> str:
    """The question for a field: a list is asked one item at a time ("Theme"), a scalar by its label."""
    if spec.is_list:
        return _((spec.meta.item or spec.name).replace("_", " ")).capitalize()
    return _(spec.meta.label)


def _hint(spec: FieldSpec) -> str:
    how = _(TEXTS["list"]) if spec.is_list else _(TEXTS["required"]) if spec.required else _(TEXTS["optional"])
    if not spec.meta.help:
        return how
    text = _(spec.meta.help).removesuffix("; repeatable").removesuffix(_("; repeatable"))
    return f"{text} ({how})"


def field(s: Session, model: str, spec: FieldSpec) -> Any:
    """Ask for field *spec* of *model*: its text as its option would carry it (a list for a list field),
    or None for an optional field left out."""
    from partnerctl.core import edit

    candidates = tuple(s.reader.complete_field(model, spec.name))
    question = Question(label(spec), _hint(spec), candidates=candidates)
    if not spec.is_list:
        def check_one(answer: str) -> str | None:
            if not answer and not spec.required:
                return None
            # A country (name, alias or code) and a region (slug or label) resolved as their option is.
            value: Any = answer
            if model == "partnership" and (spec.meta.country or spec.meta.vocab):
                value = edit.convert(s.looking, spec.name, answer)
            edit.check_answer(s.looking, model, spec.name, value, s.pid)
            if spec.name in s.more:
                s.more[spec.name](answer)
            return answer

        return s.until_valid(question, check_one)
    values: list[str] = []
    while True:
        def check_more(answer: str) -> str | None:
            if answer:
                edit.check_answer(s.looking, model, spec.name, [*values, answer], s.pid)
            return answer or None

        answer = s.until_valid(Question(question.label, question.hint, candidates=candidates), check_more)
        if answer is None:
            if values or not spec.required:
                return values or None
            continue
        values.append(answer)


def fields(s: Session, model: str, given: dict[str, Any],
           after: Callable[[FieldSpec, Any], None] | None = None) -> None:
    """Ask for each field of *model* that the table asks for and *given* lacks; the answers go into *given*.

    *after(spec, value)* runs after each field known (given or answered), in order.
    """
    for spec in table().asked(model):
        if given.get(spec.name) in (None, [], ()):
            given[spec.name] = field(s, model, spec)
        if after is not None:
            after(spec, given[spec.name])


def partner(s: Session) -> str:
    """Ask which partnership (completion of ids, with their city); the id it names."""
    from partnerctl.core.names import fold

    question = Question(_(TEXTS["partner"]), _(TEXTS["partner_hint"]),
                        candidates=lambda typed: s.reader.complete_partners(fold(typed.strip())))
    return str(s.until_valid(question, s.reader.resolve))


def partnership(ctx: typer.Context, city: str | None, pid: str | None, given: dict[str, Any]
                ) -> tuple[str, str | None]:
    """``add``'s questions: the city, its id (the city's slug shown as the default), then the fields.

    Returns the city and the id chosen (None: the default); *given* gets the other answers.
    """
    from partnerctl.core import edit
    from partnerctl.core.model import MAX_ID_LENGTH
    from partnerctl.core.names import shorten, slugify

    answers: dict[str, Any] = {"city": city, **given}

    def after(spec: FieldSpec, value: Any) -> None:
        if spec.name != "city":
            return
        s.more["city"](value)  # a city named on the command line too
        if pid is not None:
            s.pid = pid
            return
        default = shorten(slugify(value), MAX_ID_LENGTH)

        def check(answer: str) -> str:
            edit.check_new_id(s.looking, answer or default, _("choose another id"))
            return answer

        s.pid = s.until_valid(Question(_(TEXTS["id"]), _(TEXTS["id_hint"]), default=default or None), check) or default

    with session(ctx) as s:
        s.more["city"] = lambda city: edit.check_name_free(s.looking, "", None, city)
        fields(s, "partnership", answers, after)
    given.update(answers)
    return given.pop("city"), s.pid


def record(ctx: typer.Context, model: str, partner_text: str | None, given: dict[str, Any]) -> str:
    """``add-event`` / ``add-contact``'s questions: the partnership when not given, then the fields of *model*.

    Returns the id of the partnership; *given* gets the answers.
    """
    with session(ctx) as s:
        pid = partner(s) if partner_text is None else s.reader.resolve(partner_text)
        fields(s, model, given)
    return str(pid)


def missing(given: dict[str, Any], model: str, *, skip: tuple[str, ...] = ()) -> list[FieldSpec]:
    """The required fields of *model* that *given* lacks."""
    return [spec for spec in table().asked(model)
            if spec.required and spec.name not in skip and given.get(spec.name) in (None, [], ())]


def check_given(given: dict[str, Any], model: str, *, skip: tuple[str, ...] = ()) -> None:
    """Off a terminal (or with everything given): a required option left out is a usage error."""
    from partnerctl.core.errors import InvalidInput

    for spec in missing(given, model, skip=skip):
        raise InvalidInput(_("missing option {option}").format(option=spec.option))


def missing_argument(ctx: typer.Context, name: str) -> Exception:
    """Click's usage error for the argument *name* left out (``missing argument 'CITY'``), as when it was required."""
    import click

    param = next(p for p in ctx.command.params if p.name == name)
    # Named as when it was required ('CITY'), not as the optional argument it now is ('[CITY]').
    return click.MissingParameter(ctx=ctx, param=param, param_hint=f"'{name.upper()}'")

