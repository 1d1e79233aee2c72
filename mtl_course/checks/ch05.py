"""Checks for the exercises of notebook 05, dynamic task weighting."""
from __future__ import annotations

import math
from typing import Callable

import torch

from ._core import report, run


def check_dwa(dwa: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> bool:
    """Exercise 5.1: Dynamic Weight Average's weights T·softmax(r/τ), r = previous / before."""
    exercise = "Exercise 5.1"
    hint = "r = previous / before; return len(r) * torch.softmax(r / temperature, dim=0)."
    previous, before = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 2.0, 2.0])   # r = 0.5, 1, 1.5
    ran, result = run(exercise, hint, dwa, previous, before, 2.0)
    if not ran:
        return False
    e = [math.exp(0.25), math.exp(0.5), math.exp(0.75)]
    want = torch.tensor([3 * v / sum(e) for v in e])
    if not (isinstance(result, torch.Tensor) and result.shape == want.shape and torch.allclose(result, want, atol=1e-5)):
        return report(False, exercise, f"expected {want.tolist()} for r = [0.5, 1, 1.5], τ = 2; got {result}. " + hint)
    return report(True, exercise, "The task whose loss fell least (r = 1.5) gets the most weight; they sum to T = 3.")


def check_uncertainty_loss(uncertainty_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 5.2: Σₜ ½·exp(−sₜ)·Lₜ + ½·sₜ."""
    exercise = "Exercise 5.2"
    hint = "return (0.5 * torch.exp(-log_var) * losses + 0.5 * log_var).sum(): 1/(2σ²) = ½·exp(−s), log σ = ½·s."
    losses, log_var = torch.tensor([2.0, 8.0]), torch.tensor([0.0, math.log(4.0)])   # σ² = 1 and 4
    ran, result = run(exercise, hint, uncertainty_loss, losses, log_var)
    if not ran:
        return False
    want = 2.0 / 2 + 8.0 / 8 + math.log(2.0)
    if not (isinstance(result, torch.Tensor) and result.numel() == 1 and abs(float(result) - want) < 1e-5):
        return report(False, exercise, f"for L = [2, 8], σ² = [1, 4] expected {want:.4f}, got {result}. " + hint)
    return report(True, exercise, "At σ² = L the loss is minimal in s: σ measures the task's RMSE.")


def check_gradnorm_target(gradnorm_target: Callable[..., torch.Tensor]) -> bool:
    """Exercise 5.3: GradNorm's target norms mean(G)·rₜ^α."""
    exercise = "Exercise 5.3"
    hint = ("ratio = losses / initial_losses; r = ratio / ratio.mean(); return norms.mean() * r ** alpha. "
            "A task whose loss fell less (larger ratio) gets a larger target.")
    norms, losses, initial = torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.5])
    ran, result = run(exercise, hint, gradnorm_target, norms, losses, initial, 1.0)
    if not ran:
        return False
    want = torch.tensor([0.8, 3.2])   # ratios 0.5, 2 → r = 0.4, 1.6; mean norm 2
    if not (isinstance(result, torch.Tensor) and result.shape == want.shape and torch.allclose(result, want, atol=1e-5)):
        return report(False, exercise, f"expected {want.tolist()}, got {result}. " + hint)
    return report(True, exercise, "The slower task (its loss still at 2× its start) gets 4× the target norm.")
