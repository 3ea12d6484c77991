"""Imports only point down the layers of docs/architecture.md, and the lower layers need no Lightning."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "adder"
#: Each subpackage's layer; a module may import its own layer and the layers below.
LAYERS = {
    "errors": 0,
    "config_files": 0,
    "problems": 1,
    "models": 2,
    "evaluation": 3,
    "verification": 3,
    "training": 4,
    "commands": 5,
    "study": 5,
    "__main__": 6,
}


def layer_of(module: str) -> int:
    return LAYERS[module.split(".")[1]] if module.count(".") else 0  # "adder" itself: the package


def imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("adder"):
            names += [node.module] if node.module != "adder" else [f"adder.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("adder")]
    return names


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    module = ".".join(("adder", *path.relative_to(PACKAGE).with_suffix("").parts))
    for imported in imports(path):
        assert layer_of(imported) <= layer_of(module), f"{module} imports {imported}, a layer above it"


def test_the_layers_below_training_import_no_lightning() -> None:
    code = (
        "import sys, adder.problems.suites, adder.models.checkpoints, adder.evaluation.runner, "
        "adder.evaluation.probe, adder.commands.add, adder.commands.evaluate, adder.commands.verify; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning', 'optuna')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
