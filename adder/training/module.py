"""AdderModule: the LightningModule around the adder network it is given (loss, objectives, metrics, logging)."""

from __future__ import annotations

import os
from typing import Any

import lightning as L
import torch
from lightning.pytorch.cli import instantiate_class
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn

from adder.errors import InputError, first_line
from adder.evaluation.reporting import by_length, length_figure, sample_rows, samples_markdown
from adder.models import DEFAULT_CHUNK_SIZE, AdderNet, RecurrentAdder, count_parameters
from adder.problems.digits import Batch
from adder.training.loggers import tensorboard_writer
from adder.training.objectives import Objective, StepContext, StepResult, default_objectives
from adder.training.schedules import stepwise

#: The optimizer of every run unless ``--optimizer`` says otherwise (LightningCLI's form).
DEFAULT_OPTIMIZER: dict[str, Any] = {"class_path": "torch.optim.Adam", "init_args": {"lr": 3e-3}}
#: Its schedule unless ``--lr_scheduler`` says otherwise: down to 0 over the run's max_steps.
DEFAULT_LR_SCHEDULER: dict[str, Any] = {"class_path": "adder.training.schedules.CosineDecay"}
#: Init arguments the CLI fills from its top-level --optimizer and --lr_scheduler (link_to); the
#: run's config keeps them there, so checkpoints do not repeat them as model hyperparameters.
OPTIMIZER_ARGS = ("optimizer", "lr_scheduler")


def build_optimizers(parameters: Any, optimizer: Any, lr_scheduler: Any, max_steps: int) -> Any:
    """What ``configure_optimizers`` returns for these class_path/init_args specs (see ``stepwise``);
    torch's and the schedule's own checks of their arguments become one-line InputErrors."""
    try:
        built = instantiate_class(parameters, plain_spec(optimizer))
        schedule = instantiate_class(built, plain_spec(lr_scheduler)) if lr_scheduler else None
        return stepwise(built, schedule, max_steps)
    except (ValueError, TypeError) as error:
        raise InputError(first_line(error)) from None


def plain_spec(spec: Any) -> Any:
    """A class_path/init_args spec (a dict, or jsonargparse's Namespace) in plain YAML types; tuples
    become lists, which the optimizers take as well."""
    if hasattr(spec, "as_dict"):
        spec = spec.as_dict()
    if isinstance(spec, dict):
        return {key: plain_spec(value) for key, value in spec.items()}
    return [plain_spec(value) for value in spec] if isinstance(spec, (list, tuple)) else spec


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss (usually a learning rate that is too high)."""


def _non_finite(what: str, module: L.LightningModule) -> NonFiniteLossError:
    """The error, saying which checkpoint is left: the last one written (checkpoints refuse
    non-finite weights), or that there is none."""
    try:
        checkpoint = module.trainer.checkpoint_callback
    except RuntimeError:  # a step called by hand, with no trainer
        checkpoint = None
    last = getattr(checkpoint, "last_model_path", "") or getattr(checkpoint, "best_model_path", "")
    kept = (
        f"the last checkpoint written, {last}, is kept" if last and os.path.isfile(last) else "no checkpoint was saved"
    )
    return NonFiniteLossError(f"loss {what}; lower the learning rate ({kept})")


class AdderModule(L.LightningModule):
    """Trains the adder network it holds with cross-entropy over every output digit plus the sum
    of its objectives.

    Args:
        net: the network (any :class:`~adder.models.AdderNet`, named by ``class_path`` in configs);
            None: ``RecurrentAdder()``. The CLI links its ``base`` and ``num_digits`` from ``--data``.
        objectives: the training tricks beside cross-entropy (:mod:`adder.training.objectives`),
            applied in list order; None: ``default_objectives(net)`` (replay of the hardest,
            initial-state noise for a network with a state, and for a one-layer tanh RNN the
            objectives that make it provable), an empty list: cross-entropy alone.
        eval_chunk_size: positions per chunk when evaluating (bounds memory on long numbers).
        optimizer, lr_scheduler: what ``configure_optimizers`` builds, as ``class_path`` and
            ``init_args`` (the CLI passes its ``--optimizer``/``--lr_scheduler``); None: no schedule.
    """

    def __init__(
        self,
        net: AdderNet | None = None,
        objectives: list[Objective] | None = None,
        eval_chunk_size: int = DEFAULT_CHUNK_SIZE,
        optimizer: dict[str, Any] = DEFAULT_OPTIMIZER,
        lr_scheduler: dict[str, Any] | None = DEFAULT_LR_SCHEDULER,
    ) -> None:
        super().__init__()
        net = net if net is not None else RecurrentAdder()
        objectives = list(objectives) if objectives is not None else default_objectives(net)
        for objective in objectives:
            objective.check(net)
        # The CLI logs the whole run config (adder.training.tracking), so the logger gets none here.
        # A checkpoint keeps the network and objectives as specs (plain values, loaded with
        # weights_only), whether the CLI or code built them.
        self.save_hyperparameters(ignore=["net", "objectives", *OPTIMIZER_ARGS], logger=False)
        self.hparams["net"] = net.spec()
        self.hparams["objectives"] = [objective.spec() for objective in objectives]
        self.model = net  # the name of every checkpoint's weights (model.*)
        self.objectives = objectives
        self.config = net.config
        self.base = net.config.base
        self.eval_chunk_size = eval_chunk_size
        self.optimizer_spec, self.lr_scheduler_spec = optimizer, lr_scheduler
        self._samples: list[dict[str, str]] = []
        self.progress_bar_values: dict[str, float] = {}  # shown by AdderProgressBar
        self._first_bad_step: Tensor | None = None  # on a GPU: first non-finite step not yet read back
        self.checkpoint_step = 0  # the training step of the checkpoint a validate/test/predict loaded

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return self.model(a, b)[0]

    def configure_optimizers(self) -> Any:
        return build_optimizers(self.parameters(), self.optimizer_spec, self.lr_scheduler_spec, self.trainer.max_steps)

    # ---------------------------------------------------------------------------------------- fit
    def on_fit_start(self) -> None:
        num_parameters = count_parameters(self.model)
        rank_zero_info(f"adder: {self.config.cell} model with {num_parameters:,} trainable parameters")

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        step = self._run(batch)
        loss = step.losses.mean()
        terms: dict[str, Tensor] = {}  # logged on logging steps, unweighted
        for objective in self.objectives:
            term = objective.loss(step)
            if term is not None:
                loss = loss + objective.weight * term
                if objective.log_name:
                    terms[objective.log_name] = term
        for objective in self.objectives:
            objective.after_step(step)
        log_step = self._should_log_step()
        self._check_finite(loss, now=log_step or loss.device.type == "cpu")
        if log_step:
            self._log_training(step, terms)
        return loss

    def _run(self, batch: Batch) -> StepResult:
        """The network on this step's batch, as the objectives change it: the problems they add,
        the state each sum starts from and the recurrence's options."""
        fresh = batch[0].shape[0]
        for objective in self.objectives:
            batch = objective.extend_batch(batch)
        a, b, target = batch
        context = StepContext(self.model, self.global_step, a.device)
        states = None
        if self.model.has_state:
            state = None  # the network's zeros
            options: dict[str, Any] = {}
            for objective in self.objectives:
                state = objective.initial_state(state, a.shape[0], context)
                options.update(objective.state_options(context))
            states = self.model.states(a, b, state, **options)[0]
            logits = self.model.head(states)
        else:
            logits = self.model(a, b)[0]
        losses = nn.functional.cross_entropy(logits.reshape(-1, self.base), target.reshape(-1), reduction="none")
        return StepResult(a, b, target, logits, losses.view_as(target), states, fresh, context)

    def _log_training(self, step: StepResult, terms: dict[str, Tensor]) -> None:
        """Metrics of the fresh problems, comparable with runs that add problems (replay)."""
        fresh = step.fresh
        fresh_loss = step.losses[:fresh].mean()
        digit_acc = (step.logits[:fresh].argmax(-1) == step.target[:fresh]).float().mean()
        self.log("step", float(self.global_step + 1))  # steps done once this one is (see _log_at_checkpoint_step)
        self.log("train/loss", fresh_loss)
        for name, term in terms.items():
            self.log(f"train/{name}", term)
        lr = self._scheduled_lr()
        if lr is not None:
            self.log("train/lr", lr)
        self.progress_bar_values["train/loss"] = round(float(fresh_loss.detach()), 4)  # see AdderProgressBar
        self.log("train/digit_acc", digit_acc)

    def _scheduled_lr(self) -> float | None:
        """The learning rate of this step when a schedule sets it (logged as train/lr), else None."""
        try:
            trainer = self.trainer
        except RuntimeError:  # no trainer: a step called by hand
            return None
        if not trainer.lr_scheduler_configs:
            return None
        return float(trainer.optimizers[0].param_groups[0]["lr"])

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # An objective's state (the replay) is part of the training state: without it a resumed
        # run would not be the run that was interrupted. Every rank keeps its own; all ranks get
        # here together.
        for objective in self.objectives:
            state = objective.extra_state()
            if objective.checkpoint_key and state is not None:
                gathered = self.all_gather(state)
                checkpoint[objective.checkpoint_key] = gathered.reshape(-1, *state.shape).cpu()  # (ranks, ...)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoint_step = int(checkpoint.get("global_step", 0))
        rank = self.global_rank
        for objective in self.objectives:
            saved = checkpoint.get(objective.checkpoint_key) if objective.checkpoint_key else None
            objective.load_extra_state(saved[rank] if saved is not None and rank < len(saved) else None)

    def _check_finite(self, loss: Tensor, now: bool) -> None:
        """Stop on a NaN or infinite loss. Reading the loss makes the CPU wait for the GPU, so on
        a GPU ordinary steps only note the first bad step on the device; it is read on logging
        steps and at the end of fit (checkpoints refuse non-finite weights meanwhile)."""
        if not now:
            bad = torch.where(torch.isfinite(loss), -1, self.global_step)
            first = self._first_bad_step
            self._first_bad_step = bad if first is None else torch.where(first >= 0, first, bad)
            return
        self._raise_on_noted_bad_step()
        if not torch.isfinite(loss):
            raise _non_finite(f"became {loss.item()} at step {self.global_step}", self)

    def _raise_on_noted_bad_step(self) -> None:
        if self._first_bad_step is not None:
            first, self._first_bad_step = int(self._first_bad_step), None
            if first >= 0:
                raise _non_finite(f"became non-finite at step {first}", self)

    def on_train_end(self) -> None:
        self._raise_on_noted_bad_step()  # a bad step after the last logging step

    def _should_log_step(self) -> bool:
        # A self.log call is costly next to a step of this small model (docs/performance.md), and
        # the logger keeps only every log_every_n_steps-th value anyway, so only log then: the
        # same rule as Lightning's, with +1 as the step is not counted until it is done.
        try:
            trainer = self.trainer
        except RuntimeError:  # no trainer: a step called by hand
            return True
        n = trainer.log_every_n_steps
        return bool(n) and ((self.global_step + 1) % n == 0 or trainer.should_stop)

    # ---------------------------------------------------------------------------------- evaluate
    def _evaluate(self, batch: Batch) -> tuple[Tensor, Tensor, Tensor]:
        """Predicted digits, exact match and digit accuracy of one batch."""
        a, b, target = batch
        predicted = self.model.predict(a, b, self.eval_chunk_size)
        correct = predicted == target
        return predicted, correct.all(-1).float().mean(), correct.float().mean()

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        a, b, target = batch
        predicted, exact_match, digit_acc = self._evaluate(batch)
        if batch_idx == 0:
            self._samples = sample_rows(a, b, predicted, target, self.base)
        size = a.shape[0]
        self._log_at_checkpoint_step(size)
        self.log("val/exact_match", exact_match, prog_bar=True, batch_size=size, sync_dist=True)
        self.log("val/digit_acc", digit_acc, batch_size=size, sync_dist=True)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking or "val/exact_match" not in self.trainer.callback_metrics:
            return
        # hp_metric, TensorBoard's default HParams metric, is the measured validation exact match.
        self.log("hp_metric", self.trainer.callback_metrics["val/exact_match"], sync_dist=True)
        writer = tensorboard_writer(self.trainer)
        if writer is not None and self._samples:
            writer.add_text("val/samples", samples_markdown(self._samples), self.global_step)

    def on_test_epoch_end(self) -> None:
        writer = tensorboard_writer(self.trainer)
        curves = by_length(self.trainer.callback_metrics)
        if writer is None or not any(len(points) > 1 for points in curves.values()):
            return
        # Accuracy against length as scalar curves (x = number of digits) and, with matplotlib, a figure.
        for kind, points in curves.items():
            for length, value in points:
                writer.add_scalar(f"test_by_length/exact_match/{kind}", value, length)
        figure = length_figure(curves)
        if figure is not None:
            writer.add_figure("test/exact_match_vs_length", figure, self.checkpoint_step)

    def test_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        _, exact_match, digit_acc = self._evaluate(batch)
        name = self._test_set_name(dataloader_idx)
        size = batch[0].shape[0]
        if dataloader_idx == 0:
            self._log_at_checkpoint_step(size)
        for metric, value in (("exact_match", exact_match), ("digit_acc", digit_acc)):
            self.log(f"test/{metric}/{name}", value, batch_size=size, sync_dist=True, add_dataloader_idx=False)

    def _log_at_checkpoint_step(self, batch_size: int) -> None:
        # One step numbering everywhere: the steps done, as checkpoints and the console count them.
        # Lightning logs a validation during fit at the step before (its count of stepped batches
        # is raised after validation), and outside fit at step 0; a logged "step" is the x value
        # it uses instead (its documented rule).
        step = self.global_step if self.trainer.state.fn == "fit" else self.checkpoint_step
        self.log("step", float(step), batch_size=batch_size, add_dataloader_idx=False)

    def _test_set_name(self, dataloader_idx: int) -> str:
        datamodule = getattr(self.trainer, "datamodule", None)
        names = getattr(datamodule, "test_set_names", None)
        return names[dataloader_idx] if names else str(dataloader_idx)

    def predict_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> list[dict[str, str]]:
        """One record per problem: operands, predicted and true sums (written as numbers)."""
        a, b, target = batch
        predicted = self.model.predict(a, b, self.eval_chunk_size)
        return sample_rows(a, b, predicted, target, self.base, count=a.shape[0])
