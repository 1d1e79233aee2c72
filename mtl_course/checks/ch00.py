"""Checks for the exercises of notebook 00, getting started."""
from __future__ import annotations

from typing import Callable

import torch

from ..data import MultiTaskData
from ..tasks import Task
from ._core import report, run


def check_parity_task(make_parity_task: Callable[[MultiTaskData], tuple[Task, torch.Tensor]]) -> bool:
    """Exercise 0.1: describe a third MultiMNIST task, "is the left digit odd?", and build its targets."""
    exercise = "Exercise 0.1"
    hint = ("return (Task, targets): a classification task named 'parity' with 2 classes, and "
            "targets = left digit % 2 as integer class indices of shape (N,).")
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 4])
    data = MultiTaskData(torch.zeros(len(labels), 1, 36, 36), {"left": labels, "right": labels.flip(0)})
    ran, result = run(exercise, hint, make_parity_task, data)
    if not ran:
        return False
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Task)):
        return report(False, exercise, "return a pair (task, targets). " + hint)
    task, targets = result
    if (task.name, task.kind, task.out_dim) != ("parity", "classification", 2):
        return report(False, exercise, f"your task is {task}. " + hint)
    if not (isinstance(targets, torch.Tensor) and targets.shape == labels.shape
            and targets.dtype == torch.int64 and torch.equal(targets, labels % 2)):
        return report(False, exercise, "the targets are not left % 2 as int64 of shape (N,). " + hint)
    return report(True, exercise, "The training loop will accept this task like any other.")
