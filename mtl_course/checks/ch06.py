"""Checks for the exercises of notebook 06, gradient conflict."""
from __future__ import annotations

from typing import Callable

import torch

from ._core import Exercise, compare, fail, passed, run

MIN_NORM_TWO = Exercise(
    "6.1",
    concept="MGDA for two tasks: the shortest vector on the segment between g1 and g2. Minimising the squared norm "
            "of a point of the segment is a one-dimensional quadratic problem with a closed-form solution.",
    detail="write the point as g2 + γ·(g1 − g2): its squared norm is a quadratic in γ, so set its derivative to zero "
           "and solve for γ, then keep γ within [0, 1] (the segment's ends). Handle g1 = g2 on its own. The answer "
           "has the gradients' shape (D,).")
PCGRAD = Exercise(
    "6.2",
    concept="PCGrad removes from each task's gradient its component along any other task's gradient it conflicts "
            "with (negative dot product), one task after another, then sums the results.",
    detail="keep a projected copy of every row; for each row t visit the other rows j in the given order; when the "
           "projected row t and the original row j have a negative dot product, subtract from row t its projection "
           "onto row j. The answer is the sum of the projected rows, shape (D,).")
HURT = Exercise(
    "6.3",
    concept="to first order, a step −η·d changes task t's loss by −η times the dot product of its gradient with d.",
    detail="one dot product per task (the T×D gradients against the direction d, shape (D,)); a task is hurt when "
           "its loss goes up, that is when its dot product is negative. The answer is a bool tensor of shape (T,).")


def check_min_norm_two(min_norm_two: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Exercise 6.1: the min-norm point of the segment between two gradients (MGDA for two tasks)."""
    cases = [  # (g1, g2, the min-norm point worked out by hand)
        ([1.0, 0.0], [0.0, 1.0], [0.5, 0.5]),          # orthogonal, equal length: the midpoint
        ([2.0, 0.0], [-1.0, 0.0], [0.0, 0.0]),         # opposed: 0 lies on the segment (Pareto-stationary)
        ([3.0, 1.0], [1.0, 0.0], [1.0, 0.0]),          # g1·g2 > ‖g2‖²: the vertex g2 (γ clipped to 0)
        ([1.0, 0.0], [4.0, 4.0], [1.0, 0.0]),          # the vertex g1 (γ clipped to 1)
        ([1.0, 2.0], [1.0, 2.0], [1.0, 2.0]),          # identical gradients
    ]
    for g1, g2, want in cases:
        ran, result = run(MIN_NORM_TWO, min_norm_two, torch.tensor(g1), torch.tensor(g2))
        if not ran:
            return False
        if problem := compare(result, torch.tensor(want), atol=1e-5):
            return fail(MIN_NORM_TWO, problem, f"g1 = {g1}, g2 = {g2}: the min-norm point is {want}")
    return passed(MIN_NORM_TWO, "With more tasks, mgda runs Frank–Wolfe with this closed form as its line search.")


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
