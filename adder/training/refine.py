"""Training on from a verdict (``adder fit --verify_after_fit S --verify_refine N``): verify the fit's
checkpoint; on a counterexample, or where a proof failed, put those sums in every training batch
(:class:`ReplaySums`), train on for a few steps, verify again; at most N rounds. Each verdict is
logged (``verify/round``, ``verify/proved``, ``verify/counterexample``, ``verify/margin``,
``verify/counterexample_digits``) at the step it judged, and recorded in the run (``verify.json``)."""

from __future__ import annotations

import random
import sys
import warnings
from pathlib import Path

import lightning as L

from adder.models.checkpoints import load_adder
from adder.problems.digits import format_digits
from adder.training.objectives import ReplaySums
from adder.training.run_dirs import record_verdict
from adder.verification.counterexample import Guide
from adder.verification.prove import COUNTEREXAMPLE, PROVED, Verdict, verdict

#: Sums through the digit pairs where a proof failed, added per round.
GUIDE_SUMS = 64


def guide_sums(guide: Guide, base: int, count: int = GUIDE_SUMS, seed: int = 0) -> list[str]:
    """Up to ``count`` sums that read the failed path's digit pairs (one choice per step, drawn),
    after a pair that gives the path's carry in, written ``A+B`` as ``adder add`` takes them."""
    carry_in, choices = guide
    if not choices or not all(choices):
        return []
    draw = random.Random(seed)
    setup = [(1, base - 1)] if carry_in else []  # 1 + (base - 1) carries one into the path
    sums = set()
    for _ in range(count):
        pairs = setup + [draw.choice(list(step)) for step in choices]
        a, b = ([pair[i] for pair in pairs] for i in (0, 1))
        sums.add(f"{format_digits(a, base)}+{format_digits(b, base)}")
    return sorted(sums)


def sums_to_replay(found: Verdict | None, base: int) -> list[str]:
    """What a round trains on: the counterexample, and sums through where the proof failed."""
    if found is None:
        return []
    sums = [f"{found.operands[0]}+{found.operands[1]}"] if found.operands else []
    return sums + (guide_sums(found.guide, base) if found.guide is not None else [])


def replay_of(module: L.LightningModule) -> ReplaySums:
    """The module's ReplaySums objective; one is added (and checked) if it has none."""
    for objective in module.objectives:
        if isinstance(objective, ReplaySums):
            return objective
    replay = ReplaySums()
    replay.check(module.model)
    module.objectives.append(replay)
    return replay


def log_verdict(trainer: L.Trainer, found: Verdict, round_number: int) -> None:
    metrics = {
        "verify/round": float(round_number),
        "verify/proved": float(found.status == PROVED),
        "verify/counterexample": float(found.status == COUNTEREXAMPLE),
    }
    if found.margin is not None:
        metrics["verify/margin"] = float(found.margin)
    if found.status == COUNTEREXAMPLE and found.operands:
        metrics["verify/counterexample_digits"] = float(max(map(len, found.operands)))
    for logger in trainer.loggers:
        logger.log_metrics(metrics, step=trainer.global_step)
        logger.save()


def verify_and_refine(
    trainer: L.Trainer,
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    checkpoint: str,
    seconds: float,
    rounds: int = 0,
    steps: int = 250,
) -> Verdict | None:
    """Verify ``checkpoint`` (the fit's); while it is not proved and rounds are left, train on
    ``steps`` more steps with the verdict's sums replayed, from ``last.ckpt`` (optimizer and
    schedule restored, the schedule stretched over the new length as a resumed fit does), and
    verify the new last checkpoint. Returns the last verdict (None on ranks other than the first)."""
    path = checkpoint
    for round_number in range(rounds + 1):
        found = _judge(trainer, path, seconds, round_number)
        more = found is not None and found.status != PROVED and round_number < rounds
        # Every rank trains on what the first one found (the others verify nothing), or stops with it.
        sums = trainer.strategy.broadcast(sums_to_replay(found, module.model.config.base) if more else [])
        if not sums:
            return found
        replay_of(module).add(sums)
        module.hparams["objectives"] = [objective.spec() for objective in module.objectives]
        last = _saved_last(trainer, path)
        # No public setter of a trainer's max_steps (Trainer.fit_loop.max_steps is read-only): the
        # epoch loop holds it, as Lightning's own max_steps argument sets it.
        trainer.fit_loop.epoch_loop.max_steps = trainer.global_step + steps
        with warnings.catch_warnings():  # the run's own checkpoints, which the round adds to
            warnings.filterwarnings("ignore", "Checkpoint directory .* exists and is not empty")
            trainer.fit(module, datamodule=datamodule, ckpt_path=last)
        path = _saved_last(trainer, last)
    return None


def _saved_last(trainer: L.Trainer, beside: str) -> str:
    """``last.ckpt`` of the run (beside ``beside``), written now: the state a round trains on from
    and verifies is the trainer's own, whatever the checkpoint callbacks last saved."""
    callback = trainer.checkpoint_callback
    last = getattr(callback, "last_model_path", "") or str(Path(beside).with_name("last.ckpt"))
    trainer.save_checkpoint(last, weights_only=False)  # the whole state, which a round resumes from
    return last


def _judge(trainer: L.Trainer, path: str, seconds: float, round_number: int) -> Verdict | None:
    if not trainer.is_global_zero:
        return None
    print(f"verifying {path}" + (f" (round {round_number})" if round_number else ""), file=sys.stderr)
    found = verdict(load_adder(path), seconds)
    print(found.line, file=sys.stderr)
    record_verdict(path, found.word)  # what adder add and evaluate read back
    log_verdict(trainer, found, round_number)
    return found
