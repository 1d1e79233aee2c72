"""Checks for the exercises of notebook 01, single-task baselines."""
from __future__ import annotations

from typing import Callable

from ._core import Exercise, compare, fail, passed, run

DELTA_M = Exercise(
    "1.1",
    concept="Δm% is the average relative change of each task's metric against its single-task baseline, in "
            "percent, counted so that a better metric is positive.",
    detail="per task: the difference multi − single divided by single; its sign flipped for a metric where lower "
           "is better (MSE); then the mean over tasks, times 100. The answer is one float.")
MLP_PARAMETERS = Exercise(
    "1.2",
    concept="a linear layer has one weight per (input, output) pair and one bias per output; an MLP with a head "
            "is a chain of such layers.",
    detail="the layer sizes are in_dim, then every width, then out_dim; add, over consecutive pairs (a, b), "
           "a·b weights plus b biases. An MLP without hidden widths is one layer. The answer is an int.")
SELECT = Exercise(
    "1.3",
    concept="model selection uses the validation error only; the test error is reported once, for the chosen run.",
    detail="find the run whose 'val' entry is smallest, and return the pair (that run's 'lr', that run's 'test').")


def check_delta_m_percent(delta_m_percent: Callable[[dict, dict, dict], float]) -> bool:
    """Exercise 1.1: Δm% by hand, on a case with a known answer (accuracy up 10%, MSE up 20%: Δm% = −5)."""
    multi, single = {"acc": 0.88, "mse": 0.6}, {"acc": 0.8, "mse": 0.5}
    case = "multi = {'acc': 0.88, 'mse': 0.6}, single = {'acc': 0.8, 'mse': 0.5}: accuracy +10%, MSE +20%, Δm% = −5"
    ran, value = run(DELTA_M, delta_m_percent, multi, single, {"acc": True, "mse": False})
    if not ran:
        return False
    if compare(value, 15.0) is None:
        return fail(DELTA_M, "You got +15: a higher MSE is worse, so its change must count against the model.", case)
    if problem := compare(value, -5.0):
        return fail(DELTA_M, problem, case)
    ran, value = run(DELTA_M, delta_m_percent, {"a": 0.5}, {"a": 0.5}, {"a": True})
    if not ran:
        return False
    if problem := compare(value, 0.0):
        return fail(DELTA_M, "A model equal to its baseline must give Δm% = 0. " + problem,
                    "multi = single = {'a': 0.5}: Δm% = 0")
    return passed(DELTA_M, "Half the tasks 10% better, half 20% worse: Δm% = −5.")


def check_mlp_parameters(mlp_parameters: Callable[[int, list, int], int]) -> bool:
    """Exercise 1.2: the parameter count of an MLP with a head, by formula, against `count_parameters`."""
    from .. import MLP, count_parameters, regression, single_task_model

    for in_dim, widths, out_dim in ((3, [4], 1), (100, [64], 1), (10, [32, 16], 5), (7, [], 2)):
        ran, value = run(MLP_PARAMETERS, mlp_parameters, in_dim, list(widths), out_dim)
        if not ran:
            return False
        want = count_parameters(single_task_model(MLP(in_dim, widths), regression("t", out_dim)))
        if problem := compare(value, want):
            return fail(MLP_PARAMETERS, problem, f"mlp_parameters({in_dim}, {widths}, {out_dim}): the model has {want}")
    return passed(MLP_PARAMETERS, "The 100 → 64 → 1 regression baseline has 6,529 parameters.")


def check_select_and_report(select_and_report: Callable[[list], tuple]) -> bool:
    """Exercise 1.3: choose the run with the lowest validation error and report its test error."""
    runs = [{"lr": 1e-4, "val": 5.0, "test": 5.1}, {"lr": 1e-3, "val": 0.40, "test": 0.43},
            {"lr": 1e-2, "val": 0.42, "test": 0.39}]
    case = f"runs = {runs}: the answer is (0.001, 0.43)"
    ran, value = run(SELECT, select_and_report, [dict(r) for r in runs])
    if not ran:
        return False
    if compare(value, (1e-2, 0.39)) is None:
        return fail(SELECT, "You chose on the test error: that leaks the test set into the selection.", case)
    if problem := compare(value, (1e-3, 0.43)):
        return fail(SELECT, problem, case)
    return passed(SELECT, "The test error of the chosen run (0.43) is worse than the best test error (0.39): "
                          "that gap is what selecting on test would have hidden.")
