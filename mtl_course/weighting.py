"""How per-task losses become one update: the strategy interface, and static loss weighting.

The joint objective of most multi-task learning is Σₜ wₜ·Lₜ. A *strategy* decides how the
per-task losses of one batch turn into gradients: loss-weighting methods (this module; dynamic
ones in chapter 5) choose the weights wₜ, gradient methods (`gradients.py`, chapter 6) combine
the per-task gradients of the shared parameters directly.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import Tensor, nn

from .models import MultiTaskModel


class Strategy(nn.Module):
    """Turns one batch's per-task losses into gradients on the model's parameters.

    The training loop calls `backward` once per step, between `optimizer.zero_grad()` and
    `optimizer.step()`, and logs the task weights it returns. Whatever state a strategy needs it
    keeps itself and gets passed explicitly: the losses and the model in `backward`, the epoch's
    mean training losses in `end_epoch`, the shared representation when `needs_features` is True.
    Learnable parameters of a strategy (registered as usual) are added to the optimizer by `fit`.
    """

    needs_features: bool = False

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Fill the parameters' `.grad` from this batch's losses; return the task weights used."""
        raise NotImplementedError

    def end_epoch(self, train_losses: dict[str, float]) -> None:
        """Called after each epoch with its mean training loss per task (for methods that look back)."""


class LossWeighting(Strategy):
    """A strategy that backpropagates one scalar: a combination of the task losses."""

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """The scalar to backpropagate, and the weight each task got."""
        raise NotImplementedError

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """One backward pass through the combined loss."""
        total, weights = self.combine(losses)
        total.backward()
        return weights


class StaticWeighting(LossWeighting):
    """Fixed weights: Σₜ wₜ·Lₜ, the weights chosen by hand or by a validation search."""

    def __init__(self, weights: Mapping[str, float] | None = None):
        super().__init__()
        self.weights = dict(weights) if weights is not None else None

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """Σₜ wₜ·Lₜ with wₜ = 1 for every task when no weights were given."""
        weights = self.weights if self.weights is not None else {t: 1.0 for t in losses}
        if set(weights) != set(losses):
            raise ValueError(f"StaticWeighting has weights for {sorted(weights)} "
                             f"but the losses are for {sorted(losses)}.")
        total = torch.stack([weights[t] * loss for t, loss in losses.items()]).sum()
        return total, dict(weights)


class EqualWeighting(StaticWeighting):
    """The plain sum of the task losses: the baseline every other method is measured against."""

    def __init__(self):
        super().__init__(None)
