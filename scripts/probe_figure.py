"""The carry probe of a checkpoint as a PNG and a markdown line (docs/results_history.md uses both).

    python scripts/probe_figure.py CKPT docs/figures/probe_default_rnn.png [--num-digits 100]

The same probe and figure that ``adder test`` logs to TensorBoard (``test/carry_probe``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from adder.evaluation.probe import probe_carry, probe_figure
from adder.models import RecurrentAdder, count_parameters
from adder.models.checkpoints import load_adder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path, help="where the PNG goes")
    parser.add_argument("--num-digits", type=int, default=100, help="operand length of the probed sums")
    parser.add_argument("--size", type=int, default=200, help="carry-rich sums probed (half train, half score)")
    args = parser.parse_args()
    model = load_adder(args.checkpoint)
    if not isinstance(model, RecurrentAdder):
        raise SystemExit(f"error: {args.checkpoint} holds an MLP, which has no hidden state to probe")
    probes = probe_carry(model, model.base, args.num_digits, args.size)
    name = f"{model.config.cell}, {count_parameters(model):,} parameters"
    figure = probe_figure(probes, f"{name}: hidden states at {args.num_digits} digits")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=90)
    layers = ", ".join(
        f"layer {p.layer} {100 * p.accuracy:.2f}% (always guessing the commoner value: {100 * p.majority:.2f}%)"
        for p in probes
    )
    print(f"{name}: linear probe for the carry into the next position, held-out accuracy: {layers}")


if __name__ == "__main__":
    main()
