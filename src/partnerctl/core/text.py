"""Text helpers every layer shares: untrusted text made safe to show, JSON read safely, counts said right.

Registry and command-line text is untrusted: ``clean`` shows control,
bidirectional and invisible characters as escapes, ``neutralise`` keeps a
spreadsheet from running a cell as a formula, ``dumps_json`` escapes what a
terminal would act on, ``loads_json`` turns every failure into one error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from partnerctl.core.names import INVISIBLE

# C0 and C1 control characters and DEL; shown as visible escapes, never passed through.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SHOWN_ESCAPED = re.compile(f"{_CONTROL.pattern}|{INVISIBLE.pattern}")


def _escape(char: str) -> str:
    r"""One character as a visible escape: ``\x1b``, ``\u202e``, ``\U000e0041``."""
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def clean(text: str, *, multiline: bool = False) -> str:
    r"""*text* made safe for a terminal or a cell: control, bidirectional and invisible characters
    (``names.INVISIBLE``) shown as escapes (``\x1b``, ``\u202e``), so what shows is what is there."""
    if text.isascii() and text.isprintable():  # most text: nothing to escape, no line break or tab
        return text
    text = _SHOWN_ESCAPED.sub(lambda m: _escape(m.group()), text)
    return text if multiline else text.replace("\n", " ").replace("\t", " ")


# A cell a spreadsheet would take for a formula (OWASP "CSV injection"), possibly behind
# quotes that neutralising added: it gets one more leading quote, which import removes.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
_FORMULA_START = "'=+-@\t\r"  # the characters such a cell can start with


def neutralise(text: str) -> str:
    """A CSV/TSV cell that a spreadsheet shows as text: ``=1+2`` -> ``'=1+2`` (``unneutralise`` undoes it)."""
    return "'" + text if text[:1] in _FORMULA_START and _FORMULA.match(text) else text


def unneutralise(text: str) -> str:
    """The value of a cell ``neutralise`` wrote: ``''=x`` -> ``'=x``; any other cell unchanged."""
    return text[1:] if _NEUTRALISED.match(text) else text


# What json.dumps leaves raw but a terminal would act on: DEL, C1 controls, names.INVISIBLE.
_JSON_ESCAPED = re.compile(f"[\\x7f-\\x9f]|{INVISIBLE.pattern}")


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # JSON writes a character beyond U+FFFF as a surrogate pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def dumps_json(value: Any, indent: int | None = None, *, compact: bool = False, margin: str = "") -> str:
    """JSON keeping letters readable; DEL, C1 controls and invisible characters escaped as ``\\uXXXX``
    too (json escapes only C0). *compact*: no spaces after separators. *indent*: the text
    ``json.dumps(indent=indent)`` writes (made by ``indented``: json's C encoder, not its pure-Python
    one), each line after the first starting with *margin* (an item of an indented list)."""
    if indent is not None and not compact and type(indent) is int:
        text = indented(value, indent, margin)
    else:
        text = json.dumps(value, ensure_ascii=False, indent=indent, separators=(",", ":") if compact else None)
    # Every character escaped here but DEL is beyond ASCII: most texts need no pass of the pattern.
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_ESCAPED.sub(lambda m: _json_escape(m.group()), text)


# json.dumps(indent=N) runs json's pure-Python encoder (the C one takes no indent): five times slower.
# ``indented`` writes the same text with the C encoder: a container whose items hold no non-empty
# container is one call of it whose item separator is the newline and indentation of that level
# (only the text after the opening bracket and before the closing one differ); a container holding
# others is put together here around its items, each written the same way.
_CONTAINERS = (list, tuple, dict)  # what json writes as an array or an object (subclasses too)
_SCALARS = frozenset({str, int, float, bool})
_ITEM_ENCODERS: dict[str, Callable[[Any], str]] = {}


def _one_level(separator: str) -> Callable[[Any], str]:
    """A function writing a value as ``json.dumps(value, ensure_ascii=False, separators=(separator, ": "))``."""
    found = _ITEM_ENCODERS.get(separator)
    if found is None:
        from json import encoder

        plain = json.JSONEncoder(ensure_ascii=False, separators=(separator, ": "))
        make = getattr(encoder, "c_make_encoder", None)  # not in json's type stubs
        if make is None:  # pragma: no cover - CPython always has it
            found = plain.encode
        else:
            # Made once (json.dumps makes one per call). No cycle check (markers None): a cycle
            # recurses until RecursionError, and ``indented`` lets json.dumps say what it says then.
            c = make(None, plain.default, encoder.encode_basestring, None, ": ", separator, False, False, True)

            def found(value: Any) -> str:
                return "".join(c(value, 0))
        _ITEM_ENCODERS[separator] = found
    return found


def _flat(items: Any) -> bool:
    """Whether none of *items* is a non-empty container (json writes each on one line)."""
    # Most often said in C: the types of the items that are not empty, null, false or zero are plain.
    return set(map(type, filter(None, items))) <= _SCALARS or not any(
        isinstance(v, _CONTAINERS) and v for v in items)


def indented(value: Any, indent: int, margin: str = "") -> str:
    """Exactly ``json.dumps(value, ensure_ascii=False, indent=indent)``, with *margin* after each line break
    (no string json writes holds a raw one); faster (tests/test_output_bytes.py)."""
    try:
        return _indented(value, " " * indent, margin)
    except RecursionError:  # a cycle or a deep nest: json itself says what (ValueError, RecursionError)
        return json.dumps(value, ensure_ascii=False, indent=indent).replace("\n", "\n" + margin)


def _indented(value: Any, step: str, margin: str) -> str:
    """*value* as json.dumps(indent=len(step)) writes it, every line after its first one starting with *margin*."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = margin + step
        if _flat(value.values()):
            text = _one_level(",\n" + inner)(value)
            return "{\n" + inner + text[1:-1] + "\n" + margin + "}"
        if not all(isinstance(key, str) for key in value):
            # Keys json turns into text (numbers, true, null): its own encoder, its lines moved in (no string
            # json writes holds a raw line break, so every "\n" is between lines).
            return json.dumps(value, ensure_ascii=False, indent=len(step)).replace("\n", "\n" + margin)
        key = _one_level(", ")
        items = [key(k) + ": " + _indented(v, step, inner) for k, v in value.items()]
        return "{\n" + inner + (",\n" + inner).join(items) + "\n" + margin + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = margin + step
        if _flat(value):
            text = _one_level(",\n" + inner)(value)
            return "[\n" + inner + text[1:-1] + "\n" + margin + "]"
        return "[\n" + inner + (",\n" + inner).join([_indented(v, step, inner) for v in value]) + "\n" + margin + "]"
    return _one_level(", ")(value)


def loads_json(text: str) -> Any:
    """``json.loads`` for untrusted text: every failure is a ``json.JSONDecodeError``.

    Also arrays or objects nested too deeply for the parser, and numbers too
    long to convert (Python's own limit), which json.loads raises otherwise.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("arrays or objects nested too deeply", text, 0) from None
    except ValueError:
        raise json.JSONDecodeError("a number with too many digits", text, 0) from None


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """*n* and *noun* in the number it takes: ``1 partnership``, ``2 partnerships``, ``0 events``.

    Every message that counts says it through here (*plural* for a noun not made with -s).
    """
    from partnerctl.core.i18n import ngettext

    # The catalog holds "{n} noun" / "{n} nouns" for each noun counted (tools/messages.py finds them).
    return ngettext(f"{{n}} {noun}", f"{{n}} {plural or noun + 's'}", n).format(n=n)
