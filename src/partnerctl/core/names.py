"""Folding of names for matching, and slugs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from functools import lru_cache

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Characters that change how text reads without showing themselves: bidirectional
# controls (U+202E makes "gpj.exe" read "exe.jpg"), zero-width and other invisible
# characters ("Tu\u200brin" looks like Turin). The one list, as code point ranges: names
# refuse them, fold drops them, and output shows them as escapes (partnerctl.output).
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0x3164, 0x3164), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
)
INVISIBLE = re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _INVISIBLE_RANGES) + "]")

# Letters that Unicode decomposition does not reduce to ASCII, and the invisible characters, dropped.
_EXTRA = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
     "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "ð": "d",
     "’": "'", "‘": "'",
     **{chr(code): None for lo, hi in _INVISIBLE_RANGES for code in range(lo, hi + 1)}}
)


def invisible(text: str) -> list[str]:
    """The invisible or bidirectional control characters in *text*, as ``U+200B`` (each once, in order)."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in INVISIBLE.findall(text)))


def fold(text: str) -> str:
    """Case- and accent-insensitive form of *text*, invisible characters dropped: ``"Łódź"`` -> ``"lodz"``."""
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


_WORDS = re.compile(r"\w+")


def loose(text: str) -> str:
    """*text* folded, apostrophes dropped and other punctuation and spacing as single spaces: how names are
    compared when spellings may differ (``"St. Louis"`` -> ``"st louis"``, ``"Be'er Sheva"`` -> ``"beer sheva"``)."""
    return " ".join(_WORDS.findall(fold(text).replace("'", "")))


# ``fold`` remembered, for short strings folded over and over (a search folds text one
# character at a time; stats folds each partnership's country): the same result, sooner.
fold_cached = lru_cache(maxsize=65536)(fold)


def slugify(text: str, max_words: int | None = None) -> str:
    """A slug of *text*: folded, ASCII letters and digits joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", fold(text).replace("'", ""))
    if max_words is not None:
        words = words[:max_words]
    return "-".join(words)


def shorten(slug: str, limit: int) -> str:
    """*slug* if it has at most *limit* characters; else its start, ``-`` and 8 hex digits of the SHA-1
    of the whole slug: the same slug always gives the same result, and two long ones differ."""
    if len(slug) <= limit:
        return slug
    import hashlib

    digest = hashlib.sha1(slug.encode("utf-8")).hexdigest()[:8]
    return f"{slug[:limit - 9].rstrip('-')}-{digest}"


def unique(base: str, taken: Container[str], limit: int | None = None) -> str:
    """*base*, or *base* with ``-2``, ``-3``... appended: the first not in *taken*.

    With *limit*, every candidate is shortened to at most that many characters (``shorten``).
    """
    def fit(slug: str) -> str:
        return slug if limit is None else shorten(slug, limit)

    candidate, n = fit(base), 2
    while candidate in taken:
        candidate, n = fit(f"{base}-{n}"), n + 1
    return candidate


def is_slug(text: str) -> bool:
    """Whether *text* is a valid slug (``urban-mobility``, ``turin``)."""
    return bool(_SLUG_RE.match(text))
