"""Folding of names for matching, and slugs."""

from __future__ import annotations

import hashlib
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


def fold(text: str) -> str:
    """Case- and accent-insensitive form of *text*: ``"Łódź"`` -> ``"lodz"``."""
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA))
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


def shorten(slug: str, limit: int) -> str:
    """*slug* if it has at most *limit* characters; else its start, ``-`` and 8 hex digits of the SHA-1
    of the whole slug: the same slug always gives the same result, and two long ones differ."""
    if len(slug) <= limit:
        return slug
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
