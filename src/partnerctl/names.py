"""Folding of names for matching, and slugs."""

from __future__ import annotations

import re
from collections.abc import Container
import unicodedata
from functools import lru_cache

# Letters that Unicode decomposition does not reduce to ASCII.
_EXTRA = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
     "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "ð": "d",
     "’": "'", "‘": "'"}
)
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Characters that change how text reads without showing themselves: bidirectional
# controls (U+202E makes "gpj.exe" read "exe.jpg"), zero-width and other invisible
# characters ("Tu\u200brin" looks like Turin). The one list: names refuse them,
# fold drops them, and output shows them as escapes (partnerctl.output).
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f]"
)


def invisible(text: str) -> list[str]:
    """The invisible or bidirectional control characters in *text*, as ``U+200B`` (each once, in order)."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in INVISIBLE.findall(text)))


def fold(text: str) -> str:
    """Case- and accent-insensitive form of *text*, invisible characters dropped: ``"Łódź"`` -> ``"lodz"``."""
    text = unicodedata.normalize("NFKD", INVISIBLE.sub("", text).translate(_EXTRA))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


# ``fold`` remembered, for short strings folded over and over (a search folds text one
# character at a time; stats folds each partnership's country): the same result, sooner.
fold_cached = lru_cache(maxsize=65536)(fold)


def slugify(text: str, max_words: int | None = None) -> str:
    """A slug of *text*: folded, ASCII letters and digits joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", fold(text).replace("'", ""))
    if max_words is not None:
        words = words[:max_words]
    return "-".join(words)


def unique(base: str, taken: Container[str]) -> str:
    """*base*, or *base* with ``-2``, ``-3``... appended: the first not in *taken*."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def is_slug(text: str) -> bool:
    """Whether *text* is a valid slug (``urban-mobility``, ``turin``)."""
    return bool(_SLUG_RE.match(text))
