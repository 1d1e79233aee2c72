"""How related are two tasks? Gradient cosine during training, lookahead task affinity, and task groupings.

Two measurements, both taken on the shared parameters while the tasks train together:
- the cosine of two tasks' gradients (a negative cosine is a *conflict*: a step for one task is,
  to first order, a step against the other);
- the inter-task affinity of TAG (Fifty et al.): how much a step on task i's loss alone lowers
  task j's loss on the same batch. It is a ratio of losses, so Z[i, j] need not equal Z[j, i].
A grouping of the tasks is then chosen to maximize the affinity inside the groups.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch import Tensor

from .data import MultiTaskData, minibatches
from .gradients import per_task_gradients
from .models import MultiTaskModel
from .tasks import Task, task_losses
from .weighting import EqualWeighting, Strategy


def _check_square(matrix: Tensor, what: str) -> None:
    """Refuse anything that is not a T×T matrix."""
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{what} must be a square T×T matrix, got shape {tuple(matrix.shape)}.")


def gradient_cosine(grads: Tensor) -> Tensor:
    """T×T cosine similarities of the rows of the T×D per-task gradient matrix (0 where a gradient is zero).

    Each row is first divided by its largest |entry|, so the norm cannot overflow or underflow (a
    float32 row of 3e38s has cosine 1 with its own direction, not 0). NaN or inf is refused.
    """
    if grads.dim() != 2:
        raise ValueError(f"Expected a T×D matrix of per-task gradients, got shape {tuple(grads.shape)}.")
    if not bool(torch.isfinite(grads).all()):
        rows = torch.nonzero(~torch.isfinite(grads).all(dim=1)).flatten().tolist()
        raise ValueError(f"gradient_cosine: the gradients of task row(s) {rows} contain NaN or inf.")
    largest = grads.abs().amax(dim=1, keepdim=True)
    scaled = torch.where(largest > 0, grads / largest.clamp_min(torch.finfo(grads.dtype).tiny), torch.zeros_like(grads))
    norms = scaled.norm(dim=1, keepdim=True)
    unit = torch.where(norms > 0, scaled / norms.clamp_min(torch.finfo(grads.dtype).tiny), torch.zeros_like(grads))
    return unit @ unit.T


def conflict_fraction(cosines: Sequence[float] | Tensor) -> float:
    """Fraction of logged steps whose gradient cosine was negative (the tasks' gradients conflicted)."""
    if isinstance(cosines, Tensor):
        cosines = cosines.detach().cpu()   # MPS has no float64
    values = torch.as_tensor(cosines, dtype=torch.float64).flatten()
    if values.numel() == 0:
        raise ValueError("conflict_fraction needs at least one logged cosine.")
    return float((values < 0).double().mean())


class GradientCosineProbe(Strategy):
    """Wraps a strategy (default: equal weighting) and logs the tasks' gradient cosines every `every` steps.

    Training is unchanged: the wrapped strategy does the backward pass. Every `every`-th step the
    probe first computes the per-task gradients on the shared parameters and stores their T×T
    cosine matrix in `self.cosines`, with the step number in `self.steps`.
    """

    def __init__(self, strategy: Strategy | None = None, every: int = 1):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be a positive number of steps, got {every}.")
        self.strategy = strategy if strategy is not None else EqualWeighting()
        self.needs_features = self.strategy.needs_features
        self.every, self.step = every, 0
        self.tasks: list[str] = []
        self.steps: list[int] = []
        self.cosines: list[Tensor] = []

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Log the cosine matrix (every `every` steps), then let the wrapped strategy do the backward pass."""
        self.step += 1
        if (self.step - 1) % self.every == 0:
            grads = per_task_gradients(losses, model.shared_parameters())
            self.tasks = list(losses)
            self.steps.append(self.step)
            self.cosines.append(gradient_cosine(grads.detach()).cpu())
        return self.strategy.backward(losses, model, features)

    def end_epoch(self, train_losses: dict[str, float]) -> None:
        """Pass the epoch's losses on to the wrapped strategy."""
        self.strategy.end_epoch(train_losses)

    def pair(self, a: str, b: str) -> Tensor:
        """The logged cosines between tasks `a` and `b`, one per logged step."""
        for name in (a, b):
            if name not in self.tasks:
                raise KeyError(f"Unknown task {name!r}; the probe logged {self.tasks}.")
        i, j = self.tasks.index(a), self.tasks.index(b)
        return torch.stack([c[i, j] for c in self.cosines])


def lookahead_affinity(model: MultiTaskModel, tasks: Sequence[Task], batch: MultiTaskData, lr: float) -> Tensor:
    """Inter-task affinity on one batch (Fifty et al., "Efficiently Identifying Task Groupings for
    Multi-Task Learning", NeurIPS 2021): Z[i, j] = 1 − L_j(θ_s − lr·∇L_i, θ_j) / L_j(θ_s, θ_j).

    θ_s are the shared parameters. Z[i, j] > 0: a step on task i alone lowers task j's loss; < 0: it
    raises it. The model is left as it was.
    """
    tasks = list(tasks)
    shared = model.shared_parameters()
    losses = task_losses(tasks, model(batch.x), batch.y)
    grads = per_task_gradients(losses, shared).detach()
    before = torch.stack([l.detach() for l in losses.values()])
    affinity = torch.zeros(len(tasks), len(tasks))
    saved = [p.detach().clone() for p in shared]
    with torch.no_grad():
        for i in range(len(tasks)):
            offset = 0
            for p, p0 in zip(shared, saved):
                p.copy_(p0 - lr * grads[i, offset:offset + p.numel()].view_as(p))
                offset += p.numel()
            after = torch.stack(list(task_losses(tasks, model(batch.x), batch.y).values()))
            affinity[i] = (1 - after / before).cpu()
        for p, p0 in zip(shared, saved):
            p.copy_(p0)
    return affinity


def task_affinity(model: MultiTaskModel, tasks: Sequence[Task], train: MultiTaskData, *, epochs: int = 10,
                  batch_size: int = 256, lr: float = 1e-3, lookahead_lr: float | None = None,
                  every: int = 1, seed: int = 0) -> Tensor:
    """Train all tasks together (Adam, equal weights) and return the inter-task affinity averaged over steps.

    Every `every` steps, before the optimizer step, `lookahead_affinity` is measured on the current
    batch with a plain gradient step of size `lookahead_lr` (default `lr`). Returns the T×T mean.
    """
    tasks = list(tasks)
    if every < 1 or epochs < 1:
        raise ValueError(f"epochs and every must be positive, got epochs={epochs}, every={every}.")
    device = next(model.parameters()).device
    train = train.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    total, count, step = torch.zeros(len(tasks), len(tasks)), 0, 0
    for _ in range(epochs):
        for batch in minibatches(train, batch_size, generator=generator):
            if step % every == 0:
                total += lookahead_affinity(model, tasks, batch, lookahead_lr or lr)
                count += 1
            step += 1
            optimizer.zero_grad(set_to_none=True)
            torch.stack(list(task_losses(tasks, model(batch.x), batch.y).values())).sum().backward()
            optimizer.step()
    return total / count


def group_affinity(affinity: Tensor, groups: Sequence[Sequence[int]]) -> float:
    """Total affinity of a grouping: for each task, the mean affinity onto it from the other members
    of its group, Σ_g Σ_{j∈g} mean_{i∈g, i≠j} Z[i, j] (a task alone in its group adds 0)."""
    _check_square(affinity, "The affinity")
    members = sorted(t for g in groups for t in g)
    if members != list(range(len(affinity))):
        raise ValueError(f"The groups {[list(g) for g in groups]} must hold each of the {len(affinity)} "
                         f"tasks 0…{len(affinity) - 1} exactly once.")
    score = 0.0
    for group in groups:
        for j in group:
            others = [i for i in group if i != j]
            if others:
                score += float(affinity[others, j].mean())
    return score


def partitions(items: Sequence[int]) -> Iterator[list[list[int]]]:
    """Every way to split `items` into non-empty groups (Bell number many: 15 for 4 items, 203 for 6)."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in partitions(rest):
        yield [[first]] + smaller
        for k in range(len(smaller)):
            yield smaller[:k] + [[first] + smaller[k]] + smaller[k + 1:]


def best_grouping(affinity: Tensor, n_groups: int | None = None) -> list[list[int]]:
    """The partition of the tasks with the largest `group_affinity` (exhaustive; up to 10 tasks).

    With `n_groups`, only partitions into exactly that many groups are considered (TAG's budget of
    networks). TAG also allows a task to sit in several groups; this simpler version assigns each
    task to one group.
    """
    _check_square(affinity, "The affinity")
    n = len(affinity)
    if n > 10:
        raise ValueError(f"best_grouping enumerates all partitions; {n} tasks are too many (at most 10).")
    if n_groups is not None and not 1 <= n_groups <= n:
        raise ValueError(f"n_groups must lie in 1…{n} for {n} tasks, got {n_groups}.")
    candidates = (p for p in partitions(range(n)) if n_groups is None or len(p) == n_groups)
    best = max(candidates, key=lambda p: group_affinity(affinity, p))
    return sorted(sorted(g) for g in best)

