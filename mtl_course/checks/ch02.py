"""Checks for the exercises of notebook 02, hard parameter sharing."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ..models import CNN, MLP, HardSharing, MultiTaskModel, PartialSharing, count_parameters
from ..tasks import classification, regression
from ._core import Exercise, _number, compare, describe, fail, passed, run
from ._experiment import keyed, shown

MERGE_HEADS = Exercise(
    "2.1",
    concept="separate linear heads on the same features are one linear layer whose output is their outputs side by "
            "side: stacking the heads' weight matrices (and their biases) in task order gives that layer.",
    detail="a new nn.Linear with the heads' common number of inputs and the sum of their numbers of outputs; its "
           "weight is the heads' weights stacked along the output dimension (dim 0), its bias their biases joined, "
           "in the order of the ModuleDict, as copies (not views), so that it owns its parameters.")
SHARED_FRACTION = Exercise(
    "2.2",
    concept="the shared fraction is a ratio of two parameter counts: the parameters every task uses, over all "
            "trainable parameters.",
    detail="the package counts parameters (mc.count_parameters accepts a model or an iterable of parameters), "
           "and every MultiTaskModel can list the parameters it shares. The answer is a float in [0, 1].")
WIDTH = Exercise(
    "2.3",
    concept="train the single-task networks once and the shared model at each trunk width on the same data; the "
            "narrowest width whose shared model beats the single-task networks answers the question.",
    detail="the data: 8 tasks of the low-rank problem (40 training samples each, d = 20, ρ = 1, seed 0); after "
           "seeding with 0, the single-task networks (tanh MLPs 20 → 4, batched) or a hard-sharing model (tanh trunk "
           "20 → width); 100 full-batch Adam steps (lr 0.02) on the summed training MSE; the mean test MSE over the "
           "tasks. Return a dict: 'stl' the single-task networks' MSE, 'shared' a dict width → MSE, and "
           "'narrowest_winner' the smallest width whose MSE is below 'stl', or None.")


def check_merge_heads(merge_heads: Callable[[nn.ModuleDict], nn.Linear]) -> bool:
    """Exercise 2.1: one linear layer whose output is the separate heads' outputs, concatenated in task order."""
    torch.manual_seed(0)
    heads = nn.ModuleDict({"a": nn.Linear(6, 3), "b": nn.Linear(6, 1), "c": nn.Linear(6, 2)})
    case = ("heads a: Linear(6, 3), b: Linear(6, 1), c: Linear(6, 2); the joint layer is Linear(6, 6), its outputs "
            "0:3 from a")
    ran, joint = run(MERGE_HEADS, merge_heads, heads)
    if not ran:
        return False
    if not isinstance(joint, nn.Linear):
        return fail(MERGE_HEADS, f"Return one nn.Linear; you returned {describe(joint)}.", case)
    if (joint.in_features, joint.out_features) != (6, 6):
        return fail(MERGE_HEADS, f"Your layer maps {joint.in_features} inputs to {joint.out_features} outputs; the "
                                 "heads read 6 features and give 3 + 1 + 2 outputs.", case)
    z = torch.randn(5, 6)
    with torch.no_grad():
        want = torch.cat([head(z) for head in heads.values()], dim=1)
        if problem := compare(joint(z), want, atol=1e-6):
            return fail(MERGE_HEADS, problem + " Its output must be the heads' outputs side by side, in task order.",
                        case)
    if any(p is q or p.data_ptr() == q.data_ptr() for p in joint.parameters() for q in heads.parameters()):
        return fail(MERGE_HEADS, "The joint layer must own copies of the weights, not share a head's tensors.", case)
    return passed(MERGE_HEADS, "One (6 → 6) layer computes all three heads with one matrix product.")


def check_shared_fraction(shared_fraction: Callable[[MultiTaskModel], float]) -> bool:
    """Exercise 2.2: the fraction of parameters shared, on hard sharing, partial sharing and separate networks."""
    tasks = [classification("left", 10), classification("right", 10)]
    cases = [("hard sharing of MLP(4, [8]), two regression tasks", HardSharing(MLP(4, [8]), [regression("a"), regression("b")])),
             ("PartialSharing of MLP(4, [8, 8]), 1 shared stage", PartialSharing(lambda: MLP(4, [8, 8]), [regression("a"), regression("b")], 1)),
             ("PartialSharing of two CNNs, 0 shared stages", PartialSharing(CNN, tasks, 0)),
             ("PartialSharing of two CNNs, 3 shared stages", PartialSharing(CNN, tasks, 3)),
             ("PartialSharing of two CNNs, 4 shared stages", PartialSharing(CNN, tasks, 4))]
    for name, model in cases:
        ran, value = run(SHARED_FRACTION, shared_fraction, model)
        if not ran:
            return False
        shared, total = count_parameters(model.shared_parameters()), count_parameters(model)
        if problem := compare(value, shared / total, rtol=1e-6, atol=1e-9):
            return fail(SHARED_FRACTION, problem, f"{name}: {shared:,} of {total:,} parameters are shared, "
                                                  f"a fraction of {shared / total:.4f}")
    cnn3, cnn4 = (count_parameters(m.shared_parameters()) / count_parameters(m) for _, m in cases[3:])
    return passed(SHARED_FRACTION, f"Sharing the three convolutions shares {cnn3:.0%} of the CNN pair's parameters; "
                                   f"sharing the dense layer too, {cnn4:.0%}.")


def _shared_mse(width: int | None) -> float:
    """Exercise 2.3's measurement: mean test MSE of hard sharing at `width`, or of the single-task networks (None)."""
    from .. import IndependentMLPs, low_rank_regression, seed_everything
    from .ch01 import train_full_batch

    data = low_rank_regression(n_tasks=8, n_train=40, n_val=40, n_test=1_000, d=20, rho=1.0, seed=0)
    tasks = [regression(name) for name in data.train.tasks]
    seed_everything(0)
    model = (IndependentMLPs(20, [4], tasks, activation=nn.Tanh) if width is None
             else HardSharing(MLP(20, [width], activation=nn.Tanh), tasks))
    return train_full_batch(model, data, steps=100, lr=2e-2)


def _positive(value: object) -> float | None:
    """A finite positive number as a float; None for anything else."""
    number = _number(value)
    if number is None or isinstance(number, complex) or not math.isfinite(number) or number <= 0:
        return None
    return float(number)


def check_narrowest_winner(narrowest_winner: Callable[[tuple], dict]) -> bool:
    """Exercise 2.3 (experiment): the narrowest shared trunk that beats the single-task networks."""
    widths = (1, 2, 4)
    ran, result = run(WIDTH, narrowest_winner, widths)
    if not ran:
        return False
    if not keyed(WIDTH, result, ("stl", "shared", "narrowest_winner"), "shared", widths, "width"):
        return False
    stl = _positive(result["stl"])
    shared = {w: _positive(result["shared"][w]) for w in widths}
    if stl is None or None in shared.values():
        return fail(WIDTH, "Every measured MSE must be one positive, finite number; yours are "
                           f"{describe(result['stl'])} for 'stl' and "
                           f"{[describe(result['shared'][w]) for w in widths]} for the widths.")
    follows = next((w for w in widths if shared[w] < stl), None)
    if compare(result["narrowest_winner"], follows):
        return fail(WIDTH, f"Your conclusion, 'narrowest_winner' = {shown(result['narrowest_winner'])}, does not "
                           f"follow from your own measurements: single-task {stl:.4f}, shared "
                           f"{', '.join(f'{shared[w]:.4f} at width {w}' for w in widths)}.",
                    "the smallest width whose shared MSE is below the single-task MSE, or None if none is")
    point = follows if follows is not None else widths[-1]
    for name, got, width in (("'stl'", stl, None), (f"width {point}", shared[point], point)):
        want = _shared_mse(width)
        if problem := compare(got, want, rtol=0.05, atol=0.0):
            return fail(WIDTH, f"Your MSE for {name} is not what the experiment measures: {problem} Follow the "
                               "protocol of the exercise.", f"{name}: the mean test MSE is {want:.4f}")
    verdict = (f"a trunk of width {follows} already beats them" if follows is not None
               else "no width beats them")
    return passed(WIDTH, f"The single-task networks reach an MSE of {stl:.3f}; {verdict} "
                         f"({', '.join(f'{w}: {shared[w]:.3f}' for w in widths)}).")
