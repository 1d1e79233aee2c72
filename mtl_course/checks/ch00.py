"""Checks for the exercises of notebook 00, getting started."""
from __future__ import annotations

from typing import Callable

import torch

from ..data import MultiTaskData
from ..tasks import Task
from ._core import Exercise, compare, describe, fail, passed, run

PARITY = Exercise(
    "0.1",
    concept="a task is a name, a kind (classification or regression) and an output size; its targets come from "
            "labels the data already hold.",
    detail="two things in a tuple: a Task for a 2-class classification named 'parity', built with the package's "
           "constructor for classification tasks, and one integer class index per sample (shape (N,), int64): "
           "0 for an even left digit, 1 for an odd one (the remainder of a division by 2).")


def check_parity_task(make_parity_task: Callable[[MultiTaskData], tuple[Task, torch.Tensor]]) -> bool:
    """Exercise 0.1: describe a third MultiMNIST task, "is the left digit odd?", and build its targets."""
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 4])
    data = MultiTaskData(torch.zeros(len(labels), 1, 36, 36), {"left": labels, "right": labels.flip(0)})
    case = f"left digits {labels.tolist()}: the targets are {(labels % 2).tolist()}"
    ran, result = run(PARITY, make_parity_task, data)
    if not ran:
        return False
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], Task)):
        return fail(PARITY, f"Return a pair (task, targets); you returned {describe(result)}.", case)
    task, targets = result
    if (task.name, task.kind, task.out_dim) != ("parity", "classification", 2):
        return fail(PARITY, f"Your task is {task}: check its name, its kind and its number of classes.", case)
    problem = compare(targets, labels % 2)
    if problem or targets.dtype != torch.int64:
        return fail(PARITY, problem or f"The targets are class indices: int64, not {targets.dtype}.", case)
    return passed(PARITY, "The training loop will accept this task like any other.")
