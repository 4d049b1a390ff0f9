"""Which language a run speaks, decided once before anything is printed, and the help put in it.

``--lang fr|en`` (before or after the command's name), else ``$PARTNERCTL_LANG``,
else the settings' ``lang`` (``storage/config.py``), else the locale
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``fr_FR.UTF-8`` means French), else
English. ``setup`` decides and installs the catalog (``core/i18n.py``);
``translate_help`` puts the commands' help in that language.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from click.formatting import HelpFormatter

from partnerctl.core.errors import InvalidInput, RegistryInvalid
from partnerctl.core.i18n import LANGUAGES, _, install

OPTION = "--lang"

# The modules whose messages partnerctl shows (help layout, usage errors): they bind gettext's ``_`` at
# import, and ``_route_click`` sends them to partnerctl's catalog instead. tools/messages.py extracts
# their messages from these same modules, so the catalog holds each.
CLICK_MODULES = ("click.core", "click.decorators", "click.exceptions", "click.formatting", "click.parser",
                 "click.types", "typer.core")


# The languages of the run: one, or several for a site in each (``export --lang fr,en``), the first in force.
_CHOSEN: list[str] = ["en"]


def _chosen_by_locale(environ: Mapping[str, str]) -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            # The first one set decides, as for every program (LC_ALL=C overrides LANG=fr_FR.UTF-8).
            code = value.split(".")[0].split("@")[0].split("_")[0].lower()
            return code if code in LANGUAGES else None
    return None


def _checked(value: str, where: str) -> str:
    """*value*, a language or several (``fr,en``: the first is the run's), as it will be parsed again."""
    codes = [code.strip().lower() for code in value.split(",")]
    for code in codes:
        if code not in LANGUAGES:
            raise InvalidInput(_("{where}: unknown language {value!r} (choose {choices})").format(
                where=where, value=value, choices=" or ".join(LANGUAGES)))
    _CHOSEN[:] = list(dict.fromkeys(codes))
    return ",".join(_CHOSEN)


def chosen() -> list[str]:
    """The languages asked for, the run's first (``--lang fr,en``: a site exported in each)."""
    return list(_CHOSEN)


def decide(args: Sequence[str], environ: Mapping[str, str]) -> tuple[list[str], str]:
    """The arguments with any ``--lang`` moved before the command, and the language of the run.

    A ``--lang`` after the command's name is taken as if given before it (as
    people write options in any order); everything after ``--`` is left alone.
    """
    rest: list[str] = []
    given: str | None = None
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == "--":
            rest += items[i:]
            break
        if arg == OPTION and i + 1 < len(items):
            given, i = items[i + 1], i + 2
            continue
        if arg.startswith(OPTION + "="):
            given, i = arg.split("=", 1)[1], i + 1
            continue
        rest.append(arg)
        i += 1
    if given is not None:
        codes = _checked(given, OPTION)
        return [OPTION, codes, *rest], _CHOSEN[0]
    if environ.get("PARTNERCTL_LANG"):
        _checked(environ["PARTNERCTL_LANG"], "$PARTNERCTL_LANG")
        return rest, _CHOSEN[0]
    from partnerctl.storage import config

    try:
        setting = config.load().get("lang")
    except RegistryInvalid:
        setting = None  # the command reading the settings reports the broken file
    if setting is not None:
        if not isinstance(setting.value, str):
            raise RegistryInvalid(_("lang in {path}: write \"en\" or \"fr\"").format(path=setting.source))
        try:
            _checked(setting.value, f"lang in {setting.source}")
        except InvalidInput as exc:  # a setting, like a broken settings file: exit 3
            raise RegistryInvalid(str(exc)) from None
        return rest, _CHOSEN[0]
    _CHOSEN[:] = [_chosen_by_locale(environ) or "en"]
    return rest, _CHOSEN[0]


def setup(args: Sequence[str]) -> list[str]:
    """Decide the run's language (``decide``) and install it; the arguments to parse.

    An unknown language named by ``--lang`` or ``$PARTNERCTL_LANG`` is a usage
    error, said in the language the locale would give.
    """
    from partnerctl.storage import catalogs

    install("en", catalogs.load("en"))
    try:
        argv, lang = decide(args, os.environ)
    except InvalidInput:
        fallback = _chosen_by_locale(os.environ) or "en"
        install(fallback, catalogs.load(fallback))
        _route_click()
        decide(args, os.environ)  # again, to raise the error in that language
        raise
    install(lang, catalogs.load(lang))
    _route_click()
    return argv


def reset() -> None:
    """English again, as before ``setup`` (for whoever runs partnerctl in its own process, as the tests do)."""
    import gettext

    install("en", gettext.NullTranslations())
    _CHOSEN[:] = ["en"]


def _click_gettext(message: str) -> str:
    return _(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    from partnerctl.core.i18n import ngettext

    return ngettext(singular, plural, n)


def _route_click() -> None:
    """click's modules look their messages up in partnerctl's catalog (they bind gettext's at import), and
    its help's headings follow the language's typography (``Options :`` in French)."""
    import importlib

    import click

    for module in map(importlib.import_module, CLICK_MODULES):
        if hasattr(module, "_"):
            module._ = _click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]
    click.Context.formatter_class = _Formatter


class _Formatter(HelpFormatter):
    """click's help layout, with a heading's colon as the language writes it."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_('{heading}:').format(heading=heading)}\n")


def translate_help(command: Any) -> None:
    """Put the help of *command*, its parameters and its subcommands in the language in force.

    Each text keeps its English original, the catalog's key, so a second run in
    the same process (the tests) translates from it again.
    """
    for obj in (command, *getattr(command, "params", ())):
        for attr in ("help", "short_help"):
            original = getattr(obj, f"_msgid_{attr}", None)
            if original is None:
                original = getattr(obj, attr, None)
                setattr(obj, f"_msgid_{attr}", original or "")
            if original:
                setattr(obj, attr, _(original))
    for sub in getattr(command, "commands", {}).values():
        translate_help(sub)
