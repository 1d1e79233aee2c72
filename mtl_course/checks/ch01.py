"""Checks for the exercises of notebook 01, single-task baselines."""
from __future__ import annotations

import math
from typing import Callable

from ._core import report, run


def check_delta_m_percent(delta_m_percent: Callable[[dict, dict, dict], float]) -> bool:
    """Exercise 1.1: Δm% by hand, on a case with a known answer (accuracy up 10%, MSE up 20%: Δm% = −5)."""
    exercise = "Exercise 1.1"
    hint = ("for each task take (multi − single) / single, flip its sign where lower is better, "
            "average over tasks and multiply by 100.")
    multi, single = {"acc": 0.88, "mse": 0.6}, {"acc": 0.8, "mse": 0.5}
    ran, value = run(exercise, hint, delta_m_percent, multi, single, {"acc": True, "mse": False})
    if not ran:
        return False
    if not isinstance(value, (int, float)) or not math.isclose(value, -5.0, abs_tol=1e-6):
        if isinstance(value, (int, float)) and math.isclose(value, 15.0, abs_tol=1e-6):
            return report(False, exercise, "you got +15: the MSE change needs a minus sign (lower is better). " + hint)
        return report(False, exercise, f"expected −5.0 for accuracy +10% and MSE +20%, got {value}. " + hint)
    ran, value = run(exercise, hint, delta_m_percent, {"a": 0.5}, {"a": 0.5}, {"a": True})
    if not ran or not math.isclose(value, 0.0, abs_tol=1e-9):
        return report(False, exercise, "a model equal to its baseline must give Δm% = 0. " + hint)
    return report(True, exercise, "Half the tasks 10% better, half 20% worse: Δm% = −5.")


def check_mlp_parameters(mlp_parameters: Callable[[int, list, int], int]) -> bool:
    """Exercise 1.2: the parameter count of an MLP with a head, by formula, against `count_parameters`."""
    from .. import MLP, count_parameters, regression, single_task_model

    exercise = "Exercise 1.2"
    hint = "each linear layer from a to b units has a·b weights and b biases; add the head (last width → out_dim)."
    for in_dim, widths, out_dim in ((3, [4], 1), (100, [64], 1), (10, [32, 16], 5), (7, [], 2)):
        ran, value = run(exercise, hint, mlp_parameters, in_dim, widths, out_dim)
        if not ran:
            return False
        want = count_parameters(single_task_model(MLP(in_dim, widths), regression("t", out_dim)))
        if value != want:
            return report(False, exercise, f"mlp_parameters({in_dim}, {widths}, {out_dim}) gave {value}, "
                                           f"the model has {want}. " + hint)
    return report(True, exercise, "The 100 → 64 → 1 regression baseline has 6,529 parameters.")


def check_select_and_report(select_and_report: Callable[[list], tuple]) -> bool:
    """Exercise 1.3: choose the run with the lowest validation error and report its test error."""
    exercise = "Exercise 1.3"
    hint = "pick the run with the smallest 'val' (not 'test'), return (its 'lr', its 'test')."
    runs = [{"lr": 1e-4, "val": 5.0, "test": 5.1}, {"lr": 1e-3, "val": 0.40, "test": 0.43},
            {"lr": 1e-2, "val": 0.42, "test": 0.39}]
    ran, value = run(exercise, hint, select_and_report, runs)
    if not ran:
        return False
    if value == (1e-2, 0.39):
        return report(False, exercise, "you chose on the test error: that leaks the test set into the selection. " + hint)
    if value != (1e-3, 0.43):
        return report(False, exercise, f"expected (0.001, 0.43), got {value}. " + hint)
    return report(True, exercise, "The test error of the chosen run (0.43) is worse than the best test error (0.39): "
                                  "that gap is what selecting on test would have hidden.")
