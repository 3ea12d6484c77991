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

from adder.models import DEFAULT_CHUNK_SIZE
from adder.models.checkpoints import load_adder
from adder.problems.digits import make_problems
from adder.problems.suites import EVAL_KINDS, eval_blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ckpt", help="a checkpoint written by train.py fit")
    parser.add_argument("--kind", default="random", choices=EVAL_KINDS)
    parser.add_argument("--num-digits", type=int, default=1000)
    parser.add_argument("--size", type=int, default=2000, help="problems in the suite")
    parser.add_argument("--seed", type=int, default=0, help="suite seed (adder evaluate's default)")
    parser.add_argument("--context", type=int, default=6, help="pair sums shown below a wrong digit")
    args = parser.parse_args()

    model = load_adder(args.ckpt)
    base = model.config.base
    wrong_sums, offset = 0, 0
    for a, b in eval_blocks(args.kind, args.size, args.num_digits, base, args.seed):
        a, b, target = make_problems(a, b, base)
        predicted = model.predict(a, b, DEFAULT_CHUNK_SIZE)
        wrong = predicted != target
        carry = (target - a - b) % base  # sum digit = (a + b + carry in) mod base
        for row in wrong.any(-1).nonzero().flatten().tolist():
            wrong_sums += 1
            positions = wrong[row].nonzero().flatten().tolist()
            sums = (a[row] + b[row]).tolist()
            print(f"problem {offset + row}: {len(positions)} wrong digit(s)")
            for position in positions[:5]:
                below = sums[max(0, position - args.context) : position + 1]
                print(
                    f"  position {position}: predicted {int(predicted[row, position])}, "
                    f"true {int(target[row, position])}, carry in {int(carry[row, position])}, "
                    f"pair sums up to here {below}"
                )
        offset += a.shape[0]
    print(f"{wrong_sums} of {offset} sums wrong ({args.kind}, {args.num_digits} digits)")


if __name__ == "__main__":
    main()
