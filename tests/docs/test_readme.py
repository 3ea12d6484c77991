"""The README is a front door: short, its quick start the two commands CI runs, its links whole."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
QUICK_START = [
    'pip install "torch==2.13.0" -e . && adder fit',
    'pip install "torch==2.13.0" -e ".[test]" && python -m pytest',
]
LINK = re.compile(r"\]\((?!https?:|mailto:)([^)\s#]*)(?:#([^)\s]+))?\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading (mkdocs.yml slugs the site's headings the same way)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {github_anchor(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def test_the_readme_is_at_most_150_lines() -> None:
    assert len(README.splitlines()) <= 150


def test_the_quick_start_is_the_two_commands_and_ci_runs_its_tests() -> None:
    block = README.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    assert block.splitlines() == QUICK_START
    test_command = QUICK_START[1].split(" && ", 1)[1]
    assert any(line.split("#")[0].strip() == test_command for line in (REPO / ".ci" / "run").read_text().splitlines())


def test_every_link_of_the_readme_leads_somewhere() -> None:
    for target, anchor in LINK.findall(README):
        path = REPO / target if target else REPO / "README.md"
        assert path.exists(), target
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{target}#{anchor}"
