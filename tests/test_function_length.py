"""No function in adder/ is over MAX_LINES lines (its ``def`` line to its last, docstring included):
a longer one does several things, and each of them wants a name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "adder"
MAX_LINES = 60
MODULES = sorted(PACKAGE.rglob("*.py"))


def function_lengths(path: Path) -> dict[str, int]:
    """``name:line`` -> lines of every function and method in the module at ``path``."""
    tree = ast.parse(path.read_text())
    return {
        f"{node.name}:{node.lineno}": node.end_lineno - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_is_over_60_lines(path: Path) -> None:
    long = {name: lines for name, lines in function_lengths(path).items() if lines > MAX_LINES}
    assert not long, f"{path.relative_to(PACKAGE.parent)}: functions over {MAX_LINES} lines: {long}"


def test_no_comment_points_into_the_results_history() -> None:
    """The code says what it does and why; which experiment led to it is the history's to tell."""
    pointing = [str(p.relative_to(PACKAGE.parent)) for p in MODULES if "results_history" in p.read_text()]
    assert not pointing
