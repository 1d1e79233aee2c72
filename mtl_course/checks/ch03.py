"""Checks for the exercises of notebook 03, task relatedness."""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from ._core import as_number, report, run


def check_gradient_cosines(gradient_cosines: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 3.1: the T×T cosine matrix of a T×D matrix of per-task gradients."""
    exercise = "Exercise 3.1"
    hint = ("divide each row by its norm, then multiply the matrix by its transpose: "
            "entry (i, j) is gᵢ·gⱼ / (‖gᵢ‖ ‖gⱼ‖).")
    grads = torch.tensor([[3.0, 4.0, 0.0], [0.0, 2.0, 0.0], [-3.0, -4.0, 0.0]])
    expected = torch.tensor([[1.0, 0.8, -1.0], [0.8, 1.0, -0.8], [-1.0, -0.8, 1.0]])
    ran, result = run(exercise, hint, gradient_cosines, grads)
    if not ran:
        return False
    if not isinstance(result, torch.Tensor) or tuple(result.shape) != (3, 3):
        return report(False, exercise, f"return a 3×3 tensor for 3 tasks, got {type(result).__name__} "
                      f"{tuple(getattr(result, 'shape', ()))}. " + hint)
    if not torch.allclose(result.float(), expected, atol=1e-5):
        return report(False, exercise, f"for rows (3,4,0), (0,2,0), (−3,−4,0) the cosines are {expected.tolist()}, "
                      f"you returned {result.tolist()}. " + hint)
    return report(True, exercise, "Rows 1 and 3 point in opposite directions: a conflict, cosine −1.")


def check_affinity_after_step(affinity_after_step: Callable) -> bool:
    """Exercise 3.2: the lookahead affinity Z_{i→j} = 1 − L_j(θ − η∇L_i(θ)) / L_j(θ) of two loss functions."""
    exercise = "Exercise 3.2"
    hint = ("take one gradient step of size lr on loss_i alone (torch.autograd.grad), then return "
            "1 − loss_j(new θ) / loss_j(θ) as a float.")
    theta = torch.tensor([1.0, 2.0])
    loss_i = lambda t: (t ** 2).sum()                       # ∇ = 2θ: the step moves θ to 0.8·θ
    loss_j = lambda t: ((t - torch.tensor([1.0, 0.0])) ** 2).sum()
    cases = {  # (lr, expected): hand-computed
        0.1: 1 - ((0.8 - 1) ** 2 + 1.6 ** 2) / (0 + 4.0),
        0.5: 1 - (1.0 + 0.0) / 4.0,
    }
    for lr, expected in cases.items():
        ran, result = run(exercise, hint, affinity_after_step, theta.clone(), loss_i, loss_j, lr)
        if not ran:
            return False
        value = as_number(result)
        if value is None:
            return report(False, exercise, f"return a number, got {type(result).__name__}. " + hint)
        if not math.isclose(value, expected, abs_tol=1e-5):
            return report(False, exercise, f"with θ = (1, 2), L_i = ‖θ‖², L_j = ‖θ − (1, 0)‖² and lr = {lr} "
                          f"the affinity is {expected:.4f}, you returned {value:.4f}. " + hint)
    reverse = affinity_after_step(theta.clone(), loss_j, loss_i, 0.1)
    return report(True, exercise, f"Swap the tasks and you get {float(reverse):.3f} instead of {cases[0.1]:.3f}: "
                  "affinity is not symmetric.")


def check_grouping_score(grouping_score: Callable[[torch.Tensor, Sequence[Sequence[int]]], float]) -> bool:
    """Exercise 3.3: the total affinity of a grouping, Σ_g Σ_{j∈g} mean_{i∈g, i≠j} Z[i, j]."""
    exercise = "Exercise 3.3"
    hint = ("for every task j of every group, average Z[i, j] over the other members i of its group "
            "(a task alone adds 0), and sum those averages.")
    z = torch.tensor([[0.0, 0.4, -0.1], [0.2, 0.0, 0.0], [-0.3, 0.1, 0.0]])
    cases = [([[0, 1], [2]], 0.6), ([[0, 1, 2]], 0.15), ([[0], [1], [2]], 0.0), ([[0, 2], [1]], -0.4)]
    for groups, expected in cases:
        ran, result = run(exercise, hint, grouping_score, z, groups)
        if not ran:
            return False
        value = as_number(result)
        if value is None:
            return report(False, exercise, f"return a number, got {type(result).__name__}. " + hint)
        if not math.isclose(value, expected, abs_tol=1e-6):
            return report(False, exercise, f"for Z = {z.tolist()} and groups {groups} the score is {expected}, "
                          f"you returned {value:.4f}. " + hint)
    return report(True, exercise, "With this score you can rank every grouping of a few tasks.")
