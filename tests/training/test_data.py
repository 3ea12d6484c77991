"""The training stream's seeding and the data module's fixed sets."""

import pytest
import torch
from torch.utils.data import DataLoader

from adder.problems.digits import digits_to_int
from adder.problems.samplers import STREAM_TRAIN, ProblemSampler, make_generator
from adder.problems.suites import edge_cases
from adder.training.data import AdditionDataModule, BatchStream


def take(stream: BatchStream, count: int, num_workers: int = 0) -> list[torch.Tensor]:
    loader = DataLoader(stream, batch_size=None, num_workers=num_workers)
    batches = []
    for batch in loader:
        batches.append(batch[0])
        if len(batches) == count:
            return batches
    raise AssertionError("stream ended")


SAMPLER = ProblemSampler(base=10, num_digits=6)


def test_stream_is_reproducible_and_differs_per_rank_and_seed() -> None:
    first = take(BatchStream(SAMPLER, 32, seed=0, rank=0), 3)
    again = take(BatchStream(SAMPLER, 32, seed=0, rank=0), 3)
    other_rank = take(BatchStream(SAMPLER, 32, seed=0, rank=1), 3)
    other_seed = take(BatchStream(SAMPLER, 32, seed=1, rank=0), 3)
    assert all(torch.equal(x, y) for x, y in zip(first, again))
    for other in (other_rank, other_seed):
        assert not any(torch.equal(x, y) for x in first for y in other)
    assert not torch.equal(first[0], first[1])


def test_stream_resumes_where_it_stopped() -> None:
    whole = take(BatchStream(SAMPLER, 16, seed=3), 5)
    resumed = take(BatchStream(SAMPLER, 16, seed=3, start=3), 2)
    assert torch.equal(whole[3], resumed[0]) and torch.equal(whole[4], resumed[1])


def test_stream_does_not_depend_on_worker_count() -> None:
    serial = take(BatchStream(SAMPLER, 16, seed=5), 6)
    parallel = take(BatchStream(SAMPLER, 16, seed=5), 6, num_workers=2)
    assert all(torch.equal(x, y) for x, y in zip(serial, parallel))


def test_blocks_only_group_the_draws() -> None:
    # Within a block, batches are consecutive slices of one draw; a stream with one batch per
    # block is the per-batch stream of earlier versions (docs/results.md relies on this).
    blocked = BatchStream(SAMPLER, 8, seed=2, block_batches=4)
    block = SAMPLER.sample(32, make_generator(2, STREAM_TRAIN, 0, 1))
    assert torch.equal(blocked.batch(6)[0], block[0][16:24])
    single = BatchStream(SAMPLER, 8, seed=2, block_batches=1)
    assert torch.equal(single.batch(5)[2], SAMPLER.sample(8, make_generator(2, STREAM_TRAIN, 0, 5))[2])
    # Resuming mid-block and any worker count give the same batches.
    whole = take(BatchStream(SAMPLER, 8, seed=2, block_batches=4), 7)
    resumed = take(BatchStream(SAMPLER, 8, seed=2, block_batches=4, start=5), 2)
    assert all(torch.equal(x, y) for x, y in zip(whole[5:], resumed))
    parallel = take(BatchStream(SAMPLER, 8, seed=2, block_batches=4), 7, num_workers=2)
    assert all(torch.equal(x, y) for x, y in zip(whole, parallel))


def test_datamodule_sets() -> None:
    dm = AdditionDataModule(
        num_digits=5, batch_size=120, val_size=300, val_kinds=[], test_size=100, test_lengths=[5, 8], seed=1
    )
    dm.setup("fit")
    a, b, target = dm.val_set.tensors
    assert a.shape == (300, 51)  # validation checks 10x the training length by default
    assert digits_to_int(a[0]) + digits_to_int(b[0]) == digits_to_int(target[0])
    kinds = ["random", "carry", "mixed", "edge"]
    assert dm.test_set_names == [f"{k}/5" for k in kinds] + [f"{k}/8" for k in kinds]
    assert dm.test_sets["random/8"].tensors[0].shape == (100, 9)
    # Validation and the first test set are drawn from different streams.
    assert not torch.equal(dm.val_set.tensors[0][:100], dm.test_sets["random/5"].tensors[0])
    batch = next(iter(dm.train_dataloader()))
    assert batch[0].shape == (120, 6)


def test_fixed_dataset_mode_splits_like_the_blog() -> None:
    dm = AdditionDataModule(num_digits=3, dataset_size=1000, split=(0.5, 0.1, 0.4), seed=2, batch_size=50)
    dm.setup("fit")
    sizes = (len(dm.train_set), len(dm.val_set), len(dm.test_sets["split/3"]))
    assert sizes == (500, 100, 400)
    assert sum(1 for _ in dm.train_dataloader()) == 10  # 500 problems in batches of 50: an epoch ends


def test_data_seed_follows_seed_everything_when_unset() -> None:
    torch.manual_seed(11)
    dm1 = AdditionDataModule(num_digits=4, val_size=50)
    dm1.setup("fit")
    torch.manual_seed(11)
    dm2 = AdditionDataModule(num_digits=4, val_size=50)
    dm2.setup("fit")
    torch.manual_seed(12)
    dm3 = AdditionDataModule(num_digits=4, val_size=50)
    dm3.setup("fit")
    assert torch.equal(dm1.val_set.tensors[0], dm2.val_set.tensors[0])
    assert not torch.equal(dm1.val_set.tensors[0], dm3.val_set.tensors[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"test_kinds": ["weird"]}, "unknown test kind"),
        ({"val_kinds": ["weird"]}, "unknown validation kind"),
        ({"val_kind_size": 0}, "val_kind_size"),
        ({"split": (0.5, 0.5, 0.5), "dataset_size": 10}, "split"),
        ({"min_digits": 12}, "min_digits"),
        ({"sampling": {"nope": 1.0}}, "unknown sampler"),
    ],
)
def test_bad_data_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AdditionDataModule(**kwargs)


def test_validation_holds_full_ripple_and_edge_sums_apart_from_the_tests() -> None:
    dm = AdditionDataModule(num_digits=5, val_size=30, val_kind_size=40, test_lengths=[50], seed=3)
    dm.setup("fit")
    a, b, target = dm.val_set.tensors
    assert a.shape == (30 + 40 + 8, 51)  # the mixture, then 40 full-ripple sums, then the 8 edge cases
    ripple_a, ripple_b = a[30:70, :-1], b[30:70, :-1]
    assert bool(((ripple_a[:, 1:] + ripple_b[:, 1:]) == 9).all()) and bool(
        (ripple_a[:, 0] + ripple_b[:, 0] >= 10).all()
    )
    assert bool((target[30:70, -1] == 1).all())  # the carry ripples out of the top digit
    edge_a, edge_b = edge_cases(50, 10)
    assert torch.equal(a[70:, :-1], edge_a) and torch.equal(b[70:, :-1], edge_b)
    # Validation's full-ripple sums are not the first problems of the test suite of the same length.
    assert not torch.equal(ripple_a, dm.test_sets["carry/50"].tensors[0][:40, :-1])
    for i in range(len(a)):
        assert digits_to_int(a[i]) + digits_to_int(b[i]) == digits_to_int(target[i])


def test_validation_length() -> None:
    explicit = AdditionDataModule(num_digits=5, val_num_digits=7, val_size=10, val_kinds=[], seed=0)
    ranged = AdditionDataModule(
        num_digits=5, sampling={"range": 1.0}, min_digits=None, val_size=10, val_kinds=[], seed=0
    )
    for dm, width in ((explicit, 8), (ranged, 6)):
        dm.setup("fit")
        assert dm.val_set.tensors[0].shape == (10, width)
    assert AdditionDataModule(num_digits=4).test_lengths == [4, 40, 400]
