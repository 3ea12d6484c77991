"""Every study report in docs/experiments/ is rebuilt from its committed Optuna storage and found
equal to the committed one, or is listed below with the reason it cannot be.

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

#: Reports whose storage was not committed when they were written and is lost: rebuilding one
#: means rerunning the study (docs/experiments/README.md, "Which reports can be rebuilt").
WITHOUT_STORAGE = {
    "smallest_adder": "a search of hours (3669 s with 2 workers, after a first sitting of 94 minutes)",
}
#: Pages in docs/experiments/ that no `adder sweep report` writes.
NOT_REPORTS = {"README", "lr_search_pruning"}


def stored() -> list[str]:
    return sorted(path.stem for path in STORAGES.glob("*.journal"))


def test_every_report_has_its_storage_or_a_reason() -> None:
    reports = {path.stem for path in EXPERIMENTS.glob("*.md")} - NOT_REPORTS
    assert not set(stored()) & set(WITHOUT_STORAGE), "a study is listed as lost but has its storage"
    assert reports == set(stored()) | set(WITHOUT_STORAGE)


@pytest.mark.parametrize("study", stored())
def test_a_report_is_rebuilt_from_its_committed_storage(study: str, tmp_path: Path) -> None:
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    runs.mkdir()
    shutil.copy(STORAGES / f"{study}.journal", runs)
    assert main(["sweep", "report", study, "--runs-dir", str(runs), "--docs-dir", str(docs)]) == 0
    assert (docs / f"{study}.md").read_text() == (EXPERIMENTS / f"{study}.md").read_text(), (
        f"rebuild it: adder sweep report {study} --runs-dir docs/experiments/storages"
    )
