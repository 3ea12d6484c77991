"""adder.study.queue: real worker processes on one Optuna storage (a journal file, a real
PostgreSQL server), a worker killed mid-trial and resumed, a failing point, a search."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from adder.__main__ import main
from tests.helpers import postgres
from tests.helpers.cli import REPO, adder_process
from tests.helpers.study import TINY, keys, study_file, sweep_args, sweep_command, trials
from tests.helpers.tensorboard import scalars

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["journal file", "postgresql"])
def test_two_workers_run_every_point_exactly_once(backend: str, tmp_path: Path) -> None:
    if backend == "postgresql" and not postgres.available():
        pytest.skip("PostgreSQL 15 is not installed here (/usr/lib/postgresql/15/bin)")
    study = study_file(tmp_path, "pair", grid={"model.hidden_size": [6, 8, 10]}, seeds=[0, 1])
    server = postgres.postgres_server() if backend == "postgresql" else None
    url = server.__enter__() if server else None
    try:
        command = sweep_command(study, tmp_path, *(["--storage", url] if url else []))
        # Two workers started together, as on two machines: each enqueues the grid and claims trials.
        workers = [
            subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=600) for worker in workers]
        codes = [worker.returncode for worker in workers]
        assert codes == [0, 0], [(code, err[-2000:]) for code, (_, err) in zip(codes, outputs)]
        found = trials(tmp_path / "runs", "pair", url)
    finally:
        if server:
            server.__exit__(None, None, None)
    complete = [t for t in found if t.state.name == "COMPLETE"]
    assert keys(complete) == [(label, seed) for label in ("10", "6", "8") for seed in (0, 1)]  # each once
    for trial in found:  # anything else is a second copy of a point, closed before it ran
        if trial.state.name != "COMPLETE":
            assert (
                trial.state.name == "PRUNED"
                and "duplicate_of" in trial.user_attrs
                and "records" not in trial.user_attrs
            )
    ran = [line for out, _ in outputs for line in out.splitlines() if " steps in " in line]
    assert len(ran) == 6  # the two workers shared the six trials between them
    assert all(len(t.user_attrs["records"]) == 1 and t.user_attrs["records"][0]["steps"] == 6 for t in complete)


def test_a_killed_worker_s_trial_is_resumed_from_its_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "killed-once"
    kill = [{"class_path": "tests.helpers.callbacks.KillOnce", "init_args": {"step": 7, "marker": str(marker)}}]
    args = {
        **TINY,
        "trainer.max_steps": 12,
        "trainer.log_every_n_steps": 1,
        "checkpoint.save_last_every_n_steps": 1,
        "trainer.callbacks": kill,
    }
    study = study_file(tmp_path, "killed", args=args, points=[{"label": "only"}])
    sweep = ["sweep", str(study), "--runs-dir", str(tmp_path / "runs"), "--docs-dir", str(tmp_path / "docs")]
    first = adder_process(tmp_path, *sweep)
    assert first.returncode == -signal.SIGKILL  # the worker died mid-trial, at step 7
    time.sleep(2)
    # The next worker, in-process (KillOnce's marker is there: it does not kill again).
    assert main([*sweep, "--grace", "1"]) == 0  # its heartbeat is 2 s old: abandoned
    assert "resuming trial 0" in capsys.readouterr().out
    dead, resumed = trials(tmp_path / "runs", "killed")
    assert dead.state.name == "FAIL" and "records" not in dead.user_attrs
    assert "stopped" in resumed.user_attrs["why"]
    assert resumed.state.name == "COMPLETE" and resumed.user_attrs["resumes"] == 0
    assert resumed.user_attrs["records"][0]["steps"] == 12  # the step count the study asked for
    # The dead trial reported step 3 and 6; the copy holds them and adds 9 and 12, each once.
    assert sorted(dead.intermediate_values) == [3, 6] and sorted(resumed.intermediate_values) == [3, 6, 9, 12]
    assert resumed.intermediate_values[6] == dead.intermediate_values[6]
    run = tmp_path / "runs" / "killed" / "only" / "seed0"
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 12
    steps = [step for step, _ in scalars(run)["train/loss"]]
    assert sorted(steps) == sorted(set(steps)) and len(steps) == 12  # resumed at its checkpoint, not from scratch


def test_a_trial_that_kills_its_worker_every_time_is_retried_then_recorded_as_failed(tmp_path: Path) -> None:
    kill = [{"class_path": "tests.helpers.callbacks.SignalAtStep", "init_args": {"step": 2, "signum": "SIGKILL"}}]
    study = study_file(tmp_path, "doomed", args={**TINY, "trainer.callbacks": kill}, points=[{"label": "only"}])
    sweep = ["sweep", str(study), "--runs-dir", str(tmp_path / "runs"), "--docs-dir", str(tmp_path / "docs")]
    for _ in range(2):  # the first run and its one retry: each worker dies at step 2, before any checkpoint
        assert adder_process(tmp_path, *sweep, "--grace", "1", "--retries", "1").returncode == -signal.SIGKILL
        time.sleep(2)  # its heartbeat goes stale
    last = adder_process(tmp_path, *sweep, "--grace", "1", "--retries", "1")
    assert last.returncode == 0, last.stderr
    first, retry = trials(tmp_path / "runs", "doomed")
    assert first.state.name == retry.state.name == "FAIL" and retry.user_attrs["resumes"] == 0
    assert retry.user_attrs["why"] == "its worker stopped (no heartbeat for 1 s)"
    assert retry.system_attrs["retry_history"] == [0]  # Optuna's retry callback: one retry, then no more
    report = (tmp_path / "docs" / "doomed.md").read_text()  # the report gives the reason
    assert "trial 1 (only): its worker stopped (no heartbeat) 2 times; not run again" in report


def test_a_failing_point_is_recorded_and_the_study_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = study_file(tmp_path, "mixed", points=[{"label": "broken", "model.hidden_size": 0}, {"label": "fine"}])
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    assert main(["sweep", str(study), "--runs-dir", str(runs), "--docs-dir", str(docs)]) == 0
    assert "broken seed 0 ... failed: hidden_size must be a positive integer" in capsys.readouterr().out
    broken, fine = trials(runs, "mixed")
    assert broken.state.name == "FAIL" and "hidden_size" in broken.user_attrs["error"]
    assert fine.state.name == "COMPLETE"
    report = (docs / "mixed.md").read_text()
    assert "| fine |" in report and "trial 0 (broken): hidden_size must be a positive integer" in report


def test_a_search_runs_its_sampler_within_the_trial_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    search = {
        "trials": 3,
        "params": {"model.hidden_size": {"low": 4, "high": 12}, "model.cell": ["rnn", "gru"]},
        "objectives": [{"minimize": "num_parameters"}],
        "constraints": ["test/exact_match/*/3 >= 0"],
    }
    study = study_file(tmp_path, "tiny_search", search=search)
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    assert main(["sweep", str(study), "--runs-dir", str(runs), "--docs-dir", str(docs)]) == 0
    done = [t for t in trials(runs, "tiny_search") if t.state.name == "COMPLETE"]
    assert len(done) == 3
    for trial in done:
        flags = trial.user_attrs["flags"]
        assert 4 <= flags["model.hidden_size"] <= 12 and flags["model.cell"] in ("rnn", "gru")
        assert trial.values[0] == trial.user_attrs["records"][0]["num_parameters"]
        assert trial.user_attrs["constraints"] == [
            0.0
            - min(
                trial.user_attrs["records"][0]["metrics"][k]
                for k in trial.user_attrs["records"][0]["metrics"]
                if k.startswith("test/exact_match/")
            )
        ]
    report = (docs / "tiny_search.md").read_text()
    assert "3 trials done of 3; 3 meet every constraint" in report
    capsys.readouterr()
    assert main(["sweep", str(study), "--runs-dir", str(runs), "--docs-dir", str(docs)]) == 0  # budget spent
    assert " steps in " not in capsys.readouterr().out


def test_a_search_runs_its_start_points_first_and_its_sampler_learns_from_them(tmp_path: Path) -> None:
    search = {
        "trials": 2,
        "params": {"model.hidden_size": {"low": 4, "high": 12}, "optimizer.lr": {"low": 0.001, "high": 0.01}},
        "objectives": [{"minimize": "num_parameters"}],
        "start": [{"model.hidden_size": 5, "optimizer.lr": 0.002}],
    }
    study = study_file(tmp_path, "warm_search", search=search)
    runs = tmp_path / "runs"
    assert main(["sweep", str(study), "--runs-dir", str(runs), "--docs-dir", str(tmp_path / "docs")]) == 0
    first, second = sorted(trials(runs, "warm_search"), key=lambda t: t.number)
    assert first.state.name == second.state.name == "COMPLETE"
    assert first.user_attrs["point"] == "start-0"
    assert first.params == {"model.hidden_size": 5, "optimizer.lr": 0.002}  # what the sampler sees
    assert first.user_attrs["flags"]["model.hidden_size"] == 5
    assert first.user_attrs["records"][0]["num_parameters"] == first.values[0]
    assert second.user_attrs["point"] == "trial-1" and set(second.params) == set(search["params"])


def test_quick_caps_a_budget_the_search_space_names(tmp_path: Path) -> None:
    # A search over the schedule's length still trains --quick's few steps, start points and
    # sampled trials alike; the sampler sees the params it chose.
    search = {
        "trials": 2,
        "params": {"trainer.max_steps": [20000, 60000]},
        "objectives": [{"minimize": "num_parameters"}],
        "start": [{"trainer.max_steps": 60000}],
    }
    study = study_file(tmp_path, "budget_search", search=search, quick={"trainer.max_steps": 2})
    runs = tmp_path / "runs"
    argv = ["sweep", str(study), "--quick", "--runs-dir", str(runs), "--docs-dir", str(tmp_path / "docs")]
    assert main(argv) == 0
    done = sorted(trials(runs, "budget_search-quick"), key=lambda t: t.number)
    assert [t.state.name for t in done] == ["COMPLETE", "COMPLETE"]
    assert done[0].params == {"trainer.max_steps": 60000}
    assert done[1].params["trainer.max_steps"] in (20000, 60000)
    assert [t.user_attrs["flags"]["trainer.max_steps"] for t in done] == [2, 2]


@pytest.mark.parametrize(("bound", "seeds_run"), [(0, 2), (2, 1)])
def test_a_search_trial_stops_at_the_first_seed_that_breaks_a_constraint(
    tmp_path: Path, bound: int, seeds_run: int
) -> None:
    search = {
        "trials": 1,
        "params": {"model.hidden_size": {"low": 4, "high": 12}},
        "objectives": [{"minimize": "num_parameters"}],
        "constraints": [f"test/exact_match/random/3 >= {bound}"],  # exact match is at most 1: 2 never holds
    }
    study = study_file(tmp_path, "pruned", search=search, seeds=[0, 1])
    runs, docs = tmp_path / "runs", tmp_path / "docs"
    assert main(["sweep", str(study), "--runs-dir", str(runs), "--docs-dir", str(docs)]) == 0
    (trial,) = trials(runs, "pruned")
    assert trial.state.name == "COMPLETE"
    assert [r["seed"] for r in trial.user_attrs["records"]] == [0, 1][:seeds_run]
    assert ("| missed (seed 0) |" in (docs / "pruned.md").read_text()) == (seeds_run == 1)


def test_ctrl_c_stops_a_worker_cleanly_and_the_trial_resumes(tmp_path: Path) -> None:
    args = {**TINY, "trainer.max_steps": 3000, "trainer.val_check_interval": 5}
    study = study_file(tmp_path, "stopped", args=args, points=[{"label": "long"}])
    command = sweep_command(study, tmp_path)
    worker = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = tmp_path / "runs" / "stopped" / "long" / "seed0" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    while not last.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 130, err
    stopped, again = trials(tmp_path / "runs", "stopped")
    assert stopped.state.name == "FAIL" and stopped.user_attrs["error"] == "interrupted"
    assert again.state.name == "WAITING" and again.user_attrs["resumes"] == 0
    saved = torch.load(last, weights_only=True)["global_step"]
    assert 0 < saved < 3000  # stopped after a step, with a checkpoint


def test_ctrl_c_during_a_test_keeps_the_finished_seed_and_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pressed-once"
    press = [{"class_path": "tests.helpers.callbacks.CtrlCOnceInTest", "init_args": {"marker": str(marker)}}]
    study = study_file(
        tmp_path,
        "pressed",
        args={**TINY, "trainer.log_every_n_steps": 1, "trainer.callbacks": press},
        seeds=[0, 1],
        points=[{"label": "p"}],
    )
    first = subprocess.run(sweep_command(study, tmp_path), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 130, first.stderr  # stopped, not a failed trial and a worker going on
    seed0 = tmp_path / "runs" / "pressed" / "p" / "seed0"
    assert (seed0 / "record.json").is_file() and not (seed0.parent / "seed1").exists()
    stopped = trials(tmp_path / "runs", "pressed")[0]
    assert stopped.user_attrs["seed"] == 0 and stopped.user_attrs["error"] == "interrupted"

    # Run again, in-process (CtrlCOnceInTest's marker is there: no second Ctrl-C).
    assert main(sweep_args(study, tmp_path)) == 0, capsys.readouterr().err
    done = [t for t in trials(tmp_path / "runs", "pressed") if t.state.name == "COMPLETE"]
    assert sorted(t.user_attrs["seed"] for t in done) == [0, 1]
    resumed = next(t for t in done if t.user_attrs["seed"] == 0)
    assert resumed.user_attrs["resumes"] == 0 and resumed.user_attrs["records"][0]["steps"] == 6
    steps = [step for step, _ in scalars(seed0)["train/loss"]]
    assert len(steps) == len(set(steps)) == 6  # the finished seed was not trained again


def test_a_claim_skips_a_trial_another_worker_finished_since_it_was_listed(tmp_path: Path) -> None:
    from optuna.trial import TrialState

    from adder.study.queue import StudyQueue, open_storage
    from adder.study.spec import load_experiment

    experiment = load_experiment(study_file(tmp_path, "race", grid={"model.hidden_size": [6, 8]}))
    storage = open_storage(None, tmp_path / "race.journal")
    queue = StudyQueue(experiment, storage, tmp_path / "runs", quick=False)
    queue.enqueue_grid()
    stale = queue.trials(TrialState.WAITING)  # what this worker saw before the other one acted
    first = storage.get_trial_id_from_study_id_trial_number(queue.study_id, stale[0].number)
    storage.set_trial_state_values(first, TrialState.RUNNING)  # the other worker claims it ...
    storage.set_trial_state_values(first, TrialState.PRUNED)  # ... and closes it (a duplicate, say)
    queue.trials = lambda *states: stale if states == (TrialState.WAITING,) else StudyQueue.trials(queue, *states)
    claimed = queue.claim()
    assert claimed is not None and claimed.number == stale[1].number
