"""One training loop for every chapter: per-task losses, a strategy that turns them into an update, a history."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

import torch
from tqdm.auto import tqdm

from .data import MultiTaskData, minibatches
from .data.per_task import PerTaskData, has_missing_labels, masked_task_losses
from .models import MultiTaskModel
from .schedules import Schedule, training_batches
from .tasks import Task, check_task_names, task_losses
from .weighting import EqualWeighting, Strategy


class Evaluation(NamedTuple):
    """Per-task mean loss and metric on one split."""

    loss: dict[str, float]
    metric: dict[str, float]


@dataclass
class History:
    """What happened during `fit`: one record per evaluated epoch, and the wall time."""

    records: list[dict] = field(default_factory=list)
    time_s: float = 0.0
    best_epoch: int | None = None

    def curve(self, key: str, task: str) -> tuple[list[int], list[float]]:
        """Epochs and values of one series, e.g. `curve("val_metric", "left")`."""
        rows = [r for r in self.records if task in r.get(key, {})]
        return [r["epoch"] for r in rows], [r[key][task] for r in rows]

    @property
    def epochs(self) -> int:
        """Number of epochs trained."""
        return self.records[-1]["epoch"] if self.records else 0


def _sync(device: torch.device) -> None:
    """Wait for the GPU, so that wall times measure the work and not just its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _device_of(model: torch.nn.Module) -> torch.device:
    """The device holding the model's parameters."""
    return next(model.parameters()).device


class _OneTask(torch.nn.Module):
    """A view of a multi-task model that predicts one task only, to score that task on a data set of its own."""

    def __init__(self, model: MultiTaskModel, name: str):
        super().__init__()
        self.model, self.name = model, name
        self.train(model.training)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {self.name: self.model(x)[self.name]}


@torch.no_grad()
def evaluate(model: MultiTaskModel, tasks: Sequence[Task], data: MultiTaskData | PerTaskData,
             batch_size: int = 4096) -> Evaluation:
    """Each task's mean loss and metric on a whole split (model in eval mode, no gradients); per-task data: each on its own set."""
    if isinstance(data, PerTaskData):
        check_task_names(list(tasks), data.parts, "per-task data sets")
        scores = [evaluate(_OneTask(model, t.name), [t], data.parts[t.name], batch_size) for t in tasks]
        return Evaluation({t.name: s.loss[t.name] for t, s in zip(tasks, scores)},
                          {t.name: s.metric[t.name] for t, s in zip(tasks, scores)})
    was_training = model.training
    model.eval()
    data = data.to(_device_of(model))
    outputs: dict[str, list[torch.Tensor]] = {}
    for batch in minibatches(data, batch_size, shuffle=False):
        predictions = model(batch.x)
        check_task_names(list(tasks), predictions, "model's predictions")
        for name, prediction in predictions.items():
            outputs.setdefault(name, []).append(prediction)
    model.train(was_training)
    loss, metric = {}, {}
    for task in tasks:
        prediction, target = torch.cat(outputs[task.name]), data.y[task.name]
        loss[task.name] = float(task.loss(prediction, target))
        metric[task.name] = task.metric(prediction, target)
    return Evaluation(loss, metric)


def _check_finite(losses: dict[str, torch.Tensor], epoch: int, step: int) -> None:
    """Stop with a clear message when a task's loss becomes NaN or infinite."""
    values = torch.stack([loss.detach() for loss in losses.values()])
    if not bool(torch.isfinite(values).all()):
        bad = {t: float(v) for t, v in zip(losses, values) if not math.isfinite(float(v))}
        raise FloatingPointError(
            f"Loss of task(s) {list(bad)} became {list(bad.values())} in epoch {epoch} (step {step}). "
            "Training diverged: try a smaller learning rate, check the targets for NaN, or rescale them.")


def _add_penalty_gradient(value: torch.Tensor) -> None:
    """Backpropagate a penalty on top of the strategy's gradients (a constant adds nothing)."""
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        raise ValueError(f"penalty(model) must return a scalar tensor, got {getattr(value, 'shape', type(value))}.")
    if value.requires_grad:
        value.backward()


def fit(model: MultiTaskModel, tasks: Sequence[Task], train: MultiTaskData | PerTaskData,
        val: MultiTaskData | PerTaskData | None = None, *, strategy: Strategy | None = None, epochs: int = 10,
        batch_size: int = 256, lr: float = 1e-3, weight_decay: float = 0.0,
        strategy_lr: float | None = None, eval_every: int = 1, restore_best: bool = False,
        seed: int = 0, progress: bool = True, desc: str = "training",
        penalty: Callable[[torch.nn.Module], torch.Tensor] | None = None,
        schedule: Schedule | None = None) -> History:
    """Train `model` on `tasks` with Adam and a strategy (default: equal weighting); return the history.

    Each epoch visits the training set once in shuffled minibatches (the order is drawn from
    `seed`). Every `eval_every` epochs the validation split is scored. With `restore_best`, the
    model ends with the weights of the epoch whose summed validation loss was lowest (early stopping).
    A `penalty(model)` (a scalar, e.g. λ·Ω of `regularization`) is added to the objective each step:
    its gradient is added to whatever gradient the strategy wrote, so it works with every strategy.
    Per-task data (`PerTaskData`, one set per task) is drawn by `schedule` (default `Proportional()`),
    an epoch being Σₜ nₜ examples; where labels are missing, each task's loss is its `masked_loss`.
    """
    tasks = list(tasks)
    strategy = strategy if strategy is not None else EqualWeighting()
    device = _device_of(model)
    train = train.to(device)
    strategy.to(device)
    groups = [{"params": list(model.parameters())}]
    if list(strategy.parameters()):
        groups.append({"params": list(strategy.parameters()), "lr": strategy_lr or lr, "weight_decay": 0.0})
    optimizer = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    history = History()
    best_loss, best_state = math.inf, None
    _sync(device)
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False)
    step = 0
    losses_of = masked_task_losses if has_missing_labels(train) else task_losses
    for epoch in bar:
        model.train()
        loss_sums = torch.zeros(len(tasks), device=device)
        weight_sums: dict[str, float] = {}
        n_batches = 0
        for batch in training_batches(train, batch_size, generator, schedule):
            step += 1
            if strategy.needs_features:
                predictions, features = model(batch.x, return_features=True)
            else:
                predictions, features = model(batch.x), None
            losses = losses_of(tasks, predictions, batch.y)
            _check_finite(losses, epoch, step)
            optimizer.zero_grad(set_to_none=True)
            weights = strategy.backward(losses, model, features)
            if penalty is not None:
                _add_penalty_gradient(penalty(model))
            optimizer.step()
            loss_sums += torch.stack([l.detach() for l in losses.values()]) * len(batch)
            for t, w in weights.items():
                weight_sums[t] = weight_sums.get(t, 0.0) + float(w)
            n_batches += 1
        train_loss = {t.name: float(v) / len(train) for t, v in zip(tasks, loss_sums)}
        strategy.end_epoch(train_loss)
        record = {"epoch": epoch, "train_loss": train_loss,
                  "weights": {t: w / n_batches for t, w in weight_sums.items()}}
        if val is not None and (epoch % eval_every == 0 or epoch == epochs):
            result = evaluate(model, tasks, val)
            record["val_loss"], record["val_metric"] = result.loss, result.metric
            total = sum(result.loss.values())
            if restore_best and total < best_loss:
                best_loss, history.best_epoch = total, epoch
                best_state = copy.deepcopy(model.state_dict())
        history.records.append(record)
        bar.set_postfix({t: f"{v:.3g}" for t, v in train_loss.items()})
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    _sync(device)
    history.time_s = time.perf_counter() - start
    return history
