"""The language people read: messages looked up in a gettext catalog, in the language chosen for the run.

The core only looks messages up: ``_("...")`` for a message built now,
``N_("...")`` to mark one that is translated where it is shown (a field's
label in the model, a heading declared once). Which language is in force, and
its catalog, is installed by the command line (``cli/language.py`` decides,
``storage/catalogs.py`` reads the shipped ``.mo`` file) before anything is
printed. The catalog covers messages for people only: JSON keys, CSV headers,
ids, slugs and exit codes never change with the language.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager

# The languages partnerctl speaks; the first is the source language of every message.
LANGUAGES = ("en", "fr")
DEFAULT = "en"

_state: dict[str, object] = {"lang": DEFAULT, "catalog": gettext.NullTranslations()}


def install(lang: str, catalog: gettext.NullTranslations) -> None:
    """Make *lang* (with its *catalog*) the language of every message from now on."""
    _state["lang"], _state["catalog"] = lang, catalog


def language() -> str:
    """The language in force (``en`` or ``fr``)."""
    return str(_state["lang"])


def _catalog() -> gettext.NullTranslations:
    catalog = _state["catalog"]
    assert isinstance(catalog, gettext.NullTranslations)
    return catalog


def _(message: str) -> str:
    """*message* in the language in force (itself when the catalog has no translation)."""
    return _catalog().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for *n*, in the language in force."""
    return _catalog().ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools know
    """Mark *message* for the catalog without translating it now (it is translated where it is shown)."""
    return message


@contextmanager
def using(lang: str, catalog: gettext.NullTranslations) -> Iterator[None]:
    """*lang* in force for the duration (an export writing a page per language), then the previous one."""
    before = (language(), _catalog())
    install(lang, catalog)
    try:
        yield
    finally:
        install(*before)
