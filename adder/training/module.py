"""AdderModule: the thin LightningModule around an adder backbone (loss, metrics, logging)."""

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
from adder.models import DEFAULT_CHUNK_SIZE, ModelConfig, build_model, count_parameters
from adder.models.config import Cell, Encoding, Gates, Nonlinearity
from adder.problems.digits import Batch
from adder.training.loggers import tensorboard_writer
from adder.training.schedules import stepwise
from adder.training.state_losses import carry_hint_loss, state_spread_loss

#: The optimizer of every run unless ``--optimizer`` says otherwise (LightningCLI's form).
DEFAULT_OPTIMIZER: dict[str, Any] = {"class_path": "torch.optim.Adam", "init_args": {"lr": 3e-3}}
#: Its schedule unless ``--lr_scheduler`` says otherwise: down to 0 over the run's max_steps.
DEFAULT_LR_SCHEDULER: dict[str, Any] = {"class_path": "adder.training.schedules.CosineDecay"}
#: Initial-state noise of the recurrent cells' training problems unless ``--model.state_noise`` is given.
DEFAULT_STATE_NOISE = 0.3
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
    """Trains an adder with cross-entropy over every output digit.

    Args:
        cell, encoding, input_size, hidden_size, num_layers, base, num_digits, gates, nonlinearity:
            the backbone, see :class:`~adder.models.ModelConfig` (its defaults are these flags'
            defaults). The CLI links ``base`` and ``num_digits`` from ``--data``.
        eval_chunk_size: positions per chunk when evaluating (bounds memory on long numbers).
        replay_hardest: share of a training batch, its problems of highest loss, trained on again
            in the next step beside the fresh batch (0: off). Mistakes far beyond the training
            length come from digit contexts too rare in fresh batches to be learnt well;
            docs/results_history.md measures what replaying them does for each cell.
        state_noise: standard deviation of Gaussian noise used as each training problem's initial
            recurrent state instead of zeros (0: off; None: DEFAULT_STATE_NOISE for the recurrent
            cells, off for a model without a state). A model that must forget a random start
            learns state dynamics that fall back to the carry it should hold, which keeps it from
            drifting over long runs of one digit pair, like 66..6 + 33..3 (docs/results_history.md).
        step_noise: standard deviation of Gaussian noise added to the recurrent state after every
            position of a training problem (0: off). Where ``state_noise`` teaches a model to fall
            back to the right carry from a random start, this teaches it at every position, so a
            state that slowly drifts away from its carry is pulled back within the training
            length. Training only (``add`` and ``evaluate`` run the model without it); the
            recurrence then runs a position at a time (``adder.models.stepped``).
        state_spread: weight of the state-spread loss added to the cross-entropy (0: off): the
            spread of the top layer's states within each class of position (carry in, digit
            pair) relative to their whole spread (``adder.training.state_losses``). It makes the
            network a finite-state machine whose state cannot drift along a long run of one pair,
            which the gated cells need to stay exact far past their training length.
        carry_hint: weight of the carry hint added to the loss (0: off): the mean squared distance
            of the first coordinate of the top layer's state to the carry out of each position
            (1 for a carry; -1 for none, 0 for the ReLU cell). It shows a small network where to
            keep its carry, which the smallest adders need to learn at all.
        optimizer, lr_scheduler: what ``configure_optimizers`` builds, as ``class_path`` and
            ``init_args`` (the CLI passes its ``--optimizer``/``--lr_scheduler``); None: no schedule.
    """

    def __init__(
        self,
        cell: Cell = ModelConfig.cell,
        encoding: Encoding = ModelConfig.encoding,
        input_size: int = ModelConfig.input_size,
        hidden_size: int = ModelConfig.hidden_size,
        num_layers: int = ModelConfig.num_layers,
        base: int = ModelConfig.base,
        num_digits: int = ModelConfig.num_digits,
        gates: Gates = ModelConfig.gates,
        nonlinearity: Nonlinearity = ModelConfig.nonlinearity,
        eval_chunk_size: int = DEFAULT_CHUNK_SIZE,
        replay_hardest: float = 0.2,
        state_noise: float | None = None,
        step_noise: float = 0.0,
        state_spread: float = 0.0,
        carry_hint: float = 0.0,
        optimizer: dict[str, Any] = DEFAULT_OPTIMIZER,
        lr_scheduler: dict[str, Any] | None = DEFAULT_LR_SCHEDULER,
    ) -> None:
        super().__init__()
        config = ModelConfig(cell, encoding, input_size, hidden_size, num_layers, base, num_digits, gates, nonlinearity)
        if not 0.0 <= replay_hardest < 1.0:
            raise ValueError(f"replay_hardest must be in [0, 1), got {replay_hardest}")
        if state_noise is None:
            state_noise = DEFAULT_STATE_NOISE if config.recurrent else 0.0
        if state_noise < 0.0:
            raise ValueError(f"state_noise must be >= 0, got {state_noise}")
        if state_noise > 0.0 and not config.recurrent:
            raise ValueError(f"state_noise applies to recurrent cells; the {cell} model has no state")
        if not step_noise >= 0.0:
            raise ValueError(f"step_noise must be >= 0, got {step_noise}")
        if step_noise > 0.0 and not config.recurrent:
            raise ValueError(f"step_noise applies to recurrent cells; the {cell} model has no state")
        if not state_spread >= 0.0:
            raise ValueError(f"state_spread must be >= 0, got {state_spread}")
        if state_spread > 0.0 and not config.recurrent:
            raise ValueError(f"state_spread applies to recurrent cells; the {cell} model has no state")
        if not carry_hint >= 0.0:
            raise ValueError(f"carry_hint must be >= 0, got {carry_hint}")
        if carry_hint > 0.0 and not config.recurrent:
            raise ValueError(f"carry_hint applies to recurrent cells; the {cell} model has no state")
        # The CLI logs the whole run config (adder.training.tracking), so the logger gets none here.
        self.save_hyperparameters(ignore=list(OPTIMIZER_ARGS), logger=False)
        self.hparams.state_noise = state_noise  # the value used, for checkpoints, not the None that chose it
        self.model = build_model(config)
        self.config = config
        self.base = base
        self.eval_chunk_size = eval_chunk_size
        self.replay_hardest = replay_hardest
        self.state_noise = state_noise
        self.step_noise = step_noise
        self.state_spread = state_spread
        self.carry_hint = carry_hint
        self.optimizer_spec, self.lr_scheduler_spec = optimizer, lr_scheduler
        self._replay: Tensor | None = None  # (3, k, length): a, b, target of last step's hardest problems
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
        rank_zero_info(f"adder: {self.hparams.cell} model with {num_parameters:,} trainable parameters")

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        fresh = batch[0].shape[0]
        a, b, target = self._add_replay(batch)
        logits, states = self._training_logits(a, b)
        losses = nn.functional.cross_entropy(logits.reshape(-1, self.base), target.reshape(-1), reduction="none")
        losses = losses.view_as(target)  # (problems, positions)
        loss = losses.mean()
        spread = state_spread_loss(states, a, b, target, self.base) if self.state_spread else None
        if spread is not None:
            loss = loss + self.state_spread * spread
        hint = None
        if self.carry_hint:
            no_carry = 0.0 if self.config.nonlinearity == "relu" else -1.0
            hint = carry_hint_loss(states, a, b, target, self.base, low=no_carry)
            loss = loss + self.carry_hint * hint
        self._keep_hardest((a, b, target), losses, round(self.replay_hardest * fresh))
        log_step = self._should_log_step()
        self._check_finite(loss, now=log_step or loss.device.type == "cpu")
        if log_step:  # metrics of the fresh problems, comparable with runs without replay
            fresh_loss = losses[:fresh].mean()
            digit_acc = (logits[:fresh].argmax(-1) == target[:fresh]).float().mean()
            self.log("step", float(self.global_step + 1))  # steps done once this one is (see _log_at_checkpoint_step)
            self.log("train/loss", fresh_loss)
            if spread is not None:
                self.log("train/state_spread", spread)
            if hint is not None:
                self.log("train/carry_hint", hint)
            lr = self._scheduled_lr()
            if lr is not None:
                self.log("train/lr", lr)
            self.progress_bar_values["train/loss"] = round(float(fresh_loss.detach()), 4)  # see AdderProgressBar
            self.log("train/digit_acc", digit_acc)
        return loss

    def _training_logits(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor | None]:
        """Logits (problems, positions, base) of a training batch and, for a recurrent model, the
        top layer's states (problems, positions, hidden) they were read from."""
        if not self.config.recurrent:
            return self.model(a, b)[0], None
        initial = self._initial_state(a.shape[0], a.device)
        states = self.model.states(a, b, initial, **self._step_noise(a.device))[0]
        return self.model.head(states), states

    def _scheduled_lr(self) -> float | None:
        """The learning rate of this step when a schedule sets it (logged as train/lr), else None."""
        try:
            trainer = self.trainer
        except RuntimeError:  # no trainer: a step called by hand
            return None
        if not trainer.lr_scheduler_configs:
            return None
        return float(trainer.optimizers[0].param_groups[0]["lr"])

    def _initial_state(self, problems: int, device: torch.device) -> Any:
        """None (zeros), or a random initial state when ``state_noise`` is set. The noise comes
        from a generator seeded by the run's seed and the step, so a resumed run draws what the
        interrupted one would have."""
        if self.state_noise == 0.0:
            return None
        rnn = self.model.rnn
        generator = torch.Generator(device).manual_seed(hash((torch.initial_seed(), self.global_step)) % 2**63)
        shape = (rnn.num_layers, problems, rnn.hidden_size)
        parts = 2 if isinstance(rnn, nn.LSTM) else 1  # an LSTM's state is (h, c)
        draw = [self.state_noise * torch.randn(shape, generator=generator, device=device) for _ in range(parts)]
        return tuple(draw) if parts == 2 else draw[0]

    def _step_noise(self, device: torch.device) -> dict[str, Any]:
        """The backbone's per-position noise arguments for this training step (none when off),
        drawn like the initial state's from the run's seed and the step, apart from it."""
        if not self.step_noise:
            return {}
        seed = hash((torch.initial_seed(), self.global_step, 1)) % 2**63  # ints only: a str hash changes per process
        return {"step_noise": self.step_noise, "generator": torch.Generator(device).manual_seed(seed)}

    def _add_replay(self, batch: Batch) -> Batch:
        """The fresh batch with last step's hardest problems appended (if they fit its length)."""
        replay = self._replay
        if replay is None or replay.shape[-1] != batch[0].shape[-1]:
            return batch
        return tuple(torch.cat([fresh, again.to(fresh.device)]) for fresh, again in zip(batch, replay))  # type: ignore[return-value]

    def _keep_hardest(self, batch: Batch, losses: Tensor, count: int) -> None:
        # Chosen on the device (no host sync); a problem stays in the replay while it stays hard.
        if count <= 0:
            self._replay = None
            return
        hardest = losses.detach().sum(-1).topk(count).indices  # count < fresh rows, as replay_hardest < 1
        self._replay = torch.stack([part[hardest] for part in batch])

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The replay is part of the training state: without it a resumed run would not be the
        # run that was interrupted. Every rank keeps its own; all ranks get here together.
        if self._replay is not None:
            gathered = self.all_gather(self._replay)
            checkpoint["replay"] = gathered.reshape(-1, *self._replay.shape).cpu()  # (ranks, 3, k, length)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoint_step = int(checkpoint.get("global_step", 0))
        replays = checkpoint.get("replay")
        rank = self.global_rank
        self._replay = replays[rank] if replays is not None and rank < len(replays) else None

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
