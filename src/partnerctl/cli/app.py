"""The Typer app: the root options, the one error mapper, and the entry point.

Each command lives in the module of its noun (reads, partnerships, events,
contacts, vocabularies, exchange, registry, history...), registered on this
app when ``partnerctl.cli`` is imported. Errors raised anywhere (the core's
typed errors, click's usage errors, failed output) become one line on stderr
and an exit code in one place, ``_Group.main``; exit codes: ``core.errors``.
"""

# No ``from __future__ import annotations``: Typer reads annotations each run; strings cost an eval.

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from partnerctl import __version__
from partnerctl.cli import launch
from partnerctl.cli.io import IOStreams
from partnerctl.core.errors import PartnerctlError
from partnerctl.core.i18n import _

# The order ``partnerctl --help`` lists commands in: reading first, then changing, then the file.
ORDER = ("show", "brief", "list", "timeline", "anniversaries", "stats", "search", "themes", "networks", "regions",
         "countries", "duplicates", "add", "set", "unset", "tag", "untag", "add-to", "remove-from", "rename", "remove",
         "merge", "locate", "edit", "add-event", "edit-event", "remove-event", "add-contact", "edit-contact",
         "remove-contact", "undo", "log", "diff", "import", "export", "init", "upgrade", "fmt", "validate",
         "merge-file", "git-setup", "use")

# The module of cli/ that defines each command. The console script imports only the invoked
# command's module (``main``): importing them all, and building their options, is most of what
# partnerctl adds to Typer's own start-up. A command missing here still runs (every module is
# then imported); tests/test_start.py checks the map against what the modules register.
HOMES = {
    "show": "show", "brief": "publish",
    **dict.fromkeys(("list", "timeline", "search", "duplicates"), "reads"),
    **dict.fromkeys(("stats", "anniversaries"), "figures"),
    **dict.fromkeys(("themes", "networks", "regions", "countries"), "vocabularies"),
    **dict.fromkeys(("add", "set", "unset", "tag", "untag", "add-to", "remove-from", "rename", "remove"),
                    "partnerships"),
    **dict.fromkeys(("merge", "locate"), "relations"),
    "edit": "editor",
    **dict.fromkeys(("add-event", "edit-event", "remove-event"), "events"),
    **dict.fromkeys(("add-contact", "edit-contact", "remove-contact"), "contacts"),
    **dict.fromkeys(("import", "export"), "exchange"),
    **dict.fromkeys(("init", "upgrade", "fmt", "validate", "use"), "registry"),
    **dict.fromkeys(("undo", "log", "diff", "merge-file", "git-setup"), "history"),
}


class _Group(TyperGroup):
    """The one place where every failure becomes one line on stderr and an exit code.

    Core errors (``PartnerctlError``), click's usage errors, a declined prompt, an
    argument that is not UTF-8 and an output that cannot be written all end in
    ``main``, which the console script and CliRunner both call.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        """The commands in ``ORDER`` (those it does not name at the end, by name)."""
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(ORDER)}
        return sorted(names, key=lambda name: (rank.get(name, len(ORDER)), name))

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        """Run the command line; exit (or, not standalone, return) with its exit code."""
        from partnerctl.cli import io as streams

        # The root callback fills it in; it also records whether a write landed (see _failed).
        state = extra.setdefault("obj", State())
        from partnerctl.cli import language

        try:
            with streams.standard():
                code = self._run(args, complete_var, extra, state if isinstance(state, State) else State())
        finally:
            language.reset()  # an in-process caller (the tests) goes on in English
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(self, args: Any, complete_var: str | None, extra: dict[str, Any], state: "State") -> int:
        from click.exceptions import ClickException

        from partnerctl.cli import io as streams
        from partnerctl.cli import language
        from partnerctl.core.errors import EXIT_USAGE

        _forget_writes()
        try:
            argv = streams.command_line(sys.argv[1:] if args is None else list(args))
            # The language first: every message from here on (usage errors, --help) is in it.
            argv = launch.registry_first(language.setup(argv))
            language.translate_help(self)
            # Whoever calls (python -m, CliRunner's "root"), messages name the program as users type it.
            rv = super().main(argv, "partnerctl", complete_var, standalone_mode=False, **extra)
            streams.flush_stdout()
            return rv if isinstance(rv, int) else 0
        except PartnerctlError as exc:
            return _failed(exc, state)
        except ClickException as exc:  # click's usage errors
            _flush_quietly()
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `partnerctl`: the help, as ever
                exc.show()
                return exc.exit_code
            ctx = getattr(exc, "ctx", None)
            hint = _(" (see '{command} --help')").format(command=ctx.command_path) if ctx is not None else ""
            message = exc.format_message().rstrip(".").replace("Value error, ", "")
            # In the voice of every other message: "no such option", not "No such option".
            message = message[:1].lower() + message[1:] if message[1:2].islower() else message
            _say_err(_("error: {message}").format(message=f"{message}{hint}"))
            return exc.exit_code
        except UnicodeEncodeError as exc:
            # Arguments are read as UTF-8 (streams.command_line), output escapes what it cannot
            # encode, and the model holds only valid text: what is left is a file name under a
            # locale whose encoding lacks its letters (LC_ALL=C with PYTHONUTF8=0).
            _flush_quietly()
            _say_err(_("error: {message}").format(message=_(
                "cannot use the file name {name!r} under this locale (encoding {encoding}); use a UTF-8 "
                "locale such as LC_ALL=C.UTF-8").format(name=exc.object, encoding=exc.encoding)))
            return EXIT_USAGE
        except typer.Abort:  # a prompt ended (end of input, Ctrl-C): nothing was done
            _flush_quietly()
            sys.stderr.write("\n")  # off the line of the unanswered question
            _say_err(_("error: {message}").format(message=_("aborted")))
            return EXIT_USAGE


def _flush_quietly() -> None:
    """Flush stdout on the way out of an error, which is what gets reported."""
    from partnerctl.cli import io as streams
    from partnerctl.core.errors import OutputFailed

    try:
        streams.flush_stdout()
    except OutputFailed:
        pass


def _say_err(message: str) -> None:
    """One line on stderr (the error mapper's own: it runs outside any command's streams)."""
    from partnerctl.core.text import clean

    sys.stderr.write(f"partnerctl: {clean(message)}\n")


def _failed(exc: PartnerctlError, state: "State") -> int:
    """The exit code for *exc*, said on stderr; after a write that landed, a warning and 0."""
    from partnerctl.core.errors import EXIT_OK, OutputFailed

    if isinstance(exc, OutputFailed) and exc.broken_pipe:
        # `partnerctl list | head`: the reader left; stop quietly.
        return EXIT_OK
    _flush_quietly()
    if state.landed or _landed():
        # The registry changed: a retry would repeat the change, so the exit code must say it landed.
        _say_err(_("warning: the registry was written, but {problem}").format(problem=exc))
        return EXIT_OK
    if str(exc):  # a Reported failure has said what it had to say already
        _say_err(_("error: {message}").format(message=exc))
    return exc.exit_code


# suggest_commands off: click already says "Did you mean 'show'?" (in the run's language); Typer said it again.
app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=True, suggest_commands=False,
                  rich_markup_mode=None, pretty_exceptions_enable=False,
                  help="Query and edit a registry of a city's international partnerships.")


class State:
    """What every command is given: the options before the command, the streams, and whether a write landed."""

    def __init__(self, registry: Path | None = None, lock_timeout: float | None = None, backup: bool = True,
                 io: IOStreams | None = None) -> None:
        self.registry = registry
        self.registry_source = "--registry"
        self.lock_timeout = lock_timeout
        self.backup = backup
        self._io = io
        self.landed = False

    @property
    def io(self) -> IOStreams:
        """The streams commands read and write (the process's, unless a test gave its own)."""
        if self._io is None:
            self._io = IOStreams.system()
        return self._io

    def location(self) -> Any:
        """Where the registry is (``location.locate``), found once per command."""
        from partnerctl.storage.location import locate

        if self._location is None:
            self._location = locate(self.registry, self.registry_source)
        return self._location

    _location: Any = None
    _noticed = False

    def reader(self) -> Any:
        """The registry for reading (``reader.open_registry``), closed with the command. Reading the bundled
        sample is said on a terminal, once: a forgotten ``--registry`` must not answer from another registry."""
        import click

        from partnerctl.storage.location import check_exists
        from partnerctl.storage.reader import open_registry

        loc = self.location()
        check_exists(loc)
        if loc.bundled and not self._noticed and (self.io.stdout_tty or _isatty(self.io.stderr)):
            self._noticed = True
            self.io.say(_("reading the bundled Lyon sample (read-only); choose your registry with "
                          "'partnerctl use PATH' or --registry PATH"))
        click.get_current_context().call_on_close((reader := open_registry(loc.path)).close)
        return reader


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def state(ctx: typer.Context) -> State:
    """The State of the command line *ctx* belongs to."""
    found = ctx.find_object(State)
    if found is None:
        found = ctx.find_root().obj = State()
    return found


def _version(value: bool) -> None:
    if value:
        print(f"partnerctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    registry: Annotated[Path | None, typer.Option(
        "--registry", "-r", envvar="PARTNERCTL_REGISTRY", dir_okay=False,
        help="Registry file (also accepted after the command). Default: $PARTNERCTL_REGISTRY, the registry "
             "setting of partnerctl.toml, ./data/registry.toml, the user's setting (partnerctl use), else the "
             "bundled Lyon sample.")
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    lock_timeout: Annotated[float | None, typer.Option(
        "--lock-timeout", envvar="PARTNERCTL_LOCK_TIMEOUT", min=0,
        help="Seconds a write waits for another writer's lock before failing (exit 4). Default: 300.")] = None,
    no_backup: Annotated[bool, typer.Option(
        "--no-backup", envvar="PARTNERCTL_NO_BACKUP",
        help="Do not keep the previous version as REGISTRY.bak on a write.")] = False,
    lang: Annotated[str | None, typer.Option(
        "--lang", envvar="PARTNERCTL_LANG", metavar="fr|en",
        help="Language of messages, labels, dates and help: fr or en. Default: $PARTNERCTL_LANG, the "
             "settings' lang, else the locale (LANG=fr_FR.UTF-8 is French). export --format html: "
             "fr,en writes the site in each.")] = None,
) -> None:
    state = ctx.find_object(State)
    if state is None:
        ctx.obj = state = State()
    state.registry, state.lock_timeout, state.backup = registry, lock_timeout, not no_backup
    from click.core import ParameterSource

    if ctx.get_parameter_source("registry") is ParameterSource.ENVIRONMENT:
        state.registry_source = "$PARTNERCTL_REGISTRY"


def _forget_writes() -> None:
    """A new run has written nothing yet (in-process runs, as tests make, share the module)."""
    store = sys.modules.get("partnerctl.storage.store")
    if store is not None:
        store.LANDED.clear()


def _landed() -> bool:
    """Whether a registry write landed in this run (``store.LANDED``), even if the command then failed."""
    from partnerctl.storage import store

    return bool(store.LANDED)


def main(ready: Any = None) -> None:
    """Console script: register the invoked command (all when unclear), call *ready* (``__main__``), run."""
    args = sys.argv[1:]
    name = launch.invoked(app, args)
    launch.register(app, HOMES, name)
    if name is not None:
        launch.keep_only(app, name)
        # --install-completion/--show-completion are built on every call; a line naming a command cannot use them.
        app._add_completion = False
    if ready is not None:  # the command's modules are imported: ``__main__`` turns the collector back on
        ready()
    app(prog_name="partnerctl")
