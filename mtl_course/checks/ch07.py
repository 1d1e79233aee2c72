"""Checks for the exercises of notebook 07, regularization and soft sharing."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from ._core import as_number, report, run


def check_soft_sharing_distance(soft_sharing_distance: Callable[[list[Tensor], list[Tensor]], Tensor]) -> bool:
    """Exercise 7.1: Σ_layers ‖W_a − W_b‖²_F between two tasks' corresponding layers."""
    exercise = "Exercise 7.1"
    hint = "sum, over the pairs (W_a, W_b) of corresponding layers, the squared entries of W_a − W_b; return a scalar tensor."
    a = [torch.tensor([[1.0, 1.0], [1.0, 1.0]]), torch.tensor([4.0])]
    b = [torch.tensor([[0.0, 1.0], [1.0, 3.0]]), torch.tensor([1.0])]   # 1 + 4 + 9 = 14
    ran, result = run(exercise, hint, soft_sharing_distance, a, b)
    if not ran:
        return False
    if not (isinstance(result, Tensor) and result.dim() == 0):
        return report(False, exercise, f"return a scalar tensor, got {result!r}. " + hint)
    value = as_number(result)
    if value is None:
        return report(False, exercise, f"return a number, got {type(result).__name__}. " + hint)
    if not math.isclose(value, 14.0, rel_tol=1e-6):
        return report(False, exercise, f"for the test layers the answer is 14, you returned {value:g}. " + hint)
    return report(True, exercise, "λ times this is the soft-sharing penalty of Duong et al. for two tasks.")


def check_effective_rank(effective_rank: Callable[[Tensor, float], int]) -> bool:
    """Exercise 7.2: the number of singular values above `tol` times the largest one."""
    exercise = "Exercise 7.2"
    hint = "compute torch.linalg.svdvals(matrix) and count the values greater than tol * the largest; return an int."
    u, v = torch.tensor([[1.0], [2.0], [2.0]]), torch.tensor([[3.0, 0.0, 4.0, 0.0]])
    cases = [(torch.diag(torch.tensor([5.0, 1.0, 0.01])), 0.1, 2), (torch.diag(torch.tensor([5.0, 1.0, 0.01])), 1e-3, 3),
             (u @ v, 1e-3, 1), (torch.eye(4), 0.5, 4)]
    for matrix, tol, want in cases:
        ran, result = run(exercise, hint, effective_rank, matrix, tol)
        if not ran:
            return False
        if not isinstance(result, int) or isinstance(result, bool):
            return report(False, exercise, f"return a Python int, got {type(result).__name__}. " + hint)
        if result != want:
            return report(False, exercise, f"for singular values {torch.linalg.svdvals(matrix).tolist()} and tol = {tol} "
                                           f"the answer is {want}, you returned {result}. " + hint)
    return report(True, exercise, "Use it on the stacked task weights to see the trace norm lower their rank.")


def check_decoupled_decay(decoupled_decay: Callable[[float, float, float, int], float]) -> bool:
    """Exercise 7.3: a weight with zero gradient after `steps` AdamW steps: w·(1 − lr·λ)^steps."""
    exercise = "Exercise 7.3"
    hint = "AdamW multiplies every weight by (1 − lr·λ) each step before its Adam step; with a zero gradient that is all."
    for w, lr, lam, steps in [(1.0, 0.01, 0.1, 500), (2.0, 0.1, 0.5, 3), (-1.0, 0.001, 1.0, 0)]:
        ran, result = run(exercise, hint, decoupled_decay, w, lr, lam, steps)
        if not ran:
            return False
        p = torch.tensor([w], requires_grad=True)
        optimizer = torch.optim.AdamW([p], lr=lr, weight_decay=lam)
        for _ in range(steps):
            p.grad = torch.zeros(1)
            optimizer.step()
        end = float(p.detach())
        if not isinstance(result, (int, float)) or not math.isclose(float(result), end, rel_tol=1e-4, abs_tol=1e-6):
            return report(False, exercise, f"for w = {w}, lr = {lr}, λ = {lam}, {steps} steps torch.optim.AdamW "
                                           f"ends at {end:.6g}, you returned {result!r}. " + hint)
    return report(True, exercise, "The decay does not depend on the gradient's history: that is what 'decoupled' means.")
