"""Checks for the exercises of notebook 02, hard parameter sharing."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..models import CNN, MLP, HardSharing, MultiTaskModel, PartialSharing, count_parameters
from ..tasks import Task, classification, regression
from ._core import Exercise, compare, describe, fail, passed, run

SPLIT_HEADS = Exercise(
    "2.1",
    concept="one joint output layer is a stack of per-task output layers: each task owns a contiguous block of its "
            "output units, and so of the rows of its weight matrix and bias.",
    detail="an nn.ModuleDict with one key per task, in the order of `sizes`; each value a new linear layer with the "
           "joint layer's number of inputs and the task's size as outputs, whose parameters are copies (not views) "
           "of that task's block of rows; keep a running offset into the rows.")
ADD_TASK = Exercise(
    "2.2",
    concept="in hard sharing every task reads the trunk's features through its own head; a new task needs only a "
            "new head.",
    detail="the model's heads live in a ModuleDict keyed by task name; the new head is a linear layer from the "
           "trunk's feature size (the trunk knows its out_dim) to the task's out_dim. Change nothing else and "
           "hand the same model back.")
SHARED_FRACTION = Exercise(
    "2.3",
    concept="the shared fraction is a ratio of two parameter counts: the parameters every task uses, over all "
            "trainable parameters.",
    detail="the package counts parameters (mc.count_parameters accepts a model or an iterable of parameters), "
           "and every MultiTaskModel can list the parameters it shares. The answer is a float in [0, 1].")


def check_split_heads(split_heads: Callable[[nn.Linear, dict], nn.ModuleDict]) -> bool:
    """Exercise 2.1: separate heads that reproduce the slices of one joint output layer."""
    torch.manual_seed(0)
    joint, sizes = nn.Linear(6, 7), {"a": 3, "b": 1, "c": 3}
    ran, heads = run(SPLIT_HEADS, split_heads, joint, dict(sizes))
    if not ran:
        return False
    if not isinstance(heads, nn.ModuleDict) or list(heads) != list(sizes):
        return fail(SPLIT_HEADS, f"Return an nn.ModuleDict with keys {list(sizes)}, in that order; you returned "
                                 f"{describe(heads)}{' with keys ' + str(list(heads)) if isinstance(heads, nn.ModuleDict) else ''}.")
    z = torch.randn(5, 6)
    with torch.no_grad():
        out, start = joint(z), 0
        for name, size in sizes.items():
            try:
                got = heads[name](z)
            except Exception as error:  # a head that cannot take the joint layer's input
                return fail(SPLIT_HEADS, f"Head {name!r} failed on a batch of shape (5, 6): {type(error).__name__}: "
                                         f"{error}.", f"joint = nn.Linear(6, 7), sizes = {sizes}")
            if problem := compare(got, out[:, start:start + size]):
                return fail(SPLIT_HEADS, f"Head {name!r}: {problem}",
                            f"joint = nn.Linear(6, 7), sizes = {sizes}: head {name!r} must give output columns "
                            f"{start}:{start + size} of the joint layer")
            start += size
    if any(p is q for p in heads.parameters() for q in joint.parameters()):
        return fail(SPLIT_HEADS, "The heads must have their own parameters, not the joint layer's.")
    return passed(SPLIT_HEADS, "A sliced output layer is a set of separate heads.")


def check_add_task(add_task: Callable[[HardSharing, Task], HardSharing]) -> bool:
    """Exercise 2.2: one more head on a trained hard-sharing model, trunk and other heads untouched."""
    torch.manual_seed(0)
    model = HardSharing(MLP(4, [8]), [regression("a"), regression("b")])
    x = torch.randn(3, 4)
    with torch.no_grad():
        before = {k: v.clone() for k, v in model(x).items()}
    trunk_before = [p.detach().clone() for p in model.trunk.parameters()]
    case = "HardSharing(MLP(4, [8]), tasks a and b), new task classification('parity', 2), a batch of 3"
    ran, result = run(ADD_TASK, add_task, model, classification("parity", 2))
    if not ran:
        return False
    if not isinstance(result, HardSharing):
        return fail(ADD_TASK, f"Return the model; you returned {describe(result)}.", case)
    with torch.no_grad():
        out = result(x)
    if set(out) != {"a", "b", "parity"} or tuple(out["parity"].shape) != (3, 2):
        return fail(ADD_TASK, f"The model now predicts {({k: tuple(v.shape) for k, v in out.items()})}; expected a "
                              "(3, 2) prediction for 'parity' besides 'a' and 'b'.", case)
    if any(compare(out[k], before[k], rtol=0, atol=0) for k in before) or not all(
            torch.equal(p, q) for p, q in zip(result.trunk.parameters(), trunk_before)):
        return fail(ADD_TASK, "The trunk and the old heads must stay as they were.", case)
    return passed(ADD_TASK, "`fit` now trains three tasks on the shared trunk.")


def check_shared_fraction(shared_fraction: Callable[[MultiTaskModel], float]) -> bool:
    """Exercise 2.3: the fraction of parameters shared, on hard sharing, partial sharing and separate networks."""
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
