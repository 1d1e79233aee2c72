"""Checks for the exercises of notebook 09, the capstone benchmark."""
from __future__ import annotations

import math
from typing import Callable

import torch

from ._core import as_number, report, run


def check_delta_m_row(delta_m_row: Callable[[dict, dict, dict], float]) -> bool:
    """Exercise 9.1: Δm% of one benchmark row from its metrics, STL's, and which metrics are higher-is-better."""
    exercise = "Exercise 9.1"
    hint = ("for each task, take (M − S) / S, flip the sign where lower is better, average over the tasks "
            "and multiply by 100.")
    cases = [  # (row, stl, higher_is_better, answer)
        ({"left": 0.90, "right": 0.80}, {"left": 0.90, "right": 0.80}, {"left": True, "right": True}, 0.0),
        ({"income": 0.88, "hours": 0.75}, {"income": 0.80, "hours": 1.00}, {"income": True, "hours": False},
         100 * (0.1 + 0.25) / 2),
        ({"a": 0.5, "b": 0.5, "c": 3.0}, {"a": 0.4, "b": 1.0, "c": 2.0}, {"a": False, "b": False, "c": True},
         100 * (-0.25 + 0.5 + 0.5) / 3),
    ]
    for row, stl, higher, want in cases:
        ran, result = run(exercise, hint, delta_m_row, dict(row), dict(stl), dict(higher))
        if not ran:
            return False
        value = as_number(result)
        if value is None:
            return report(False, exercise, f"return a number, got {type(result).__name__}. " + hint)
        if not math.isclose(value, want, rel_tol=1e-6, abs_tol=1e-9):
            return report(False, exercise, f"for the row {row} against STL {stl} (higher is better: {higher}) "
                                           f"Δm% is {want:.4g}, you returned {value:.4g}. " + hint)
    return report(True, exercise, "this is what run_benchmark writes into every row's 'delta_m'.")


def check_gradient_sum_method(make_method: Callable) -> bool:
    """Exercise 9.2: a benchmark method (hard sharing + GradientAggregation(gradient_sum)) that trains like 'equal'."""
    from .. import benchmark
    from ..data import low_rank_regression
    from ..device import seed_everything
    from ..models import HardSharing, MLP
    from ..tasks import regression
    from ..train import fit

    exercise = "Exercise 9.2"
    hint = ("return mc.benchmark.Method(mc.HardSharing(problem.make_trunk(), problem.tasks), "
            "mc.GradientAggregation(mc.gradient_sum)).")
    data = low_rank_regression(n_tasks=3, n_train=64, n_val=8, n_test=8, d=6, seed=0)
    tasks = [regression(name) for name in data.train.tasks]
    problem = benchmark.Problem("check", tasks, data, lambda: MLP(6, [5]), 6)
    seed_everything(0)
    ran, method = run(exercise, hint, make_method, problem, 0)
    if not ran:
        return False
    if not isinstance(method, benchmark.Method):
        return report(False, exercise, f"return a mc.benchmark.Method, got {type(method).__name__}. " + hint)
    if not isinstance(method.model, HardSharing):
        return report(False, exercise, f"the model should be hard sharing, got {type(method.model).__name__}. " + hint)
    seed_everything(0)
    equal = benchmark.METHODS["equal"](problem, 0)
    try:
        for m in (method, equal):
            fit(m.model, tasks, data.train, strategy=m.strategy, epochs=2, batch_size=16, progress=False,
                penalty=m.penalty)
    except Exception as error:  # a student's bug: show its message
        return report(False, exercise, f"training your method raised {type(error).__name__}: {error}. " + hint)
    same = all(torch.allclose(a, b, atol=1e-5) for a, b in zip(method.model.parameters(), equal.model.parameters()))
    if not same:
        return report(False, exercise, "after training, your model's weights differ from those of 'equal' "
                                       "built on the same seed; the sum of the per-task gradients should give "
                                       "the same steps. " + hint)
    return report(True, exercise, "the sum of the per-task gradients is the gradient of the summed loss, at T "
                                  "backward passes instead of one: add it to mc.benchmark.METHODS to time it.")


def check_pareto_methods(pareto_methods: Callable[[dict], list]) -> bool:
    """Exercise 9.3: the methods no other method beats on both Δm% (higher is better) and time (lower is better)."""
    exercise = "Exercise 9.3"
    hint = ("a method is dominated when another has Δm% at least as high and time at least as low, and is "
            "strictly better in one; return the others' names, sorted.")
    cases = [
        ({"equal": (0.0, 1.0), "slow and worse": (-1.0, 2.0), "slow and better": (0.5, 2.0), "fast": (-3.0, 0.5)},
         ["equal", "fast", "slow and better"]),
        ({"a": (1.0, 1.0), "b": (1.0, 1.0), "c": (1.0, 1.5)}, ["a", "b"]),   # ties dominate no one
        ({"only": (2.0, 3.0)}, ["only"]),
    ]
    for points, want in cases:
        ran, result = run(exercise, hint, pareto_methods, dict(points))
        if not ran:
            return False
        if not isinstance(result, list):
            return report(False, exercise, f"return a list of names, got {type(result).__name__}. " + hint)
        if result != want:
            return report(False, exercise, f"for {points} the front is {want}, you returned {result}. " + hint)
    return report(True, exercise, "these are the only methods worth considering at this budget.")
