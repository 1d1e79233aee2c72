"""Checks for the exercises of notebook 09, the capstone benchmark."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import Exercise, compare, describe, fail, passed, run

DELTA_M_ROW = Exercise(
    "9.1",
    concept="a benchmark row's Δm% is the same quantity as in chapter 1: the average relative change of every task's "
            "metric against single-task learning, in percent, better counted as positive.",
    detail="for every task of the row: (row − stl) relative to stl, with the sign flipped where lower is better; the "
           "mean over the row's tasks, times 100. The answer is one float.")
GRADIENT_SUM = Exercise(
    "9.2",
    concept="a benchmark method is a model plus a training strategy; summing the per-task gradients is a gradient "
            "aggregation, and the sum of the gradients is the gradient of the summed loss.",
    detail="build hard sharing on the problem's own trunk (the problem can make one) and its tasks, and pair it with "
           "the package's gradient-aggregation strategy wrapped around its plain-sum aggregator, in the benchmark's "
           "Method record. The answer is a mc.benchmark.Method.")
PARETO_METHODS = Exercise(
    "9.3",
    concept="the Pareto front of methods: a method is worth keeping unless another one is at least as good on both "
            "axes (higher Δm%, lower time) and strictly better on one.",
    detail="compare every method with every other one with that domination test; keep the names of those no other "
           "method dominates; equal points do not dominate each other. The answer is a sorted list of names.")


def check_delta_m_row(delta_m_row: Callable[[dict, dict, dict], float]) -> bool:
    """Exercise 9.1: Δm% of one benchmark row from its metrics, STL's, and which metrics are higher-is-better."""
    cases = [  # (row, stl, higher_is_better, answer)
        ({"left": 0.90, "right": 0.80}, {"left": 0.90, "right": 0.80}, {"left": True, "right": True}, 0.0),
        ({"income": 0.88, "hours": 0.75}, {"income": 0.80, "hours": 1.00}, {"income": True, "hours": False},
         100 * (0.1 + 0.25) / 2),
        ({"a": 0.5, "b": 0.5, "c": 3.0}, {"a": 0.4, "b": 1.0, "c": 2.0}, {"a": False, "b": False, "c": True},
         100 * (-0.25 + 0.5 + 0.5) / 3),
    ]
    for row, stl, higher, want in cases:
        ran, result = run(DELTA_M_ROW, delta_m_row, dict(row), dict(stl), dict(higher))
        if not ran:
            return False
        if problem := compare(result, want, rtol=1e-6, atol=1e-9):
            return fail(DELTA_M_ROW, problem, f"row {row} against STL {stl} (higher is better: {higher}): "
                                              f"Δm% is {want:.4g}")
    return passed(DELTA_M_ROW, "this is what run_benchmark writes into every row's 'delta_m'.")


def check_gradient_sum_method(make_method: Callable) -> bool:
    """Exercise 9.2: a benchmark method (hard sharing + GradientAggregation(gradient_sum)) that trains like 'equal'."""
    from .. import benchmark
    from ..data import low_rank_regression
    from ..device import seed_everything
    from ..models import HardSharing, MLP
    from ..tasks import regression
    from ..train import fit

    data = low_rank_regression(n_tasks=3, n_train=64, n_val=8, n_test=8, d=6, seed=0)
    tasks = [regression(name) for name in data.train.tasks]
    problem = benchmark.Problem("check", tasks, data, lambda: MLP(6, [5]), 6)
    case = "3 low-rank regression tasks, trunk MLP(6, [5]), 2 epochs from the same seed as 'equal'"
    seed_everything(0)
    ran, method = run(GRADIENT_SUM, make_method, problem, 0)
    if not ran:
        return False
    if not isinstance(method, benchmark.Method):
        return fail(GRADIENT_SUM, f"Return a mc.benchmark.Method; you returned {describe(method)}.", case)
    if not isinstance(method.model, HardSharing):
        return fail(GRADIENT_SUM, f"The model should be hard sharing; yours is {describe(method.model)}.", case)
    seed_everything(0)
    equal = benchmark.METHODS["equal"](problem, 0)
    try:
        for m in (method, equal):
            fit(m.model, tasks, data.train, strategy=m.strategy, epochs=2, batch_size=16, progress=False,
                penalty=m.penalty)
    except Exception as error:  # a student's bug: show its message
        return fail(GRADIENT_SUM, f"Training your method raised {type(error).__name__}: {error}.", case)
    if any(compare(a.detach(), b.detach(), atol=1e-5) for a, b in zip(method.model.parameters(), equal.model.parameters())):
        return fail(GRADIENT_SUM, "After training, your model's weights differ from those of 'equal' built on the same "
                                  "seed; the sum of the per-task gradients should give the same steps.", case)
    return passed(GRADIENT_SUM, "the sum of the per-task gradients is the gradient of the summed loss, at T backward "
                                "passes instead of one: add it to mc.benchmark.METHODS to time it.")


def check_pareto_methods(pareto_methods: Callable[[dict], list]) -> bool:
    """Exercise 9.3: the methods no other method beats on both Δm% (higher is better) and time (lower is better)."""
    cases = [
        ({"equal": (0.0, 1.0), "slow and worse": (-1.0, 2.0), "slow and better": (0.5, 2.0), "fast": (-3.0, 0.5)},
         ["equal", "fast", "slow and better"]),
        ({"a": (1.0, 1.0), "b": (1.0, 1.0), "c": (1.0, 1.5)}, ["a", "b"]),   # ties dominate no one
        ({"only": (2.0, 3.0)}, ["only"]),
    ]
    for points, want in cases:
        ran, result = run(PARETO_METHODS, pareto_methods, dict(points))
        if not ran:
            return False
        if problem := compare(result, want):
            return fail(PARETO_METHODS, problem, f"points {points} (Δm%, time): the front is {want}")
    return passed(PARETO_METHODS, "these are the only methods worth considering at this budget.")
