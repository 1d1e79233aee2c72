"""Checks for the exercises of notebook 07, regularization and soft sharing."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import Exercise, compare, fail, passed, run

SOFT_SHARING = Exercise(
    "7.1",
    concept="soft sharing penalises the distance between two tasks' corresponding weights: the squared Frobenius "
            "norm of their difference, summed over the layers.",
    detail="pair the two lists layer by layer; for each pair, the sum of the squared entries of the difference "
           "(the shapes match within a pair, not across layers); add the layers up. The answer is one number "
           "(a scalar tensor, so that it can be backpropagated).")
EFFECTIVE_RANK = Exercise(
    "7.2",
    concept="a matrix's effective rank counts its singular values that are not negligible next to the largest one.",
    detail="ingredients: the singular values (torch.linalg has a function that returns only those), the largest of "
           "them, and how many are strictly greater than tol times it. The answer is an int.")
DECOUPLED = Exercise(
    "7.3",
    concept="AdamW's weight decay is decoupled from the gradient: every step shrinks each weight by the same factor, "
            "whatever Adam does with the gradient.",
    detail="with a zero gradient Adam's own step is zero, so one step multiplies w by a factor that depends on lr and "
           "λ only; `steps` steps apply that factor `steps` times. The answer is one float.")


def check_soft_sharing_distance(soft_sharing_distance: Callable[[list[Tensor], list[Tensor]], Tensor]) -> bool:
    """Exercise 7.1: Σ_layers ‖W_a − W_b‖²_F between two tasks' corresponding layers."""
    a = [torch.tensor([[1.0, 1.0], [1.0, 1.0]]), torch.tensor([4.0])]
    b = [torch.tensor([[0.0, 1.0], [1.0, 3.0]]), torch.tensor([1.0])]   # 1 + 4 + 9 = 14
    ran, result = run(SOFT_SHARING, soft_sharing_distance, [w.clone() for w in a], [w.clone() for w in b])
    if not ran:
        return False
    if problem := compare(result, 14.0):
        return fail(SOFT_SHARING, problem, f"layers {[w.tolist() for w in a]} and {[w.tolist() for w in b]}: "
                                           "the distance is 1 + 4 + 9 = 14")
    return passed(SOFT_SHARING, "λ times this is the soft-sharing penalty of Duong et al. for two tasks.")


def check_effective_rank(effective_rank: Callable[[Tensor, float], int]) -> bool:
    """Exercise 7.2: the number of singular values above `tol` times the largest one."""
    u, v = torch.tensor([[1.0], [2.0], [2.0]]), torch.tensor([[3.0, 0.0, 4.0, 0.0]])
    cases = [(torch.diag(torch.tensor([5.0, 1.0, 0.01])), 0.1, 2), (torch.diag(torch.tensor([5.0, 1.0, 0.01])), 1e-3, 3),
             (u @ v, 1e-3, 1), (torch.eye(4), 0.5, 4)]
    for matrix, tol, want in cases:
        ran, result = run(EFFECTIVE_RANK, effective_rank, matrix.clone(), tol)
        if not ran:
            return False
        if problem := compare(result, want):
            values = [round(s, 4) for s in torch.linalg.svdvals(matrix).tolist()]
            return fail(EFFECTIVE_RANK, problem, f"singular values {values}, tol = {tol}: the effective rank is {want}")
    return passed(EFFECTIVE_RANK, "Use it on the stacked task weights to see the trace norm lower their rank.")


def check_decoupled_decay(decoupled_decay: Callable[[float, float, float, int], float]) -> bool:
    """Exercise 7.3: a weight with zero gradient after `steps` AdamW steps: w·(1 − lr·λ)^steps."""
    for w, lr, lam, steps in [(1.0, 0.01, 0.1, 500), (2.0, 0.1, 0.5, 3), (-1.0, 0.001, 1.0, 0)]:
        ran, result = run(DECOUPLED, decoupled_decay, w, lr, lam, steps)
        if not ran:
            return False
        p = torch.tensor([w], requires_grad=True)
        optimizer = torch.optim.AdamW([p], lr=lr, weight_decay=lam)
        for _ in range(steps):
            p.grad = torch.zeros(1)
            optimizer.step()
        end = float(p.detach())
        if problem := compare(result, end, rtol=1e-4, atol=1e-6):
            return fail(DECOUPLED, problem, f"w = {w}, lr = {lr}, λ = {lam}, {steps} steps: torch.optim.AdamW "
                                            f"ends at {end:.6g}")
    return passed(DECOUPLED, "The decay does not depend on the gradient's history: that is what 'decoupled' means.")
