"""Why a proof does not go through: plans tried one by one, how far states spread per class, and
how a class's region contracts under the analysis compared with sampled states.

    python scripts/proof_diagnostics.py plans CKPT 0,2,1 0,2,2     # history,window,exact: margin, time
    python scripts/proof_diagnostics.py spread CKPT                # states per carry and last k pairs
    python scripts/proof_diagnostics.py contraction CKPT           # a carry's region, stepped
    python scripts/proof_diagnostics.py rounds CKPT 1,1,1          # one plan's boxes widened to the end
    python scripts/proof_diagnostics.py rounds CKPT 1,1,1,aligned  # the same with axis-aligned boxes

``plans`` runs :class:`adder.verification.invariant.Prover` on each plan alone (no search for a
counterexample) and prints whether it proved, the worst margin, rounds, sets and seconds.
``spread`` runs random sums (half uniform digits, half mostly carry chains) and prints, per k, how
many classes of (carry, last k digit pairs) were seen and the largest and median spread (max norm)
of their states. ``contraction`` steps the carry-0 region (as ``verify`` guesses it) along runs of
four digit pairs (one that makes no carry, one that makes one, two that pass one on), and prints the analysis's radius after each step next to that of 2000 points
of the region stepped one by one. ``rounds`` runs one plan past a failed margin (``prove`` stops at
the first): each round, the worst margin against the boxes of that round and how far the boxes were
widened, until they are inductive; a margin above 0 in the first round only says the sampled boxes
held there, not that the plan is close to a proof.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from adder.models.checkpoints import load_adder
from adder.verification.elman import ElmanAdder
from adder.verification.invariant import Failure, Plan, Prover


def parse_plan(spec: str) -> Plan:
    """``history,window,exact`` and, optionally, ``,aligned``."""
    history, window, exact, *rest = spec.split(",")
    return Plan(int(history), int(window), int(exact), aligned=rest == ["aligned"])


def plans(net: ElmanAdder, specs: list[str]) -> None:
    for spec in specs:
        started = time.monotonic()
        outcome = Prover(net, started + 3600).prove(parse_plan(spec))
        print(
            f"plan {spec}: proved {outcome.proved}, worst margin {outcome.worst_margin:.3g}, "
            f"{outcome.rounds} rounds, {outcome.sets_checked} sets, {time.monotonic() - started:.1f} s"
        )


def spread(net: ElmanAdder, sums: int = 4000, length: int = 60, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    base = net.base
    a, b = torch.randint(base, (2, sums, length), generator=generator)
    chain = torch.rand(sums, length, generator=generator) < 0.6
    chain[: sums // 2] = False
    b = torch.where(chain, base - 1 - a, b)
    state, carry, carries = net.zero_state().expand(sums, -1), torch.zeros(sums, dtype=torch.long), []
    for t in range(length):
        carries.append(carry)
        state = net.step(state, a[:, t], b[:, t])
        carry = (a[:, t] + b[:, t] + carry >= base).long()
    for k in range(5):
        code = carry if k == 0 else carries[length - k]
        for j in range(length - k, length):
            code = code * base * base + a[:, j] * base + b[:, j]
        widths = [
            float((rows.amax(0) - rows.amin(0)).max())
            for value in code.unique()
            if len(rows := state[code == value]) > 1
        ]
        widths.sort()
        print(
            f"k={k}: {len(code.unique())} classes seen, largest spread {widths[-1]:.3g}, "
            f"median {widths[len(widths) // 2]:.3g} (classes seen more than once: {len(widths)})"
        )


def contraction(net: ElmanAdder, steps: int = 6, points: int = 2000, seed: int = 0) -> None:
    prover = Prover(net, time.monotonic() + 3600)
    boxes = prover.sampled_boxes(0)
    region = prover.region(boxes, 0)
    print(f"carry-0 region: radius {float(region.radius().max()):.3g} (largest coordinate)")
    generator = torch.Generator().manual_seed(seed)
    eps = torch.rand(points, net.state_size, generator=generator, dtype=torch.float64)
    low, high = boxes[0, 0], boxes[0, 1]
    top = net.base - 1
    for a, b in [(0, 0), (top, top), (top // 2 + 1, top // 2), (top, 0)]:  # none, generate, propagate
        sets, sampled = region, prover.origin[0] + (low + (high - low) * eps) @ prover.axes[0].T
        no_spread = torch.zeros(1, net.pair_inputs.shape[-1], dtype=torch.float64)
        analysed, seen = [], []
        for _ in range(steps):
            sets = net.step_set(sets, net.pair_inputs[a, b][None], no_spread)
            sampled = net.step(sampled, torch.full((points,), a), torch.full((points,), b))
            analysed.append(f"{float(sets.radius().max()):.3g}")
            seen.append(f"{float((sampled.amax(0) - sampled.amin(0)).max() / 2):.3g}")
        print(f"{a}+{b}: analysis radius {' '.join(analysed)}; sampled radius {' '.join(seen)}")


class PastMargins(Prover):
    """A prover that goes on widening its boxes where a margin fails, printing each round's margin."""

    def check_all(self, boxes: torch.Tensor, grown: torch.Tensor, plan: Plan, *args: Any) -> int:
        count = super().check_all(boxes, grown, plan, *args)
        self.margin = self.worst.margin
        side = float((boxes[:, 1] - boxes[:, 0]).nan_to_num(0.0, posinf=0.0, neginf=0.0).max())
        print(f"  worst margin {self.margin:.3g} against boxes whose longest side is {side:.3g}")
        self.worst = Failure(1.0, self.worst.start, self.worst.symbols, self.worst.carry_in, "margin")
        return count


def rounds(net: ElmanAdder, spec: str) -> None:
    prover = PastMargins(net, time.monotonic() + 3600, print)
    outcome = prover.prove(parse_plan(spec))
    settled = "inductive" if outcome.proved else "not inductive"
    print(f"plan {spec}: boxes {settled} after {outcome.rounds} rounds, worst margin {prover.margin:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("plans", "spread", "contraction", "rounds"))
    parser.add_argument("ckpt")
    parser.add_argument("plans", nargs="*", help="plans as history,window,exact (for `plans` and `rounds`)")
    args = parser.parse_args()
    net = ElmanAdder.from_model(load_adder(args.ckpt))
    if args.what == "plans":
        plans(net, args.plans)
    elif args.what == "rounds":
        rounds(net, args.plans[0])
    elif args.what == "spread":
        spread(net)
    else:
        contraction(net)


if __name__ == "__main__":
    main()
