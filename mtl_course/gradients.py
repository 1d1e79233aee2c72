"""Gradient methods: combine the per-task gradients of the shared parameters into one update.

Each method is a pure function from the T×D matrix of per-task gradients (one row per task,
D = number of shared scalars) to one update direction of length D, so it can be tested on
hand-made matrices. `GradientAggregation` connects such a function to the training loop.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .models import MultiTaskModel
from .weighting import Strategy


def per_task_gradients(losses: dict[str, Tensor], params: list[Tensor]) -> Tensor:
    """The T×D matrix whose row t is ∇Lₜ with respect to `params`, flattened (one backward per task)."""
    rows = []
    for loss in losses.values():
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                               for g, p in zip(grads, params)]))
    return torch.stack(rows)


def set_gradient(params: list[Tensor], direction: Tensor) -> None:
    """Write a flat direction of length D into the `.grad` of `params`, in order."""
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = direction[offset:offset + n].view_as(p).clone()
        offset += n
    if offset != direction.numel():
        raise ValueError(f"Direction has {direction.numel()} entries, the parameters {offset}.")


def gradient_sum(grads: Tensor) -> Tensor:
    """Σₜ gₜ: the update of equal loss weighting, written as a gradient method."""
    return grads.sum(dim=0)


class GradientAggregation(Strategy):
    """Per-task gradients of the shared parameters, combined by `aggregate` (T×D matrix → D vector).

    Task-specific parameters (the heads) get the ordinary gradient of their own task's loss.
    """

    def __init__(self, aggregate: Callable[[Tensor], Tensor]):
        super().__init__()
        self.aggregate = aggregate

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Per-task gradients on the shared parameters, the aggregate written into their `.grad`."""
        shared = model.shared_parameters()
        grads = per_task_gradients(losses, shared)
        task_params = model.task_parameters()
        if task_params:  # each head is reached by its own loss only, so the summed loss gives its gradient
            torch.autograd.backward(torch.stack(list(losses.values())).sum(), inputs=task_params)
        set_gradient(shared, self.aggregate(grads))
        return {}
