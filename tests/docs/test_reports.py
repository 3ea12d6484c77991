"""Every study report in docs/experiments/ is rebuilt from its committed Optuna storage and found
equal to the committed one.

`adder sweep report STUDY --runs-dir docs/experiments/storages` rewrites a report from
docs/experiments/storages/STUDY.journal without running a trial (here from a copy of the journal,
into a temporary folder, so the committed files are not touched). The plots are written too, but
only the Markdown is compared: matplotlib's PNG bytes change with its version.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adder.__main__ import main

EXPERIMENTS = Path(__file__).resolve().parents[2] / "docs" / "experiments"
STORAGES = EXPERIMENTS / "storages"

#: Pages in docs/experiments/ that no `adder sweep report` writes.
NOT_REPORTS = {"README", "lr_search_pruning"}


def stored() -> list[str]:
    return sorted(path.stem for path in STORAGES.glob("*.journal"))


def test_every_report_has_its_storage() -> None:
    reports = {path.stem for path in EXPERIMENTS.glob("*.md")} - NOT_REPORTS
    assert reports == set(stored())


@pytest.mark.parametrize("study", stored())
def test_a_report_is_rebuilt_from_its_committed_storage(study: str, tmp_path: Path) -> None:
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    runs.mkdir()
    shutil.copy(STORAGES / f"{study}.journal", runs)
    assert main(["sweep", "report", study, "--runs-dir", str(runs), "--docs-dir", str(docs)]) == 0
    assert (docs / f"{study}.md").read_text() == (EXPERIMENTS / f"{study}.md").read_text(), (
        f"rebuild it: adder sweep report {study} --runs-dir docs/experiments/storages"
    )
