"""Checks for the exercises of notebook 10, scaling out."""
from __future__ import annotations

import itertools
from typing import Callable

import torch
from torch import Tensor

from ._core import Exercise, compare, fail, passed, run
from ._experiment import two_measured

SAMPLED_VARIANCE = Exercise(
    "10.1",
    concept="task sampling is unbiased, not exact: over the equally likely k-subsets of the T tasks, the scaled "
            "sampled loss (T/k)·Σ over the subset scatters around the sum of all T losses; its variance is what the "
            "saving costs.",
    detail="enumerate every k-subset of the T indices (each equally likely), form the scaled sum of the losses in "
           "each, and take the variance over the subsets with the population formula (divide by the number of "
           "subsets, not by one less). With k = T there is one subset and the variance is 0. One number.")
COST_LINE = Exercise(
    "10.2",
    concept="fit a straight line, seconds ≈ a + b·T, by least squares: the intercept a is the fixed cost per step, "
            "the slope b the cost of one more task.",
    detail="the design matrix has one row per measurement and two columns, a column of ones and the column of T; "
           "torch.linalg has a least-squares solver (work in float64 for accuracy), or use the closed form of simple "
           "linear regression (covariance of T and seconds over the variance of T). The answer is a pair of floats.")
COST_GROWTH = Exercise(
    "10.3",
    concept="measure, do not assume: time the gradient of the summed loss and the T per-task gradients on the same "
            "model at a few task counts, and compare how much each grows from the fewest tasks to the most (a ratio "
            "of times, which a busy machine disturbs far less than a time itself).",
    detail="per task count: the protocol's model and batch; for each of the two ways, the best of 5 timings (with "
           "mc.clock) of a forward pass, the losses and the gradient(s) on the shared parameters, one gradient of "
           "the sum or one per task. Return the two float tensors of seconds (shape (number of counts,)) and the "
           "string 'per-task' or 'summed': the way whose time grew more from the first count to the last.")


def check_sampled_loss_variance(sampled_loss_variance: Callable[[Tensor, int], float]) -> bool:
    """Exercise 10.1: the variance of (T/k)·Σ_{t∈S} Lₜ over the equally likely k-subsets S of the T tasks."""
    losses = torch.tensor([1.0, 2.0, 3.0, 4.0, 6.0])
    cases = [(losses, 2), (losses, 1), (losses, 5), (losses, 4), (torch.tensor([2.0, 2.0, 2.0]), 1)]
    for values, k in cases:
        sums = torch.tensor([len(values) / k * sum(values[i].item() for i in subset)
                             for subset in itertools.combinations(range(len(values)), k)], dtype=torch.float64)
        want = float(((sums - sums.mean()) ** 2).mean())
        ran, result = run(SAMPLED_VARIANCE, sampled_loss_variance, values.clone(), k)
        if not ran:
            return False
        if problem := compare(result, want, rtol=1e-5, atol=1e-5):
            return fail(SAMPLED_VARIANCE, problem, f"losses {values.tolist()}, k = {k}: the variance is {want:g}")
    return passed(SAMPLED_VARIANCE, "The variance shrinks as k grows and vanishes at k = T: every sampled step trades "
                                    "that noise for the backward passes it saves.")


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


def _cost_growth(counts: list[int], repeats: int = 5) -> tuple[float, float]:
    """Exercise 10.3's protocol: growth of the summed and of the per-task gradients' time, last count / first."""
    from ..device import clock
    from ..models import HardSharing, MLP
    from ..tasks import regression, task_losses

    cpu = torch.device("cpu")
    times = {}
    for n_tasks in (counts[0], counts[-1]):
        tasks = [regression(f"t{i}") for i in range(n_tasks)]
        torch.manual_seed(0)
        model = HardSharing(MLP(32, [256, 256]), tasks)
        x, y = torch.randn(64, 32), {t.name: torch.randn(64) for t in tasks}
        params = model.shared_parameters()
        best = [float("inf"), float("inf")]
        for _ in range(repeats):
            start = clock(cpu)
            torch.autograd.grad(sum(task_losses(tasks, model(x), y).values()), params)
            middle = clock(cpu)
            for loss in task_losses(tasks, model(x), y).values():
                torch.autograd.grad(loss, params, retain_graph=True)
            end = clock(cpu)
            best = [min(best[0], middle - start), min(best[1], end - middle)]
        times[n_tasks] = best
    first, last = times[counts[0]], times[counts[-1]]
    return last[0] / first[0], last[1] / first[1]


def check_gradient_cost_growth(gradient_cost_growth: Callable[[list[int]], tuple]) -> bool:
    """Exercise 10.3: how the time of the summed gradient and of the T per-task gradients grows with T, measured."""
    counts = [2, 16]
    case = f"task counts {counts}"
    ran, result = run(COST_GROWTH, gradient_cost_growth, list(counts))
    if not ran:
        return False
    result = two_measured(COST_GROWTH, result, "the summed gradient's seconds, the per-task gradients' seconds, "
                          "the conclusion", ("The summed gradient's times", "The per-task gradients' times"),
                          "durations", len(counts), case)
    if result is None:
        return False
    summed, per_task, faster = result
    growth = [float(v[-1] / v[0]) for v in (summed.detach().double(), per_task.detach().double())]
    verdict = "per-task" if growth[1] > growth[0] else "summed"
    if problem := compare(faster, verdict):
        return fail(COST_GROWTH, f"The conclusion: {problem} Your own times grew ×{growth[0]:.2f} (summed) and "
                                 f"×{growth[1]:.2f} (per task): name the one that grew more.", case)
    measured = _cost_growth(counts)
    if any(not 1 / 3 < g / m < 3 for g, m in zip(growth, measured)):
        return fail(COST_GROWTH, f"Your growths ×{growth[0]:.2f} (summed) and ×{growth[1]:.2f} (per task) are far from "
                                 f"what the protocol measures here (×{measured[0]:.2f} and ×{measured[1]:.2f}): use its "
                                 "model, batch and timing exactly as stated.", case)
    return passed(COST_GROWTH, f"From T = {counts[0]} to {counts[-1]} your summed gradient's time grew ×{growth[0]:.1f} "
                               f"and the per-task gradients' ×{growth[1]:.1f}: each task adds a backward pass through "
                               "the trunk to one and only a head and a loss to the other.")
