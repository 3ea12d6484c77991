"""``adder verify``'s verdict on a model: a proof, a counterexample checked through ``add``'s own
path, or where the proof failed (see :mod:`adder.verification.invariant`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from adder.evaluation.sums import add_with_model
from adder.models import Adder, MLPAdder, RecurrentAdder
from adder.problems.digits import digits_to_int, format_digits, int_to_digits
from adder.verification import counterexample, exhaustive
from adder.verification.accepted import UnsupportedModel, check_finite, check_modelled
from adder.verification.elman import TANH_ERROR, ElmanAdder
from adder.verification.gated import GatedAdder
from adder.verification.invariant import Outcome, Prover, TimeUp, schedule

PROVED, COUNTEREXAMPLE, UNDECIDED = 0, 1, 3
#: Shares of the time limit: a first quick search for a wrong sum, then the proof (up to
#: PROOF_SHARE in all), then the search again, guided by where the proof failed.
QUICK_SHARE, PROOF_SHARE = 0.05, 0.7
#: The first search's longest time: short wrong sums come first in it; the search after the proof has the rest.
QUICK_SECONDS = 1.0


@dataclass(frozen=True)
class Verdict:
    """What ``adder verify`` found: its exit status and line, and for training on from it
    (``adder fit --verify_refine``) the wrong sum or the digit pairs where the proof failed."""

    status: int
    line: str
    #: A counterexample's operands, written as ``adder add`` takes them (the MLP: also a right sum
    #: whose margin float32 rounding could close).
    operands: tuple[str, str] | None = None
    #: The worst logit margin of the proof, or of the closest plan that failed (None: none finished).
    margin: float | None = None
    #: Where that plan failed: the carry into a path and the digit pairs of its steps.
    guide: counterexample.Guide | None = None

    @property
    def word(self) -> str:
        return {PROVED: "proved", COUNTEREXAMPLE: "counterexample"}.get(self.status, "undecided")


def verify(model: Adder, time_limit: float, log: Any = lambda _: None) -> tuple[int, str]:
    """The exit status and the line to print."""
    found = verdict(model, time_limit, log)
    return found.status, found.line


def verdict(model: Adder, time_limit: float, log: Any = lambda _: None) -> Verdict:
    """The proof, a counterexample checked through ``add``'s path, or where the proof failed."""
    started = time.monotonic()
    if isinstance(model, MLPAdder):
        return verify_every_sum(model, started + time_limit)
    net = analysis_of(model)
    prover = Prover(net, started + PROOF_SHARE * time_limit, log)
    best: Outcome | None = None
    # A model that is wrong on some run of one pair or on a random sum is cheap to refute: look first.
    quick_until = started + min(QUICK_SHARE * time_limit, QUICK_SECONDS)
    quick = counterexample.search(model, None, quick_until, log=log, families=("runs", "random"))
    checked = confirmed(model, quick)
    if checked is not None:
        return wrong_sum(checked)
    try:
        for plan in schedule(net.base, net.state_size, lead=getattr(net, "cell", "rnn") != "lstm"):
            log(f"trying {plan.words()} (at {time.monotonic() - started:.1f} s)")
            outcome = prover.prove(plan)
            if outcome.proved:
                return Verdict(
                    PROVED, proved_line(net, outcome, time.monotonic() - started), margin=outcome.worst_margin
                )
            log(f"  not shown: worst margin {outcome.worst_margin:.3g} ({_where(prover, outcome)})")
            if best is None or outcome.worst_margin > best.worst_margin:
                best = outcome
            if outcome.worst_margin <= 0 and outcome.failure is not None:  # a wrong sum may be right there
                until = min(prover.deadline, time.monotonic() + 0.02 * time_limit)
                guide = _guide(prover, outcome)
                checked = confirmed(model, counterexample.search(model, guide, until, families=("guide",)))
                if checked is not None:
                    return wrong_sum(checked, outcome.worst_margin, guide)
    except TimeUp:
        log(f"the proof's share of the time limit is spent (at {time.monotonic() - started:.1f} s)")
    guide = _guide(prover, best) if best is not None else None
    found = counterexample.search(model, guide, started + time_limit, log=log)
    checked = confirmed(model, found)
    margin = best.worst_margin if best is not None else None
    if checked is not None:
        return wrong_sum(checked, margin, guide)
    if best is None:
        return Verdict(UNDECIDED, f"undecided: no window finished within {time_limit:g} s (--time-limit)")
    line = (
        f"undecided: worst margin {best.worst_margin:.3g} at {_where(prover, best)}, with {best.plan.words()}; "
        f"no wrong sum found in {time_limit:g} s"
    )
    return Verdict(UNDECIDED, line, margin=margin, guide=guide)


def wrong_sum(
    checked: tuple[str, str, str, str], margin: float | None = None, guide: counterexample.Guide | None = None
) -> Verdict:
    a, b, _, _ = checked
    return Verdict(COUNTEREXAMPLE, counterexample_line(*checked), operands=(a, b), margin=margin, guide=guide)


def check_accepted(model: Adder) -> None:
    """Raises UnsupportedModel where :func:`verdict` would refuse ``model``, and only there."""
    if isinstance(model, MLPAdder):
        check_modelled(model.config)
        check_finite(model)
    else:
        analysis_of(model)


def analysis_of(model: Adder) -> ElmanAdder | GatedAdder:
    """The abstract network for ``model``; a network no analysis here models is refused by name."""
    cell = getattr(model, "cell", None)
    if isinstance(model, RecurrentAdder) and cell == "rnn":
        return ElmanAdder.from_model(model)
    if isinstance(model, RecurrentAdder) and cell in ("lstm", "gru"):
        return GatedAdder.from_model(model)
    raise UnsupportedModel(f"adder verify has no analysis of this network ({type(model).__name__}, cell {cell})")


def verify_every_sum(model: MLPAdder, deadline: float) -> Verdict:
    """The fixed-length MLP: every pair of operands of its length, each checked."""
    started = time.monotonic()
    verdict, checked, operands, margin = exhaustive.every_sum(model, deadline)
    base, digits = model.base, model.config.num_digits
    if verdict == "wrong":
        found = confirmed(model, operands)
        if found is not None:
            return wrong_sum(found)
    if verdict == "proved":
        line = (
            f"proved: every sum of two base-{base} numbers of at most {digits} digits (this MLP's only length) is "
            f"right: all {checked:,} checked one by one; worst logit margin {margin:.3g} after float32 rounding "
            f"allowances; {time.monotonic() - started:.1f} s"
        )
        return Verdict(PROVED, line, margin=margin)
    if verdict == "time":
        total = base ** (2 * digits)
        line = f"undecided: {checked:,} of the {total:,} sums of {digits}-digit numbers checked, all right"
        return Verdict(UNDECIDED, line)
    a, b = (format_digits(x, base) for x in operands)  # type: ignore[union-attr]
    line = f"undecided: {a} + {b} is right, but by a logit margin float32 rounding could close ({margin:.3g})"
    return Verdict(UNDECIDED, line, operands=(a, b), margin=margin)


def counterexample_line(a: str, b: str, model_sum: str, true_sum: str) -> str:
    return f"counterexample: {a} + {b}: the model says {model_sum}, the sum is {true_sum}"


def _guide(prover: Prover, outcome: Outcome) -> counterexample.Guide:
    failure = outcome.failure
    return failure.carry_in, [prover.symbol_pairs(symbol) for symbol in failure.symbols]


def _where(prover: Prover, outcome: Outcome) -> str:
    failure = outcome.failure
    what = "a box the states did not settle in" if failure.kind == "region" else "the argmax"
    path = ", ".join(prover.symbol_text(symbol) for symbol in failure.symbols)
    start = failure.start if failure.start.startswith("carry") else f"{failure.start} (carry {failure.carry_in})"
    return f"{what}, from {start}, reading {path}"


def proved_line(net: ElmanAdder, outcome: Outcome, seconds: float) -> str:
    pre = max(float(e.max()) for e in net.pre_error)
    return (
        f"proved: every sum of two base-{net.base} numbers of any length is right, from the zero state; "
        f"{outcome.classes} {outcome.plan.words()}, inductive; worst logit margin {outcome.worst_margin:.3g} after float32 rounding "
        f"allowances (pre-activation {pre:.1e}, tanh {TANH_ERROR:.1e}, logits {float(net.logit_error.max()):.1e}); "
        f"{outcome.sets_checked} sets in {seconds:.1f} s"
    )


def confirmed(model: Adder, found: counterexample.Operands | None) -> tuple[str, str, str, str] | None:
    """The operands and the model's and true sums as ``add`` writes them, if ``add`` gets it wrong."""
    if found is None:
        return None
    base = model.config.base
    a, b = found
    model_sum = add_with_model(model, [(a, b)], base)[0]
    true_sum = format_digits(int_to_digits(digits_to_int(a, base) + digits_to_int(b, base), base), base)
    if model_sum == true_sum:
        return None
    return format_digits(a, base), format_digits(b, base), model_sum, true_sum
