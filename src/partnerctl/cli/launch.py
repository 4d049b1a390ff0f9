"""The command line before click reads it: the registry option moved to the front, and the lean start.

The console script registers only the invoked command's module (``app.HOMES``):
importing every module and building every command's options is most of what
partnerctl would add to Typer's own start-up (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer

# The root options that take a value: the command's name is the first word that is neither one of them nor its value.
_ROOT_VALUES = ("--registry", "-r", "--lock-timeout", "--lang")


def registry_first(argv: list[str]) -> list[str]:
    """*argv* with a ``--registry``/``-r`` given after the command's name moved before it (where click reads it).

    ``partnerctl timeline turin -r my.toml`` is ``partnerctl -r my.toml timeline turin``.
    Nothing after ``--`` is moved; a later ``--registry`` wins over an earlier one, as click has it.
    """
    at = 0
    while at < len(argv) and argv[at].startswith("-") and argv[at] != "--":
        at += 2 if argv[at] in _ROOT_VALUES else 1
    if at >= len(argv) or argv[at] == "--":
        return argv
    head, rest, moved = argv[:at], [argv[at]], []
    i = at + 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            rest += argv[i:]
            break
        if word in ("--registry", "-r") and i + 1 < len(argv):
            moved += [word, argv[i + 1]]
            i += 2
            continue
        if word.startswith("--registry=") or (word.startswith("-r") and len(word) > 2 and word[2] != "-"):
            moved.append(word)
        else:
            rest.append(word)
        i += 1
    return head + moved + rest



def register(typer_app: typer.Typer, homes: Mapping[str, str], name: str | None) -> None:
    """Import the module of command *name* (*homes*: ``app.HOMES``), else every command module
    (``partnerctl.cli.load_all``)."""
    import importlib

    import partnerctl.cli

    if name is not None and name in homes:
        importlib.import_module(f"partnerctl.cli.{homes[name]}")
        if any(named(typer_app, name)):
            return
    partnerctl.cli.load_all()


def invoked(typer_app: typer.Typer, args: list[str]) -> str | None:
    """The name of the command *args* invoke, found by the group's own option parser; None when unclear.

    Help, completion, the version and a line without a command are unclear:
    every command is then registered, so what is printed never changes.
    """
    import copy
    import os

    from typer.main import get_command

    if any(name.endswith("_COMPLETE") for name in os.environ) or any(
            arg.startswith(("--install-completion", "--show-completion")) for arg in args):
        return None
    head = copy.copy(typer_app)
    head.registered_commands, head.registered_groups = [], []
    head._add_completion = False
    try:
        group = get_command(head)
        ctx = group.context_class(group, info_name="partnerctl", resilient_parsing=True)
        opts, rest, _ = group.make_parser(ctx).parse_args(args=list(args))
    except Exception:  # noqa: BLE001 - any doubt: build everything, as Typer would
        return None
    if not rest or opts.get("help") or opts.get("version"):
        return None
    return str(rest[0])


def named(typer_app: typer.Typer, name: str) -> tuple[list[Any], list[Any]]:
    """The registered commands and groups of *typer_app* called *name*."""
    from typer.main import get_command_name

    commands = [c for c in typer_app.registered_commands
                if (c.name or get_command_name(c.callback.__name__ if c.callback else "")) == name]
    return commands, [g for g in typer_app.registered_groups if g.name == name]


def keep_only(typer_app: typer.Typer, name: str) -> None:
    """Keep only command *name* in *typer_app*: Typer builds every registered command's options at start-up.

    With some forty commands that is tens of milliseconds on each call (see
    docs/performance.md). A name that is no command keeps the whole tree, for
    click's own "no such command" message.
    """
    commands, groups = named(typer_app, name)
    if commands or groups:
        typer_app.registered_commands, typer_app.registered_groups = commands, groups
