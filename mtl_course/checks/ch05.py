"""Checks for the exercises of notebook 05, dynamic task weighting."""
from __future__ import annotations

import math
from typing import Callable

import torch

from ._core import Exercise, compare, fail, passed, run
from ._experiment import flag, measured, remeasured

DWA_TEMPERATURE = Exercise(
    "5.1",
    concept="with two tasks, the ratio of DWA's two weights depends only on the difference of the loss rates r_t "
            "and on the temperature τ: the softmax's normalisation cancels in the ratio.",
    detail="write w₁/w₂ with the softmax's exponentials, take the logarithm of both sides and solve for τ. "
           "Ingredients: r_t = previous_t / before_t for both tasks, and the log of the ratio. The answer is "
           "one float.")
BALANCE = Exercise(
    "5.2",
    concept="GradNorm stops moving the weights when every weighted norm w_t·G_t equals its target: the mean weighted "
            "norm times r_t^α. The mean is common to all tasks, so each weight is fixed up to one factor.",
    detail="from w_t·G_t ∝ r_t^α, each w_t is proportional to r_t^α / G_t (r_t: the loss ratio L_t / L_t(0) "
           "divided by its mean over the tasks); scale the T weights so that they sum to T. The answer is a tensor "
           "of shape (T,).")
UW_EXPERIMENT = Exercise(
    "5.3",
    concept="an experiment: train the same model with uncertainty weighting and with equal weights on the same "
            "seed, score the low-noise task on clean test targets, and read the conclusion off your own table.",
    detail="return a dict with 'mse' ({'uncertainty': {seed: clean test MSE of the low-noise task}, 'equal': "
           "{seed: ...}}, every seed you are passed) and 'low_noise_task_loses_on_every_seed' (True only if "
           "uncertainty weighting's MSE is the higher one on every seed). Seed every run, so that a second call "
           "repeats it.")


def check_dwa_temperature(dwa_temperature: Callable[[torch.Tensor, torch.Tensor, float], float]) -> bool:
    """Exercise 5.1: the DWA temperature at which two tasks' weights have a given ratio."""
    cases = [([0.9, 0.5], [1.0, 1.0], 2.0), ([0.30, 0.75], [0.33, 0.76], 0.9), ([2.0, 1.0], [1.0, 1.0], 3.0)]
    for previous, before, ratio in cases:
        ran, result = run(DWA_TEMPERATURE, dwa_temperature, torch.tensor(previous), torch.tensor(before), ratio)
        if not ran:
            return False
        r = [p / b for p, b in zip(previous, before)]
        want = (r[0] - r[1]) / math.log(ratio)
        if problem := compare(result, want, rtol=1e-4, atol=1e-6):
            return fail(DWA_TEMPERATURE, problem, f"previous = {previous}, before = {before}, w₁/w₂ = {ratio}: "
                                                  f"τ = {want:.4f}")
    return passed(DWA_TEMPERATURE, "Loss rates 0.91 and 0.99 (the second case) need τ ≈ 0.74 for a 10% tilt: at "
                                   "τ = 2 DWA barely moves, as on Adult.")


def check_gradnorm_balance(gradnorm_balance: Callable[..., torch.Tensor]) -> bool:
    """Exercise 5.2: the weights at which GradNorm's weighted norms all meet their targets."""
    cases = [([1.0, 4.0], [1.0, 1.0], [1.0, 1.0], 1.5), ([2.0, 1.0, 1.0], [0.5, 1.0, 1.0], [1.0, 1.0, 0.5], 1.0)]
    for norms, losses, initial, alpha in cases:
        args = torch.tensor(norms), torch.tensor(losses), torch.tensor(initial)
        ran, result = run(BALANCE, gradnorm_balance, *args, alpha)
        if not ran:
            return False
        ratio = args[1] / args[2]
        w = (ratio / ratio.mean()) ** alpha / args[0]
        want = len(norms) * w / w.sum()
        if problem := compare(result, want, atol=1e-5):
            return fail(BALANCE, problem, f"norms = {norms}, losses = {losses}, initial losses = {initial}, α = {alpha}: "
                                          f"the weights are {[round(v, 4) for v in want.tolist()]}")
    return passed(BALANCE, "With equal loss ratios GradNorm's fixed point is w ∝ 1/G: the task with 4× the gradient "
                           "norm gets 1/4 of the weight.")


def check_uncertainty_experiment(uncertainty_experiment: Callable[[tuple, list], dict]) -> bool:
    """Exercise 5.3: does the low-noise task lose under uncertainty weighting? The learner's measured conclusion."""
    noise, seeds, methods = (1.0, 0.1), [0, 1], ["uncertainty", "equal"]
    found = measured(UW_EXPERIMENT, uncertainty_experiment, (noise, list(seeds)), "mse", methods, seeds, "method")
    if found is None:
        return False
    result, mse = found
    loses = flag(UW_EXPERIMENT, result, "low_noise_task_loses_on_every_seed")
    if loses is None:
        return False
    if loses != all(mse["uncertainty"][s] > mse["equal"][s] for s in seeds):
        pairs = [(round(mse["uncertainty"][s], 4), round(mse["equal"][s], 4)) for s in seeds]
        return fail(UW_EXPERIMENT, f"Your (uncertainty, equal) MSEs per seed are {pairs}, so "
                                   f"result['low_noise_task_loses_on_every_seed'] cannot be {loses}.")
    if not remeasured(UW_EXPERIMENT, uncertainty_experiment, (noise, [seeds[-1]]), "mse", "uncertainty", seeds[-1],
                      mse["uncertainty"][seeds[-1]], "method"):
        return False
    verdict = "still loses on every seed" if loses else "does not lose on every seed"
    return passed(UW_EXPERIMENT, f"By your own measurements, with noise 1 and 0.1 the low-noise task {verdict} "
                                 "under uncertainty weighting.")
