"""Checks for the exercises of notebook 07, regularization and soft sharing."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ._core import Exercise, _number, compare, fail, passed, run
from ._experiment import flag, mean, measured, remeasured

SOFT_GAP = Exercise(
    "7.1",
    concept="with no loss gradient, the soft-sharing penalty λ·(a − b)² pulls the two weights towards each other: "
            "each gradient step shrinks their gap by the same factor, which depends on the learning rate and λ only.",
    detail="differentiate λ·(a − b)² with respect to a and to b, take one step of gradient descent on each, and "
           "write the new gap a − b as a factor times the old one; `steps` steps apply it `steps` times. The answer "
           "is one float.")
EFFECTIVE_RANK = Exercise(
    "7.2",
    concept="a matrix's effective rank counts its singular values that are not negligible next to the largest one.",
    detail="ingredients: the singular values (torch.linalg has a function that returns only those), the largest of "
           "them, and how many are strictly greater than tol times it. The answer is an int.")
HALF_LIFE = Exercise(
    "7.3",
    concept="AdamW shrinks a weight whose loss gradient is zero by the same factor (1 − lr·λ) every step; its "
            "half-life is the number of steps until that shrinkage reaches one half.",
    detail="you need the smallest whole number n with (1 − lr·λ)ⁿ ≤ 1/2: take logarithms (careful: both are "
           "negative, so the inequality flips) and round up. The answer is an int.")
SOFT_EXPERIMENT = Exercise(
    "7.4",
    concept="an experiment: train the same soft-sharing model with each coupling strength λ on the same seed "
            "(λ = 0 is single-task learning), score the test MSE, and read the conclusion off your own table.",
    detail="return a dict with 'mse' ({λ: {seed: mean test MSE over the two tasks}} for every λ and seed you are "
           "passed), 'best_lam' (the λ with the lowest mean MSE over the seeds) and "
           "'beats_single_task_on_every_seed' (True only if best_lam is not 0 and its MSE is below λ = 0's on every "
           "seed). Seed every run, so that a second call repeats it.")


def check_soft_sharing_gap(soft_sharing_gap: Callable[[float, float, float, int], float]) -> bool:
    """Exercise 7.1: the gap a − b after `steps` gradient-descent steps on λ·(a − b)² alone."""
    for gap, lr, lam, steps in [(1.0, 0.1, 0.5, 3), (2.0, 0.01, 1.0, 100), (1.0, 0.2, 1.0, 3), (-0.5, 0.05, 2.0, 0)]:
        ran, result = run(SOFT_GAP, soft_sharing_gap, gap, lr, lam, steps)
        if not ran:
            return False
        pair = torch.tensor([gap, 0.0], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([pair], lr=lr)
        for _ in range(steps):
            optimizer.zero_grad()
            (lam * (pair[0] - pair[1]) ** 2).backward()
            optimizer.step()
        end = float((pair[0] - pair[1]).detach())
        if problem := compare(result, end, rtol=1e-5, atol=1e-9):
            return fail(SOFT_GAP, problem, f"gap {gap}, lr = {lr}, λ = {lam}, {steps} steps: torch.optim.SGD ends "
                                           f"with the gap {end:.6g}")
    return passed(SOFT_GAP, "The gap shrinks geometrically; once lr·λ passes 1/4 it changes sign every step, and past "
                            "1/2 it grows: too strong a coupling makes plain gradient descent diverge.")


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


def check_decay_half_life(decay_half_life: Callable[[float, float], int]) -> bool:
    """Exercise 7.3: the number of AdamW steps that halve a weight whose loss gradient is zero."""
    for lr, lam in [(0.01, 0.1), (0.1, 0.5), (0.5, 1.0), (0.001, 2.0)]:
        ran, result = run(HALF_LIFE, decay_half_life, lr, lam)
        if not ran:
            return False
        p = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
        optimizer, want = torch.optim.AdamW([p], lr=lr, weight_decay=lam), 0
        while float(p.detach()) > 0.5:
            p.grad = torch.zeros(1, dtype=torch.float64)
            optimizer.step()
            want += 1
        if problem := compare(result, want):
            return fail(HALF_LIFE, problem, f"lr = {lr}, λ = {lam}: torch.optim.AdamW halves the weight after {want} steps")
    return passed(HALF_LIFE, "The demonstration's 500 steps at lr = 0.01, λ = 0.1 are less than one half-life (693 "
                             "steps): that is why both groups kept more than half their size.")


def check_soft_sharing_experiment(soft_sharing_experiment: Callable[[list, list], dict]) -> bool:
    """Exercise 7.4: does a soft-sharing coupling beat single-task learning seed by seed? The measured conclusion."""
    lams, seeds = [0.0, 0.1, 1.0], [0, 1]
    found = measured(SOFT_EXPERIMENT, soft_sharing_experiment, (list(lams), list(seeds)), "mse", lams, seeds, "λ")
    if found is None:
        return False
    result, mse = found
    best = min(lams, key=lambda lam: mean(mse[lam]))
    if _number(result.get("best_lam")) != best:
        return fail(SOFT_EXPERIMENT, f"Your table's lowest mean MSE is that of λ = {best}, but result['best_lam'] is "
                                     f"{result.get('best_lam')!r}: the conclusion must follow from your measurements.")
    beats = flag(SOFT_EXPERIMENT, result, "beats_single_task_on_every_seed")
    if beats is None:
        return False
    if beats != (best != 0 and all(mse[best][s] < mse[0.0][s] for s in seeds)):
        return fail(SOFT_EXPERIMENT, f"Your MSEs of λ = {best} and λ = 0 per seed are "
                                     f"{[(round(mse[best][s], 4), round(mse[0.0][s], 4)) for s in seeds]}, so "
                                     f"result['beats_single_task_on_every_seed'] cannot be {beats}.")
    if not remeasured(SOFT_EXPERIMENT, soft_sharing_experiment, ([best], [seeds[-1]]), "mse", best, seeds[-1],
                      mse[best][seeds[-1]], "λ"):
        return False
    verdict = (f"λ = {best} beats single-task learning on every seed" if beats else
               "no coupling beats single-task learning on every seed" if best == 0 else
               f"the best coupling, λ = {best}, does not beat single-task learning on every seed")
    return passed(SOFT_EXPERIMENT, f"By your own measurements {verdict}.")
