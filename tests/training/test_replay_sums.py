"""ReplaySums: the given sums, right targets and all, in every training batch; what it refuses."""

from __future__ import annotations

import pytest
import torch

from adder.models import RecurrentAdder
from adder.problems.digits import digits_to_int, make_problems
from adder.training.module import AdderModule
from adder.training.objectives import ReplaySums


def fresh_batch(rows: int = 4, digits: int = 6) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randint(10, (rows, digits), generator=generator) for _ in range(2))
    return make_problems(a, b, 10)


def test_each_sum_that_fits_is_appended_with_its_true_sum() -> None:
    objective = ReplaySums(["192334 + 713237", "99+1", "1234567+1"], copies=2)  # the last is too long for 6 digits
    objective.check(RecurrentAdder("rnn", hidden_size=4, input_size=2))
    batch = fresh_batch()
    a, b, target = objective.extend_batch(batch)
    assert a.shape[0] == 4 + 2 * 2 and torch.equal(a[:4], batch[0])
    for row in range(4, 8):
        total = digits_to_int(a[row].tolist()) + digits_to_int(b[row].tolist())
        assert digits_to_int(target[row].tolist()) == total
    assert {digits_to_int(a[row].tolist()) for row in range(4, 8)} == {192334, 99}


def test_added_sums_are_trained_on_once_each() -> None:
    objective = ReplaySums()
    objective.check(RecurrentAdder("rnn", hidden_size=4, input_size=2))
    assert objective.extend_batch(fresh_batch())[0].shape[0] == 4
    objective.add(["5+5", "5 + 5", "7+8"])
    assert objective.sums == ["5+5", "7+8"]
    assert objective.extend_batch(fresh_batch())[0].shape[0] == 6


@pytest.mark.filterwarnings("ignore:.*reference is not registered on the model yet.*")
def test_the_module_trains_on_them() -> None:
    torch.manual_seed(0)
    replaying = AdderModule(RecurrentAdder("rnn", hidden_size=4, input_size=2), [ReplaySums(["99999+1"], copies=3)])
    plain = AdderModule(RecurrentAdder("rnn", hidden_size=4, input_size=2), [])
    plain.load_state_dict(replaying.state_dict())
    batch = fresh_batch()
    extra = make_problems(torch.tensor([[9, 9, 9, 9, 9, 0]] * 3), torch.tensor([[1, 0, 0, 0, 0, 0]] * 3), 10)
    with torch.no_grad():
        together = plain.training_step(tuple(torch.cat(pair) for pair in zip(batch, extra)), 0)
        assert float(replaying.training_step(batch, 0)) == pytest.approx(float(together))
        assert float(plain.training_step(batch, 0)) != pytest.approx(float(together))


@pytest.mark.parametrize(
    ("sums", "copies", "message"),
    [(["12"], 1, "not a sum written A\\+B"), (["1+2+3"], 1, "not a sum"), (["1+2"], 0, "copies must be >= 1")],
)
def test_bad_arguments_are_refused_in_one_line(sums: list[str], copies: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReplaySums(sums, copies)


def test_a_digit_outside_the_base_is_refused_when_the_network_is_known() -> None:
    objective = ReplaySums(["12+2"])
    with pytest.raises(ValueError, match="ReplaySums: .*outside base 2"):
        objective.check(RecurrentAdder("rnn", base=2, hidden_size=4, input_size=2))
