"""Checks for the exercises of notebook 05, dynamic task weighting."""
from __future__ import annotations

import math
from typing import Callable

import torch

from ._core import Exercise, compare, fail, passed, run

DWA = Exercise(
    "5.1",
    concept="Dynamic Weight Average weights each task by how slowly its loss falls: the ratio of its last two epochs' "
            "losses, turned into weights by a softmax with a temperature, scaled to sum to T.",
    detail="ingredients: the rate r_t = L_t(previous epoch) / L_t(the epoch before), divided by the temperature τ, "
           "a softmax over the T tasks, times T. The answer is a tensor of shape (T,) that sums to T.")
UNCERTAINTY = Exercise(
    "5.2",
    concept="Kendall et al. weight each task by its learned precision 1/(2σ²) and add a log σ term so that σ cannot "
            "grow without bound; s = log σ² is what the model learns.",
    detail="write 1/(2σ²) and log σ in terms of s (σ² = exp(s), so log σ = s/2); form one term per task from its loss "
           "L_t and its s_t, and sum over the tasks. The answer is a one-element (scalar) tensor.")
GRADNORM = Exercise(
    "5.3",
    concept="GradNorm's target norm for a task is the average gradient norm, scaled up for a task that trains slowly "
            "(its loss still close to where it started) and down for a fast one.",
    detail="ingredients: each task's loss ratio L_t / L_t(0); the relative inverse training rate r_t, that ratio "
           "relative to the mean ratio over the tasks; the exponent α; and the average of the current norms. The "
           "answer is a tensor of shape (T,).")


def check_dwa(dwa: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> bool:
    """Exercise 5.1: Dynamic Weight Average's weights T·softmax(r/τ), r = previous / before."""
    previous, before = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 2.0, 2.0])   # r = 0.5, 1, 1.5
    ran, result = run(DWA, dwa, previous.clone(), before.clone(), 2.0)
    if not ran:
        return False
    e = [math.exp(0.25), math.exp(0.5), math.exp(0.75)]
    want = torch.tensor([3 * v / sum(e) for v in e])
    if problem := compare(result, want, atol=1e-5):
        return fail(DWA, problem, f"previous = [1, 2, 3], before = [2, 2, 2], τ = 2: the weights are "
                                  f"{[round(v, 4) for v in want.tolist()]}")
    return passed(DWA, "The task whose loss fell least (r = 1.5) gets the most weight; they sum to T = 3.")


def check_uncertainty_loss(uncertainty_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 5.2: Σₜ ½·exp(−sₜ)·Lₜ + ½·sₜ."""
    losses, log_var = torch.tensor([2.0, 8.0]), torch.tensor([0.0, math.log(4.0)])   # σ² = 1 and 4
    ran, result = run(UNCERTAINTY, uncertainty_loss, losses.clone(), log_var.clone())
    if not ran:
        return False
    want = 2.0 / 2 + 8.0 / 8 + math.log(2.0)
    if problem := compare(result, want, atol=1e-5):
        return fail(UNCERTAINTY, problem, f"L = [2, 8], σ² = [1, 4] (s = [0, log 4]): the loss is {want:.4f}")
    return passed(UNCERTAINTY, "At σ² = L the loss is minimal in s: σ measures the task's RMSE.")


def check_gradnorm_target(gradnorm_target: Callable[..., torch.Tensor]) -> bool:
    """Exercise 5.3: GradNorm's target norms mean(G)·rₜ^α."""
    norms, losses, initial = torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.5])
    ran, result = run(GRADNORM, gradnorm_target, norms.clone(), losses.clone(), initial.clone(), 1.0)
    if not ran:
        return False
    want = torch.tensor([0.8, 3.2])   # ratios 0.5, 2 → r = 0.4, 1.6; mean norm 2
    if problem := compare(result, want, atol=1e-5):
        return fail(GRADNORM, problem, "norms = [1, 3], losses = [1, 1], initial losses = [2, 0.5], α = 1: "
                                       f"the targets are {want.tolist()}")
    return passed(GRADNORM, "The slower task (its loss still at 2× its start) gets 4× the target norm.")
