"""Checks for the exercises of notebook 03, task relatedness."""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from ._core import Exercise, _number, compare, describe, fail, passed, run
from ._experiment import keyed, shown

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
GAINS = Exercise(
    "3.4",
    concept="the gain of sharing at each ρ is the single-task networks' mean test MSE over the shared model's; "
            "sharing stops hurting at the smallest ρ of the sweep from which on every gain is at least 1.",
    detail="for each ρ: 6 tasks of the low-rank problem at that ρ (50 training samples each, d = 20, seed 0); after "
           "seeding with 0, the single-task networks (tanh MLPs 20 → 4, batched) and, after seeding again, a "
           "hard-sharing model with a tanh trunk 20 → 4; each trained 100 full-batch Adam steps (lr 0.02) on the "
           "summed training MSE. Return a dict: 'gains' maps each ρ to its gain, 'stops_hurting_at' is that ρ, or "
           "None when the gain at the largest ρ is below 1.")


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


def _gain(rho: float) -> float:
    """Exercise 3.4's measurement: single-task MSE / shared MSE on six low-rank tasks at `rho`."""
    from torch import nn

    from .. import MLP, HardSharing, IndependentMLPs, low_rank_regression, regression, seed_everything
    from .ch01 import train_full_batch

    data = low_rank_regression(n_tasks=6, n_train=50, n_val=50, n_test=1_000, d=20, rho=rho, seed=0)
    tasks = [regression(name) for name in data.train.tasks]
    seed_everything(0)
    stl = train_full_batch(IndependentMLPs(20, [4], tasks, activation=nn.Tanh), data, steps=100, lr=2e-2)
    seed_everything(0)
    shared = train_full_batch(HardSharing(MLP(20, [4], activation=nn.Tanh), tasks), data, steps=100, lr=2e-2)
    return stl / shared


def check_sharing_gains(sharing_gains: Callable[[tuple], dict]) -> bool:
    """Exercise 3.4 (experiment): the shared fraction ρ from which on sharing stops hurting, measured."""
    rhos = (0.5, 0.75, 1.0)
    ran, result = run(GAINS, sharing_gains, rhos)
    if not ran:
        return False
    if not keyed(GAINS, result, ("gains", "stops_hurting_at"), "gains", rhos, "ρ"):
        return False
    gains = {}
    for rho in rhos:
        value = _number(result["gains"][rho])
        if value is None or isinstance(value, complex) or not value > 0 or value == float("inf"):
            return fail(GAINS, f"The gain at ρ = {rho} must be one positive, finite number (a ratio of two MSEs); "
                               f"yours is {describe(result['gains'][rho])} ({result['gains'][rho]!r}).")
        gains[rho] = float(value)
    follows = None
    for rho in reversed(rhos):
        if gains[rho] < 1:
            break
        follows = rho
    if compare(result["stops_hurting_at"], follows):
        return fail(GAINS, f"Your conclusion, 'stops_hurting_at' = {shown(result['stops_hurting_at'])}, does not "
                           f"follow from your own measurements: your gains are "
                           f"{', '.join(f'{gains[r]:.3f} at ρ = {r}' for r in rhos)}.",
                    "the smallest ρ from which on every gain of the sweep is at least 1, or None")
    point = follows if follows is not None else rhos[-1]
    want = _gain(point)
    if problem := compare(gains[point], want, rtol=0.05, atol=0.0):
        return fail(GAINS, f"Your gain at ρ = {point} is not what the experiment measures: {problem} Follow the "
                           "protocol of the exercise.", f"ρ = {point}: the gain is {want:.4f}")
    where = f"from ρ = {follows} on" if follows is not None else "at no ρ of the sweep"
    return passed(GAINS, f"Gains {', '.join(f'{gains[r]:.2f}' for r in rhos)} at ρ = "
                         f"{', '.join(str(r) for r in rhos)}: sharing stops hurting {where}.")
