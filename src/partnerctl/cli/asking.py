"""How a question is asked on a real terminal (prompt_toolkit, imported only then), and the registry
as an answer's checks see it, read-only (``Looking``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import typer

from partnerctl.cli.io import IOStreams, _isatty
from partnerctl.core.i18n import N_, _

# Every text a question shows, in one place; translated where shown (``_(TEXTS[...])``).
TEXTS = {
    "partner": N_("Partner"),
    "partner_hint": N_("Id, city name or alias"),
    "id": N_("Id"),
    "id_hint": N_("A slug; Enter takes the one shown"),
    "required": N_("required"),
    "optional": N_("optional: Enter leaves it out"),
    "list": N_("one per answer: Enter on an empty answer goes on"),
    "complete": N_("Tab completes"),
    "abort": N_("Ctrl-C aborts"),
}


@dataclass
class Question:
    """One question: its label, a hint, the default an empty answer takes, and what completion offers."""

    label: str
    hint: str = ""
    default: str | None = None
    # (value, help) pairs, or a function giving those for what is typed (asked as it is typed).
    candidates: tuple[tuple[str, str], ...] | Callable[[str], list[tuple[str, str]]] = ()
    # The previous answer, refused: offered again to correct.
    retry: str = ""


Ask = Callable[[Question], str]


def shown(q: Question) -> str:
    """The question as it is put: ``City: ``, ``Id [zagreb]: `` (``Nom de la ville : `` in French)."""
    if q.default:
        return _("{question} [{default}]: ").format(question=q.label, default=q.default)
    return _("{question}: ").format(question=q.label)


def terminal(io: IOStreams) -> Ask:
    """Questions through prompt_toolkit, on the terminal: completion menu, hint, default, line editing."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion, WordCompleter
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.input import create_input
    from prompt_toolkit.output import create_output
    from prompt_toolkit.styles import Style

    style = Style.from_dict({"placeholder": "#888888"})

    class Live(Completer):
        """Candidates asked for what is typed (partner ids: the index hands over only those)."""

        def __init__(self, fetch: Callable[[str], list[tuple[str, str]]]) -> None:
            self.fetch = fetch

        def get_completions(self, document: Any, complete_event: Any) -> Iterator[Any]:
            typed = document.text_before_cursor
            try:
                found = self.fetch(typed)
            except Exception:  # noqa: BLE001 - completion must never break the question
                return
            for value, meta in found:
                yield Completion(value, start_position=-len(typed), display_meta=meta)

    # The questions go where messages go (stderr), so stdout keeps only what the command prints.
    shown_on = io.stderr if _isatty(io.stderr) else io.stdout
    session: Any = PromptSession(input=create_input(io.stdin), output=create_output(stdout=shown_on))

    def ask(q: Question) -> str:
        completer: Any = None
        if callable(q.candidates):
            completer = Live(q.candidates)
        elif q.candidates:
            completer = WordCompleter([value for value, _ in q.candidates], meta_dict=dict(q.candidates),
                                      ignore_case=True, match_middle=True, sentence=True)
        tips = [*([_(TEXTS["complete"])] if completer else []), _(TEXTS["abort"])]
        message = shown(q)
        try:
            # The hint shows, greyed, where the answer goes until something is typed.
            return str(session.prompt(message, default=q.retry, completer=completer, complete_while_typing=True,
                                      placeholder=FormattedText([("class:placeholder", q.hint)]),
                                      bottom_toolbar=" · ".join(tips), style=style))
        except (KeyboardInterrupt, EOFError):
            raise typer.Abort() from None

    return ask


class Looking:
    """The registry as the checks of a change see it, read-only, through the reader.

    Enough of ``edit.Draft`` for ``check_answer``, ``check_name_free`` and ``check_new_id``,
    so an answer is checked by the function that checks the option, before the write.
    """

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self.owner = reader.head.registry
        self.themes = reader.themes
        self.networks = reader.networks
        self.regions = reader.head.regions
        self.countries = reader.head.countries

    def resolve(self, text: str) -> str:
        return str(self._reader.resolve(text))

    def has(self, pid: str) -> bool:
        # An id is one of the partnership's names (a slug is its own folded form); asking the
        # index for a record it lacks would read the whole file instead.
        return pid in self._reader.name_owners(pid)

    def peek(self, pid: str) -> Any:
        from partnerctl.core.model import partnership_of

        return partnership_of(self._reader.record(pid))

    def name_owners(self, key: str) -> dict[str, dict[str, Any]]:
        facts = ("city", "aliases", "country", "owner", "owner_country")
        return {pid: {k: rec.get(k) for k in facts}
                for pid in sorted(self._reader.name_owners(key)) for rec in [self._reader.record(pid)]}
