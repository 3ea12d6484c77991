"""How evaluation batches and threads its problems: from free memory, never changing an answer."""

from __future__ import annotations

import pytest
import torch

from adder.evaluation.plan import EvalPlan, bytes_per_problem, plan_evaluation, single_threaded_ops
from adder.evaluation.runner import evaluate_suite
from adder.models import ModelConfig, build_model
from adder.problems.suites import EVAL_BLOCK


def test_answers_do_not_depend_on_the_plan() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(hidden_size=8)).eval()  # untrained: many wrong digits to count
    results = [
        evaluate_suite(model, 10, "mixed", 40, size=450, seed=3, chunk_size=16, plan=plan)
        for plan in (
            EvalPlan(EVAL_BLOCK, 1),
            EvalPlan(3 * EVAL_BLOCK, 1),
            EvalPlan(EVAL_BLOCK, 3),
            EvalPlan(30, 2),  # batches cut across the blocks the problems are drawn in
        )
    ]
    assert results[0].wrong_digits > 0 and results[0].problems == 450
    for result in results[1:]:
        assert (result.exact_match, result.digit_acc, result.wrong_digits, result.problems) == (
            results[0].exact_match,
            results[0].digit_acc,
            results[0].wrong_digits,
            results[0].problems,
        )
    assert [(r.problems_per_batch, r.workers) for r in results] == [(100, 1), (300, 1), (100, 3), (30, 2)]


def test_threads_come_back_after_parallel_evaluation() -> None:
    threads = torch.get_num_threads()
    with single_threaded_ops(True):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == threads
    with pytest.raises(RuntimeError), single_threaded_ops(True):
        raise RuntimeError("a failing batch")
    assert torch.get_num_threads() == threads


def test_gpu_batches_grow_with_free_memory_within_half_of_it() -> None:
    model = build_model(ModelConfig())
    per_problem = bytes_per_problem(model, 100_000, 1024)
    for free in (10**9, 8 * 10**9, 80 * 10**9):
        plan = plan_evaluation(model, 100_000, 2000, 1024, "cuda", free_bytes=free)
        assert plan.workers == 1 and plan.problems_per_batch % EVAL_BLOCK == 0
        assert plan.problems_per_batch == EVAL_BLOCK or plan.problems_per_batch * per_problem <= free // 2
        assert plan.problems_per_batch <= 2000
    small, large = (plan_evaluation(model, 100_000, 2000, 1024, "cuda", free_bytes=f) for f in (10**9, 80 * 10**9))
    assert small.problems_per_batch < large.problems_per_batch == 2000  # all 2000 fit in 40 GB


def test_cpu_workers_are_capped_by_threads_blocks_and_memory() -> None:
    model = build_model(ModelConfig())
    threads = torch.get_num_threads()
    roomy = plan_evaluation(model, 1000, 2000, 1024, "cpu", free_bytes=64 * 2**30)
    assert roomy.problems_per_batch == EVAL_BLOCK and roomy.workers == min(threads, 20)
    small = plan_evaluation(model, 1000, 50, 1024, "cpu", free_bytes=64 * 2**30)  # fewer problems than a block
    assert small.workers == min(threads, 50) and small.problems_per_batch == -(-50 // threads)
    per_block = bytes_per_problem(model, 100_000, 1024) * EVAL_BLOCK
    assert plan_evaluation(model, 100_000, 2000, 1024, "cpu", free_bytes=4 * per_block).workers == 1


def test_memory_estimate_grows_with_length_chunk_and_model() -> None:
    small, wide = build_model(ModelConfig(hidden_size=8)), build_model(ModelConfig(hidden_size=256))
    assert bytes_per_problem(small, 10_000, 1024) < bytes_per_problem(small, 100_000, 1024)
    assert bytes_per_problem(small, 100_000, 64) < bytes_per_problem(small, 100_000, 1024)
    assert bytes_per_problem(small, 10_000, 1024) < bytes_per_problem(wide, 10_000, 1024)
    assert bytes_per_problem(build_model(ModelConfig("mlp", num_digits=10)), 10, None) > 11 * 10
