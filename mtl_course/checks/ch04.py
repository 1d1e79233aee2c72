"""Checks for the exercises of notebook 04, mixed tasks and static weights."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import Exercise, _number, compare, fail, passed, run
from ._experiment import flag, mean, measured, remeasured

STANDARDIZE = Exercise(
    "4.1",
    concept="standardizing subtracts a mean and divides by a standard deviation, and both statistics must come from "
            "the training split only, whichever split you transform.",
    detail="ingredients: the mean and the standard deviation of train_y (two scalars); apply them to every entry "
           "of y. The answer is a tensor shaped like y.")
PARETO = Exercise(
    "4.2",
    concept="a point is Pareto-optimal when no other point dominates it: no other is at least as good in every "
            "objective and strictly better in one (here lower is better).",
    detail="for N rows you compare every pair (j, i): j dominates i when j is ≤ i in all columns and < in at least "
           "one. Broadcasting an (N, 1, M) view against a (1, N, M) view gives all pairs at once. Equal rows do not "
           "dominate each other. The answer is a bool tensor of shape (N,).")
SWITCH = Exercise(
    "4.3",
    concept="a weighted sum (1 − λ)·f₁ + λ·f₂ ranks two points equally at exactly one λ: below it one point wins, "
            "above it the other. Set the two weighted sums equal and solve for λ.",
    detail="write both sums with p = (p₁, p₂) and q = (q₁, q₂); the equation is linear in λ, and its solution is a "
           "ratio of the two points' differences in f₁ and in f₂. The answer is one float, the same for (p, q) and "
           "(q, p).")
STATIC_EXPERIMENT = Exercise(
    "4.4",
    concept="an experiment: train the same model with each static weight and with w = 1 on the same seed, score each "
            "weight by its Δm% against w = 1 on that seed, then read the conclusion off your own table.",
    detail="return a dict with 'dm' ({w: {seed: Δm% against w = 1}} for every weight and seed you are passed), "
           "'best_w' (the weight with the highest mean Δm% over the seeds) and 'beats_equal_on_every_seed' (True "
           "only if the best weight's Δm% is above 0 on every seed). Seed every run, so that a second call repeats it.")


def check_standardize(standardize: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 4.1: standardize a target with the training split's mean and standard deviation."""
    train_y, y = torch.tensor([30.0, 40.0, 50.0, 40.0]), torch.tensor([40.0, 60.0, 20.0])
    case = f"train_y = {train_y.tolist()}, y = {y.tolist()}: the training mean is 40"
    ran, result = run(STANDARDIZE, standardize, train_y.clone(), y.clone())
    if not ran:
        return False
    answers = [(y - 40.0) / train_y.std(), (y - 40.0) / train_y.std(unbiased=False)]  # either std is accepted
    problems = [compare(result, want, atol=1e-5) for want in answers]
    if all(problems):
        if compare(result, (y - y.mean()) / y.std(), atol=1e-5) is None:
            return fail(STANDARDIZE, "You used the statistics of y itself; at test time that leaks.", case)
        return fail(STANDARDIZE, problems[0], case)
    return passed(STANDARDIZE, "Test and validation targets now use the scale the model was trained on.")


def check_pareto_optimal(pareto_optimal: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 4.2: the boolean mask of non-dominated rows (every objective lower is better)."""
    costs = torch.tensor([[1.0, 5.0], [2.0, 3.0], [3.0, 3.0], [4.0, 1.0], [2.0, 4.0], [4.0, 1.0], [5.0, 5.0]])
    want = torch.tensor([True, True, False, True, False, True, False])   # equal rows do not dominate each other
    ran, result = run(PARETO, pareto_optimal, costs.clone())
    if not ran:
        return False
    if problem := compare(result, want):
        return fail(PARETO, problem, f"costs = {costs.tolist()}: the mask is {want.tolist()}")
    return passed(PARETO, "Duplicated points stay optimal: neither is strictly better.")


def check_switch_weight(switch_weight: Callable[[torch.Tensor, torch.Tensor], float]) -> bool:
    """Exercise 4.3: the λ at which (1 − λ)·f₁ + λ·f₂ ranks two points equally."""
    cases = [([0.0, 1.0], [1.0, 0.0], 0.5), ([0.2, 0.9], [0.5, 0.3], 1 / 3), ([0.0, 1.0], [0.2, 0.9], 2 / 3),
             ([0.5, 0.3], [0.2, 0.9], 1 / 3)]
    for p, q, want in cases:
        ran, result = run(SWITCH, switch_weight, torch.tensor(p), torch.tensor(q))
        if not ran:
            return False
        if problem := compare(result, want, atol=1e-5):
            return fail(SWITCH, problem, f"p = {p}, q = {q}: the two weighted sums are equal at λ = {want:.4f}")
    return passed(SWITCH, "The dent point (0.2, 0.9) beats (0, 1) only for λ > 2/3 and (0.5, 0.3) only for λ < 1/3: "
                          "no λ does both, so no weighted sum selects it.")


def check_static_weight_experiment(static_weight_experiment: Callable[[list, list], dict]) -> bool:
    """Exercise 4.4: does a static weight beat equal weighting seed by seed? The learner's measured conclusion."""
    weights, seeds = [0.1, 0.3, 3.0], [0, 1, 2]
    found = measured(STATIC_EXPERIMENT, static_weight_experiment, (list(weights), list(seeds)), "dm", weights, seeds, "weight")
    if found is None:
        return False
    result, dm = found
    best = max(weights, key=lambda w: mean(dm[w]))
    if _number(result.get("best_w")) != best:
        return fail(STATIC_EXPERIMENT, f"Your table's highest mean Δm% is that of w = {best}, but result['best_w'] is "
                                       f"{result.get('best_w')!r}: the conclusion must follow from your measurements.")
    beats = flag(STATIC_EXPERIMENT, result, "beats_equal_on_every_seed")
    if beats is None:
        return False
    if beats != all(v > 0 for v in dm[best].values()):
        return fail(STATIC_EXPERIMENT, f"Your Δm% of w = {best} per seed is {[round(dm[best][s], 3) for s in seeds]}, "
                                       f"so result['beats_equal_on_every_seed'] cannot be {beats}.")
    if not remeasured(STATIC_EXPERIMENT, static_weight_experiment, ([best], [seeds[0]]), "dm", best, seeds[0],
                      dm[best][seeds[0]], "weight"):
        return False
    verdict = (f"w = {best} beats equal weights on every seed" if beats else
               f"even the best weight, w = {best}, does not beat equal weights on every seed")
    return passed(STATIC_EXPERIMENT, f"By your own measurements {verdict} (mean Δm% {mean(dm[best]):+.2f}).")
