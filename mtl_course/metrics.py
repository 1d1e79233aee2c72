"""Scores for single tasks, and Δm%, the one number that compares a multi-task model with its baselines."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping, Sequence

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .tasks import Task


def _check_pair(what: str, a: Tensor, b: Tensor, a_name: str, b_name: str) -> None:
    """Refuse non-tensors and empty inputs (whose mean would be a silent NaN)."""
    for name, t in ((a_name, a), (b_name, b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}: {name} must be a torch.Tensor, got {type(t).__name__}.")
        if t.numel() == 0:
            raise ValueError(f"{what}: {name} is empty (shape {tuple(t.shape)}); the score of no samples is undefined.")


def accuracy(logits: Tensor, labels: Tensor) -> float:
    """Fraction of samples whose highest logit is the true class."""
    _check_pair("accuracy", logits, labels, "logits", "labels")
    if logits.shape[:-1] != labels.shape:
        raise ValueError(f"accuracy: logits of shape {tuple(logits.shape)} need labels of shape "
                         f"{tuple(logits.shape[:-1])} (one class index per row), got {tuple(labels.shape)}.")
    return float((logits.argmax(dim=-1) == labels).float().mean())


def mse(prediction: Tensor, target: Tensor) -> float:
    """Mean squared error (shapes must match: broadcasting would average the wrong differences)."""
    _check_pair("mse", prediction, target, "prediction", "target")
    if prediction.shape != target.shape:
        raise ValueError(f"mse: prediction has shape {tuple(prediction.shape)} and target {tuple(target.shape)}; "
                         "they must be equal (reshape one, e.g. prediction.reshape(target.shape)).")
    return float(((prediction - target) ** 2).mean())


def auc(scores: Tensor, labels: Tensor) -> float:
    """Area under the ROC curve: the probability that a random positive outranks a random negative (ties count half)."""
    _check_pair("auc", scores, labels, "scores", "labels")
    if scores.numel() != labels.numel():
        raise ValueError(f"auc: {scores.numel()} scores for {labels.numel()} labels; give one score per label.")
    if not bool(torch.isfinite(scores).all()):
        raise ValueError(f"auc: the scores contain {int((~torch.isfinite(scores)).sum())} NaN or infinite value(s); "
                         "a rank needs finite scores.")
    if not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError(f"auc: labels must be 0 or 1, got the values {labels.unique().tolist()[:5]}.")
    if scores.device.type == "mps":   # MPS has no float64
        scores, labels = scores.cpu(), labels.cpu()
    scores, labels = scores.double().flatten(), labels.flatten().bool()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs at least one positive and one negative sample.")
    # Mann–Whitney U: sum of the positives' ranks (average rank for ties).
    order = scores.argsort()
    sorted_scores = scores[order]
    ranks = torch.empty_like(scores)
    _, inverse, counts = torch.unique_consecutive(sorted_scores, return_inverse=True, return_counts=True)
    first = torch.cumsum(counts, 0) - counts + 1
    average = (first + (counts - 1) / 2.0).to(scores.dtype)
    ranks[order] = average[inverse]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def delta_m(multi_task: Mapping[str, float], single_task: Mapping[str, float], tasks: Sequence[Task]) -> float:
    """Δm% (Maninis et al., CVPR 2019): mean over tasks of the relative change of each metric, in percent.

    Sign-corrected so that a positive Δm% means the multi-task model is better:
        Δm% = 100/T · Σₜ (−1)^{lₜ} (Mₜ,multi − Mₜ,single) / Mₜ,single,  lₜ = 1 if lower is better.
    """
    if not tasks:
        raise ValueError("Δm% needs at least one task.")
    names = [t.name for t in tasks]
    for what, given in (("multi_task", multi_task), ("single_task", single_task)):
        missing = [n for n in names if n not in given]
        if missing:
            raise ValueError(f"delta_m: {what} has no metric for task(s) {missing}; it has {sorted(given)} "
                             f"and the tasks are {names}. Give both the metrics of the same tasks.")
    total = 0.0
    for task in tasks:
        m, s = multi_task[task.name], single_task[task.name]
        if not (math.isfinite(m) and math.isfinite(s)):
            raise ValueError(f"delta_m: task {task.name!r} has a non-finite metric (multi_task {m}, single_task {s}).")
        if s == 0:
            raise ValueError(f"Task {task.name!r}: the single-task metric is 0, so the relative change is undefined.")
        sign = 1.0 if task.higher_is_better else -1.0
        total += sign * (m - s) / abs(s)
    return 100.0 * total / len(tasks)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of a few seeds' results."""
    t = torch.tensor(list(values), dtype=torch.float64)
    if len(t) == 0:
        raise ValueError("mean_std needs at least one value, got none.")
    return float(t.mean()), float(t.std()) if len(t) > 1 else 0.0


def _f1_of_class(predicted: Tensor, labels: Tensor, positive: int) -> float:
    """F1 of one class: 2TP / (2TP + FP + FN), the harmonic mean of its precision and recall."""
    hit, truth = predicted == positive, labels == positive
    tp = int((hit & truth).sum())
    wrong = int((hit ^ truth).sum())  # false positives + false negatives
    if tp + wrong == 0:
        raise ValueError(f"F1 of class {positive} is undefined: it is neither predicted nor present.")
    return 2 * tp / (2 * tp + wrong)


def _check_classes(predicted: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Predicted classes and labels as flat integer tensors of one length (refuse logits and mismatches)."""
    if predicted.is_floating_point() or labels.is_floating_point():
        raise ValueError("F1 takes predicted class indices and labels (integer tensors); for logits pass "
                         "logits.argmax(dim=-1), for scores (scores > threshold).long().")
    predicted, labels = predicted.flatten(), labels.flatten()
    if len(predicted) != len(labels):
        raise ValueError(f"F1 needs one prediction per label, got {len(predicted)} predictions and {len(labels)} labels.")
    return predicted, labels


def f1(predicted: Tensor, labels: Tensor, positive: int = 1) -> float:
    """Binary F1 of the `positive` class, 2TP / (2TP + FP + FN): how well the decisions find a (rare) class.

    Unlike AUC, which scores the ranking of the scores, F1 scores the decisions at one threshold:
    predicting "negative" everywhere gives F1 = 0 however accurate it is on an imbalanced task.
    """
    return _f1_of_class(*_check_classes(predicted, labels), positive)


def macro_f1(predicted: Tensor, labels: Tensor) -> float:
    """Macro F1: the mean of each class's F1 over the classes present in the labels or the predictions."""
    predicted, labels = _check_classes(predicted, labels)
    classes = torch.unique(torch.cat([predicted, labels])).tolist()
    return sum(_f1_of_class(predicted, labels, c) for c in classes) / len(classes)
