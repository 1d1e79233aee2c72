"""Checks for the exercises of notebook 08, cross-stitch units, MMoE and task attention."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import nn

from ..cross_stitch import CrossStitch
from ..models import MLP, HardSharing
from ..mmoe import MMoE
from ..tasks import Task, classification, regression
from ._core import Exercise, compare, describe, fail, passed, run
from ._experiment import vector_problem

STITCH = Exercise(
    "8.1",
    concept="hard sharing is a special case of cross-stitch: if every column computes the same thing and every unit "
            "mixes the columns equally, every task reads the same features.",
    detail="two changes, both without gradient tracking: give every column the first column's parameters (a column "
           "is a module, so its state dict can be copied), and set every entry of every cross-stitch unit (a T×T "
           "mixing matrix) to 1/T. Hand the same model back.")
MASK_START = Exercise(
    "8.2",
    concept="a task-attention mask is 2σ of a layer's output: with that layer's weights at zero, its bias b alone "
            "decides how much of every feature the mask keeps at the start, 2σ(b). Measure each start with the same "
            "data, seed and budget, and let the measured errors pick the winner.",
    detail="per bias b, in the order given: the protocol's data, a fresh model after seeding, every mask layer's "
           "weight zeroed and bias filled with b (without gradient tracking), the same fit, then the test MSE "
           "averaged over the two tasks. Return a pair: a float tensor of shape (number of biases,) and the bias "
           "whose error is lowest.")
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


def _mask_start_error(bias: float, seed: int) -> float:
    """Exercise 8.2's protocol for one starting bias: test MSE (mean over the two tasks) after 60 full-batch steps."""
    from ..attention import TaskAttention
    from ..data import low_rank_regression
    from ..device import seed_everything
    from ..train import evaluate, fit

    data = low_rank_regression(n_tasks=2, n_train=100, n_val=10, n_test=500, seed=seed)
    tasks = [regression(name) for name in data.train.tasks]
    seed_everything(seed)
    model = TaskAttention(lambda: MLP(50, [16, 16, 16, 16]), tasks)
    with torch.no_grad():
        for stage in model.masks:
            for layer in stage.values():
                layer.weight.zero_()
                layer.bias.fill_(bias)
    fit(model, tasks, data.train, epochs=60, batch_size=100, lr=1e-2, seed=seed, progress=False)
    errors = evaluate(model, tasks, data.test).metric
    return sum(errors.values()) / len(errors)


def check_mask_start(mask_start: Callable[[list, int], tuple]) -> bool:
    """Exercise 8.2: test errors of task attention started from nearly closed, open (hard sharing) and stressed
    masks, and the best start."""
    biases, seed = [-3.0, 0.0, 3.0], 0
    case = f"biases {biases}, seed {seed}"
    ran, result = run(MASK_START, mask_start, list(biases), seed)
    if not ran:
        return False
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return fail(MASK_START, f"Return a pair (errors, best bias); you returned {describe(result)}.", case)
    errors, best = result
    if problem := vector_problem(errors, (len(biases),), "The errors"):
        return fail(MASK_START, problem, case)
    errors = errors.detach().double().cpu()
    if not bool((errors > 0).all()):
        return fail(MASK_START, f"A mean squared error is positive; yours are {errors.tolist()}.", case)
    if problem := compare(best, biases[int(errors.argmin())]):
        return fail(MASK_START, f"The best start: {problem} Your own errors {[round(e, 4) for e in errors.tolist()]} "
                                "say otherwise.", case)
    measured = _mask_start_error(biases[1], seed)
    if problem := compare(errors[1].item(), measured, rtol=1e-3, atol=1e-5):
        return fail(MASK_START, "Your error for bias 0 is not what the protocol measures: use its data, seed, model, "
                                "masks and budget exactly as stated, and no other step in between.", case)
    worst = biases[int(errors.argmax())]
    return passed(MASK_START, f"Measured test MSE per start {[round(e, 3) for e in errors.tolist()]}: the worst "
                              f"start is bias {worst:g}, 2σ = {2 / (1 + math.exp(-worst)):.2f} of every feature kept; "
                              f"the best, bias {biases[int(errors.argmin())]:g}.")


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
