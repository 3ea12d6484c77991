"""The training command's parser and the flags it adds to LightningCLI's: the optimizer and
schedule linked into the module, the checkpoint and early-stopping callbacks with this project's
defaults, the after-fit steps, the prediction writer and the carry probe."""

from __future__ import annotations

from typing import Any, Literal

import lightning
from lightning.pytorch.cli import LightningArgumentParser, LRSchedulerTypeTuple
from torch.optim import Optimizer

from adder.errors import OneLineErrors
from adder.training.callbacks import AdderCheckpoint, CarryProbe, PredictionWriter, StopAtTarget
from adder.training.module import DEFAULT_LR_SCHEDULER, DEFAULT_OPTIMIZER, OPTIMIZER_ARGS, plain_spec
from adder.training.provenance import header_lines, provenance
from adder.training.shorthand import add_model_arguments, with_shorthand_folded

SUBCOMMANDS = ("fit", "validate", "test", "predict")
HELP_USAGE = (
    "%(prog)s [-c CONFIG] [--model.* ...] [--data.* ...] [--optimizer ...] [--trainer.* ...] [--ckpt_path CKPT]"
)
HELP_DESCRIPTION = (
    "The flags to start with: -c/--config NAME, a shipped config (rnn, the default; lstm, gru, binary, "
    "smallest, ...) or a YAML file; --model.cell rnn|lstm|gru|mlp, --model.hidden_size, --model.input_size, "
    "--model.num_layers; --data.base, --data.num_digits, --data.batch_size; --optimizer.lr; "
    "--trainer.max_steps; --ckpt_path to resume or evaluate a checkpoint. --print_config shows every value. "
    "Every flag follows, grouped: the trainer's, then the model's (AdderModule) and the data's "
    "(AdditionDataModule)."
)
#: --verify_after_fit's default: verify for AUTO_SECONDS where verify models the network.
AUTO = "auto"
AUTO_SECONDS = 120.0
#: The best checkpoint: the highest validation exact match, named by its step.
CHECKPOINT_DEFAULTS = {
    "checkpoint.monitor": "val/exact_match",
    "checkpoint.mode": "max",
    "checkpoint.filename": "best-step{step}",
    "checkpoint.auto_insert_metric_name": False,
}


class OneLineErrorParser(OneLineErrors, LightningArgumentParser):
    """LightningCLI's parser with one-line errors (OneLineErrors) and --print_config's folding."""

    def dump(self, cfg: Any, *args: Any, **kwargs: Any) -> str:
        # --print_config dumps before the CLI folds the shorthand flags in: show what will run.
        return super().dump(with_shorthand_folded(cfg), *args, **kwargs)


def parser_kwargs(subcommand: str | None = None) -> dict[str, dict[str, Any]]:
    """LightningCLI's ``parser_kwargs`` of each subcommand (or of ``subcommand`` alone, the one the
    CLI builds): the first screen of ``adder fit --help`` says what a newcomer needs, not a hundred
    lines of usage of every --trainer.* flag (they are all listed below it, group by group), and
    config.yaml's header names the code that ran."""
    header = [f"lightning.pytorch=={lightning.__version__}", *header_lines(provenance())]
    kwargs = {"usage": HELP_USAGE, "description": HELP_DESCRIPTION, "dump_header": header}
    return {sub: dict(kwargs) for sub in SUBCOMMANDS if subcommand in (None, sub)}


def add_training_arguments(parser: LightningArgumentParser) -> None:
    """Every flag of ``adder fit|validate|test|predict`` beyond the trainer's, model's and data's."""
    add_model_arguments(parser)  # the default network, --data linked into it, the shorthand flags
    # The module builds its optimizer itself (AdderModule.configure_optimizers, the one place;
    # auto_configure_optimizers=False): --optimizer and --lr_scheduler are linked into it as plain
    # class_path/init_args dicts.
    parser.add_optimizer_args((Optimizer,))
    parser.add_lr_scheduler_args(LRSchedulerTypeTuple)
    parser.set_defaults({"optimizer": DEFAULT_OPTIMIZER, "lr_scheduler": DEFAULT_LR_SCHEDULER})
    for key in OPTIMIZER_ARGS:
        parser.link_arguments(key, f"model.{key}", compute_fn=plain_spec)
    parser.add_lightning_class_args(AdderCheckpoint, "checkpoint")
    parser.set_defaults(CHECKPOINT_DEFAULTS)
    # The default trains every step of its decaying learning rate; --early_stopping.target 1
    # stops at the first perfect validation after --early_stopping.min_steps.
    parser.add_lightning_class_args(StopAtTarget, "early_stopping")
    parser.set_defaults({"early_stopping.target": None})
    # fit only; validate/test/predict take them too, so that they read a fit's config.yaml.
    parser.add_argument(
        "--test_after_fit",
        type=bool,
        default=False,
        help="adder fit: test the best checkpoint (the last, if none was validated) into the same run",
    )
    parser.add_argument(
        "--verify_after_fit",
        type=float | Literal["auto"] | None,
        default=AUTO,
        help="adder fit: run adder verify on the checkpoint --test_after_fit would test, for this many "
        "seconds, and log verify/proved and verify/counterexample (1 or 0) into the run; auto (the default): "
        f"{AUTO_SECONDS:g} s, on a network adder verify models (a note says why not otherwise); null: no verify",
    )
    parser.add_argument(
        "--verify_refine",
        type=int,
        default=0,
        help="adder fit with --verify_after_fit: at most this many rounds of training on with the sums "
        "verify found wrong (or where its proof failed) replayed in every batch, each round verified again",
    )
    parser.add_argument(
        "--verify_refine_steps",
        type=int,
        default=250,
        help="adder fit with --verify_refine: the training steps of each round",
    )
    parser.add_lightning_class_args(PredictionWriter, "prediction_writer")
    parser.add_lightning_class_args(CarryProbe, "carry_probe")
