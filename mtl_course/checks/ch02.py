"""Checks for the exercises of notebook 02, hard parameter sharing."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..models import CNN, MLP, HardSharing, MultiTaskModel, PartialSharing, count_parameters
from ..tasks import Task, classification, regression
from ._core import report, run


def check_split_heads(split_heads: Callable[[nn.Linear, dict], nn.ModuleDict]) -> bool:
    """Exercise 2.1: separate heads that reproduce the slices of one joint output layer."""
    exercise = "Exercise 2.1"
    hint = ("for each task, make nn.Linear(joint.in_features, size) and copy rows start:start+size "
            "of joint.weight and joint.bias into it (under torch.no_grad()), then move start on.")
    torch.manual_seed(0)
    joint, sizes = nn.Linear(6, 7), {"a": 3, "b": 1, "c": 3}
    ran, heads = run(exercise, hint, split_heads, joint, dict(sizes))
    if not ran:
        return False
    if not isinstance(heads, nn.ModuleDict) or list(heads) != list(sizes):
        return report(False, exercise, f"return an nn.ModuleDict with keys {list(sizes)} in order. " + hint)
    z = torch.randn(5, 6)
    out, start = joint(z), 0
    for name, size in sizes.items():
        got = heads[name](z)
        if got.shape != (5, size) or not torch.allclose(got, out[:, start:start + size], atol=1e-6):
            return report(False, exercise, f"head {name!r} does not give columns {start}:{start + size} "
                                           "of the joint output. " + hint)
        start += size
    if any(p is q for p in heads.parameters() for q in joint.parameters()):
        return report(False, exercise, "the heads must have their own parameters, not the joint layer's. " + hint)
    return report(True, exercise, "A sliced output layer is a set of separate heads.")


def check_add_task(add_task: Callable[[HardSharing, Task], HardSharing]) -> bool:
    """Exercise 2.2: one more head on a trained hard-sharing model, trunk and other heads untouched."""
    exercise = "Exercise 2.2"
    hint = "set model.heads[task.name] = nn.Linear(model.trunk.out_dim, task.out_dim) and return the model."
    torch.manual_seed(0)
    tasks = [regression("a"), regression("b")]
    model = HardSharing(MLP(4, [8]), tasks)
    x = torch.randn(3, 4)
    before = {k: v.detach().clone() for k, v in model(x).items()}
    trunk_before = [p.detach().clone() for p in model.trunk.parameters()]
    ran, result = run(exercise, hint, add_task, model, classification("parity", 2))
    if not ran:
        return False
    if not isinstance(result, HardSharing):
        return report(False, exercise, "return the model. " + hint)
    out = result(x)
    if set(out) != {"a", "b", "parity"} or out["parity"].shape != (3, 2):
        return report(False, exercise, f"the model now predicts {({k: tuple(v.shape) for k, v in out.items()})}; "
                                       "expected a (3, 2) prediction for 'parity' besides 'a' and 'b'. " + hint)
    if not all(torch.equal(out[k], before[k]) for k in before) or not all(
            torch.equal(p, q) for p, q in zip(result.trunk.parameters(), trunk_before)):
        return report(False, exercise, "the trunk and the old heads must stay as they were. " + hint)
    return report(True, exercise, "`fit` now trains three tasks on the shared trunk.")


def check_shared_fraction(shared_fraction: Callable[[MultiTaskModel], float]) -> bool:
    """Exercise 2.3: the fraction of parameters shared, on hard sharing, partial sharing and separate networks."""
    exercise = "Exercise 2.3"
    hint = "divide count_parameters(model.shared_parameters()) by count_parameters(model)."
    tasks = [classification("left", 10), classification("right", 10)]
    cases = [HardSharing(MLP(4, [8]), [regression("a"), regression("b")]),
             PartialSharing(lambda: MLP(4, [8, 8]), [regression("a"), regression("b")], 1),
             PartialSharing(CNN, tasks, 0), PartialSharing(CNN, tasks, 3), PartialSharing(CNN, tasks, 4)]
    for model in cases:
        ran, value = run(exercise, hint, shared_fraction, model)
        if not ran:
            return False
        want = count_parameters(model.shared_parameters()) / count_parameters(model)
        if not isinstance(value, (int, float)) or abs(value - want) > 1e-9:
            return report(False, exercise, f"expected {want:.4f} for a {type(model).__name__}, got {value}. " + hint)
    cnn3 = count_parameters(cases[3].shared_parameters()) / count_parameters(cases[3])
    cnn4 = count_parameters(cases[4].shared_parameters()) / count_parameters(cases[4])
    return report(True, exercise, f"Sharing the three convolutions shares {cnn3:.0%} of the CNN pair's parameters; "
                                  f"sharing the dense layer too, {cnn4:.0%}.")
