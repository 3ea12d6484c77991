"""pyproject.toml lists every package under adder/ (it lists them so that configs/ ships inside)."""

from __future__ import annotations

from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_and_the_configs_are_listed() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "adder").rglob("__init__.py")}
    assert set(setuptools["packages"]) == found | {
        f"adder.configs.{d.name}" for d in (REPO / "configs").iterdir() if d.is_dir()
    } | {"adder.configs"}
    assert setuptools["package-dir"] == {"adder.configs": "configs"}
