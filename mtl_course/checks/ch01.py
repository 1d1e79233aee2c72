"""Checks for the exercises of notebook 01, single-task baselines."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ._core import Exercise, _number, compare, describe, fail, passed, run
from ._experiment import keyed, shown

DELTA_M = Exercise(
    "1.1",
    concept="Δm% is the average relative change of each task's metric against its single-task baseline, in "
            "percent, counted so that a better metric is positive.",
    detail="per task: the difference multi − single divided by single; its sign flipped for a metric where lower "
           "is better (MSE); then the mean over tasks, times 100. The answer is one float.")
MLP_PARAMETERS = Exercise(
    "1.2",
    concept="a linear layer has one weight per (input, output) pair and one bias per output; an MLP with a head "
            "is a chain of such layers.",
    detail="the layer sizes are in_dim, then every width, then out_dim; add, over consecutive pairs (a, b), "
           "a·b weights plus b biases. An MLP without hidden widths is one layer. The answer is an int.")
WIDER = Exercise(
    "1.3",
    concept="a difference between two baselines means something only when it is larger than the spread over seeds: "
            "measure both over the same seeds, then compare the gap between their means with their standard "
            "deviations.",
    detail="for each width and each seed: the task's data drawn with that seed, the generators seeded with it, a "
           "fresh single-task MLP of that width trained 100 full-batch Adam steps (lr 0.01) on the training MSE, and "
           "its test MSE. Return a dict: 'mse' maps each width to its list of test MSEs in seed order; 'better' is "
           "the width with the lower mean if the gap between the two means exceeds the sum of their standard "
           "deviations (with Bessel's correction, as torch.std computes them), else None.")


def check_delta_m_percent(delta_m_percent: Callable[[dict, dict, dict], float]) -> bool:
    """Exercise 1.1: Δm% by hand, on a case with a known answer (accuracy up 10%, MSE up 20%: Δm% = −5)."""
    multi, single = {"acc": 0.88, "mse": 0.6}, {"acc": 0.8, "mse": 0.5}
    case = "multi = {'acc': 0.88, 'mse': 0.6}, single = {'acc': 0.8, 'mse': 0.5}: accuracy +10%, MSE +20%, Δm% = −5"
    ran, value = run(DELTA_M, delta_m_percent, multi, single, {"acc": True, "mse": False})
    if not ran:
        return False
    if compare(value, 15.0) is None:
        return fail(DELTA_M, "You got +15: a higher MSE is worse, so its change must count against the model.", case)
    if problem := compare(value, -5.0):
        return fail(DELTA_M, problem, case)
    ran, value = run(DELTA_M, delta_m_percent, {"a": 0.5}, {"a": 0.5}, {"a": True})
    if not ran:
        return False
    if problem := compare(value, 0.0):
        return fail(DELTA_M, "A model equal to its baseline must give Δm% = 0. " + problem,
                    "multi = single = {'a': 0.5}: Δm% = 0")
    return passed(DELTA_M, "Half the tasks 10% better, half 20% worse: Δm% = −5.")


def check_mlp_parameters(mlp_parameters: Callable[[int, list, int], int]) -> bool:
    """Exercise 1.2: the parameter count of an MLP with a head, by formula, against `count_parameters`."""
    from .. import MLP, count_parameters, regression, single_task_model

    for in_dim, widths, out_dim in ((3, [4], 1), (100, [64], 1), (10, [32, 16], 5), (7, [], 2)):
        ran, value = run(MLP_PARAMETERS, mlp_parameters, in_dim, list(widths), out_dim)
        if not ran:
            return False
        want = count_parameters(single_task_model(MLP(in_dim, widths), regression("t", out_dim)))
        if problem := compare(value, want):
            return fail(MLP_PARAMETERS, problem, f"mlp_parameters({in_dim}, {widths}, {out_dim}): the model has {want}")
    return passed(MLP_PARAMETERS, "The 100 → 64 → 1 regression baseline has 6,529 parameters.")


def train_full_batch(model, data, steps: int, lr: float) -> float:
    """Train with full-batch Adam on the summed training MSE of every task; return the mean test MSE over tasks.

    The measurement that the experiments of chapters 1-3 describe, re-run by their checks to see that a learner's
    numbers are measured ones.
    """
    targets = torch.stack(list(data.train.y.values()), dim=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = ((torch.cat(list(model(data.train.x).values()), dim=1) - targets) ** 2).mean(0).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        test = torch.stack(list(data.test.y.values()), dim=1)
        return float(((torch.cat(list(model(data.test.x).values()), dim=1) - test) ** 2).mean())


def _baseline_mse(width: int, seed: int) -> float:
    """Exercise 1.3's measurement: the test MSE of one single-task MLP of `width`, with `seed`."""
    from .. import MLP, low_rank_regression, regression, seed_everything, single_task_model

    data = low_rank_regression(n_tasks=1, n_train=100, n_val=100, n_test=1_000, d=20, seed=seed)
    seed_everything(seed)
    model = single_task_model(MLP(20, [width], activation=nn.Tanh), regression("t00"))
    return train_full_batch(model, data, steps=100, lr=1e-2)


def _numbers(values: object, count: int) -> list[float] | None:
    """A list, tuple or 1-d tensor of `count` finite numbers as floats; None for anything else."""
    if isinstance(values, torch.Tensor):
        values = values.detach().flatten().tolist() if values.dim() == 1 else None
    if not isinstance(values, (list, tuple)) or len(values) != count:
        return None
    numbers = [_number(v) for v in values]
    if any(v is None or isinstance(v, complex) or not math.isfinite(v) for v in numbers):
        return None
    return [float(v) for v in numbers]


def check_wider_or_noise(wider_or_noise: Callable[[tuple, tuple], dict]) -> bool:
    """Exercise 1.3 (experiment): is one baseline width better than the other, or is the gap seed noise?"""
    widths, seeds = (2, 16), (0, 1, 2)
    ran, result = run(WIDER, wider_or_noise, widths, seeds)
    if not ran:
        return False
    if not keyed(WIDER, result, ("mse", "better"), "mse", widths, "width"):
        return False
    mse = {w: _numbers(result["mse"][w], len(seeds)) for w in widths}
    for w in widths:
        if mse[w] is None or min(mse[w]) <= 0:
            return fail(WIDER, f"The entry for width {w} must hold {len(seeds)} positive, finite test MSEs, one per "
                               f"seed; yours is {describe(result['mse'][w])}.")
    means = {w: sum(v) / len(v) for w, v in mse.items()}
    stds = {w: float(torch.tensor(v).std()) for w, v in mse.items()}
    gap, noise = abs(means[widths[0]] - means[widths[1]]), stds[widths[0]] + stds[widths[1]]
    follows = min(means, key=means.get) if gap > noise else None
    if compare(result["better"], follows):
        return fail(WIDER, f"Your conclusion, 'better' = {shown(result['better'])}, does not follow from your own "
                           f"measurements: the means differ by {gap:.4f} and the standard deviations add up to "
                           f"{noise:.4f}.",
                    "the better width only when the gap between the means exceeds the summed standard deviations, "
                    "otherwise None")
    want = _baseline_mse(widths[0], seeds[0])
    if problem := compare(mse[widths[0]][0], want, rtol=0.05, atol=0.0):
        return fail(WIDER, f"Your test MSE for width {widths[0]} and seed {seeds[0]} is not what the experiment "
                           f"measures: {problem} Follow the protocol of the exercise.",
                    f"width {widths[0]}, seed {seeds[0]}: the test MSE is {want:.4f}")
    verdict = f"width {follows} is better" if follows is not None else "the gap is seed noise"
    return passed(WIDER, f"Means {means[widths[0]]:.3f} (width {widths[0]}) and {means[widths[1]]:.3f} (width "
                         f"{widths[1]}), standard deviations {stds[widths[0]]:.3f} and {stds[widths[1]]:.3f}: "
                         f"{verdict}.")
