"""Checks for the exercises of notebook 10, scaling out."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from ..gradients import mgda
from ._core import as_number, report, run


def check_sampled_loss(sampled_loss: Callable[[Tensor, list[int], bool], Tensor]) -> bool:
    """Exercise 10.1: the loss of the sampled tasks, scaled by T/k when unbiased."""
    exercise = "Exercise 10.1"
    hint = "sum losses[t] over t in chosen; when unbiased, multiply that sum by T/k (T = len(losses), k = len(chosen))."
    losses = torch.tensor([1.0, 2.0, 3.0, 4.0, 6.0])
    cases = [([0, 4], True, 17.5), ([0, 4], False, 7.0), ([1, 2, 3], True, 15.0), ([2], True, 15.0),
             ([0, 1, 2, 3, 4], True, 16.0)]
    for chosen, unbiased, want in cases:
        ran, result = run(exercise, hint, sampled_loss, losses.clone(), list(chosen), unbiased)
        if not ran:
            return False
        value = as_number(result)
        if value is None:
            return report(False, exercise, f"return a number (a scalar tensor), got {type(result).__name__}. " + hint)
        if not math.isclose(value, want, rel_tol=1e-6):
            return report(False, exercise, f"for losses {losses.tolist()}, chosen = {chosen}, unbiased = {unbiased} "
                                           f"the answer is {want:g}, you returned {value:g}. " + hint)
    return report(True, exercise, "Averaged over all k-subsets, the unbiased version is exactly the sum of all T losses.")


def check_cost_line(cost_line: Callable[[Tensor, Tensor], tuple[float, float]]) -> bool:
    """Exercise 10.2: least-squares intercept and slope of time per step against the number of tasks."""
    exercise = "Exercise 10.2"
    hint = ("solve the least-squares problem [1, T] @ (a, b) ≈ seconds, e.g. with torch.linalg.lstsq on the "
            "matrix whose columns are ones and T; return (a, b) as two floats.")
    n_tasks = torch.tensor([8.0, 16.0, 24.0, 32.0])
    cases = [(n_tasks, 2.0 + 0.5 * n_tasks, (2.0, 0.5)),                      # exactly on a line
             (n_tasks, torch.tensor([1.0, 3.0, 3.0, 5.0]), (0.0, 0.15))]      # by hand: mean T 20, mean y 3, slope 48/320
    for t, seconds, (a, b) in cases:
        ran, result = run(exercise, hint, cost_line, t.clone(), seconds.clone())
        if not ran:
            return False
        if not (isinstance(result, tuple) and len(result) == 2):
            return report(False, exercise, f"return a pair (intercept, slope), got {result!r}. " + hint)
        got = [as_number(v) for v in result]
        if None in got:
            return report(False, exercise, f"intercept and slope must be numbers, got {result!r}. " + hint)
        if not (math.isclose(got[0], a, abs_tol=1e-4) and math.isclose(got[1], b, abs_tol=1e-5)):
            return report(False, exercise, f"for T = {t.tolist()} and times {seconds.tolist()} the line is "
                                           f"a = {a:g}, b = {b:g}; you returned a = {got[0]:g}, b = {got[1]:g}. " + hint)
    return report(True, exercise, "The slope b is what one more task costs per step; the intercept a, what no task costs.")


def check_allreduce_then_combine(allreduce_then_combine: Callable[[list[Tensor], Callable[[Tensor], Tensor]], Tensor]) -> bool:
    """Exercise 10.3: average the ranks' T×D per-task gradients, then apply the gradient method once."""
    exercise = "Exercise 10.3"
    hint = ("stack the ranks' T×D matrices, take their mean over the ranks (what all-reduce + divide by the "
            "world size gives), and return aggregate(mean): the same direction on every rank.")
    local = [torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, -1.0]])]
    # Mean over ranks: [[1, 0], [0, 0]]; MGDA's min-norm point of {(1, 0), (0, 0)} is 0. Combining on each rank
    # first would give mean(mgda) = ((0.5, 0.5) + (0.5, −0.5)) / 2 = (0.5, 0): a different, wrong direction.
    cases = [(mgda, [0.0, 0.0]), (lambda g: g.sum(0), [1.0, 0.0]), (lambda g: g[1] * 2, [0.0, 0.0])]
    for aggregate, want in cases:
        ran, result = run(exercise, hint, allreduce_then_combine, [g.clone() for g in local], aggregate)
        if not ran:
            return False
        if not (isinstance(result, Tensor) and result.shape == (2,)):
            return report(False, exercise, f"return the combined direction, a tensor of shape (D,) = (2,); got {result!r}. " + hint)
        if not torch.allclose(result, torch.tensor(want), atol=1e-5):
            return report(False, exercise, f"for ranks' gradients {[g.tolist() for g in local]} the direction is {want}, "
                                           f"you returned {result.tolist()}. " + hint)
    return report(True, exercise, "This is what DistributedGradientAggregation does, with dist.all_reduce across processes.")
