"""Checks for the exercises of notebook 10, scaling out."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ..gradients import mgda
from ._core import Exercise, compare, fail, passed, run

SAMPLED_LOSS = Exercise(
    "10.1",
    concept="training on k of T tasks per step: the sum over the sampled tasks, scaled by T/k when you want an "
            "unbiased estimate of the sum over all T tasks.",
    detail="ingredients: the losses at the chosen indices, their sum, T (the number of losses) and k (the number "
           "chosen); scale only when `unbiased` is true. The answer is a scalar tensor.")
COST_LINE = Exercise(
    "10.2",
    concept="fit a straight line, seconds ≈ a + b·T, by least squares: the intercept a is the fixed cost per step, "
            "the slope b the cost of one more task.",
    detail="the design matrix has one row per measurement and two columns, a column of ones and the column of T; "
           "torch.linalg has a least-squares solver (work in float64 for accuracy), or use the closed form of simple "
           "linear regression (covariance of T and seconds over the variance of T). The answer is a pair of floats.")
ALLREDUCE = Exercise(
    "10.3",
    concept="with data parallelism every rank must take the same step: average the ranks' per-task gradients first "
            "(what all-reduce gives), then combine the tasks once.",
    detail="the ranks' gradients form R matrices of shape T×D; their mean over the R ranks is one T×D matrix; apply "
           "the given aggregate to it. Combining on each rank and averaging afterwards gives a different direction. "
           "The answer has shape (D,).")


def check_sampled_loss(sampled_loss: Callable[[Tensor, list[int], bool], Tensor]) -> bool:
    """Exercise 10.1: the loss of the sampled tasks, scaled by T/k when unbiased."""
    losses = torch.tensor([1.0, 2.0, 3.0, 4.0, 6.0])
    cases = [([0, 4], True, 17.5), ([0, 4], False, 7.0), ([1, 2, 3], True, 15.0), ([2], True, 15.0),
             ([0, 1, 2, 3, 4], True, 16.0)]
    for chosen, unbiased, want in cases:
        ran, result = run(SAMPLED_LOSS, sampled_loss, losses.clone(), list(chosen), unbiased)
        if not ran:
            return False
        if problem := compare(result, want):
            return fail(SAMPLED_LOSS, problem, f"losses {losses.tolist()}, chosen = {chosen}, unbiased = {unbiased}: "
                                               f"the answer is {want:g}")
    return passed(SAMPLED_LOSS, "Averaged over all k-subsets, the unbiased version is exactly the sum of all T losses.")


def check_cost_line(cost_line: Callable[[Tensor, Tensor], tuple[float, float]]) -> bool:
    """Exercise 10.2: least-squares intercept and slope of time per step against the number of tasks."""
    n_tasks = torch.tensor([8.0, 16.0, 24.0, 32.0])
    cases = [(n_tasks, 2.0 + 0.5 * n_tasks, (2.0, 0.5)),                      # exactly on a line
             (n_tasks, torch.tensor([1.0, 3.0, 3.0, 5.0]), (0.0, 0.15))]      # by hand: mean T 20, mean y 3, slope 48/320
    for t, seconds, want in cases:
        ran, result = run(COST_LINE, cost_line, t.clone(), seconds.clone())
        if not ran:
            return False
        if problem := compare(result, want, rtol=1e-5, atol=1e-4):
            return fail(COST_LINE, problem, f"T = {t.tolist()}, seconds {seconds.tolist()}: the line is "
                                            f"a = {want[0]:g}, b = {want[1]:g}")
    return passed(COST_LINE, "The slope b is what one more task costs per step; the intercept a, what no task costs.")


def check_allreduce_then_combine(allreduce_then_combine: Callable[[list[Tensor], Callable[[Tensor], Tensor]], Tensor]) -> bool:
    """Exercise 10.3: average the ranks' T×D per-task gradients, then apply the gradient method once."""
    local = [torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, -1.0]])]
    # Mean over ranks: [[1, 0], [0, 0]]; MGDA's min-norm point of {(1, 0), (0, 0)} is 0. Combining on each rank
    # first would give mean(mgda) = ((0.5, 0.5) + (0.5, −0.5)) / 2 = (0.5, 0): a different, wrong direction.
    cases = [("mgda", mgda, [0.0, 0.0]), ("the sum of the rows", lambda g: g.sum(0), [1.0, 0.0]),
             ("twice the second row", lambda g: g[1] * 2, [0.0, 0.0])]
    for name, aggregate, want in cases:
        ran, result = run(ALLREDUCE, allreduce_then_combine, [g.clone() for g in local], aggregate)
        if not ran:
            return False
        if problem := compare(result, torch.tensor(want), atol=1e-5):
            return fail(ALLREDUCE, problem, f"ranks' gradients {[g.tolist() for g in local]}, aggregate = {name}: "
                                            f"the direction is {want}")
    return passed(ALLREDUCE, "This is what DistributedGradientAggregation does, with dist.all_reduce across processes.")
