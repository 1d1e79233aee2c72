"""One training loop for every chapter: per-task losses, a strategy that turns them into an update, a history."""
from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

import torch
from tqdm.auto import tqdm

from .arguments import positive, whole
from .data import MultiTaskData, minibatches
from .data.per_task import PerTaskData, has_missing_labels, masked_task_losses
from .models import MultiTaskModel
from .schedules import Schedule, training_batches
from .tasks import Task, check_task_names, check_tasks, task_losses
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
    """The device holding the model's parameters (a clear error for a model without any)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. mc.HardSharing(...)), got {type(model).__name__}.")
    parameter = next(model.parameters(), None)
    if parameter is None:
        raise ValueError(f"model {type(model).__name__} has no parameters: there is nothing to train or to place "
                         "on a device. Give it a trunk and task heads, e.g. mc.HardSharing(mc.MLP(...), tasks).")
    return parameter.device


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
             batch_size: int = 512) -> Evaluation:
    """Each task's mean loss and metric on a whole split (model in eval mode, no gradients); per-task data: each on its own set.

    Batches of 512: on a CPU the MultiMNIST CNN scores 2,000 pairs about 3× faster than in batches of 4,096.
    """
    batch_size = whole("batch_size", batch_size)
    tasks = check_tasks(tasks)
    if isinstance(data, PerTaskData):
        check_task_names(tasks, data.parts, "per-task data sets")
        scores = [evaluate(_OneTask(model, t.name), [t], data.parts[t.name], batch_size) for t in tasks]
        return Evaluation({t.name: s.loss[t.name] for t, s in zip(tasks, scores)},
                          {t.name: s.metric[t.name] for t, s in zip(tasks, scores)})
    if len(data) == 0:
        raise ValueError(f"evaluate needs a non-empty split, got data with 0 samples (tasks {data.tasks}).")
    was_training = model.training
    model.eval()
    data = data.to(_device_of(model))
    outputs: dict[str, list[torch.Tensor]] = {}
    for batch in minibatches(data, batch_size, shuffle=False):
        predictions = model(batch.x)
        check_task_names(tasks, predictions, "model's predictions")
        for name, prediction in predictions.items():
            outputs.setdefault(name, []).append(prediction)
    model.train(was_training)
    loss, metric = {}, {}
    for task in tasks:
        prediction, target = torch.cat(outputs[task.name]), data.y[task.name]
        loss[task.name] = float(task.loss(prediction, target))
        metric[task.name] = task.metric(prediction, target)
    return Evaluation(loss, metric)


# How often `fit` reads the last steps' losses, kept on the device, for NaN or inf: reading waits for the GPU,
# so it happens every CHECK_EVERY steps and at the end of each epoch, not after every step.
CHECK_EVERY = 50
# A task whose mean training loss over an epoch exceeds DIVERGENCE_FACTOR times its loss on the first
# batch (the untrained model's) has diverged: `fit` warns, naming the task and the epoch.
DIVERGENCE_FACTOR = 100.0


class _NonFinite:
    """Keeps the last CHECK_EVERY steps' losses on the device (one copy per step, no synchronization) and
    reads them at each check, so that a NaN or inf is reported with its first step, task and value."""

    def __init__(self, tasks: list[str], device: torch.device):
        self.tasks = tasks
        self.window = torch.zeros(CHECK_EVERY, len(tasks), device=device)      # row (step − 1) mod CHECK_EVERY
        self.checked = 0                                                        # last step checked

    def record(self, values: torch.Tensor, step: int) -> None:
        """Remember this step's losses (on the device: no host synchronization)."""
        self.window[(step - 1) % len(self.window)] = values

    def check(self, epoch: int, step: int) -> None:
        """Stop with a clear message if a loss became non-finite since the last check (one synchronization)."""
        first, self.checked = self.checked + 1, step
        steps = list(range(first, step + 1))
        recent = self.window[[(s - 1) % len(self.window) for s in steps]]
        finite = torch.isfinite(recent)
        if bool(finite.all()):
            return
        row = int((~finite).any(dim=1).nonzero()[0])
        bad = [(t, float(v)) for t, ok, v in zip(self.tasks, finite[row].tolist(), recent[row].tolist()) if not ok]
        raise FloatingPointError(
            f"Loss of task(s) {[t for t, _ in bad]} became {[v for _, v in bad]} in epoch {epoch} "
            f"(step {steps[row]}, checked over steps {first}-{step}). "
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
    tasks = _check_fit_arguments(tasks, strategy, epochs, batch_size, lr, weight_decay, strategy_lr, eval_every,
                                 seed, train, val)
    strategy = strategy if strategy is not None else EqualWeighting()
    device = _device_of(model)
    train = train.to(device)
    strategy.to(device)
    groups = [{"params": list(model.parameters())}]
    if list(strategy.parameters()):
        groups.append({"params": list(strategy.parameters()), "lr": strategy_lr or lr, "weight_decay": 0.0})
    optimizer = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay, foreach=True)
    generator = torch.Generator().manual_seed(seed)
    names = [t.name for t in tasks]
    history = History()
    best_loss, best_state = math.inf, None
    non_finite, first_losses, diverged = _NonFinite(names, device), None, False
    _sync(device)
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False)
    step = 0
    losses_of = masked_task_losses if has_missing_labels(train) else task_losses
    for epoch in bar:
        model.train()
        loss_sums = torch.zeros(len(tasks), device=device)
        weight_sums: dict[str, torch.Tensor | float] = {}   # stays on the device: no float(w) per step
        n_batches = 0
        for batch in training_batches(train, batch_size, generator, schedule):
            step += 1
            if strategy.needs_features:
                predictions, features = model(batch.x, return_features=True)
            else:
                predictions, features = model(batch.x), None
            losses = losses_of(tasks, predictions, batch.y)
            values = torch.stack(list(losses.values())).detach()
            loss_sums += values * len(batch)                     # on the device: no synchronization
            non_finite.record(values, step)
            if step % CHECK_EVERY == 0:
                non_finite.check(epoch, step)
            optimizer.zero_grad(set_to_none=True)
            try:
                weights = strategy.backward(losses, model, features)
            except (ValueError, RuntimeError):
                non_finite.check(epoch, step)       # a non-finite loss is the likelier cause: say which
                raise
            if penalty is not None:
                _add_penalty_gradient(penalty(model))
            optimizer.step()
            first_losses = values if first_losses is None else first_losses
            for t, w in weights.items():
                weight_sums[t] = weight_sums.get(t, 0.0) + (w.detach() if torch.is_tensor(w) else w)
            n_batches += 1
        non_finite.check(epoch, step)
        train_loss = dict(zip(names, (loss_sums / len(train)).tolist()))    # one synchronization per epoch
        if not diverged:
            diverged = _warn_if_diverged(train_loss, dict(zip(names, first_losses.tolist())), epoch)
        strategy.end_epoch(train_loss)
        record = {"epoch": epoch, "train_loss": train_loss,
                  "weights": {t: float(w) / n_batches for t, w in weight_sums.items()}}
        if val is not None and (epoch % eval_every == 0 or epoch == epochs):
            result = evaluate(model, tasks, val)
            record["val_loss"], record["val_metric"] = result.loss, result.metric
            total = sum(result.loss.values())
            if not math.isfinite(total):
                raise FloatingPointError(
                    f"Validation loss became {result.loss} in epoch {epoch} while the training losses "
                    f"{train_loss} are finite: check the validation targets for NaN or infinity.")
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


def _warn_if_diverged(train_loss: dict[str, float], first: dict[str, float], epoch: int) -> bool:
    """Warn (and return True) when a task's epoch-mean training loss grew DIVERGENCE_FACTOR-fold over its first batch's."""
    grown = {t: v for t, v in train_loss.items() if v > DIVERGENCE_FACTOR * first[t] > 0}
    for t, v in grown.items():
        warnings.warn(f"Task {t!r}: the mean training loss of epoch {epoch} is {v:.3g}, more than "
                      f"{DIVERGENCE_FACTOR:g}× its first batch's {first[t]:.3g}. Training is diverging: "
                      "try a smaller learning rate or rescale the targets.", RuntimeWarning, stacklevel=3)
    return bool(grown)


def _check_fit_arguments(tasks: Sequence[Task], strategy: object, epochs: object, batch_size: object, lr: object,
                         weight_decay: object, strategy_lr: object, eval_every: object, seed: object,
                         train: MultiTaskData, val: MultiTaskData | None) -> list[Task]:
    """Refuse the arguments of `fit` that would train nothing, divide by zero or fail deep inside PyTorch."""
    tasks = check_tasks(tasks)
    if isinstance(strategy, type):
        raise TypeError(f"strategy={strategy.__name__} is a class; pass an instance, e.g. "
                        f"strategy={strategy.__name__}(...).")
    if strategy is not None and not isinstance(strategy, Strategy):
        raise TypeError(f"strategy must be a mc.Strategy (e.g. mc.EqualWeighting()), got {type(strategy).__name__}.")
    whole("epochs", epochs), whole("batch_size", batch_size), whole("eval_every", eval_every)
    whole("seed", seed, minimum=0)
    positive("lr", lr), positive("weight_decay", weight_decay, zero=True)
    if strategy_lr is not None:
        positive("strategy_lr", strategy_lr)
    for name, data in (("train", train), ("val", val)):
        if data is not None and not isinstance(data, (MultiTaskData, PerTaskData)):
            raise TypeError(f"{name} must be a mc.MultiTaskData (or mc.PerTaskData), got {type(data).__name__}.")
        if data is not None and len(data) == 0:
            raise ValueError(f"{name} has 0 samples: fit needs at least one.")
    return tasks
