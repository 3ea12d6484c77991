"""``adder verify``: prove that a trained adder adds every pair of numbers of every length (the
RNN, the LSTM, the GRU; the MLP: of its one length, every pair checked), or find a sum it gets wrong.

Prints one line on stdout and exits with its status:

- ``proved: ...`` (0): boxes of hidden states, one per class of the carry and the last digit pairs
  read, shown to hold every state the network reaches from the zero state ``add`` starts from,
  and the argmax shown right on all of them, with float32 rounding bounded (docs/verification.md);
- ``counterexample: A + B ...`` (1): a sum ``add`` gets wrong, with its answer and the true one;
- ``undecided: ...`` (3): neither within the time limit; where the proof failed and by how much.

Bad input exits 2, as for every command. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from adder.commands.arguments import add_ckpt_argument, checkpoint_to_use, plain_text
from adder.models.checkpoints import load_adder
from adder.verification.prove import verify


def run(args: argparse.Namespace) -> int:
    model = load_adder(checkpoint_to_use(args.ckpt))
    status, line = verify(model, args.time_limit, lambda text: print(text, file=sys.stderr))
    print(line)
    return status


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "verify",
        help="prove a trained adder adds every sum, or find one it gets wrong",
        description=plain_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the list of verdicts
    )
    add_ckpt_argument(parser)
    parser.add_argument(
        "--time-limit", type=positive_seconds, default=600.0, help="seconds for the proof and the search (default: 600)"
    )
    parser.set_defaults(run=run)
