"""Checks for the exercises of notebook 00, getting started."""
from __future__ import annotations

from typing import Callable

import torch

from ..data import MultiTaskData
from ..tasks import Task
from ._core import Exercise, _number, compare, describe, fail, passed, run
from ._experiment import keyed, shown

PARITY = Exercise(
    "0.1",
    concept="a task is a name, a kind (classification or regression) and an output size; its targets come from "
            "labels the data already hold.",
    detail="two things in a tuple: a Task for a 2-class classification named 'parity', built with the package's "
           "constructor for classification tasks, and one integer class index per sample (shape (N,), int64): "
           "0 for an even left digit, 1 for an odd one (the remainder of a division by 2).")
SILENT = Exercise(
    "0.2",
    concept="PyTorch broadcasts a prediction of shape (N, 1) against targets of shape (N,) into an (N, N) table of "
            "differences: every prediction is compared with every target, not only with its own.",
    detail="two numbers in a tuple: first the mean squared error of each prediction against its own target (remove "
           "the extra dimension of the prediction first), then the mean of the squared (N, N) table that the two "
           "shapes produce as they are.")
BENDS = Exercise(
    "0.3",
    concept="remove one ingredient of the synthetic tasks at a time and measure the label correlation again: the "
            "ingredient whose removal brings it closest to p is what bends it.",
    detail="a dict with two keys. 'measured': a dict with the keys 'as_is', 'without_sines' (m = 0 sine terms) and "
           "'without_noise' (noise = 0), each the Pearson correlation of the two tasks' training targets (the "
           "package's label correlation) for the tasks at this p with seed 0 and the default sizes. 'culprit': the "
           "string 'sines' or 'noise', the one whose removal leaves the correlation nearer to p.")


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


def check_silent_mse(silent_mse: Callable[[torch.Tensor, torch.Tensor], tuple]) -> bool:
    """Exercise 0.2: the MSE a (N, 1) prediction should get against (N,) targets, and the one broadcasting gives."""
    prediction, target = torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([1.0, 2.0, 3.0])
    case = "prediction [[1], [2], [3]] (shape (3, 1)), targets [1, 2, 3] (shape (3,)): the pair is (0.0, 1.3333)"
    ran, result = run(SILENT, silent_mse, prediction.clone(), target.clone())
    if not ran:
        return False
    if compare(result, (12 / 9, 0.0), atol=1e-5) is None:
        return fail(SILENT, "You returned the two numbers the other way round: the correct MSE comes first.", case)
    if problem := compare(result, (0.0, 12 / 9), atol=1e-5):
        return fail(SILENT, problem, case)
    g = torch.Generator().manual_seed(0)
    prediction, target = torch.randn(6, 1, generator=g), torch.randn(6, generator=g)
    right = float(((prediction[:, 0] - target) ** 2).mean())
    silent = float(((prediction - target) ** 2).mean())
    ran, result = run(SILENT, silent_mse, prediction.clone(), target.clone())
    if not ran:
        return False
    if problem := compare(result, (right, silent), atol=1e-5):
        return fail(SILENT, problem, f"six random predictions of shape (6, 1) and targets of shape (6,): the pair is "
                                     f"({right:.4f}, {silent:.4f})")
    return passed(SILENT, f"On random numbers the broadcast loss is {silent:.2f} instead of {right:.2f}, with no "
                          "error and no warning: it compares each prediction with every target.")


def _label_correlation(p: float, **change) -> float:
    """The label correlation of the synthetic pair at p with seed 0 and the default sizes, one ingredient changed."""
    from ..data import correlated_regression, label_correlation

    return label_correlation(correlated_regression(p, seed=0, **change).train)


def check_what_bends(what_bends: Callable[[float], dict]) -> bool:
    """Exercise 0.3 (experiment): measure which ingredient, the sine terms or the noise, bends the label correlation."""
    p, keys = 0.5, ("as_is", "without_sines", "without_noise")
    ran, result = run(BENDS, what_bends, p)
    if not ran:
        return False
    if not keyed(BENDS, result, ("measured", "culprit"), "measured", keys, "setting"):
        return False
    measured = result["measured"]
    for key in keys:
        if problem := compare(measured[key], 0.5, rtol=1.0, atol=1.5):   # any finite number in [-1, 2]
            return fail(BENDS, f"measured[{key!r}]: {problem}")
    distance = {name: abs(float(_number(measured[key])) - p)
                for name, key in (("sines", "without_sines"), ("noise", "without_noise"))}
    follows = min(distance, key=distance.get)
    if compare(result["culprit"], follows):
        return fail(BENDS, f"Your culprit, {shown(result['culprit'])}, does not follow from your own measurements: at "
                           f"p = {p}, the "
                           f"correlation without the sine terms is {distance['sines']:.3f} away from p and "
                           f"without the noise {distance['noise']:.3f} away.",
                    f"p = {p}: the culprit is the ingredient whose removal leaves the correlation nearer to p")
    for key, change in (("as_is", {}), ("without_sines", {"m": 0}), ("without_noise", {"noise": 0.0})):
        want = _label_correlation(p, **change)
        if problem := compare(measured[key], want, atol=1e-3):
            return fail(BENDS, f"measured[{key!r}] is not what the experiment measures: {problem} Use seed 0, the "
                               "default sizes and the training split.",
                        f"p = {p}, {key}: the label correlation is {want:.4f}")
    return passed(BENDS, f"At p = {p} the labels correlate at {float(_number(measured['as_is'])):.2f}; without the "
                         f"sine terms at {float(_number(measured['without_sines'])):.2f}, without the noise at "
                         f"{float(_number(measured['without_noise'])):.2f}: the sine terms bend it, the noise hardly.")
