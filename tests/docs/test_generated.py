"""Each table a script writes, as the docs hold it, is the one its script writes.

- docs/generated/parameters.md (scripts/parameter_counts.py) is written again and compared whole:
  it builds each shipped recipe's model, which takes seconds.
- docs/performance.md is assembled again from benchmarks/results/ by benchmarks/run.py's own
  write_page and compared whole (the measurements themselves take an hour and are not rerun).
- The length-generalisation tables (scripts/length_generalisation.py --out docs/generated/NAME.md)
  come from runs of minutes to hours, which are not rerun: each is checked for the script's
  header and suite note, and its second table (the script wrote none before 2026-11-24) for the figures the script derives from the
  measured ones: the digits checked (seeds x problems x (digits + 1)), the error bound of the
  wrong digits among them, and no wrong digit exactly where every suite of that cell and length
  is 100.00% right.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from benchmarks import run as bench

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
GENERATED = DOCS / "generated"
#: `--8<-- "docs/generated/NAME.md"`: pymdownx.snippets, as mkdocs.yml sets it up (paths from the repository root).
SNIPPET = re.compile(r'^--8<-- "([^"]+)"\s*$', re.MULTILINE)
EDGE_CASES = 8


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def length_tables() -> list[Path]:
    """The tables scripts/length_generalisation.py wrote (its header starts them)."""
    return sorted(p for p in GENERATED.glob("*.md") if p.read_text().startswith("| cell | seed | params |"))


def test_the_recipes_parameter_table_is_what_its_script_writes() -> None:
    assert (GENERATED / "parameters.md").read_text() == script("parameter_counts").table(), (
        "rerun `python scripts/parameter_counts.py --write`"
    )


def test_the_performance_page_is_assembled_from_the_benchmark_results(tmp_path: Path) -> None:
    bench.write_page(bench.TRACKED_RESULTS, tmp_path / "performance.md")
    assert (tmp_path / "performance.md").read_text() == bench.PAGE.read_text(), (
        "rerun `python benchmarks/run.py --assemble`"
    )


def test_every_included_snippet_is_a_checked_table() -> None:
    """What the pages include is a table this module checks, so no included figure goes unchecked."""
    checked = {GENERATED / "parameters.md", *length_tables()}
    included = {REPO / target for page in DOCS.rglob("*.md") for target in SNIPPET.findall(page.read_text())}
    assert included, "no page includes a generated table"
    assert included <= checked, f"included but not checked: {sorted(map(str, included - checked))}"


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@pytest.mark.parametrize("table", length_tables(), ids=lambda p: p.name)
def test_a_length_generalisation_table_is_in_its_scripts_form(table: Path) -> None:
    lengths_script = script("length_generalisation")
    text = table.read_text()
    lines = text.splitlines()
    header = cells(lines[0])[5:]
    kinds = list(dict.fromkeys(column.split()[0] for column in header))
    lengths = list(dict.fromkeys(int(column.split()[1]) for column in header))
    assert lines[:2] == lengths_script.table_header(lengths, kinds)
    rows = [cells(line) for line in lines[2 : lines.index("")]]
    note = lines[lines.index("") + 1]
    size = int(re.match(r"Exact match in %, (\d+) problems per suite", note).group(1))
    # The older tables say "(2000 random, carry, mixed; ...)": the same note before a wording change.
    assert note.replace(f"({size} random", "(random").startswith(lengths_script.suites_note(size, kinds))

    bounds_header = "| cell | digits | digits checked | wrong digits | per-digit error, 95% upper bound |"
    if bounds_header not in lines:  # the tables of the script before it wrote error bounds
        return
    start = lines.index(bounds_header)
    bounds = [cells(line) for line in lines[start + 2 :] if line.startswith("|")]
    wrong = {}
    for cell, digits, checked, errors, _ in bounds:
        length = int(digits.replace(",", ""))
        scores = [row[5 + header.index(f"{k} {length}")] for row in rows if row[0] == cell for k in kinds]
        seeds = sum(1 for row in rows if row[0] == cell)
        problems = sum(EDGE_CASES if k == "edge" else size for k in kinds)
        assert int(checked.replace(",", "")) == seeds * problems * (length + 1), (cell, length)
        assert (int(errors.replace(",", "")) == 0) == all(score == "100.00" for score in scores), (cell, length)
        wrong[(cell, length)] = [int(errors.replace(",", "")), int(checked.replace(",", ""))]
    assert lines[start : start + 2 + len(bounds)] == lengths_script.bounds_table(wrong)
