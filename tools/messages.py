"""The message catalog's template, extracted from the code, and the French catalog kept in step with it.

    .venv/bin/python tools/messages.py update    # add new messages to the .po (untranslated), drop gone ones
    .venv/bin/python tools/messages.py compile   # the .po to the committed .mo (Babel)
    .venv/bin/python tools/messages.py check     # what tests/test_i18n.py checks: exit 1 on a gap

What is a message (``extract``):

- the first argument of ``_()`` and ``N_()``, the two of ``ngettext()``, in ``src/partnerctl`` and in the
  click and Typer modules partnerctl routes to its catalog (``cli/language.py`` ``CLICK_MODULES``);
- ``{{ _("...") }}`` in the site's Jinja2 templates (any ``templates`` folder of the package);
- the segments of a field's ``Fact`` template (``", also known as {aliases}"``);
- a field's ``Meta`` label, ``help`` and ``heading`` (``core/model.py``), translated where shown;
- the nouns ``counted(n, "noun")`` counts (``{n} noun`` / ``{n} nouns``);
- the words tables show from the field table: column headings, statuses, ``stats`` dimensions;
- every help text of the command line as click shows it (command docstrings, option and
  argument help, derived ones included), read from the built Typer app itself.
"""

from __future__ import annotations

import ast
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "partnerctl"
PO = SRC / "locale" / "fr" / "LC_MESSAGES" / "partnerctl.po"
MO = PO.with_suffix(".mo")

# A message is a msgid, or (singular, plural) for ngettext.
Message = str | tuple[str, str]


def _constant(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def from_source(path: Path) -> Iterator[Message]:
    """The messages the code of *path* marks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = _call_name(node)
        first = _constant(node.args[0])
        if name in ("_", "N_") and first:
            yield first
        elif name == "ngettext" and len(node.args) >= 2:
            second = _constant(node.args[1])
            if first and second:
                yield first, second
        elif name == "Fact" and len(node.args) >= 2 and isinstance(node.args[1], ast.Tuple):
            yield from (text for text in map(_constant, node.args[1].elts) if text)
        elif name == "Meta":
            for value in (first, *(_constant(k.value) for k in node.keywords if k.arg in ("help", "heading"))):
                if value:
                    yield value
        elif name == "counted" and len(node.args) >= 2:
            noun = _constant(node.args[1])
            plural = _constant(node.args[2]) if len(node.args) > 2 else None
            if noun:
                yield f"{{n}} {noun}", f"{{n}} {plural or noun + 's'}"


def from_app() -> Iterator[Message]:
    """Every help text of the command line, as click has it."""
    sys.path.insert(0, str(ROOT / "src"))
    import typer.main

    import partnerctl.cli

    def walk(command: object) -> Iterator[Message]:
        for obj in (command, *getattr(command, "params", ())):
            for attr in ("help", "short_help"):
                text = getattr(obj, attr, None)
                if text:
                    yield text
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    yield from walk(typer.main.get_command(partnerctl.cli.app))




def from_templates() -> Iterator[Message]:
    """The messages of the Jinja2 templates (``{{ _("...") }}``, ``{% trans %}...{% endtrans %}`` with their
    plurals), under any ``templates`` folder of the package, as Jinja2's i18n extension extracts them: a
    template wrapped for gettext joins the catalog like the code."""
    from jinja2 import Environment

    env = Environment(extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    for path in sorted(SRC.rglob("*")):
        if path.is_file() and "templates" in path.relative_to(SRC).parts[:-1]:
            for _line, _name, message in env.extract_translations(path.read_text(encoding="utf-8")):
                if isinstance(message, str):
                    yield message
                elif isinstance(message, tuple) and len(message) >= 2 and message[0] and message[1]:
                    yield (message[0], message[1])
                elif isinstance(message, tuple) and message and message[0]:
                    yield message[0]


def from_click() -> Iterator[Message]:
    """click's (and Typer's) own messages, from the modules whose ``_`` partnerctl routes to its catalog."""
    import importlib

    sys.path.insert(0, str(ROOT / "src"))
    from partnerctl.cli.language import CLICK_MODULES

    for name in CLICK_MODULES:
        yield from from_source(Path(importlib.import_module(name).__file__ or ""))


def from_table() -> Iterator[Message]:
    """The words tables show that come from the field table (headings, statuses, dimensions)."""
    sys.path.insert(0, str(ROOT / "src"))
    from partnerctl.core.records import display_words

    yield from display_words()


def extract() -> list[Message]:
    """Every message, once each, in the order found (source files by name, the field table, then the help)."""
    found: dict[Message, None] = {}
    for path in sorted(SRC.rglob("*.py")):
        found.update(dict.fromkeys(from_source(path)))
    found.update(dict.fromkeys(from_templates()))
    found.update(dict.fromkeys(from_click()))
    found.update(dict.fromkeys(from_table()))
    found.update(dict.fromkeys(from_app()))
    # A template of placeholders and punctuation only ("{city} ({country})") has nothing to translate, but
    # for a colon: French puts a space before it ("{field} : {exc}").
    return [m for m in found if re.search(r"[^\W\d_]|:", re.sub(r"\{[^{}]*\}", "", m if isinstance(m, str) else m[0]))]


def read_catalog(path: Path = PO):  # type: ignore[no-untyped-def]
    """The .po file as a Babel catalog."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f, locale="fr", domain="partnerctl")


def compiled(catalog) -> bytes:  # type: ignore[no-untyped-def]
    """The .mo bytes of *catalog* (Babel's ``pybabel compile``)."""
    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compiled_is(mo: bytes, catalog) -> bool:  # type: ignore[no-untyped-def]
    """Whether the .mo bytes *mo* hold exactly the translations of *catalog* (whatever tool compiled them)."""
    import gettext

    mo_catalog = gettext.GNUTranslations(io.BytesIO(mo))._catalog  # type: ignore[attr-defined]
    po_catalog = gettext.GNUTranslations(io.BytesIO(compiled(catalog)))._catalog  # type: ignore[attr-defined]
    return bool(mo_catalog == po_catalog)


def gaps(catalog, messages: list[Message]) -> list[Message]:  # type: ignore[no-untyped-def]
    """The messages with no French translation in *catalog* (absent, empty or fuzzy)."""
    missing = []
    for message in messages:
        entry = catalog.get(message[0] if isinstance(message, tuple) else message)
        strings = entry.string if entry is not None else ""
        strings = strings if isinstance(strings, (tuple, list)) else (strings,)
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(message)
    return missing


def update() -> None:
    """Add new messages to the .po (empty), drop those the code no longer has; translations kept."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    old = read_catalog() if PO.exists() else Catalog(locale="fr", domain="partnerctl")
    new = Catalog(locale="fr", domain="partnerctl", project="partnerctl", fuzzy=False)
    by_key: dict[str, Message] = {}
    for message in extract():
        key = message[0] if isinstance(message, tuple) else message
        if isinstance(message, tuple) or key not in by_key:  # a plural form wins over the same singular
            by_key[key] = message
    for key, message in by_key.items():
        entry = old.get(key)
        plural = isinstance(message, tuple)
        string = entry.string if entry is not None and isinstance(entry.string, (tuple, list)) == plural else None
        new.add(message, string if string is not None else (("",) * new.num_plurals if plural else ""))
    with open(PO, "wb") as f:
        write_po(f, new, width=120, omit_header=False, sort_output=False, no_location=True)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        MO.write_bytes(compiled(read_catalog()))
    missing = gaps(read_catalog(), extract())
    for message in missing:
        print(f"untranslated: {message!r}", file=sys.stderr)
    if not MO.exists() or not compiled_is(MO.read_bytes(), read_catalog()):
        print(f"{MO} is not the compiled {PO.name}: run tools/messages.py compile", file=sys.stderr)
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
