"""The message catalogs shipped in the package: ``partnerctl/locale/<lang>/LC_MESSAGES/partnerctl.mo``.

The ``.mo`` files are compiled from the ``.po`` files beside them with Babel
(``pybabel compile -D partnerctl -d src/partnerctl/locale``) and committed;
``tests/test_i18n.py`` fails when a committed ``.mo`` is not its ``.po``.
Reading one is the stdlib's ``gettext``: no Babel on the read path.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

DOMAIN = "partnerctl"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def load(lang: str) -> gettext.NullTranslations:
    """The catalog of *lang* (English, the language of the source, has none: messages are themselves)."""
    if lang == "en":
        return gettext.NullTranslations()
    try:
        with open(LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
            return gettext.GNUTranslations(f)
    except OSError:
        # An installation without its catalog still works, in English.
        return gettext.NullTranslations()
