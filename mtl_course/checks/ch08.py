"""Checks for the exercises of notebook 08, cross-stitch units, MMoE and task attention."""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import Tensor, nn

from ..cross_stitch import CrossStitch
from ..models import MLP, HardSharing
from ..mmoe import MMoE
from ..tasks import Task, classification, regression
from ._core import report, run


def check_stitch_as_hard_sharing(stitch_as_hard_sharing: Callable[[CrossStitch], CrossStitch]) -> bool:
    """Exercise 8.1: set a cross-stitch network's columns and units so that it computes hard sharing exactly."""
    exercise = "Exercise 8.1"
    hint = ("under torch.no_grad(), copy the first task's column into every other column "
            "(load_state_dict) and fill every unit with 1/T; return the model.")
    for n_tasks in (2, 3):
        torch.manual_seed(n_tasks)
        tasks = [regression(f"t{i}") for i in range(n_tasks)]
        model = CrossStitch(lambda: MLP(4, [8, 6]), tasks)
        trunk = copy.deepcopy(nn.Sequential(*[m for stage in model.columns["t0"] for m in stage]))
        trunk.out_dim = 6
        hard = HardSharing(trunk, tasks)
        hard.load_state_dict({**hard.state_dict(), **{k: v.clone() for k, v in model.state_dict().items()
                                                       if k.startswith("heads.")}})
        x = torch.randn(5, 4)
        ran, result = run(exercise, hint, stitch_as_hard_sharing, model)
        if not ran:
            return False
        if not isinstance(result, CrossStitch):
            return report(False, exercise, "return the cross-stitch model. " + hint)
        with torch.no_grad():
            got, want = result(x), hard(x)
        for t in tasks:
            if not torch.allclose(got[t.name], want[t.name], atol=1e-5):
                return report(False, exercise, f"with {n_tasks} tasks, task {t.name!r} does not get hard sharing's "
                                               "prediction (the first column as the shared trunk). " + hint)
    return report(True, exercise, "Identical columns and equal mixing: every task reads the same features. The identity "
                                  "unit gave separate networks; cross-stitch units span both ends.")


def check_expert_usage(expert_usage: Callable[[MMoE, Tensor], Tensor]) -> bool:
    """Exercise 8.2: the mean gate weight of every (task, expert) over a batch, as a T×E matrix."""
    exercise = "Exercise 8.2"
    hint = ("stack [model.gate_weights(x)[name].mean(dim=0) for name in model.gates] into a (T, E) tensor: "
            "row t is how much task t reads from each expert, on average.")
    tasks = [regression("a"), regression("b")]
    model = MMoE(lambda: MLP(3, [4]), 3, tasks, in_dim=3)
    with torch.no_grad():
        for gate in model.gates.values():
            gate.weight.zero_()
        model.gates["a"].bias.copy_(torch.log(torch.tensor([0.7, 0.2, 0.1])))
        model.gates["b"].bias.copy_(torch.log(torch.tensor([0.1, 0.1, 0.8])))
    want = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    ran, result = run(exercise, hint, expert_usage, model, torch.randn(10, 3))
    if not ran:
        return False
    if not isinstance(result, Tensor) or tuple(result.shape) != (2, 3):
        return report(False, exercise, f"return a (2, 3) tensor for 2 tasks and 3 experts, got "
                                       f"{tuple(getattr(result, 'shape', ())) or type(result).__name__}. " + hint)
    if not torch.allclose(result.detach().float(), want, atol=1e-5):
        return report(False, exercise, f"the gates of the test model read {want.tolist()}, you returned "
                                       f"{result.detach().tolist()}. " + hint)
    return report(True, exercise, "Each row sums to 1; where two rows differ, the tasks use different experts.")


def check_add_mmoe_task(add_mmoe_task: Callable[[MMoE, Task], MMoE]) -> bool:
    """Exercise 8.3: a third task on a trained MMoE: its own gate and head, nothing else changed."""
    exercise = "Exercise 8.3"
    hint = ("add model.gates[task.name] = nn.Linear(model.in_dim, len(model.experts)) and "
            "model.heads[task.name] = nn.Linear(model.experts[0].out_dim, task.out_dim); return the model.")
    torch.manual_seed(0)
    model = MMoE(lambda: MLP(4, [8]), 3, [regression("a"), regression("b")], in_dim=4)
    x = torch.randn(6, 4)
    with torch.no_grad():
        before = {k: v.clone() for k, v in model(x).items()}
    experts = [p.detach().clone() for p in model.experts.parameters()]
    ran, result = run(exercise, hint, add_mmoe_task, model, classification("c", 3))
    if not ran:
        return False
    if not isinstance(result, MMoE):
        return report(False, exercise, "return the model. " + hint)
    with torch.no_grad():
        out = result(x)
        gates = result.gate_weights(x)
    if set(out) != {"a", "b", "c"} or tuple(out["c"].shape) != (6, 3):
        return report(False, exercise, f"the model predicts {({k: tuple(v.shape) for k, v in out.items()})}; "
                                       "expected a (6, 3) prediction for 'c' besides 'a' and 'b'. " + hint)
    if tuple(gates["c"].shape) != (6, 3) or not torch.allclose(gates["c"].sum(1), torch.ones(6), atol=1e-5):
        return report(False, exercise, "task 'c' needs a gate over the 3 experts (its softmax rows sum to 1). " + hint)
    if not all(torch.equal(out[k], before[k]) for k in before) or not all(
            torch.equal(p, q) for p, q in zip(result.experts.parameters(), experts)):
        return report(False, exercise, "the experts and the old tasks' gates and heads must stay as they were. " + hint)
    return report(True, exercise, "The new task reuses every expert and learns only how to mix them.")
