"""The model each shipped recipe builds, and its parameter count: docs/generated/parameters.md.

    python scripts/parameter_counts.py            # print the table
    python scripts/parameter_counts.py --write    # and write docs/generated/parameters.md

Each recipe in configs/recipes/ is parsed by the real CLI (`adder fit --config NAME`) and its model
built, not trained: seconds. This table is the one place the docs state a recipe's size; pages
include it or link to it, and tests/docs/test_generated.py checks that the committed file is what
this script writes now.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs" / "generated" / "parameters.md"


def build_model(recipe: str):  # noqa: ANN201  (a LightningModule; Lightning is imported late)
    """The LightningModule `adder fit --config RECIPE` would train, built without training it."""
    from adder.config_files import resolve_config_flags
    from adder.training.cli import TRAINER_DEFAULTS, AdderCLI
    from adder.training.data import AdditionDataModule
    from adder.training.module import AdderModule

    args = resolve_config_flags(["--config", recipe, "--trainer.logger", "false"])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cli = AdderCLI(
            AdderModule,
            AdditionDataModule,
            trainer_defaults=TRAINER_DEFAULTS,
            seed_everything_default=0,
            auto_configure_optimizers=False,
            run=False,
            args=args,
        )
    return cli.model, cli.datamodule


def table() -> str:
    from adder.config_files import RECIPE_DIR, shipped
    from adder.models import count_parameters

    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    lines = [
        "| recipe | cell | digits as | embedding | state | layers | base | operand digits | parameters |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for recipe in shipped(RECIPE_DIR):
        module, data = build_model(recipe)
        config = module.config
        embedding = str(config.input_size) if config.encoding == "embedding" else "—"
        low, high = data.hparams.min_digits, data.hparams.num_digits
        digits = f"{low}-{high}" if low is not None else f"{high}"
        lines.append(
            f"| `{recipe}` | {config.cell} | {config.encoding} | {embedding} | {config.hidden_size} "
            f"| {config.num_layers} | {config.base} | {digits} | {count_parameters(module.model):,} |"
        )
    default = "`rnn` is what `adder fit` trains with no `--config`."
    return "\n".join(lines) + f"\n\nWritten by `python scripts/parameter_counts.py --write`. {default}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {OUTPUT.relative_to(REPO)}")
    args = parser.parse_args()
    text = table()
    print(text, end="")
    if args.write:
        OUTPUT.write_text(text)


if __name__ == "__main__":
    main()
