"""Checks for the exercises of notebook 06, gradient conflict."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import Exercise, compare, fail, passed, run
from ._experiment import mean, measured, remeasured

HURTING_WEIGHT = Exercise(
    "6.1",
    concept="to first order the step along w·g1 + g2 hurts task 2 when g2 has a negative dot product with it; that "
            "dot product is linear in the weight w, so there is one threshold weight.",
    detail="expand g2·(w·g1 + g2) into a term with w and the squared norm of g2; with g1·g2 < 0 it turns negative "
           "once w passes a ratio of ‖g2‖² and −g1·g2. The answer is one float.")
PCGRAD = Exercise(
    "6.2",
    concept="PCGrad removes from each task's gradient its component along any other task's gradient it conflicts "
            "with (negative dot product), one task after another, then sums the results.",
    detail="keep a projected copy of every row; for each row t visit the other rows j in the given order; when the "
           "projected row t and the original row j have a negative dot product, subtract from row t its projection "
           "onto row j. The answer is the sum of the projected rows, shape (D,).")
HURT_EXPERIMENT = Exercise(
    "6.4",
    concept="an experiment: train the same model on the two task pairs with equal weights, count the steps in which "
            "the summed step hurts a task to first order, and compare your measurement with your prediction.",
    detail="return a dict with 'prediction' (one of the scales you are passed, written before running), 'hurt' "
           "({scale: {seed: fraction of the steps in which some task's gradient has a negative dot product with "
           "the summed gradient}}) and 'hurts_more' (the scale with the higher mean fraction). Seed every run, so "
           "that a second call repeats it.")
HURT = Exercise(
    "6.3",
    concept="to first order, a step −η·d changes task t's loss by −η times the dot product of its gradient with d.",
    detail="one dot product per task (the T×D gradients against the direction d, shape (D,)); a task is hurt when "
           "its loss goes up, that is when its dot product is negative. The answer is a bool tensor of shape (T,).")


def check_hurting_weight(hurting_weight: Callable[[torch.Tensor, torch.Tensor], float]) -> bool:
    """Exercise 6.1: the weight on task 1 above which the step along w·g1 + g2 hurts task 2."""
    cases = [([3.0, 0.0], [-1.5, 1.0], 3.25 / 4.5),    # the pair of the first picture: the plain sum (w = 1) hurts
             ([1.0, 0.0], [-1.0, 1.0], 2.0),
             ([2.0, 2.0], [-1.0, 0.0], 0.5),
             ([0.5, 0.0, 1.0], [1.0, 2.0, -1.0], 12.0)]
    for g1, g2, want in cases:
        ran, result = run(HURTING_WEIGHT, hurting_weight, torch.tensor(g1), torch.tensor(g2))
        if not ran:
            return False
        if problem := compare(result, want, rtol=1e-4, atol=1e-6):
            return fail(HURTING_WEIGHT, problem, f"g1 = {g1}, g2 = {g2}: any weight above {want:.4f} hurts task 2")
    return passed(HURTING_WEIGHT, "For the first picture's pair the threshold is 0.72: equal weights (w = 1) "
                                  "already hurt task 2, a weight below 0.72 on task 1 would not.")


def check_pcgrad_fixed_order(pcgrad_fixed_order: Callable[[torch.Tensor, list[int]], torch.Tensor]) -> bool:
    """Exercise 6.2: PCGrad on three given vectors, in a fixed order."""
    grads = torch.tensor([[1.0, 0.0], [-1.0, 1.0], [0.0, -1.0]])
    # worked out by hand. Order [0, 1, 2]: row 0 → (0.5, 0.5) → (0.5, 0); row 1 → (0, 1) → (0, 0);
    # row 2 → (−0.5, −0.5) (g2·g0 = 0, no projection): sum (0, −0.5). Order [2, 1, 0]: row 0 → (0.5, 0.5);
    # row 1 → (−1, 0) → (0, 0); row 2 → (−0.5, −0.5) → (0, −0.5): sum (0.5, 0).
    cases = [([0, 1, 2], [0.0, -0.5]), ([2, 1, 0], [0.5, 0.0])]
    for order, want in cases:
        ran, result = run(PCGRAD, pcgrad_fixed_order, grads.clone(), list(order))
        if not ran:
            return False
        if problem := compare(result, torch.tensor(want), atol=1e-5):
            return fail(PCGRAD, problem, f"gradients {grads.tolist()}, order {order}: the direction is {want}")
    return passed(PCGRAD, "The order matters with three or more tasks: that is why PCGrad draws it at random.")


def check_hurt_tasks(hurt_tasks: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 6.3: which tasks a step −η·d hurts to first order."""
    grads = torch.tensor([[3.0, 0.0], [-1.5, 1.0], [0.0, 1.0]])
    cases = [(torch.tensor([1.5, 1.0]), [False, True, False]), (torch.tensor([-1.0, -1.0]), [True, False, True]),
             (torch.tensor([0.1, 0.6]), [False, False, False])]
    for d, want in cases:
        ran, result = run(HURT, hurt_tasks, grads.clone(), d.clone())
        if not ran:
            return False
        if problem := compare(result, torch.tensor(want)):
            return fail(HURT, problem, f"gradients {grads.tolist()}, d = {d.tolist()}: the hurt tasks are {want}")
    return passed(HURT, "MGDA, CAGrad and IMTL-G look for a d that hurts no task (for two tasks PCGrad does too).")


def check_hurt_experiment(hurt_experiment: Callable[[list, list], dict]) -> bool:
    """Exercise 6.4: which pair's summed step hurts a task more often? The learner's prediction and measurement."""
    scales, seeds = [1.0, 10.0], [0, 1]
    found = measured(HURT_EXPERIMENT, hurt_experiment, (list(scales), list(seeds)), "hurt", scales, seeds, "scale")
    if found is None:
        return False
    result, hurt = found
    if result.get("prediction") not in scales:
        return fail(HURT_EXPERIMENT, f"result['prediction'] should be one of the scales {scales}, written down "
                                     f"before you ran the experiment; it is {result.get('prediction')!r}.")
    if any(not 0 <= v <= 1 for row in hurt.values() for v in row.values()):
        return fail(HURT_EXPERIMENT, "A fraction of steps lies between 0 and 1; some of yours do not.")
    most = max(scales, key=lambda c: mean(hurt[c]))
    if result.get("hurts_more") not in [c for c in scales if mean(hurt[c]) == mean(hurt[most])]:
        return fail(HURT_EXPERIMENT, f"Your table's mean fractions are "
                                     f"{ {c: round(mean(hurt[c]), 3) for c in scales} }, but result['hurts_more'] is "
                                     f"{result.get('hurts_more')!r}: the conclusion must follow from your measurements.")
    if not remeasured(HURT_EXPERIMENT, hurt_experiment, ([most], [seeds[-1]]), "hurt", most, seeds[-1],
                      hurt[most][seeds[-1]], "scale"):
        return False
    right = "as you predicted" if result["prediction"] == most else f"not the scale {result['prediction']} you predicted"
    return passed(HURT_EXPERIMENT, f"The summed step hurt a task in {mean(hurt[most]):.0%} of the steps with scale "
                                   f"{most}, {right}, against {mean(hurt[min(scales, key=lambda c: mean(hurt[c]))]):.0%}.")
