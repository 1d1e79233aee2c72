"""A whole small data set as tensors on one device, and minibatches drawn by shuffled index."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, NamedTuple

import torch
from torch import Tensor

from ..arguments import whole


@dataclass
class MultiTaskData:
    """Inputs `x` (N, ...) and one target tensor per task, `y[task]` (N, ...), all on one device."""

    x: Tensor
    y: dict[str, Tensor]

    def __post_init__(self) -> None:
        if not isinstance(self.x, Tensor) or self.x.dim() == 0:
            raise TypeError(f"MultiTaskData: x must be a tensor of shape (N, ...), got {type(self.x).__name__} "
                            f"{tuple(getattr(self.x, 'shape', ()))}.")
        if not isinstance(self.y, dict) or not all(isinstance(v, Tensor) for v in self.y.values()):
            raise TypeError(f"MultiTaskData: y must be a dict {{task name: target tensor}}, got {type(self.y).__name__}.")
        for task, target in self.y.items():
            if len(target) != len(self.x):
                raise ValueError(f"Task {task!r} has {len(target)} targets for {len(self.x)} inputs.")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def tasks(self) -> list[str]:
        """Names of the tasks that have targets here."""
        return list(self.y)

    def to(self, device: torch.device | str) -> MultiTaskData:
        """The same data on `device` (no copy when it is there already)."""
        return MultiTaskData(self.x.to(device), {t: v.to(device) for t, v in self.y.items()})

    def subset(self, index: Tensor | slice) -> MultiTaskData:
        """The rows selected by `index` (a slice, boolean mask or integer tensor)."""
        if isinstance(index, Tensor):
            index = index.to(self.x.device)
        return MultiTaskData(self.x[index], {t: v[index] for t, v in self.y.items()})

    def only(self, tasks: list[str]) -> MultiTaskData:
        """The same inputs with the targets of `tasks` alone (for single-task training)."""
        missing = [t for t in tasks if t not in self.y]
        if missing:
            raise KeyError(f"No targets for tasks {missing}; this data has {self.tasks}.")
        return MultiTaskData(self.x, {t: self.y[t] for t in tasks})


class Splits(NamedTuple):
    """Train, validation and test sets of one problem."""

    train: MultiTaskData
    val: MultiTaskData
    test: MultiTaskData

    def to(self, device: torch.device | str) -> Splits:
        """All three splits on `device`."""
        return Splits(*(split.to(device) for split in self))

    def only(self, tasks: list[str]) -> Splits:
        """All three splits restricted to `tasks`."""
        return Splits(*(split.only(tasks) for split in self))


def minibatches(data: MultiTaskData, batch_size: int, shuffle: bool = True,
                generator: torch.Generator | None = None) -> Iterator[MultiTaskData]:
    """Yield minibatches by (shuffled) index: for data this small, faster than a DataLoader."""
    whole("batch_size", batch_size)
    n = len(data)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(data.x.device)
    for start in range(0, n, batch_size):
        yield data.subset(order[start:start + batch_size])
