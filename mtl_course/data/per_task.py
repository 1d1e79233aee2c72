"""Tasks with their own data: one data set per task, labels that are missing, and the loss that skips them (chapter 11).

The joint objective Σₜ αₜ Lₜ(θ; Dₜ) lets every task t have its own data set Dₜ: examples labelled
for t alone, of a size of their own. `PerTaskData` holds such sets. A missing label is marked in
the target tensor itself: `MISSING` (−1) for a class index, NaN for a regression target; a
`PartiallyLabelled` set (a `MultiTaskData`) says that its marks are meant. `masked_loss` is a task's mean loss over the rows that have
its label, which is exactly its loss on the labelled subset.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..tasks import Task, check_task_names
from .batches import MultiTaskData

MISSING = -1  # the class index that marks a missing classification label (a regression target uses NaN)


def is_labelled(target: Tensor) -> Tensor:
    """(N,) boolean: which rows of a target tensor have a label (class index ≥ 0; regression: no NaN in the row)."""
    if target.is_floating_point():
        return ~torch.isnan(target.reshape(len(target), -1)).any(dim=1)
    return target >= 0


def missing_like(target: Tensor, n: int) -> Tensor:
    """`n` rows of missing labels of the same kind, shape and device as `target`."""
    fill = float("nan") if target.is_floating_point() else MISSING
    return torch.full((n, *target.shape[1:]), fill, dtype=target.dtype, device=target.device)


class PartiallyLabelled(MultiTaskData):
    """A `MultiTaskData` whose missing labels are marked on purpose: `fit` trains it with `masked_loss`.

    In an ordinary `MultiTaskData` a NaN target stays what it was, an error that stops training.
    """

    def to(self, device: torch.device | str) -> PartiallyLabelled:
        """The same data on `device`, still partially labelled."""
        return PartiallyLabelled(**vars(MultiTaskData.to(self, device)))

    def subset(self, index: Tensor | slice) -> PartiallyLabelled:
        """The rows selected by `index`, still partially labelled."""
        return PartiallyLabelled(**vars(MultiTaskData.subset(self, index)))

    def only(self, tasks: list[str]) -> PartiallyLabelled:
        """The targets of `tasks` alone, still partially labelled."""
        return PartiallyLabelled(**vars(MultiTaskData.only(self, tasks)))


def hide_labels(data: MultiTaskData, task: str, fraction: float, seed: int = 0) -> PartiallyLabelled:
    """A copy of `data` in which a random `fraction` of `task`'s labels is marked missing (partially labelled data)."""
    if task not in data.y:
        raise KeyError(f"No targets for task {task!r}; this data has {data.tasks}.")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}.")
    hidden = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:round(fraction * len(data))]
    target = data.y[task].clone()
    target[hidden.to(target.device)] = missing_like(target, 1)[0]
    return PartiallyLabelled(data.x, {**data.y, task: target})


def has_missing_labels(data: MultiTaskData | PerTaskData) -> bool:
    """True when `data` has missing labels by design (per-task sets, or `PartiallyLabelled`): train it with `masked_loss`."""
    if isinstance(data, PerTaskData):
        return len(data.parts) > 1 or any(has_missing_labels(part) for part in data.parts.values())
    return isinstance(data, PartiallyLabelled)


def masked_loss(task: Task, prediction: Tensor, target: Tensor) -> Tensor:
    """Task's mean loss over the rows that have a label: `task.loss` on the labelled subset (0, no gradient, if none).

    Computed without selecting rows (no host synchronization): every row's loss, times 1 where the
    label is present and 0 where it is missing, summed, over the number of labels.
    """
    if len(prediction) != len(target):
        raise ValueError(f"Task {task.name!r}: {len(prediction)} predictions for {len(target)} targets.")
    labelled = is_labelled(target)
    filled = torch.where(labelled.reshape(-1, *[1] * (target.dim() - 1)), target, torch.zeros_like(target))
    task._check_shapes(prediction, filled)
    if task.kind == "classification":
        per_row = F.cross_entropy(prediction, filled, reduction="none")
    else:
        per_row = ((prediction.reshape(target.shape) - filled) ** 2).reshape(len(target), -1).mean(dim=1)
    weight = labelled.to(per_row.dtype)
    return (per_row * weight).sum() / weight.sum().clamp(min=1.0)


def masked_task_losses(tasks: Sequence[Task], predictions: Mapping[str, Tensor],
                       targets: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Each task's `masked_loss` on one batch (the drop-in for `task_losses` when labels are missing)."""
    tasks = list(tasks)
    check_task_names(tasks, predictions, "model's predictions")
    missing = [t.name for t in tasks if t.name not in targets]
    if missing:
        raise ValueError(f"No targets for task(s) {missing}; the data has targets for {list(targets)}.")
    return {t.name: masked_loss(t, predictions[t.name], targets[t.name]) for t in tasks}


@dataclass
class PerTaskData:
    """One data set per task: `parts[t]` holds inputs and task t's targets only, its size its own.

    The sets need not overlap or have the same size (a large task beside a small one). A batch drawn
    from several of them (`batch`) stacks their rows; each row has its own task's label and a missing
    label for every other task. `fit` draws such batches by a schedule (`mtl_course.schedules`), and
    `evaluate` scores each task on its own set.
    """

    parts: dict[str, MultiTaskData]

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError("PerTaskData needs at least one task's data set.")
        shapes = {tuple(part.x.shape[1:]) for part in self.parts.values()}
        for task, part in self.parts.items():
            if list(part.y) != [task]:
                raise ValueError(f"The data set of task {task!r} must hold that task's targets only, got {part.tasks}.")
            if len(part) == 0:
                raise ValueError(f"The data set of task {task!r} is empty.")
        if len(shapes) != 1:
            raise ValueError(f"Every task's inputs must have one shape per example, got {sorted(shapes)}.")

    @property
    def tasks(self) -> list[str]:
        """Names of the tasks, in order."""
        return list(self.parts)

    @property
    def sizes(self) -> dict[str, int]:
        """Number of examples of each task, nₜ."""
        return {t: len(part) for t, part in self.parts.items()}

    def __len__(self) -> int:
        """All examples of all tasks, Σₜ nₜ: what one epoch of `fit` shows the model, whatever the schedule."""
        return sum(self.sizes.values())

    def to(self, device: torch.device | str) -> PerTaskData:
        """The same data on `device`."""
        return PerTaskData({t: part.to(device) for t, part in self.parts.items()})

    def batch(self, rows: Mapping[str, Tensor]) -> MultiTaskData:
        """One batch: `rows[t]` indexes task t's set; the other tasks' labels of those rows are missing."""
        unknown = [t for t in rows if t not in self.parts]
        if unknown:
            raise KeyError(f"No data set for task(s) {unknown}; this data has {self.tasks}.")
        chosen = {t: self.parts[t].subset(index) for t, index in rows.items()}
        x = torch.cat([part.x for part in chosen.values()])
        y = {t: torch.cat([part.y[t] if t == s else missing_like(self.parts[t].y[t], len(part))
                           for s, part in chosen.items()]) for t in self.tasks}
        return MultiTaskData(x, y)


def split_by_task(data: MultiTaskData, sizes: Mapping[str, int], seed: int = 0) -> PerTaskData:
    """Disjoint random subsets of a fully labelled set, `sizes[t]` examples for task t, each keeping t's labels only."""
    unknown = [t for t in sizes if t not in data.y]
    if unknown:
        raise KeyError(f"sizes name task(s) {unknown} that have no targets here; this data has {data.tasks}.")
    if any(n < 1 for n in sizes.values()) or sum(sizes.values()) > len(data):
        raise ValueError(f"sizes {dict(sizes)} must be ≥ 1 each and add up to at most the {len(data)} examples of the data.")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    parts, start = {}, 0
    for task, n in sizes.items():
        parts[task] = data.subset(order[start:start + n]).only([task])
        start += n
    return PerTaskData(parts)
