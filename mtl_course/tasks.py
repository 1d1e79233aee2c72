"""What a task is: its name, its kind, its output size, its loss and how we score it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import torch.nn.functional as F
from torch import Tensor

from . import metrics

KINDS = ("classification", "regression")


@dataclass(frozen=True)
class Task:
    """One task of a multi-task problem; training, evaluation, tables and plots all read it.

    classification: the model outputs (N, out_dim) logits, targets are class indices (N,),
                    loss cross-entropy, metric accuracy (higher is better).
    regression:     the model outputs (N, out_dim), targets are (N,) when out_dim is 1 else
                    (N, out_dim), loss and metric mean squared error (lower is better).
    """

    name: str
    kind: Literal["classification", "regression"]
    out_dim: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"A task's name must be a non-empty string, got {self.name!r}.")
        if self.kind not in KINDS:
            raise ValueError(f"Task {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}.")
        if isinstance(self.out_dim, bool) or not isinstance(self.out_dim, int) or self.out_dim < 1:
            raise ValueError(f"Task {self.name!r}: out_dim must be a whole number ≥ 1, got {self.out_dim!r}.")
        if self.kind == "classification" and self.out_dim < 2:
            raise ValueError(f"Task {self.name!r}: a classification task needs out_dim >= 2 classes, got {self.out_dim!r}.")

    @property
    def metric_name(self) -> str:
        """Name of the score reported for this task."""
        return "accuracy" if self.kind == "classification" else "mse"

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger metric value is better (accuracy) or worse (MSE)."""
        return self.kind == "classification"

    def _check_shapes(self, prediction: Tensor, target: Tensor) -> None:
        """Raise a clear error instead of letting broadcasting compute a silently wrong loss."""
        want = (len(target), self.out_dim)
        if tuple(prediction.shape) != want:
            raise ValueError(f"Task {self.name!r}: prediction has shape {tuple(prediction.shape)}, "
                             f"expected {want} (batch, out_dim) for {len(target)} targets.")
        target_dims = 1 if self.kind == "classification" or self.out_dim == 1 else 2
        if target.dim() != target_dims:
            raise ValueError(f"Task {self.name!r}: target has shape {tuple(target.shape)}, "
                             f"expected {target_dims} dimension(s).")
        if self.kind == "classification" and (target.is_floating_point() or target.is_complex()):
            raise TypeError(f"Task {self.name!r} is a classification task: its target must hold class indices "
                            f"(an integer tensor), got dtype {target.dtype}. Convert it with target.long().")
        if self.kind == "regression" and not target.is_floating_point():
            raise TypeError(f"Task {self.name!r} is a regression task: its target must be a floating-point "
                            f"tensor, got dtype {target.dtype}. Convert it with target.float().")

    def loss(self, prediction: Tensor, target: Tensor) -> Tensor:
        """Mean loss over the batch: cross-entropy or mean squared error."""
        self._check_shapes(prediction, target)
        if self.kind == "classification":
            return F.cross_entropy(prediction, target)
        return F.mse_loss(prediction.reshape(target.shape), target)

    def metric(self, prediction: Tensor, target: Tensor) -> float:
        """The task's score on a whole split: accuracy or MSE."""
        self._check_shapes(prediction, target)
        if self.kind == "classification":
            return metrics.accuracy(prediction, target)
        return metrics.mse(prediction.reshape(target.shape), target)


def classification(name: str, n_classes: int) -> Task:
    """A classification task with `n_classes` classes."""
    return Task(name, "classification", n_classes)


def regression(name: str, out_dim: int = 1) -> Task:
    """A regression task with `out_dim` outputs."""
    return Task(name, "regression", out_dim)


def check_tasks(tasks: Sequence[Task]) -> list[Task]:
    """The tasks as a list, after refusing anything that is not a `Task` and repeated names (they would share a head)."""
    tasks = list(tasks)
    not_tasks = [t for t in tasks if not isinstance(t, Task)]
    if not_tasks:
        raise TypeError(f"Tasks must be mc.Task objects (mc.classification(...), mc.regression(...)), "
                        f"got {not_tasks[:3]}.")
    described = [t.name for t in tasks]
    if len(set(described)) != len(described):
        repeated = sorted({n for n in described if described.count(n) > 1})
        raise ValueError(f"Task name(s) {repeated} appear more than once in {described}: "
                         "every task needs its own name (two tasks would share one head).")
    return tasks


def check_task_names(tasks: list[Task], names: Mapping[str, object] | list[str], what: str) -> None:
    """Raise a clear error when `what` (predictions, targets, …) names other tasks than `tasks` describe."""
    described = [t.name for t in check_tasks(tasks)]
    given = list(names)
    unknown = [n for n in given if n not in described]
    missing = [n for n in described if n not in given]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown task(s) {unknown} (not described)")
        if missing:
            parts.append(f"no entry for described task(s) {missing}")
        raise ValueError(f"The {what} do not match the described tasks {described}: " + "; ".join(parts) + ".")


def task_losses(tasks: list[Task], predictions: Mapping[str, Tensor],
                targets: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Each task's loss on one batch, after checking that predictions and targets name the same tasks."""
    check_task_names(tasks, predictions, "model's predictions")
    missing = [t.name for t in tasks if t.name not in targets]
    if missing:
        raise ValueError(f"No targets for task(s) {missing}; the data has targets for {list(targets)}.")
    return {t.name: t.loss(predictions[t.name], targets[t.name]) for t in tasks}
