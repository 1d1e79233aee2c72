"""How per-task losses become one update: the strategy interface, and static loss weighting.

The joint objective of most multi-task learning is Σₜ wₜ·Lₜ. A *strategy* decides how the
per-task losses of one batch turn into gradients: loss-weighting methods (this module; dynamic
ones in chapter 5) choose the weights wₜ, gradient methods (`gradients.py`, chapter 6) combine
the per-task gradients of the shared parameters directly.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from .models import MultiTaskModel
from .tasks import Task


class Strategy(nn.Module):
    """Turns one batch's per-task losses into gradients on the model's parameters.

    The training loop calls `backward` once per step, between `optimizer.zero_grad()` and
    `optimizer.step()`, and logs the task weights it returns: numbers, or 0-d tensors where the weights live
    on the losses' device (turning those into floats every step would make the CPU wait for the GPU each
    step; `fit` sums them on the device and reads them once per epoch). Whatever state a strategy needs it
    keeps itself and gets passed explicitly: the losses and the model in `backward`, the epoch's
    mean training losses in `end_epoch`, the shared representation when `needs_features` is True.
    Learnable parameters of a strategy (registered as usual) are added to the optimizer by `fit`.
    """

    needs_features: bool = False

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Fill the parameters' `.grad` from this batch's losses; return the task weights used."""
        raise NotImplementedError

    def end_epoch(self, train_losses: dict[str, float]) -> None:
        """Called after each epoch with its mean training loss per task (for methods that look back)."""


class LossWeighting(Strategy):
    """A strategy that backpropagates one scalar: a combination of the task losses."""

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """The scalar to backpropagate, and the weight each task got."""
        raise NotImplementedError

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """One backward pass through the combined loss."""
        total, weights = self.combine(losses)
        total.backward()
        return weights


class StaticWeighting(LossWeighting):
    """Fixed weights: Σₜ wₜ·Lₜ, the weights chosen by hand or by a validation search.

    `weights` maps each task's name to its weight ({"income": 1.0, "hours": 0.1}); a bare list is
    refused, because the order of the losses it would be matched against is not known here.
    """

    def __init__(self, weights: Mapping[str, float] | None = None):
        super().__init__()
        self.weights = _check_weights(weights) if weights is not None else None

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """Σₜ wₜ·Lₜ with wₜ = 1 for every task when no weights were given."""
        if self.weights is None:                  # equal weights: the plain sum, no product per task
            return torch.stack(list(losses.values())).sum(), {t: 1.0 for t in losses}
        if set(self.weights) != set(losses):
            raise ValueError(f"StaticWeighting has weights for {sorted(self.weights)} "
                             f"but the losses are for {sorted(losses)}.")
        total = torch.stack([self.weights[t] * loss for t, loss in losses.items()]).sum()
        return total, dict(self.weights)


class EqualWeighting(StaticWeighting):
    """The plain sum of the task losses: the baseline every other method is measured against."""

    def __init__(self):
        super().__init__(None)


# ---------------------------------------------------------------------------------------------
# Dynamic loss weighting (chapter 5). Each method keeps the state it needs and gets the rest
# passed in: the batch's losses and the model in `backward`, the epoch's mean losses in `end_epoch`.


def _check_weights(weights: object) -> dict[str, float]:
    """Refuse static weights that are not a mapping from task name to a finite number >= 0."""
    if not isinstance(weights, Mapping):
        raise ValueError(f"StaticWeighting: weights must map each task's name to its weight, e.g. "
                         f"{{'a': 1.0, 'b': 2.0}}; got {type(weights).__name__} {weights!r}.")
    checked = {}
    for task, w in weights.items():
        if isinstance(w, Tensor) and w.numel() == 1:
            w = w.item()
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not (0 <= w < float("inf")):
            raise ValueError(f"StaticWeighting: the weight of task {task!r} must be a finite number >= 0, got {w!r}.")
        checked[str(task)] = float(w)
    return checked


def _task_names(tasks: Sequence[Task | str]) -> list[str]:
    """Task names from a list of `Task`s or names; refuse an empty list or repeated names."""
    names = [t.name if isinstance(t, Task) else str(t) for t in tasks]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"A weighting method needs distinct task names, got {names}.")
    return names


def _check_losses(names: list[str], losses: Mapping[str, object], method: str) -> None:
    """Raise a clear error when the losses name other tasks than the method was built for."""
    if set(losses) != set(names):
        unknown = sorted(set(losses) - set(names))
        missing = sorted(set(names) - set(losses))
        raise ValueError(f"{method} was built for tasks {names}, but the losses have "
                         f"unknown task(s) {unknown} and lack task(s) {missing}.")


class UncertaintyWeighting(LossWeighting):
    """Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018).

    Σₜ Lₜ/(2σₜ²) + log σₜ = Σₜ ½·exp(−sₜ)·Lₜ + ½·sₜ with a learned sₜ = log σₜ² per task. For a
    fixed model the minimum over sₜ is at σₜ² = Lₜ: for an MSE loss, σₜ is the task's RMSE.

    Every task gets this regression (Gaussian) form, classification tasks too. Kendall et al.
    derive Lₜ/σₜ² + log σₜ = exp(−sₜ)·Lₜ + ½·sₜ for a softmax classifier, whose optimum is
    σₜ² = 2Lₜ. At either optimum the weight on Lₜ is the same, 1/(2Lₜ); what differs is the σₜ
    reported (a factor √2) and the path sₜ takes there. One form for all tasks keeps `sigma()`
    comparable across tasks.
    """

    def __init__(self, tasks: Sequence[Task | str], init_log_var: float = 0.0):
        super().__init__()
        self.tasks = _task_names(tasks)
        self.log_var = nn.Parameter(torch.full((len(self.tasks),), float(init_log_var)))

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """Σₜ ½·exp(−sₜ)·Lₜ + ½·sₜ, and the weights ½·exp(−sₜ) = 1/(2σₜ²)."""
        _check_losses(self.tasks, losses, "UncertaintyWeighting")
        loss = torch.stack([losses[t] for t in self.tasks])
        precision = 0.5 * torch.exp(-self.log_var)
        total = (precision * loss + 0.5 * self.log_var).sum()
        return total, dict(zip(self.tasks, precision.detach().unbind()))

    def sigma(self) -> dict[str, float]:
        """The learned σₜ = exp(sₜ / 2) of each task."""
        return dict(zip(self.tasks, torch.exp(0.5 * self.log_var.detach()).tolist()))


def last_shared_layer(model: MultiTaskModel) -> Tensor:
    """The weight matrix of the last shared layer: where GradNorm measures the tasks' gradient norms."""
    matrices = [p for p in model.shared_parameters() if p.dim() >= 2]
    if not matrices:
        raise ValueError("The model has no shared weight matrix, so GradNorm has no layer to measure.")
    return matrices[-1]


def gradnorm_targets(norms: Tensor, losses: Tensor, initial_losses: Tensor, alpha: float) -> Tensor:
    """GradNorm's target gradient norms: mean(G)·rₜ^α, with rₜ the loss ratio Lₜ/Lₜ(0) over its mean."""
    ratio = losses / initial_losses
    return norms.mean() * (ratio / ratio.mean()) ** alpha


class GradNorm(Strategy):
    """GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, ICML 2018): tune wₜ so that the tasks'
    weighted gradient norms on the last shared layer W become Gₜ = ‖∇_W wₜLₜ‖ ≈ mean(G)·rₜ^α.

    Each step: the network gets the gradient of Σₜ wₜLₜ; then the weights take one Adam step (own
    optimizer, learning rate `lr`) on Σₜ |Gₜ − target_t| with the targets held constant, are kept
    positive and renormalized to sum to T. The initial losses Lₜ(0) are those of the first step.
    """

    def __init__(self, tasks: Sequence[Task | str], alpha: float = 1.5, lr: float = 0.025):
        super().__init__()
        if alpha < 0 or lr <= 0:
            raise ValueError(f"GradNorm needs alpha >= 0 and lr > 0, got alpha = {alpha}, lr = {lr}.")
        self.tasks, self.alpha, self.lr = _task_names(tasks), float(alpha), float(lr)
        self.register_buffer("weights", torch.ones(len(self.tasks)))
        self.register_buffer("initial_losses", torch.zeros(0))
        self.register_buffer("norms", torch.zeros(0))   # the last step's Gₜ, for plots
        self._optimizer: torch.optim.Optimizer | None = None

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Backpropagate Σₜ wₜLₜ, then move the weights toward equal-rate gradient norms."""
        _check_losses(self.tasks, losses, "GradNorm")
        loss = torch.stack([losses[t] for t in self.tasks])
        if self.initial_losses.numel() == 0:
            self.initial_losses = loss.detach().clone()
        if self._optimizer is None:
            self.weights.requires_grad_(True)
            self._optimizer = torch.optim.Adam([self.weights], lr=self.lr)
        used = dict(zip(self.tasks, self.weights.detach().clone().unbind()))  # before the update below
        layer = last_shared_layer(model)
        # ‖∇_W Lₜ‖ per task; Gₜ = wₜ·‖∇_W Lₜ‖ since wₜ is a scalar factor of Lₜ.
        raw = torch.stack([torch.autograd.grad(l, layer, retain_graph=True)[0].norm() for l in loss])
        (self.weights.detach() * loss).sum().backward()
        norms = self.weights * raw
        self.norms = norms.detach().clone()
        targets = gradnorm_targets(norms.detach(), loss.detach(), self.initial_losses, self.alpha)
        self._optimizer.zero_grad(set_to_none=True)
        self.weights.grad = torch.autograd.grad((norms - targets).abs().sum(), self.weights)[0]
        self._optimizer.step()
        with torch.no_grad():
            self.weights.clamp_(min=1e-3)
            self.weights.mul_(len(self.tasks) / self.weights.sum())
        return used


def dwa_weights(previous: Tensor, before: Tensor, temperature: float = 2.0) -> Tensor:
    """DWA's weights T·softmax(rₜ/τ) from the relative descent rₜ = Lₜ(k−1)/Lₜ(k−2) of the last two epochs."""
    ratio = previous / before
    return len(ratio) * torch.softmax(ratio / temperature, dim=0)


class DynamicWeightAverage(LossWeighting):
    """Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019): a task whose epoch loss fell
    less gets more weight, wₜ = T·softmax(rₜ/τ); equal weights for the first two epochs."""

    def __init__(self, tasks: Sequence[Task | str], temperature: float = 2.0):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"DWA's temperature must be positive, got {temperature}.")
        self.tasks, self.temperature = _task_names(tasks), float(temperature)
        self.history: list[Tensor] = []   # each epoch's mean training loss per task, in self.tasks order

    def current_weights(self) -> Tensor:
        """The weights of the current epoch, from the last two epochs' mean losses."""
        if len(self.history) < 2:
            return torch.ones(len(self.tasks))
        return dwa_weights(self.history[-1], self.history[-2], self.temperature)

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """Σₜ wₜLₜ with this epoch's DWA weights."""
        _check_losses(self.tasks, losses, "DynamicWeightAverage")
        weights = self.current_weights()
        loss = torch.stack([losses[t] for t in self.tasks])
        return (weights.to(loss.device) * loss).sum(), dict(zip(self.tasks, weights.tolist()))

    def end_epoch(self, train_losses: dict[str, float]) -> None:
        """Remember this epoch's mean training losses."""
        _check_losses(self.tasks, train_losses, "DynamicWeightAverage")
        self.history.append(torch.tensor([float(train_losses[t]) for t in self.tasks]))


def focal_weight(kpi: Tensor, gamma: float | Tensor = 2.0) -> Tensor:
    """DTP's task priority −(1 − κ)^γ·log κ: large for a task whose KPI κ ∈ (0, 1] is low (a hard task)."""
    kpi = kpi.clamp(1e-6, 1.0)
    return -((1 - kpi) ** gamma) * torch.log(kpi)


class DynamicTaskPrioritization(LossWeighting):
    """Dynamic Task Prioritization (Guo, Haque, Huang, Yeung & Fei-Fei, ECCV 2018): wₜ = FL(κ̄ₜ; γₜ).

    κ̄ₜ is an exponential moving average (factor `smoothing` on the past) of a KPI in (0, 1]. The
    paper uses accuracy-like KPIs; this strategy sees only the losses, so its KPI is κₜ = exp(−Lₜ)
    (for cross-entropy, the geometric-mean probability of the true class), or `kpi(task, loss)`.
    exp(−MSE) is no such KPI, so without a `kpi` a problem whose tasks are all regression tasks is
    refused (`applies_to`). `gamma` is one focusing parameter for every task, or a mapping from
    task name to γₜ (the paper allows one per task).
    """

    def __init__(self, tasks: Sequence[Task | str], gamma: float | Mapping[str, float] = 2.0,
                 smoothing: float = 0.9, kpi: Callable[[str, Tensor], Tensor] | None = None):
        super().__init__()
        self.tasks = _task_names(tasks)
        gammas = dict(gamma) if isinstance(gamma, Mapping) else {t: gamma for t in self.tasks}
        if set(gammas) != set(self.tasks) or not all(0 <= float(g) < float("inf") for g in gammas.values()):
            raise ValueError(f"DTP needs gamma >= 0 for each of the tasks {self.tasks}, got gamma = {gamma!r}.")
        if not 0 <= smoothing < 1:
            raise ValueError(f"DTP needs 0 <= smoothing < 1, got smoothing = {smoothing}.")
        if kpi is None and not self.applies_to(tasks):
            raise ValueError(f"DTP needs an accuracy-like KPI in (0, 1], and the tasks {self.tasks} are all "
                             "regression tasks (exp(−MSE) is no such KPI): pass kpi=(task, loss) -> KPI, "
                             "or use another weighting.")
        self.gamma = float(gamma) if not isinstance(gamma, Mapping) else {t: float(gammas[t]) for t in self.tasks}
        self.gammas = torch.tensor([float(gammas[t]) for t in self.tasks])   # γₜ in self.tasks order
        self.smoothing = float(smoothing)
        self.kpi = kpi or (lambda task, loss: torch.exp(-loss))
        self.register_buffer("average_kpi", torch.zeros(0))

    @staticmethod
    def applies_to(tasks: Sequence[Task | str]) -> bool:
        """Whether DTP's default KPI exp(−Lₜ) is accuracy-like for these tasks: not when every task is a regression task.

        Tasks given by name only have no known kind and are accepted.
        """
        return not all(isinstance(t, Task) and t.kind == "regression" for t in tasks)

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """Σₜ FL(κ̄ₜ)·Lₜ after updating the KPIs' moving average with this batch."""
        _check_losses(self.tasks, losses, "DynamicTaskPrioritization")
        loss = torch.stack([losses[t] for t in self.tasks])
        kpi = torch.stack([torch.as_tensor(self.kpi(t, losses[t].detach()), dtype=loss.dtype, device=loss.device)
                           for t in self.tasks])
        if self.average_kpi.numel() == 0:
            self.average_kpi = kpi
        else:
            self.average_kpi = self.smoothing * self.average_kpi + (1 - self.smoothing) * kpi
        gamma = self.gamma if isinstance(self.gamma, float) else self.gammas.to(loss.device, loss.dtype)
        weights = focal_weight(self.average_kpi, gamma)
        return (weights * loss).sum(), dict(zip(self.tasks, weights.detach().unbind()))


class RandomLossWeighting(LossWeighting):
    """Random Loss Weighting (Lin, Ye, Zhang & Tsang, TMLR 2022): fresh weights every step,
    T·softmax(z) with z ~ N(0, I), drawn from the strategy's own seeded generator (the sanity baseline).

    The paper's weights are softmax(z), summing to 1; these are T times that, summing to T with mean
    1 like equal weighting's, so that the same learning rate applies to both.
    """

    def __init__(self, tasks: Sequence[Task | str], seed: int = 0):
        super().__init__()
        self.tasks = _task_names(tasks)
        self.generator = torch.Generator().manual_seed(seed)

    def combine(self, losses: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """Σₜ wₜLₜ with newly drawn random weights (mean 1)."""
        _check_losses(self.tasks, losses, "RandomLossWeighting")
        weights = len(self.tasks) * torch.softmax(torch.randn(len(self.tasks), generator=self.generator), dim=0)
        loss = torch.stack([losses[t] for t in self.tasks])
        return (weights.to(loss.device) * loss).sum(), dict(zip(self.tasks, weights.tolist()))
