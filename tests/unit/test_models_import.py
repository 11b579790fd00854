"""The model modules stand on their own: each imports alone in a fresh interpreter, and none
imports another at runtime in a circle.

Relationships name their targets as strings ("Call", "Round") and the classes a module only
needs for type hints are imported under ``TYPE_CHECKING``, so the import order of the feature
packages never matters. SQLAlchemy resolves the names when the mappers are configured, once
``awards.models`` has imported every module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import awards

ROOT = Path(awards.__file__).parent
MODELS = sorted(
    ".".join(("awards", *path.relative_to(ROOT).with_suffix("").parts))
    for path in ROOT.glob("*/models.py")
)


def _runtime_imports(module: str) -> set[str]:
    """The ``awards`` modules ``module`` imports when it is executed: at module level and in
    function bodies, leaving out the blocks under ``if TYPE_CHECKING:``."""
    path = ROOT.joinpath(*module.split(".")[1:]).with_suffix(".py")
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name.startswith("awards.")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, str] = {}

    def walk(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := walk(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := walk(start, [start])):
            return found
    return None


def test_the_model_modules_are_found():
    assert {"awards.calls.models", "awards.jury.models", "awards.nominations.models"} <= set(
        MODELS)


def test_no_model_module_imports_another_in_a_circle():
    graph = {m: _runtime_imports(m) & set(MODELS) for m in MODELS}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_cycle_finder_finds_a_circle_of_three():
    graph = {"n": {"c"}, "c": {"j"}, "j": {"n"}, "x": {"n"}}
    assert _cycle(graph) == ["c", "j", "n", "c"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


# One interpreter imports what every model module builds on (Flask, SQLAlchemy, awards.db),
# then forks a child per model module: each child starts with no model module loaded, as a
# fresh interpreter would, for a fraction of the cost of starting one per module.
FORK_EACH = """
import importlib, os, sys, traceback
import awards.db, awards.enums
assert not [m for m in sys.modules if m.endswith(".models")], "a model module loaded early"
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
            if name == "awards.models":
                from sqlalchemy.orm import configure_mappers
                configure_mappers()
        except BaseException:
            print(name, traceback.format_exc().strip().splitlines()[-1])
            os._exit(1)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_each_model_module_imports_alone_in_a_fresh_interpreter():
    """And ``awards.models``, which imports them all, configures every relationship."""
    result = subprocess.run([sys.executable, "-c", FORK_EACH, *MODELS, "awards.models"],
                            capture_output=True, text=True, cwd=ROOT.parent, timeout=120)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")
