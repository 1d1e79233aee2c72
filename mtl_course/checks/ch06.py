"""Checks for the exercises of notebook 06, gradient conflict."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import report, run


def check_min_norm_two(min_norm_two: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 6.1: the min-norm point of the segment between two gradients (MGDA for two tasks)."""
    exercise = "Exercise 6.1"
    hint = ("γ = ((g2 − g1)·g2) / ‖g1 − g2‖², clipped to [0, 1], and return γ·g1 + (1 − γ)·g2; "
            "when g1 = g2 every γ gives the same point.")
    cases = [  # (g1, g2, the min-norm point worked out by hand)
        ([1.0, 0.0], [0.0, 1.0], [0.5, 0.5]),          # orthogonal, equal length: the midpoint
        ([2.0, 0.0], [-1.0, 0.0], [0.0, 0.0]),         # opposed: 0 lies on the segment (Pareto-stationary)
        ([3.0, 1.0], [1.0, 0.0], [1.0, 0.0]),          # g1·g2 > ‖g2‖²: the vertex g2 (γ clipped to 0)
        ([1.0, 0.0], [4.0, 4.0], [1.0, 0.0]),          # the vertex g1 (γ clipped to 1)
        ([1.0, 2.0], [1.0, 2.0], [1.0, 2.0]),          # identical gradients
    ]
    for g1, g2, expected in cases:
        ran, result = run(exercise, hint, min_norm_two, torch.tensor(g1), torch.tensor(g2))
        if not ran:
            return False
        if not (isinstance(result, torch.Tensor) and result.shape == (2,) and bool(torch.isfinite(result).all())):
            return report(False, exercise, f"for g1 = {g1}, g2 = {g2} return a finite tensor of shape (2,), "
                                           f"got {result!r}. " + hint)
        if not torch.allclose(result, torch.tensor(expected), atol=1e-5):
            return report(False, exercise, f"for g1 = {g1}, g2 = {g2} the min-norm point is {expected}, "
                                           f"you returned {result.tolist()}. " + hint)
    return report(True, exercise, "With more tasks, mgda runs Frank–Wolfe with this closed form as its line search.")


def check_pcgrad_fixed_order(pcgrad_fixed_order: Callable[[torch.Tensor, list[int]], torch.Tensor]) -> bool:
    """Exercise 6.2: PCGrad on three given vectors, in a fixed order."""
    exercise = "Exercise 6.2"
    hint = ("for each row t, for j in order (j ≠ t): if g_t·g_j < 0 (g_t already projected, g_j the original), "
            "g_t ← g_t − (g_t·g_j / ‖g_j‖²)·g_j; return the sum of the projected rows.")
    grads = torch.tensor([[1.0, 0.0], [-1.0, 1.0], [0.0, -1.0]])
    # worked out by hand. Order [0, 1, 2]: row 0 → (0.5, 0.5) → (0.5, 0); row 1 → (0, 1) → (0, 0);
    # row 2 → (−0.5, −0.5) (g2·g0 = 0, no projection): sum (0, −0.5). Order [2, 1, 0]: row 0 → (0.5, 0.5);
    # row 1 → (−1, 0) → (0, 0); row 2 → (−0.5, −0.5) → (0, −0.5): sum (0.5, 0).
    cases = [([0, 1, 2], [0.0, -0.5]), ([2, 1, 0], [0.5, 0.0])]
    for order, expected in cases:
        ran, result = run(exercise, hint, pcgrad_fixed_order, grads.clone(), list(order))
        if not ran:
            return False
        if not (isinstance(result, torch.Tensor) and result.shape == (2,)):
            return report(False, exercise, f"return the summed direction, a tensor of shape (2,); got {result!r}. " + hint)
        if not torch.allclose(result, torch.tensor(expected), atol=1e-5):
            return report(False, exercise, f"with order {order} the answer is {expected}, you returned "
                                           f"{result.tolist()}. " + hint)
    return report(True, exercise, "The order matters with three or more tasks: that is why PCGrad draws it at random.")


def check_hurt_tasks(hurt_tasks: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 6.3: which tasks a step −η·d hurts to first order."""
    exercise = "Exercise 6.3"
    hint = "the step −η·d changes task t's loss by −η·g_t·d to first order: it hurts task t when g_t·d < 0."
    grads = torch.tensor([[3.0, 0.0], [-1.5, 1.0], [0.0, 1.0]])
    cases = [(torch.tensor([1.5, 1.0]), [False, True, False]), (torch.tensor([-1.0, -1.0]), [True, False, True]),
             (torch.tensor([0.1, 0.6]), [False, False, False])]
    for d, expected in cases:
        ran, result = run(exercise, hint, hurt_tasks, grads.clone(), d.clone())
        if not ran:
            return False
        if not (isinstance(result, torch.Tensor) and result.dtype == torch.bool and result.shape == (3,)):
            return report(False, exercise, f"return a boolean tensor with one entry per task (shape (3,)); got {result!r}. " + hint)
        if result.tolist() != expected:
            return report(False, exercise, f"for d = {d.tolist()} the hurt tasks are {expected}, you returned "
                                           f"{result.tolist()}. " + hint)
    return report(True, exercise, "MGDA, CAGrad and IMTL-G look for a d that hurts no task (for two tasks PCGrad does too).")
