"""Checks for the exercises of notebook 11, tasks with their own data."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import Exercise, compare, describe, fail, passed, run
from ._experiment import vector_problem

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
MISSING_COST = Exercise(
    "11.3",
    concept="a task whose labels go missing trains the shared trunk less; whether the other task pays for it depends "
            "on how much the two share. Measure the other task's error with and without the hidden labels, for related "
            "and for unrelated tasks, and compare the relative rises.",
    detail="per ρ (1, then 0) and per hidden fraction of t00's labels (0, then 0.9): the protocol's data, the hidden "
           "labels, a freshly seeded model and the same fit, then t01's test MSE. Return a float tensor of shape "
           "(2, 2) (rows ρ = 1, 0; columns fraction 0, 0.9) and the string 'related' or 'unrelated': the row whose "
           "t01 error rose more, relative to its own fraction-0 error.")
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


def _missing_cost_error(rho: float, fraction: float, seed: int) -> float:
    """Exercise 11.3's protocol for one run: t01's test MSE with a fraction of t00's labels hidden."""
    from torch import nn

    from ..data import hide_labels, low_rank_regression
    from ..device import seed_everything
    from ..models import HardSharing, MLP
    from ..tasks import regression
    from ..train import evaluate, fit

    data = low_rank_regression(n_tasks=2, n_train=200, n_val=10, n_test=500, rho=rho, seed=seed)
    tasks = [regression(name) for name in data.train.tasks]
    train = hide_labels(data.train, "t00", fraction, seed=seed)
    seed_everything(seed)
    model = HardSharing(MLP(50, [8], activation=nn.Tanh), tasks)
    fit(model, tasks, train, epochs=100, batch_size=200, lr=1e-2, seed=seed, progress=False)
    return evaluate(model, tasks, data.test).metric["t01"]


def check_missing_label_cost(missing_label_cost: Callable[[int], tuple]) -> bool:
    """Exercise 11.3: the other task's test error with and without 90% of t00's labels, for related and unrelated tasks."""
    seed = 0
    case = f"seed {seed}"
    ran, result = run(MISSING_COST, missing_label_cost, seed)
    if not ran:
        return False
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return fail(MISSING_COST, f"Return a pair (the errors, the conclusion); you returned {describe(result)}.", case)
    errors, more = result
    if problem := vector_problem(errors, (2, 2), "The errors"):
        return fail(MISSING_COST, problem, case)
    errors = errors.detach().double().cpu()
    if not bool((errors > 0).all()):
        return fail(MISSING_COST, f"Mean squared errors are positive; yours are {errors.tolist()}.", case)
    rise = errors[:, 1] / errors[:, 0] - 1
    verdict = "related" if rise[0] > rise[1] else "unrelated"
    if problem := compare(more, verdict):
        return fail(MISSING_COST, f"The conclusion: {problem} Your own errors rose by {100 * rise[0]:+.1f}% (ρ = 1) "
                                  f"and {100 * rise[1]:+.1f}% (ρ = 0): name the row that rose more.", case)
    measured = _missing_cost_error(1.0, 0.9, seed)
    if problem := compare(errors[0, 1].item(), measured, rtol=1e-3, atol=1e-5):
        return fail(MISSING_COST, "Your error for ρ = 1 with 90% hidden is not what the protocol measures: use its "
                                  "data, labels, seeds, model and budget exactly as stated.", case)
    return passed(MISSING_COST, f"Hiding 90% of t00's labels moved t01's error by {100 * rise[0]:+.1f}% for related "
                                f"tasks and {100 * rise[1]:+.1f}% for unrelated ones: "
                                + ("a missing label costs the tasks that share the trunk with it." if verdict == "related"
                                   else "here the unrelated pair moved more; compare both changes with a second seed."))


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
