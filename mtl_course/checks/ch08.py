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
from ._core import Exercise, compare, describe, fail, passed, run

STITCH = Exercise(
    "8.1",
    concept="hard sharing is a special case of cross-stitch: if every column computes the same thing and every unit "
            "mixes the columns equally, every task reads the same features.",
    detail="two changes, both without gradient tracking: give every column the first column's parameters (a column "
           "is a module, so its state dict can be copied), and set every entry of every cross-stitch unit (a T×T "
           "mixing matrix) to 1/T. Hand the same model back.")
EXPERT_USAGE = Exercise(
    "8.2",
    concept="each MMoE task has a gate: a softmax over the experts for every sample. Expert usage is that gate "
            "averaged over the batch.",
    detail="the model gives every task's gate weights for a batch (one (N, E) tensor per task, see gate_weights); "
           "average each over its N samples and stack the tasks' rows in the order of the model's gates. The "
           "answer has shape (T, E) and each row sums to 1.")
ADD_MMOE_TASK = Exercise(
    "8.3",
    concept="in MMoE the experts are shared; what belongs to one task is its gate (how it mixes the experts) and its "
            "head.",
    detail="two new entries, keyed by the task's name: a gate, a linear layer from the model's input size to one "
           "logit per expert, and a head, a linear layer from an expert's output size to the task's out_dim. Leave "
           "the experts and the other tasks alone and hand the same model back.")


def check_stitch_as_hard_sharing(stitch_as_hard_sharing: Callable[[CrossStitch], CrossStitch]) -> bool:
    """Exercise 8.1: set a cross-stitch network's columns and units so that it computes hard sharing exactly."""
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
        case = f"a CrossStitch of MLP(4, [8, 6]) columns for {n_tasks} tasks"
        ran, result = run(STITCH, stitch_as_hard_sharing, model)
        if not ran:
            return False
        if not isinstance(result, CrossStitch):
            return fail(STITCH, f"Return the cross-stitch model; you returned {describe(result)}.", case)
        with torch.no_grad():
            got, want = result(x), hard(x)
        for t in tasks:
            if problem := compare(got[t.name], want[t.name], atol=1e-5):
                return fail(STITCH, f"Task {t.name!r} does not get hard sharing's prediction (the first column as "
                                    f"the shared trunk): {problem}", case)
    return passed(STITCH, "Identical columns and equal mixing: every task reads the same features. The identity "
                          "unit gave separate networks; cross-stitch units span both ends.")


def check_expert_usage(expert_usage: Callable[[MMoE, Tensor], Tensor]) -> bool:
    """Exercise 8.2: the mean gate weight of every (task, expert) over a batch, as a T×E matrix."""
    model = MMoE(lambda: MLP(3, [4]), 3, [regression("a"), regression("b")], in_dim=3)
    with torch.no_grad():
        for gate in model.gates.values():
            gate.weight.zero_()
        model.gates["a"].bias.copy_(torch.log(torch.tensor([0.7, 0.2, 0.1])))
        model.gates["b"].bias.copy_(torch.log(torch.tensor([0.1, 0.1, 0.8])))
    want = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    ran, result = run(EXPERT_USAGE, expert_usage, model, torch.randn(10, 3))
    if not ran:
        return False
    if isinstance(result, Tensor):
        result = result.detach()
    if problem := compare(result, want, atol=1e-5):
        return fail(EXPERT_USAGE, problem, f"an MMoE with 2 tasks and 3 experts whose gates read {want.tolist()} "
                                           "for every input")
    return passed(EXPERT_USAGE, "Each row sums to 1; where two rows differ, the tasks use different experts.")


def check_add_mmoe_task(add_mmoe_task: Callable[[MMoE, Task], MMoE]) -> bool:
    """Exercise 8.3: a third task on a trained MMoE: its own gate and head, nothing else changed."""
    torch.manual_seed(0)
    model = MMoE(lambda: MLP(4, [8]), 3, [regression("a"), regression("b")], in_dim=4)
    x = torch.randn(6, 4)
    with torch.no_grad():
        before = {k: v.clone() for k, v in model(x).items()}
    experts = [p.detach().clone() for p in model.experts.parameters()]
    case = "an MMoE of 3 MLP(4, [8]) experts for tasks a and b, new task classification('c', 3), a batch of 6"
    ran, result = run(ADD_MMOE_TASK, add_mmoe_task, model, classification("c", 3))
    if not ran:
        return False
    if not isinstance(result, MMoE):
        return fail(ADD_MMOE_TASK, f"Return the model; you returned {describe(result)}.", case)
    try:
        with torch.no_grad():
            out, gates = result(x), result.gate_weights(x)
    except Exception as error:  # a gate or head of the wrong size
        return fail(ADD_MMOE_TASK, f"The model fails on a batch of shape (6, 4): {type(error).__name__}: {error}.", case)
    if set(out) != {"a", "b", "c"} or tuple(out["c"].shape) != (6, 3):
        return fail(ADD_MMOE_TASK, f"The model predicts {({k: tuple(v.shape) for k, v in out.items()})}; expected a "
                                   "(6, 3) prediction for 'c' besides 'a' and 'b'.", case)
    if compare(gates["c"].sum(1), torch.ones(6), atol=1e-5) or tuple(gates["c"].shape) != (6, 3):
        return fail(ADD_MMOE_TASK, "Task 'c' needs a gate over the 3 experts (its softmax rows sum to 1).", case)
    if any(compare(out[k], before[k], rtol=0, atol=0) for k in before) or not all(
            torch.equal(p, q) for p, q in zip(result.experts.parameters(), experts)):
        return fail(ADD_MMOE_TASK, "The experts and the old tasks' gates and heads must stay as they were.", case)
    return passed(ADD_MMOE_TASK, "The new task reuses every expert and learns only how to mix them.")
