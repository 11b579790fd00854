"""The judging package stays pure: the standard library, ``awards.enums`` and pure libraries
(numpy for the fast path, pyrankvote for the single transferable vote) only: no Flask, no
database."""

import ast
import sys
from pathlib import Path

import pytest

import awards.judging

PACKAGE = Path(awards.judging.__file__).parent
ALLOWED = {"awards.enums", "numpy", "pyrankvote"}


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_judging_module_imports_only_stdlib_and_enums(path):
    for module in imported_modules(path):
        top = module.split(".")[0]
        assert module in ALLOWED or top in sys.stdlib_module_names, f"{path.name}: {module}"
