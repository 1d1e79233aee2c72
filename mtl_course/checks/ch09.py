"""Checks for the exercises of notebook 09, the capstone benchmark."""
from __future__ import annotations

from typing import Callable


from ._core import Exercise, compare, describe, fail, passed, run
from ._experiment import as_verdict, two_measured

WIN_OR_NOISE = Exercise(
    "9.1",
    concept="a method wins only if it beats equal weighting seed by seed by more than the spread of those paired "
            "differences: train both on the same seed (same data, same initial weights), subtract, and compare the "
            "mean of the differences with their standard deviation.",
    detail="per seed: the protocol's data, then each method in turn from a freshly seeded model and the same fit, "
           "scored by the test MSE averaged over the 4 tasks. Return three things: equal weighting's errors and RLW's "
           "(float tensors of shape (number of seeds,)), and True when the mean of (equal − RLW) exceeds the "
           "standard deviation of those differences (the n − 1 kind), else False.")
GRADIENT_SUM = Exercise(
    "9.2",
    concept="a benchmark method is a model plus a training strategy; summing the per-task gradients is a gradient "
            "aggregation, and the sum of the gradients is the gradient of the summed loss.",
    detail="build hard sharing on the problem's own trunk (the problem can make one) and its tasks, and pair it with "
           "the package's gradient-aggregation strategy wrapped around its plain-sum aggregator, in the benchmark's "
           "Method record. The answer is a mc.benchmark.Method.")
PARETO_METHODS = Exercise(
    "9.3",
    concept="the Pareto front of methods: a method is worth keeping unless another one is at least as good on both "
            "axes (higher Δm%, lower time) and strictly better on one.",
    detail="compare every method with every other one with that domination test; keep the names of those no other "
           "method dominates; equal points do not dominate each other. The answer is a sorted list of names.")


def _win_or_noise_error(method: str, seed: int) -> float:
    """Exercise 9.1's protocol for one run: test MSE, mean over the 4 tasks, of 'equal' or 'RLW' on one seed."""
    from torch import nn

    from ..data import low_rank_regression
    from ..device import seed_everything
    from ..models import HardSharing, MLP
    from ..tasks import regression
    from ..train import evaluate, fit
    from ..weighting import EqualWeighting, RandomLossWeighting

    data = low_rank_regression(n_tasks=4, n_train=50, n_val=10, n_test=500, seed=seed)
    tasks = [regression(name) for name in data.train.tasks]
    strategy = EqualWeighting() if method == "equal" else RandomLossWeighting(tasks, seed=seed)
    seed_everything(seed)
    model = HardSharing(MLP(50, [8], activation=nn.Tanh), tasks)
    fit(model, tasks, data.train, strategy=strategy, epochs=50, batch_size=50, lr=1e-2, seed=seed, progress=False)
    errors = evaluate(model, tasks, data.test).metric
    return sum(errors.values()) / len(errors)


def check_win_or_noise(win_or_noise: Callable[[list], tuple]) -> bool:
    """Exercise 9.1: equal weighting and RLW seed by seed, and whether RLW's paired gain exceeds its spread."""
    seeds = [0, 1, 2]
    case = f"seeds {seeds}"
    ran, result = run(WIN_OR_NOISE, win_or_noise, list(seeds))
    if not ran:
        return False
    result = two_measured(WIN_OR_NOISE, result, "equal's errors, RLW's errors, the verdict",
                          ("Equal weighting's errors", "RLW's errors"), "mean squared errors", len(seeds), case)
    if result is None:
        return False
    equal, rlw, wins = result
    gains = (equal.detach() - rlw.detach()).double().cpu()
    verdict = bool(gains.mean() > gains.std())
    if problem := compare(as_verdict(wins), verdict):
        return fail(WIN_OR_NOISE, f"The verdict: {problem} Your own paired differences "
                                  f"{[round(g, 4) for g in gains.tolist()]} say otherwise.", case)
    measured = _win_or_noise_error("RLW", seeds[0])
    if problem := compare(rlw[0].item(), measured, rtol=1e-3, atol=1e-5):
        return fail(WIN_OR_NOISE, "Your RLW error on the first seed is not what the protocol measures: use its data, "
                                  "model, seeds and budget exactly as stated.", case)
    return passed(WIN_OR_NOISE, f"Paired differences (equal − RLW) {[round(g, 4) for g in gains.tolist()]}: mean "
                                f"{gains.mean():.4f} against a spread of {gains.std():.4f}, so "
                                f"{'a win beyond the seed noise' if verdict else 'not a win beyond the seed noise'} "
                                "on these seeds.")


def check_gradient_sum_method(make_method: Callable) -> bool:
    """Exercise 9.2: a benchmark method (hard sharing + GradientAggregation(gradient_sum)) that trains like 'equal'."""
    from .. import benchmark
    from ..data import low_rank_regression
    from ..device import seed_everything
    from ..models import HardSharing, MLP
    from ..tasks import regression
    from ..train import fit

    data = low_rank_regression(n_tasks=3, n_train=64, n_val=8, n_test=8, d=6, seed=0)
    tasks = [regression(name) for name in data.train.tasks]
    problem = benchmark.Problem("check", tasks, data, lambda: MLP(6, [5]), 6)
    case = "3 low-rank regression tasks, trunk MLP(6, [5]), 2 epochs from the same seed as 'equal'"
    seed_everything(0)
    ran, method = run(GRADIENT_SUM, make_method, problem, 0)
    if not ran:
        return False
    if not isinstance(method, benchmark.Method):
        return fail(GRADIENT_SUM, f"Return a mc.benchmark.Method; you returned {describe(method)}.", case)
    if not isinstance(method.model, HardSharing):
        return fail(GRADIENT_SUM, f"The model should be hard sharing; yours is {describe(method.model)}.", case)
    seed_everything(0)
    equal = benchmark.METHODS["equal"](problem, 0)
    try:
        for m in (method, equal):
            fit(m.model, tasks, data.train, strategy=m.strategy, epochs=2, batch_size=16, progress=False,
                penalty=m.penalty)
    except Exception as error:  # a student's bug: show its message
        return fail(GRADIENT_SUM, f"Training your method raised {type(error).__name__}: {error}.", case)
    if any(compare(a.detach(), b.detach(), atol=1e-5) for a, b in zip(method.model.parameters(), equal.model.parameters())):
        return fail(GRADIENT_SUM, "After training, your model's weights differ from those of 'equal' built on the same "
                                  "seed; the sum of the per-task gradients should give the same steps.", case)
    return passed(GRADIENT_SUM, "the sum of the per-task gradients is the gradient of the summed loss, at T backward "
                                "passes instead of one: add it to mc.benchmark.METHODS to time it.")


def check_pareto_methods(pareto_methods: Callable[[dict], list]) -> bool:
    """Exercise 9.3: the methods no other method beats on both Δm% (higher is better) and time (lower is better)."""
    cases = [
        ({"equal": (0.0, 1.0), "slow and worse": (-1.0, 2.0), "slow and better": (0.5, 2.0), "fast": (-3.0, 0.5)},
         ["equal", "fast", "slow and better"]),
        ({"a": (1.0, 1.0), "b": (1.0, 1.0), "c": (1.0, 1.5)}, ["a", "b"]),   # ties dominate no one
        ({"only": (2.0, 3.0)}, ["only"]),
    ]
    for points, want in cases:
        ran, result = run(PARETO_METHODS, pareto_methods, dict(points))
        if not ran:
            return False
        if problem := compare(result, want):
            return fail(PARETO_METHODS, problem, f"points {points} (Δm%, time): the front is {want}")
    return passed(PARETO_METHODS, "these are the only methods worth considering at this budget.")
