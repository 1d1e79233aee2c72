"""Checks for the exercises of notebook 03, task relatedness."""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from ._core import Exercise, compare, fail, passed, run

COSINES = Exercise(
    "3.1",
    concept="the cosine of two gradients is their dot product divided by the product of their lengths; you want it "
            "for every pair of tasks at once.",
    detail="the input is T×D (one row per task), the answer T×T and symmetric with ones on the diagonal. Normalise "
           "each row to unit length first (its norm over the D columns); then every entry is a dot product of two "
           "unit rows, which one matrix product gives all at once.")
AFFINITY = Exercise(
    "3.2",
    concept="lookahead affinity: take one gradient step on task i's loss alone and measure the relative drop of "
            "task j's loss, 1 − L_j(after) / L_j(before).",
    detail="ingredients: θ with gradients enabled, the gradient of loss_i at θ (torch.autograd.grad), the stepped "
           "parameters θ − lr·gradient (no gradient needed any more), and loss_j at the old and the new θ. The "
           "answer is one float.")
GROUPING = Exercise(
    "3.3",
    concept="TAG scores a grouping by how much each task is helped by the other tasks of its own group, summed over "
            "all tasks.",
    detail="for each group and each task j in it, the other members i ≠ j of that group give affinities Z[i, j] "
           "(column j); average them, add the average to a running score; a task alone in its group adds 0. The "
           "answer is one float.")


def check_gradient_cosines(gradient_cosines: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 3.1: the T×T cosine matrix of a T×D matrix of per-task gradients."""
    grads = torch.tensor([[3.0, 4.0, 0.0], [0.0, 2.0, 0.0], [-3.0, -4.0, 0.0]])
    want = torch.tensor([[1.0, 0.8, -1.0], [0.8, 1.0, -0.8], [-1.0, -0.8, 1.0]])
    ran, result = run(COSINES, gradient_cosines, grads.clone())
    if not ran:
        return False
    if problem := compare(result, want, atol=1e-5):
        return fail(COSINES, problem, f"rows (3, 4, 0), (0, 2, 0), (−3, −4, 0): the cosines are {want.tolist()}")
    return passed(COSINES, "Rows 1 and 3 point in opposite directions: a conflict, cosine −1.")


def check_affinity_after_step(affinity_after_step: Callable) -> bool:
    """Exercise 3.2: the lookahead affinity Z_{i→j} = 1 − L_j(θ − η∇L_i(θ)) / L_j(θ) of two loss functions."""
    theta = torch.tensor([1.0, 2.0])
    loss_i = lambda t: (t ** 2).sum()                       # ∇ = 2θ: the step moves θ to 0.8·θ
    loss_j = lambda t: ((t - torch.tensor([1.0, 0.0])) ** 2).sum()
    cases = {  # (lr, expected): hand-computed
        0.1: 1 - ((0.8 - 1) ** 2 + 1.6 ** 2) / (0 + 4.0),
        0.5: 1 - (1.0 + 0.0) / 4.0,
    }
    for lr, want in cases.items():
        ran, result = run(AFFINITY, affinity_after_step, theta.clone(), loss_i, loss_j, lr)
        if not ran:
            return False
        if problem := compare(result, want, atol=1e-5):
            return fail(AFFINITY, problem, f"θ = (1, 2), L_i = ‖θ‖², L_j = ‖θ − (1, 0)‖², lr = {lr}: "
                                           f"the affinity is {want:.4f}")
    ran, reverse = run(AFFINITY, affinity_after_step, theta.clone(), loss_j, loss_i, 0.1)
    if not ran:
        return False
    if problem := compare(reverse, 1 - (1.0 ** 2 + 1.6 ** 2) / 5.0, atol=1e-5):
        return fail(AFFINITY, "With the tasks swapped: " + problem,
                    "θ = (1, 2), L_i = ‖θ − (1, 0)‖², L_j = ‖θ‖², lr = 0.1: the affinity is 0.2880")
    return passed(AFFINITY, f"Swap the tasks and you get {float(reverse):.3f} instead of {cases[0.1]:.3f}: "
                            "affinity is not symmetric.")


def check_grouping_score(grouping_score: Callable[[torch.Tensor, Sequence[Sequence[int]]], float]) -> bool:
    """Exercise 3.3: the total affinity of a grouping, Σ_g Σ_{j∈g} mean_{i∈g, i≠j} Z[i, j]."""
    z = torch.tensor([[0.0, 0.4, -0.1], [0.2, 0.0, 0.0], [-0.3, 0.1, 0.0]])
    cases = [([[0, 1], [2]], 0.6), ([[0, 1, 2]], 0.15), ([[0], [1], [2]], 0.0), ([[0, 2], [1]], -0.4)]
    for groups, want in cases:
        ran, result = run(GROUPING, grouping_score, z.clone(), [list(g) for g in groups])
        if not ran:
            return False
        if problem := compare(result, want, atol=1e-6):
            return fail(GROUPING, problem, f"Z = {z.tolist()}, groups {groups}: the score is {want}")
    return passed(GROUPING, "With this score you can rank every grouping of a few tasks.")
