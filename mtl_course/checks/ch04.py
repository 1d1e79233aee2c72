"""Checks for the exercises of notebook 04, mixed tasks and static weights."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import Exercise, compare, fail, passed, run

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
SCALARIZE = Exercise(
    "4.3",
    concept="a weighted sum of the two objectives turns the front into one number per point; each weight selects "
            "the point with the smallest weighted sum.",
    detail="for L weights and P points build an L×P table of (1 − λ)·f₁ + λ·f₂ (broadcast λ as a column against the "
           "points' two columns) and take, per row, the index of the smallest entry. The answer is an integer tensor "
           "of shape (L,).")


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


def check_scalarize(scalarize: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 4.3: the point each weighted sum (1 − λ)·f₁ + λ·f₂ selects."""
    front = torch.tensor([[0.0, 1.0], [0.2, 0.9], [0.5, 0.3], [1.0, 0.0]])   # (0.2, 0.9) lies in a dent
    lams = torch.tensor([0.0, 0.3, 0.6, 0.9, 1.0])
    want = torch.tensor([0, 0, 2, 3, 3])
    ran, result = run(SCALARIZE, scalarize, front.clone(), lams.clone())
    if not ran:
        return False
    if problem := compare(result, want):
        return fail(SCALARIZE, problem, f"front = {front.tolist()}, λ = {lams.tolist()}: the indices are {want.tolist()}")
    return passed(SCALARIZE, "No λ selects the point (0.2, 0.9): it lies above the convex hull.")
