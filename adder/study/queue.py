"""Trials handed out to workers through an Optuna storage, so that many processes (on one machine
or many) run a study together, each trial exactly once.

- The storage is a journal file in the runs directory by default, or any Optuna storage URL
  (``sqlite:///study.db``, ``postgresql://user@host/db``) that workers on many machines share.
- A grid study enqueues one trial per (point, seed). A worker claims a waiting trial by moving it
  to RUNNING through the storage, which lets one worker win; a copy enqueued twice by two workers
  starting together is closed as a duplicate, never run.
- A search study's trials come from its Optuna sampler (TPE, or NSGA-II for two objectives),
  with the study's constraints passed to the sampler, after its ``start`` points (enqueued as
  trials with fixed params, claimed like a grid's).
- Liveness is Optuna's heartbeat: the storage's ``heartbeat_interval`` and ``grace_period``,
  Optuna's heartbeat thread while a trial runs, ``fail_stale_trials`` before each claim, and its
  ``RetryHeartbeatStaleTrialCallback`` (the former ``RetryFailedTrialCallback``), which enqueues a
  trial whose worker died again, with its learning curve, at most ``retries`` times. The retry
  runs in the same run directory, so it resumes from that trial's ``last.ckpt``.
- A trial that fails (a bad config, a NaN loss) is recorded as failed with its one-line error,
  and the study goes on.
"""

from __future__ import annotations

import contextlib
import re
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages._heartbeat import BaseHeartbeat, get_heartbeat_thread
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from adder.errors import first_line
from adder.study.pruning import TrialPruned, TrialReporter
from adder.study.runs import run_trial
from adder.study.spec import (
    DEFAULT_GRACE,
    DEFAULT_RETRIES,
    Experiment,
    SweepError,
    make_pruner,
    metric_value,
    metric_values,
)
from adder.training.api import Interrupted, failure

optuna.logging.set_verbosity(optuna.logging.WARNING)


@contextlib.contextmanager
def quiet_heartbeat_warnings() -> Iterator[None]:
    """Optuna warns on every trial that its heartbeat API is experimental and that a heartbeat is
    meant for Study.optimize; this queue uses both on purpose (its own loop: see claim)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
        yield


def open_storage(
    url: str | None, default_path: Path, grace: int = DEFAULT_GRACE, retries: int = DEFAULT_RETRIES
) -> BaseStorage:
    """The storage at ``url``, or a journal file at ``default_path`` (no server needed), with
    Optuna's heartbeat: a running trial without one for ``grace`` seconds is failed and run again,
    up to ``retries`` times."""
    with quiet_heartbeat_warnings():
        return _open_storage(url, default_path, grace, retries)


def _open_storage(url: str | None, default_path: Path, grace: int, retries: int) -> BaseStorage:
    heartbeat: dict[str, Any] = {
        "heartbeat_interval": max(1, grace // 6),
        "grace_period": grace,
        "heartbeat_stale_trial_callback": RetryStale(retries, grace),
    }
    if url is None:
        default_path.parent.mkdir(parents=True, exist_ok=True)
        return JournalHeartbeatStorage(JournalFileBackend(str(default_path)), **heartbeat)
    # SQLite serialises writers; wait for the lock instead of failing at once.
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    for attempt in range(5):
        try:
            return RDBStorage(url, engine_kwargs=engine, **heartbeat)
        except Exception as error:  # a bad URL, a missing driver, a server that does not answer
            failure_ = error
            # Workers starting together race to create Optuna's tables; the loser finds them next time.
            time.sleep(0.5 * (attempt + 1))
    message = first_line(failure_)[:300]
    raise SweepError(f"cannot open the study storage {url}: {message}")


class JournalHeartbeatStorage(JournalStorage, BaseHeartbeat):
    """Optuna's journal storage with the heartbeat its RDB storage has: Optuna's JournalStorage
    implements no BaseHeartbeat, and a journal file is the default storage. A beat is a trial system
    attr; a running trial is stale once its last beat (or its start) is ``grace_period`` old."""

    BEAT = "heartbeat"

    def __init__(
        self,
        backend: BaseJournalBackend,
        heartbeat_interval: int,
        grace_period: int,
        heartbeat_stale_trial_callback: Callable[[optuna.Study, FrozenTrial], None] | None,
    ) -> None:
        super().__init__(backend)
        self.heartbeat_interval, self.grace_period = heartbeat_interval, grace_period
        self.heartbeat_stale_trial_callback = heartbeat_stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        try:
            self.set_trial_system_attr(trial_id, self.BEAT, time.time())
        except UpdateFinishedTrialError:  # another worker took it for dead; its copy runs again
            pass

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now = time.time()
        running = self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        started = {t._trial_id: t.datetime_start.timestamp() if t.datetime_start else now for t in running}
        return [
            t._trial_id
            for t in running
            if now - t.system_attrs.get(self.BEAT, started[t._trial_id]) > self.grace_period
        ]

    def get_heartbeat_interval(self) -> int:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Callable[[optuna.Study, FrozenTrial], None] | None:
        return self.heartbeat_stale_trial_callback


class RetryStale(RetryHeartbeatStaleTrialCallback):
    """Optuna's retry of a trial whose worker stopped beating, with its learning curve (so no step
    is reported twice); the copy also says which trial it resumes and why, for the console and the
    report."""

    def __init__(self, max_retry: int, grace: int) -> None:
        super().__init__(max_retry=max_retry, inherit_intermediate_values=True)
        self.grace = grace

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        trial.user_attrs.pop("error", None)  # ``trial`` is Optuna's copy: the stored trial keeps its own
        trial.user_attrs.update(resumes=trial.number, why=f"its worker stopped (no heartbeat for {self.grace} s)")
        super().__call__(study, trial)


def study_name(experiment: Experiment, quick: bool) -> str:
    return f"{experiment.name}-quick" if quick else experiment.name


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+=-]+", "_", label).strip("_") or "point"


class StudyQueue:
    """One study in one storage, as seen by one worker."""

    def __init__(self, experiment: Experiment, storage: BaseStorage, runs_dir: Path, quick: bool) -> None:
        self.experiment, self.storage, self.runs_dir, self.quick = experiment, storage, runs_dir, quick
        search = experiment.search
        directions = [direction for direction, _ in search.objectives] if search else ["maximize"]
        sampler = None
        if search is not None:  # constraints reach the sampler through each trial (record_constraints)
            sampler = optuna.samplers.NSGAIISampler() if len(directions) > 1 else optuna.samplers.TPESampler()
        self.study = optuna.create_study(
            study_name=study_name(experiment, quick),
            storage=storage,
            directions=directions,
            sampler=sampler,
            pruner=make_pruner(experiment.pruner),
            load_if_exists=True,
        )
        self.study_id = storage.get_study_id_from_name(self.study.study_name)

    # ---------------------------------------------------------------------------- the queue
    def trials(self, *states: TrialState) -> list[FrozenTrial]:
        # Through the study, not the storage: for an RDB storage Optuna keeps a cache of the trials
        # it has seen, and a trial another worker created must enter it before this worker sets
        # its params (Optuna looks it up there, and fails on a trial it has not seen).
        return self.study.get_trials(deepcopy=False, states=states or None)

    def total(self) -> int:
        search = self.experiment.search
        return search.trials if search else len(self.experiment.points) * len(self.experiment.seeds)

    def enqueue_grid(self) -> None:
        """One waiting trial per (point, seed) that the study does not hold yet (none for a search)."""
        have = {_key(t) for t in self.trials()}
        for point in self.experiment.points:
            for seed in self.experiment.seeds:
                if (point.label, seed) not in have:
                    attrs = {"point": point.label, "seed": seed, "flags": self.experiment.flags(point, self.quick)}
                    self.study.enqueue_trial(self.experiment.trial_params(point, seed), user_attrs=attrs)

    def enqueue_start(self) -> None:
        """A waiting trial, with fixed params, for each of a search's start points not held yet."""
        search = self.experiment.search
        have = {_key(t) for t in self.trials()}
        for number, params in enumerate(search.start if search else []):
            label = f"start-{number}"
            if (label, None) not in have:
                flags = self.experiment.flags(params, self.quick)
                self.study.enqueue_trial(params, user_attrs={"point": label, "flags": flags})

    def _enqueue_again(self, trial: FrozenTrial, why: str) -> None:
        """A copy of an interrupted ``trial`` to run again in the same run directory, with its
        learning curve (a finished trial cannot be annotated, so the copy says why). Not Optuna's
        retry callback: an interrupt is not a lost worker, and does not count against ``retries``."""
        attrs = {k: v for k, v in trial.user_attrs.items() if k in ("point", "seed", "flags")}
        retries = {k: v for k, v in trial.system_attrs.items() if k in ("failed_trial", "retry_history")}
        copy = optuna.trial.create_trial(
            state=TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs={**attrs, "resumes": trial.number, "why": why},
            system_attrs=retries,
            intermediate_values=trial.intermediate_values,
        )
        self.study.add_trial(copy)

    def claim(self) -> FrozenTrial | None:
        """A waiting trial moved to RUNNING by this worker, else a new search trial, else None.

        Optuna's ``study.ask()`` claims a waiting trial the same way, but makes a new trial from the
        sampler when none is waiting, where a grid must stop; and Optuna's ``enqueue_trial
        (skip_if_exists=True)`` checks, then adds, so two workers starting together can both enqueue
        a point. Hence this claim and its duplicate check, kept by hand."""
        for trial in sorted(self.trials(TrialState.WAITING), key=lambda t: t.number):
            trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, trial.number)
            try:
                if not self.storage.set_trial_state_values(trial_id, TrialState.RUNNING):
                    continue  # another worker claimed it
            except UpdateFinishedTrialError:
                # Another worker claimed it and finished it (or closed it as a duplicate) since this
                # one listed the waiting trials.
                continue
            duplicate = self._duplicate_of(trial)
            if duplicate is not None:
                self.storage.set_trial_user_attr(trial_id, "duplicate_of", duplicate)
                self.storage.set_trial_state_values(trial_id, TrialState.PRUNED)
                continue
            # Its fixed params (a grid point, a start point, a resumed trial's) become the trial's
            # params, with their distributions: what the sampler, the dashboard and the plots see.
            claimed = optuna.trial.Trial(self.study, trial_id)
            if self.experiment.search is not None:
                self.experiment.search.suggest(claimed)
            else:
                for name, choices in self.experiment.param_space().items():
                    claimed.suggest_categorical(name, choices)
            return self.storage.get_trial(trial_id)
        search = self.experiment.search
        if search is None:
            return None
        started = [t for t in self.trials() if "resumes" not in t.user_attrs and "duplicate_of" not in t.user_attrs]
        if len(started) >= search.trials:
            return None
        trial = self.study.ask()
        if "point" not in trial.user_attrs:  # a new trial from the sampler
            flags = self.experiment.flags(search.suggest(trial), self.quick)
            trial.set_user_attr("point", f"trial-{trial.number}")
            trial.set_user_attr("flags", flags)
        return self.storage.get_trial(self.storage.get_trial_id_from_study_id_trial_number(self.study_id, trial.number))

    def _duplicate_of(self, trial: FrozenTrial) -> int | None:
        key = _key(trial)
        if key[0] is None:
            return None
        for other in self.trials():
            if other.number == trial.number or _key(other) != key:
                continue
            if other.state in (TrialState.RUNNING, TrialState.COMPLETE) or (
                other.state == TrialState.WAITING and other.number < trial.number
            ):
                return other.number
        return None

    # --------------------------------------------------------------------------- the work
    def work(self, out: Callable[[str], None] = print) -> int:
        """Run trials until none is left to claim; returns how many this worker ran."""
        done = 0
        with quiet_heartbeat_warnings():
            while True:
                optuna.storages.fail_stale_trials(self.study)  # Optuna's: failed, and enqueued again by RetryStale
                trial = self.claim()
                if trial is None:
                    return done
                self.run(trial, out)
                done += 1

    def run(self, trial: FrozenTrial, out: Callable[[str], None]) -> None:
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(self.study_id, trial.number)
        label = str(trial.user_attrs["point"])
        flags = dict(trial.user_attrs["flags"])
        seeds = [int(trial.user_attrs["seed"])] if "seed" in trial.user_attrs else self.experiment.seeds
        prefix = f"{self.experiment.name}: {label}" + (f" seed {seeds[0]}" if len(seeds) == 1 else "")
        if "resumes" in trial.user_attrs:
            prefix += f" (resuming trial {trial.user_attrs['resumes']})"
        records: list[dict[str, Any]] = []
        try:
            with get_heartbeat_thread(trial_id, self.storage):
                for index, seed in enumerate(seeds):
                    reporter = self._reporter(trial_id, index)
                    run_dir = self.run_dir(label, seed)
                    records.append(run_trial(self.experiment, flags, seed, run_dir, self.quick, reporter))
                    if self._hopeless(records):
                        break
        except TrialPruned as pruned:  # its runs stay, up to the step it was stopped at
            self.storage.set_trial_user_attr(trial_id, "pruned_at", pruned.step)
            self.study.tell(trial.number, state=TrialState.PRUNED)
            out(f"{prefix} ... {pruned}")
            return
        except (Interrupted, KeyboardInterrupt):  # Ctrl-C or SIGTERM: the run saved its last.ckpt
            self.storage.set_trial_user_attr(trial_id, "error", "interrupted")
            self.study.tell(trial.number, state=TrialState.FAIL)
            self._enqueue_again(self.storage.get_trial(trial_id), "its worker was interrupted")
            raise
        except Exception as error:
            found = failure(error)
            if found is None:  # a bug, not a run's failure: its traceback, and the trial retried
                raise
            self.storage.set_trial_user_attr(trial_id, "error", found[0])
            self.study.tell(trial.number, state=TrialState.FAIL)
            out(f"{prefix} ... failed: {found[0]}")
            return
        self.storage.set_trial_user_attr(trial_id, "records", records)
        self.record_constraints(trial_id, records)  # read by the sampler: set before the trial ends
        values = self._values(records)
        if values is None:
            self.storage.set_trial_user_attr(trial_id, "error", f"no {self.experiment.metric} in the test results")
            self.study.tell(trial.number, state=TrialState.FAIL)
            out(f"{prefix} ... failed: no {self.experiment.metric} in the test results")
            return
        self.study.tell(trial.number, values)
        steps = "/".join(str(r["steps"]) for r in records)
        seconds = sum(r["fit_seconds"] for r in records)
        out(f"{prefix} ... {steps} steps in {seconds:.0f} s, {self._headline(records)}")

    def _reporter(self, trial_id: int, seed_index: int) -> TrialReporter | None:
        """The trial's learning curve for Optuna; none for two objectives (Optuna's report takes one)."""
        if len(self.study.directions) > 1:
            return None
        prune = self.experiment.pruner is not None
        return TrialReporter(self.study, self.storage, trial_id, seed_index, prune)

    def _hopeless(self, records: list[dict[str, Any]]) -> bool:
        """Whether a search trial has already broken a constraint, which must hold on every seed:
        its other seeds cannot change that, so they are not run."""
        search = self.experiment.search
        return bool(search and search.constraints and any(v > 0 for v in search.violations(records)))

    def run_dir(self, label: str, seed: int) -> Path:
        return self.runs_dir / self.experiment.name / slug(label) / f"seed{seed}"

    def _values(self, records: list[dict[str, Any]]) -> list[float] | None:
        search = self.experiment.search
        if search is None:
            value = metric_value(records[0], self.experiment.metric)
            return None if value is None else [value]
        values = []
        for _, metric in search.objectives:
            found = [v for record in records for v in metric_values(record, metric)]
            if not found:
                return None
            values.append(sum(found) / len(found))
        return values

    def _headline(self, records: list[dict[str, Any]]) -> str:
        search = self.experiment.search
        if search is None:
            value = metric_value(records[0], self.experiment.metric)
            return f"{self.experiment.metric} = {100 * value:.2f}%" if value is not None else "no metric"
        parts = [
            f"{metric} = {values:g}" for (_, metric), values in zip(search.objectives, self._values(records) or [])
        ]
        if search.constraints:
            feasible = all(v <= 0 for v in search.violations(records))
            parts.append("constraints " + ("met" if feasible else "missed"))
        return ", ".join(parts)

    def record_constraints(self, trial_id: int, records: list[dict[str, Any]]) -> None:
        """How far each constraint is from holding (<= 0: it holds), for the sampler and the report."""
        search = self.experiment.search
        if not search or not search.constraints:
            return
        violations = search.violations(records)
        self.storage.set_trial_user_attr(trial_id, "constraints", violations)
        trial = optuna.trial.Trial(self.study, trial_id)
        for (pattern, op, bound), amount in zip(search.constraints, violations):
            trial.set_constraint(f"{pattern} {op} {bound:g}", amount)


def _key(trial: FrozenTrial) -> tuple[Any, Any]:
    return trial.user_attrs.get("point"), trial.user_attrs.get("seed")
