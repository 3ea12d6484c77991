"""A trial's learning curve in Optuna: ``val/exact_match`` reported at each validation of its fit
(``trial.report``), so that the dashboard draws it and the study's pruner can stop a trial that
trails the others at the same step."""

from __future__ import annotations

import lightning as L
import optuna
from lightning.pytorch.callbacks import Callback
from optuna.storages import BaseStorage


class TrialPruned(RuntimeError):
    """The study's pruner stopped this trial's fit at ``step``, where it had ``value``."""

    def __init__(self, step: int, value: float) -> None:
        super().__init__(f"pruned at step {step} (val/exact_match {100 * value:.2f}%)")
        self.step, self.value = step, value


class TrialReporter(Callback):
    """Reports fit's validations to trial ``trial_id``. A trial runs its seeds one after another:
    seed number ``k`` reports at ``k * max_steps + step``, so every trial's steps line up for the
    pruner. Steps the trial holds already (a resumed trial) are not reported again."""

    def __init__(
        self,
        study: optuna.Study,
        storage: BaseStorage,
        trial_id: int,
        seed_index: int = 0,
        prune: bool = False,
        monitor: str = "val/exact_match",
    ) -> None:
        self.trial = optuna.trial.Trial(study, trial_id)
        self.storage, self.trial_id, self.seed_index, self.prune, self.monitor = (
            storage,
            trial_id,
            seed_index,
            prune,
            monitor,
        )
        self.pruned: TrialPruned | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or trainer.state.fn != "fit" or value is None or not trainer.is_global_zero:
            return
        step = self.seed_index * int(trainer.max_steps) + trainer.global_step
        if step not in self.storage.get_trial(self.trial_id).intermediate_values:
            self.trial.report(float(value), step)
        if self.prune and self.pruned is None and self.trial.should_prune():
            self.pruned = TrialPruned(step, float(value))
            trainer.should_stop = True  # fit ends after this validation; its last.ckpt is kept
