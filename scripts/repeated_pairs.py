"""Every sum of one repeated digit pair above a lowest pair, like 66..64 + 33..31, at given lengths.

    python scripts/repeated_pairs.py CKPT [CKPT ...] --lengths 100 1000

For each length it adds, for every lowest pair (a_0, b_0) and every repeated pair (x, y), the
operands x..xa_0 + y..yb_0: base**4 sums (10,000 in base 10), all of them, no sampling. The
evaluation suites hold few such sums (the edge cases 99..9 + 1 and 99..9 + 0 are two), but the
training mixture has them ("repeat") and so does validation, and a state that drifts along a long
run of one pair gets them wrong: it invents a carry after some positions of 66..6 + 33..3, or drops
one that should ripple through 99..9 + 00..1. One line per checkpoint and length: how many sums
are wrong, which repeated pairs (x, y) they share, and the earliest position (0: the lowest digit)
at which a digit goes wrong, which says how long the carry held.
"""

from __future__ import annotations

import argparse

import torch

from adder.models.checkpoints import load_adder
from adder.problems.digits import make_problems


def repeated_pair_operands(num_digits: int, base: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b), least significant digit first: row ((a_0 * base + b_0) * base + x) * base + y."""
    index = torch.arange(base**4)
    a0, b0, x, y = index // base**3, index // base**2 % base, index // base % base, index % base
    a, b = x[:, None].repeat(1, num_digits), y[:, None].repeat(1, num_digits)
    a[:, 0], b[:, 0] = a0, b0
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ckpts", nargs="+", help="checkpoints written by adder fit")
    parser.add_argument("--lengths", nargs="+", type=int, default=[100, 1000], help="digits per operand")
    parser.add_argument("--block", type=int, default=1000, help="sums per forward pass (bounds memory)")
    args = parser.parse_args()
    if min(args.lengths) < 2:
        parser.error("--lengths: each length must be at least 2 (a lowest pair and a repeated one)")
    for ckpt in args.ckpts:
        model = load_adder(ckpt)
        base = model.config.base
        for num_digits in args.lengths:
            a, b = repeated_pair_operands(num_digits, base)
            first_wrong = torch.full((len(a),), num_digits + 1)  # the first wrong position of each sum
            for start in range(0, len(a), args.block):
                rows = slice(start, start + args.block)
                block_a, block_b, target = make_problems(a[rows], b[rows], base)
                bad = model.predict(block_a, block_b) != target
                first_wrong[rows] = torch.where(bad.any(-1), bad.int().argmax(-1), num_digits + 1)
            wrong = first_wrong <= num_digits
            pairs = sorted({(int(a[row, 1]), int(b[row, 1])) for row in wrong.nonzero().flatten().tolist()})
            shown = " ".join(f"({x}, {y})" for x, y in pairs) or "none"
            earliest = f"; earliest wrong digit at position {int(first_wrong.min())}" if wrong.any() else ""
            print(
                f"{ckpt}: {num_digits} digits: {int(wrong.sum())} of {len(a)} sums wrong; repeated pairs: {shown}{earliest}"
            )


if __name__ == "__main__":
    main()
