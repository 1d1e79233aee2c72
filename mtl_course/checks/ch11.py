"""Checks for the exercises of notebook 11, tasks with their own data."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ..data.batches import MultiTaskData
from ..data.per_task import PerTaskData
from ..schedules import Proportional, RoundRobin, Schedule, Temperature, Uniform
from ._core import Exercise, compare, fail, passed, run

TEMPERATURE = Exercise(
    "11.1",
    concept="temperature sampling flattens the data-set sizes before turning them into shares: τ = 1 is "
            "proportional sampling, a very large τ is uniform.",
    detail="ingredients: each size nₜ raised to the power 1/τ, normalised so that the T shares add up to 1. "
           "The answer is a tensor of shape (T,).")
MASKED = Exercise(
    "11.2",
    concept="a missing label must contribute nothing: average the squared errors over the labelled rows only.",
    detail="NaN marks a missing target (torch.isnan finds them); the mean runs over the rows that are present, and "
           "with no such row the answer is 0, not NaN, so that the task adds nothing to the step. One number.")
PASSES = Exercise(
    "11.3",
    concept="measure, do not compute: draw one epoch of the schedule's batches and count how often the task's own "
            "examples are shown.",
    detail="ingredients: the schedule's batches for one epoch (seeded by `seed`), the rows of each batch that carry a "
           "label for `task` (mc.data.is_labelled), their total, divided by the size of that task's own set. One "
           "number, close to 11·pₜ here.")
BEST_F1 = Exercise(
    "11.4",
    concept="F1 depends on the threshold that turns scores into decisions: try every useful threshold and keep the "
            "best F1.",
    detail="ingredients: the distinct scores as thresholds (positive when score ≥ s), the counts TP, FP and FN at "
           "each, F1 = 2TP / (2TP + FP + FN), and the largest value over the thresholds. One number.")


def check_temperature_shares(temperature_shares: Callable[[Tensor, float], Tensor]) -> bool:
    """Exercise 11.1: pₜ = nₜ^{1/τ} / Σᵤ nᵤ^{1/τ}."""
    cases = [([900.0, 100.0], 1.0, [0.9, 0.1]), ([900.0, 100.0], 2.0, [0.75, 0.25]),
             ([1000.0, 100.0, 10.0], 1e9, [1 / 3, 1 / 3, 1 / 3]), ([8.0, 1.0], 3.0, [2 / 3, 1 / 3])]
    for sizes, tau, want in cases:
        ran, result = run(TEMPERATURE, temperature_shares, torch.tensor(sizes), tau)
        if not ran:
            return False
        if isinstance(result, (list, tuple)):   # any sequence of numbers is a correct form too
            try:
                result = torch.tensor([float(v) for v in result])
            except (TypeError, ValueError):
                pass
        if problem := compare(result, torch.tensor(want, dtype=torch.float64), atol=1e-5):
            return fail(TEMPERATURE, problem, f"sizes {sizes}, τ = {tau:g}: the shares are {[round(w, 4) for w in want]}")
    return passed(TEMPERATURE, "τ = 1 is proportional sampling, a large τ is uniform; in between, the small task gains.")


def check_masked_mse(masked_mse: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Exercise 11.2: the mean squared error over the rows whose target is present (NaN marks a missing one)."""
    nan = float("nan")
    cases = [([1.0, 2.0, 3.0], [0.0, nan, 1.0], 2.5), ([1.0, 2.0], [1.0, 4.0], 2.0),
             ([5.0, 6.0], [nan, nan], 0.0), ([0.5, -1.0, 2.0, 0.0], [nan, 1.0, nan, nan], 4.0)]
    for prediction, target, want in cases:
        ran, result = run(MASKED, masked_mse, torch.tensor(prediction), torch.tensor(target))
        if not ran:
            return False
        if problem := compare(result, want):
            return fail(MASKED, problem, f"predictions {prediction}, targets {target}: the answer is {want:g}")
    return passed(MASKED, "This is mc.masked_loss for a regression task: the loss on the labelled subset.")


def _toy_sets() -> PerTaskData:
    """A large task (10,000 examples) and a small one (1,000), one input each."""
    return PerTaskData({"large": MultiTaskData(torch.zeros(10_000, 1), {"large": torch.zeros(10_000)}),
                        "small": MultiTaskData(torch.ones(1_000, 1), {"small": torch.ones(1_000)})})


def check_passes_over(passes_over: Callable[[PerTaskData, Schedule, str, int, int], float]) -> bool:
    """Exercise 11.3: measured passes over one task's set in one epoch of a schedule, against nₜ·pₜ's expectation."""
    data = _toy_sets()
    # One epoch is 11,000 examples = 550 batches of 20; the small task gets 550·pₜ of them, i.e. 11·pₜ passes.
    # The tolerances are about 3.5 binomial standard deviations of a sampled schedule's count.
    cases = [(RoundRobin(), "small", 5.5, 0.0), (Proportional(), "small", 1.0, 0.5), (Uniform(), "small", 5.5, 0.8),
             (Temperature(2.0), "small", 11 * 1000 ** 0.5 / (10_000 ** 0.5 + 1000 ** 0.5), 0.7),
             (Uniform(), "large", 0.55, 0.08)]
    for schedule, task, want, tolerance in cases:
        ran, result = run(PASSES, passes_over, data, schedule, task, 20, 0)
        if not ran:
            return False
        if problem := compare(result, want, rtol=0.0, atol=tolerance + 1e-9):
            return fail(PASSES, problem, f"{schedule!r}, sizes 10,000 and 1,000, batches of 20: the {task} task gets "
                                         f"about {want:.2f} passes per epoch")
    return passed(PASSES, "Uniform sampling shows the small set 5.5 times per epoch: that is where it overfits.")


def check_best_f1(best_f1: Callable[[Tensor, Tensor], float]) -> bool:
    """Exercise 11.4: the highest F1 over the thresholds "positive when score ≥ s", s running over the scores."""
    cases = [([0.9, 0.8, 0.7, 0.3, 0.2], [1, 0, 1, 1, 0], 6 / 7),   # best at s = 0.3: TP 3, FP 1, FN 0
             ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 4 / 5),          # best at s = 0.35: TP 2, FP 1, FN 0
             ([0.5, 0.5, 0.1], [1, 0, 0], 2 / 3),                   # tied scores are decided together
             ([-2.0, 3.0, 1.0], [0, 1, 1], 1.0)]
    for scores, labels, want in cases:
        ran, result = run(BEST_F1, best_f1, torch.tensor(scores), torch.tensor(labels))
        if not ran:
            return False
        if problem := compare(result, want):
            return fail(BEST_F1, problem, f"scores {scores}, labels {labels}: the best F1 is {want:.4f}")
    return passed(BEST_F1, "Choose the threshold this way on the validation split, never on the test split.")
