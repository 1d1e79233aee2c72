"""Many tasks: train a random subset of the tasks each step (chapter 10).

With T tasks, a per-task-gradient method needs T backward passes and a T×T Gram matrix per step.
Task sampling draws k of the T tasks each step and hands only their losses to another strategy, so
that strategy's cost scales with k instead of T.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .models import MultiTaskModel
from .weighting import Strategy


class TaskSampling(Strategy):
    """Each step, a uniformly random subset of k tasks (without replacement) goes to `strategy`; the rest sit out.

    unbiased=True scales each sampled loss by T/k, so that the expected update of equal weighting,
    E[Σ_{t∈S} (T/k)·∇Lₜ] = Σₜ ∇Lₜ, equals the all-task update: with plain SGD the learning rate
    then means the same as without sampling. (Adam divides the scale out, so there it matters little.)
    The subset comes from the strategy's own generator, seeded by `seed`, so a run is reproducible.
    The wrapped strategy must accept any subset of the tasks (equal weighting, `GradientAggregation`).
    """

    def __init__(self, strategy: Strategy, k: int, unbiased: bool = True, seed: int = 0):
        super().__init__()
        if int(k) != k or k < 1:
            raise ValueError(f"TaskSampling needs k >= 1 tasks per step, got k = {k}.")
        if strategy.needs_features:
            raise ValueError("TaskSampling cannot wrap a strategy that needs the shared representation.")
        self.strategy, self.k, self.unbiased = strategy, int(k), bool(unbiased)
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self, tasks: list[str]) -> list[str]:
        """k distinct task names drawn uniformly at random, in the original order."""
        if self.k > len(tasks):
            raise ValueError(f"TaskSampling draws k = {self.k} tasks per step, but there are only {len(tasks)}.")
        chosen = torch.randperm(len(tasks), generator=self.generator)[:self.k].sort().values
        return [tasks[i] for i in chosen.tolist()]

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Backward through the wrapped strategy on the sampled tasks' (scaled) losses; the others get weight 0."""
        chosen = self.sample(list(losses))
        scale = len(losses) / self.k if self.unbiased else 1.0
        inner = self.strategy.backward({t: scale * losses[t] for t in chosen}, model, features)
        weights = {t: 0.0 for t in losses}
        weights.update({t: scale * inner.get(t, 1.0) for t in chosen})   # a device tensor stays one: no sync
        return weights
