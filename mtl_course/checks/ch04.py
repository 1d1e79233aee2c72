"""Checks for the exercises of notebook 04, mixed tasks and static weights."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import report, run


def check_standardize(standardize: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 4.1: standardize a target with the training split's mean and standard deviation."""
    exercise = "Exercise 4.1"
    hint = "return (y - train_y.mean()) / train_y.std(): the statistics come from train_y, not from y."
    train_y = torch.tensor([30.0, 40.0, 50.0, 40.0])
    y = torch.tensor([40.0, 60.0, 20.0])
    ran, result = run(exercise, hint, standardize, train_y, y)
    if not ran:
        return False
    if not (isinstance(result, torch.Tensor) and result.shape == y.shape):
        return report(False, exercise, f"return a tensor shaped like y {tuple(y.shape)}. " + hint)
    candidates = [(y - 40.0) / train_y.std(), (y - 40.0) / train_y.std(unbiased=False)]
    if not any(torch.allclose(result, c, atol=1e-5) for c in candidates):
        if torch.allclose(result, (y - y.mean()) / y.std(), atol=1e-5):
            return report(False, exercise, "you used the statistics of y itself; at test time that leaks. " + hint)
        return report(False, exercise, f"got {result.tolist()}. " + hint)
    return report(True, exercise, "Test and validation targets now use the scale the model was trained on.")


def check_pareto_optimal(pareto_optimal: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 4.2: the boolean mask of non-dominated rows (every objective lower is better)."""
    exercise = "Exercise 4.2"
    hint = ("row i is dominated when some row j is <= in every column and < in at least one; "
            "return ~dominated as a bool tensor of length N.")
    costs = torch.tensor([[1.0, 5.0], [2.0, 3.0], [3.0, 3.0], [4.0, 1.0], [2.0, 4.0], [4.0, 1.0], [5.0, 5.0]])
    want = torch.tensor([True, True, False, True, False, True, False])   # equal rows do not dominate each other
    ran, result = run(exercise, hint, pareto_optimal, costs)
    if not ran:
        return False
    if not (isinstance(result, torch.Tensor) and result.dtype == torch.bool and result.shape == want.shape):
        return report(False, exercise, "return a bool tensor with one entry per row. " + hint)
    if not torch.equal(result, want):
        return report(False, exercise, f"for {costs.tolist()} expected {want.tolist()}, got {result.tolist()}. " + hint)
    return report(True, exercise, "Duplicated points stay optimal: neither is strictly better.")


def check_scalarize(scalarize: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 4.3: the point each weighted sum (1 − λ)·f₁ + λ·f₂ selects."""
    exercise = "Exercise 4.3"
    hint = "compute (1 - λ)·f₁ + λ·f₂ for every λ (rows) and point (columns), then argmin over points."
    front = torch.tensor([[0.0, 1.0], [0.2, 0.9], [0.5, 0.3], [1.0, 0.0]])   # (0.2, 0.9) lies in a dent
    lams = torch.tensor([0.0, 0.3, 0.6, 0.9, 1.0])
    want = torch.tensor([0, 0, 2, 3, 3])
    ran, result = run(exercise, hint, scalarize, front, lams)
    if not ran:
        return False
    if not (isinstance(result, torch.Tensor) and result.shape == lams.shape and torch.equal(result.long(), want)):
        return report(False, exercise, f"expected indices {want.tolist()}, got {result}. " + hint)
    return report(True, exercise, "No λ selects the point (0.2, 0.9): it lies above the convex hull.")
