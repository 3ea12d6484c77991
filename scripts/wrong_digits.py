"""List every wrong sum of one evaluation suite and where its digits go wrong.

    python scripts/wrong_digits.py CKPT                          # random 1000-digit suite, seed 0
    python scripts/wrong_digits.py CKPT --kind edge --num-digits 100

The suite is the one `python -m adder evaluate` scores (same kind, length, size and seed), so its
wrong sums can be looked at one by one: each line gives a wrong position, the predicted and true
digit, the carry coming into that position, and the pair sums just below it (a_i + b_i, LSB
first), which show whether the mistake sits on a carry chain or at an ordinary position.
"""

from __future__ import annotations

import argparse

import torch

from adder.checkpoints import load_adder
from adder.digits import EVAL_KINDS, eval_blocks, make_problems


def carries_in(a: torch.Tensor, b: torch.Tensor, base: int) -> torch.Tensor:
    """The carry coming into each position of each problem, shape (batch, length)."""
    carry = torch.zeros_like(a[:, 0])
    out = torch.empty_like(a)
    for position in range(a.shape[1]):
        out[:, position] = carry
        carry = (a[:, position] + b[:, position] + carry) // base
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ckpt", help="a checkpoint written by train.py fit")
    parser.add_argument("--kind", default="random", choices=EVAL_KINDS)
    parser.add_argument("--num-digits", type=int, default=1000)
    parser.add_argument("--size", type=int, default=2000, help="problems in the suite")
    parser.add_argument("--seed", type=int, default=0, help="suite seed (adder evaluate's default)")
    parser.add_argument("--context", type=int, default=6, help="pair sums shown below a wrong digit")
    args = parser.parse_args()

    model, hparams = load_adder(args.ckpt)
    base = int(hparams.get("base", 10))
    wrong_sums, offset = 0, 0
    for a, b in eval_blocks(args.kind, args.size, args.num_digits, base, args.seed):
        a, b, target = make_problems(a, b, base)
        predicted = model.predict(a, b, 1024)
        wrong = predicted != target
        carry = carries_in(a, b, base)
        for row in wrong.any(-1).nonzero().flatten().tolist():
            wrong_sums += 1
            positions = wrong[row].nonzero().flatten().tolist()
            sums = (a[row] + b[row]).tolist()
            print(f"problem {offset + row}: {len(positions)} wrong digit(s)")
            for position in positions[:5]:
                below = sums[max(0, position - args.context) : position + 1]
                print(f"  position {position}: predicted {int(predicted[row, position])}, "
                      f"true {int(target[row, position])}, carry in {int(carry[row, position])}, "
                      f"pair sums up to here {below}")  # fmt: skip
        offset += a.shape[0]
    print(f"{wrong_sums} of {offset} sums wrong ({args.kind}, {args.num_digits} digits)")


if __name__ == "__main__":
    main()
