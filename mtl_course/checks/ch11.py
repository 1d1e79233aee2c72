"""Checks for the exercises of notebook 11, tasks with their own data."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from ..data.batches import MultiTaskData
from ..data.per_task import PerTaskData
from ..schedules import Proportional, RoundRobin, Schedule, Temperature, Uniform
from ._core import as_number, report, run


def check_temperature_shares(temperature_shares: Callable[[Tensor, float], Tensor]) -> bool:
    """Exercise 11.1: pₜ = nₜ^{1/τ} / Σᵤ nᵤ^{1/τ}."""
    exercise = "Exercise 11.1"
    hint = "raise each size to the power 1/τ, then divide by the sum so that the shares add up to 1."
    cases = [([900.0, 100.0], 1.0, [0.9, 0.1]), ([900.0, 100.0], 2.0, [0.75, 0.25]),
             ([1000.0, 100.0, 10.0], 1e9, [1 / 3, 1 / 3, 1 / 3]), ([8.0, 1.0], 3.0, [2 / 3, 1 / 3])]
    for sizes, tau, want in cases:
        ran, result = run(exercise, hint, temperature_shares, torch.tensor(sizes), tau)
        if not ran:
            return False
        try:  # a tensor, or any sequence of numbers
            result = torch.as_tensor(result if isinstance(result, Tensor) else list(result), dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            result = None
        if result is None or result.shape != (len(sizes),):
            return report(False, exercise, f"return a tensor of {len(sizes)} shares, one per task. " + hint)
        if not bool(torch.isfinite(result).all()):
            return report(False, exercise, f"for sizes {sizes} and τ = {tau:g} you returned {result.tolist()}, "
                                           "which is not finite. " + hint)
        if not torch.allclose(result.double(), torch.tensor(want, dtype=torch.float64), atol=1e-5):
            return report(False, exercise, f"for sizes {sizes} and τ = {tau:g} the shares are "
                                           f"{[round(w, 4) for w in want]}, you returned {result.tolist()}. " + hint)
    return report(True, exercise, "τ = 1 is proportional sampling, a large τ is uniform; in between, the small task gains.")


def check_masked_mse(masked_mse: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Exercise 11.2: the mean squared error over the rows whose target is present (NaN marks a missing one)."""
    exercise = "Exercise 11.2"
    hint = ("find the rows whose target is not NaN (torch.isnan), and average the squared errors over those rows "
            "only; with no such row, return 0 (not NaN), so that the task adds nothing to the step.")
    nan = float("nan")
    cases = [([1.0, 2.0, 3.0], [0.0, nan, 1.0], 2.5), ([1.0, 2.0], [1.0, 4.0], 2.0),
             ([5.0, 6.0], [nan, nan], 0.0), ([0.5, -1.0, 2.0, 0.0], [nan, 1.0, nan, nan], 4.0)]
    for prediction, target, want in cases:
        ran, result = run(exercise, hint, masked_mse, torch.tensor(prediction), torch.tensor(target))
        if not ran:
            return False
        value = as_number(result)
        if value is None:
            return report(False, exercise, f"return one number (a float or a 0-d tensor), got {result!r}. " + hint)
        if not math.isclose(value, want, abs_tol=1e-6):  # NaN is never close to anything
            return report(False, exercise, f"for predictions {prediction} and targets {target} the answer is {want:g}, "
                                           f"you returned {value:g}. " + hint)
    return report(True, exercise, "This is mc.masked_loss for a regression task: the loss on the labelled subset.")


def _toy_sets() -> PerTaskData:
    """A large task (10,000 examples) and a small one (1,000), one input each."""
    return PerTaskData({"large": MultiTaskData(torch.zeros(10_000, 1), {"large": torch.zeros(10_000)}),
                        "small": MultiTaskData(torch.ones(1_000, 1), {"small": torch.ones(1_000)})})


def check_passes_over(passes_over: Callable[[PerTaskData, Schedule, str, int, int], float]) -> bool:
    """Exercise 11.3: measured passes over one task's set in one epoch of a schedule, against nₜ·pₜ's expectation."""
    exercise = "Exercise 11.3"
    hint = ("draw one epoch of the schedule's batches with a generator seeded by `seed`; in each batch, count the "
            "rows that have a label for `task` (mc.data.is_labelled says which); divide the total by the size of "
            "that task's own set.")
    data = _toy_sets()
    # One epoch is 11,000 examples = 550 batches of 20; the small task gets 550·pₜ of them, i.e. 11·pₜ passes.
    # The tolerances are about 3.5 binomial standard deviations of a sampled schedule's count.
    cases = [(RoundRobin(), "small", 5.5, 0.0), (Proportional(), "small", 1.0, 0.5), (Uniform(), "small", 5.5, 0.8),
             (Temperature(2.0), "small", 11 * 1000 ** 0.5 / (10_000 ** 0.5 + 1000 ** 0.5), 0.7),
             (Uniform(), "large", 0.55, 0.08)]
    for schedule, task, want, tolerance in cases:
        ran, result = run(exercise, hint, passes_over, data, schedule, task, 20, 0)
        if not ran:
            return False
        value = as_number(result)
        if value is None or not math.isfinite(value):
            return report(False, exercise, f"return the number of passes as one finite number, got {result!r}. " + hint)
        if abs(value - want) > tolerance + 1e-9:
            return report(False, exercise, f"with {schedule!r}, sizes 10,000 and 1,000 and batches of 20, the "
                                           f"{task} task should get about {want:.2f} passes per epoch; you measured "
                                           f"{value:.3g}. " + hint)
    return report(True, exercise, "Uniform sampling shows the small set 5.5 times per epoch: that is where it overfits.")


def check_best_f1(best_f1: Callable[[Tensor, Tensor], float]) -> bool:
    """Exercise 11.4: the highest F1 over the thresholds "positive when score ≥ s", s running over the scores."""
    exercise = "Exercise 11.4"
    hint = ("for each distinct score s, predict positive where score ≥ s, count TP, FP and FN against the labels, "
            "compute 2TP / (2TP + FP + FN), and return the largest value.")
    cases = [([0.9, 0.8, 0.7, 0.3, 0.2], [1, 0, 1, 1, 0], 6 / 7),   # best at s = 0.3: TP 3, FP 1, FN 0
             ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 4 / 5),          # best at s = 0.35: TP 2, FP 1, FN 0
             ([0.5, 0.5, 0.1], [1, 0, 0], 2 / 3),                   # tied scores are decided together
             ([-2.0, 3.0, 1.0], [0, 1, 1], 1.0)]
    for scores, labels, want in cases:
        ran, result = run(exercise, hint, best_f1, torch.tensor(scores), torch.tensor(labels))
        if not ran:
            return False
        value = as_number(result)
        if value is None:
            return report(False, exercise, f"return one number (a float or a 0-d tensor), got {result!r}. " + hint)
        if not math.isclose(value, want, abs_tol=1e-6):  # NaN is never close to anything
            return report(False, exercise, f"for scores {scores} and labels {labels} the best F1 is {want:.4f}, "
                                           f"you returned {value:.4g}. " + hint)
    return report(True, exercise, "Choose the threshold this way on the validation split, never on the test split.")
