"""The package's shape: imports go one way, and nothing dodges a cycle.

Reads every module's top-level imports with ``ast`` (no code is run) and
checks that the import graph between awgcheck's modules has no cycle, and
that no module imports inside a function or below its first definition to
hide one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "awgcheck"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, tree: ast.Module) -> set[str]:
    """awgcheck modules ``name`` imports at module level."""
    found: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{a.name}" for a in node.names
                          if f"{base}.{a.name}" in MODULES}
            found.update(submodules)
            # `from awgcheck.checks import conf` needs the submodule, not what
            # the package's __init__ defines (Python is already loading it).
            if len(submodules) < len(node.names):
                found.add(base)
    return {m for m in found if m in MODULES and m != name}


def _graph() -> dict[str, set[str]]:
    return {name: _imported(name, ast.parse(path.read_text(encoding="utf-8")))
            for name, path in MODULES.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_layout_imports_have_no_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_layout_graph_sees_real_edges() -> None:
    # Guards the test above against a graph builder that finds nothing.
    graph = _graph()
    assert "awgcheck.model" in graph["awgcheck.engine"]
    assert "awgcheck.checks.base" in graph["awgcheck.checks.params"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_layout_no_hidden_imports(name: str) -> None:
    """No import inside a function and no ``noqa: E402`` import below code:
    both are how a cycle gets hidden instead of removed."""
    source = MODULES[name].read_text(encoding="utf-8")
    assert "noqa: E402" not in source
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
            assert not inner, f"{name}: import inside {node.name}() at line {inner[0].lineno}"


PURE = ("awgcheck.engine", "awgcheck.compare", "awgcheck.checks", "awgcheck.ruleset")
"""The layers that judge documents already read: (rules, documents) ->
findings. They must run without any transport."""


@pytest.mark.parametrize("name", PURE)
def test_layout_pure_layers_load_no_transport(name: str) -> None:
    """Importing a pure layer, in a fresh interpreter, loads neither
    :mod:`awgcheck.collect` nor paramiko (which also sets its log level)."""
    probe = (f"import sys, {name}\n"
             "print(sorted(m for m in sys.modules if m == 'paramiko'\n"
             "             or m.startswith(('paramiko.', 'awgcheck.collect'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]", f"{name} loads {out}"
