"""Trunks, task heads, and the basic models: single-task networks, hard and partial parameter sharing.

Every model maps an input to `{task name: prediction}` and can say which of its parameters are
shared by all tasks, which is what the weighting and gradient methods of later chapters need.
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

import torch
from torch import Tensor, nn

from .arguments import whole
from .tasks import Task, check_tasks


class MLP(nn.Sequential):
    """Fully connected layers, each followed by a ReLU: in_dim → widths[0] → … → widths[-1]."""

    def __init__(self, in_dim: int, widths: Sequence[int], activation: type[nn.Module] = nn.ReLU):
        whole("in_dim", in_dim)
        if isinstance(widths, int):
            raise TypeError(f"widths must be a list of layer widths, got the number {widths}; write [{widths}].")
        for i, width in enumerate(widths):
            whole(f"widths[{i}]", width)
        layers: list[nn.Module] = []
        for width in widths:
            layers += [nn.Linear(in_dim, width), activation()]
            in_dim = width
        super().__init__(*layers)
        self.out_dim = in_dim


class CNN(nn.Sequential):
    """A small image trunk: stride-2 3×3 convolutions (cheaper than max-pooling on a CPU), then one dense layer."""

    def __init__(self, in_channels: int = 1, channels: Sequence[int] = (32, 64, 64), hidden: int = 128,
                 image_size: int = 36):
        for name, value in (("in_channels", in_channels), ("hidden", hidden), ("image_size", image_size),
                            *((f"channels[{i}]", c) for i, c in enumerate(channels))):
            whole(name, value)
        layers: list[nn.Module] = []
        size = image_size
        for out_channels in channels:
            layers += [nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1), nn.ReLU()]
            in_channels, size = out_channels, (size + 1) // 2
        layers += [nn.Flatten(), nn.Linear(in_channels * size * size, hidden), nn.ReLU()]
        super().__init__(*layers)
        self.out_dim = hidden


def task_heads(tasks: Sequence[Task], in_dim: int) -> nn.ModuleDict:
    """One linear output layer per task, sized by the task's `out_dim`."""
    tasks = check_tasks(tasks)   # refuses repeated names: they would share a head
    if not tasks:
        raise ValueError("A multi-task model needs at least one task, got an empty list of tasks.")
    whole("in_dim", in_dim)
    return nn.ModuleDict({t.name: nn.Linear(in_dim, t.out_dim) for t in tasks})


class MultiTaskModel(nn.Module):
    """Base class: `forward(x)` returns `{task: prediction}`; `shared_parameters()` lists what tasks share."""

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters that every task's loss reaches."""
        raise NotImplementedError

    def task_parameters(self) -> list[nn.Parameter]:
        """All other trainable parameters: each belongs to one task."""
        shared = {id(p) for p in self.shared_parameters()}
        return [p for p in self.parameters() if p.requires_grad and id(p) not in shared]


class HardSharing(MultiTaskModel):
    """Hard parameter sharing (Caruana, 1997): one shared trunk, one head per task."""

    def __init__(self, trunk: nn.Module, tasks: Sequence[Task], feature_dim: int | None = None):
        super().__init__()
        if feature_dim is None and not hasattr(trunk, "out_dim"):
            raise ValueError(f"The trunk ({type(trunk).__name__}) has no out_dim attribute: pass feature_dim, "
                             "the size of the features it returns (mc.MLP and mc.CNN set out_dim themselves).")
        self.trunk = trunk
        self.heads = task_heads(tasks, feature_dim or trunk.out_dim)

    def forward(self, x: Tensor, return_features: bool = False):
        """Predictions for every task (and the shared representation, if asked for)."""
        z = self.trunk(x)
        out = {name: head(z) for name, head in self.heads.items()}
        return (out, z) if return_features else out

    def shared_parameters(self) -> list[nn.Parameter]:
        """The trunk's parameters."""
        return list(self.trunk.parameters())


def single_task_model(trunk: nn.Module, task: Task) -> HardSharing:
    """A single-task network: the same trunk and head as hard sharing, with one task, so the two differ only in sharing."""
    return HardSharing(trunk, [task])


def count_parameters(model: nn.Module | Iterator[nn.Parameter]) -> int:
    """Number of trainable scalars in a model (or in an iterable of parameters)."""
    params = model.parameters() if isinstance(model, nn.Module) else model
    return sum(p.numel() for p in params if p.requires_grad)


def trunk_layers(trunk: nn.Sequential) -> list[nn.Sequential]:
    """Split a sequential trunk into its layers: each starts at a module with parameters (Linear, Conv)
    and keeps the parameter-free modules that follow it (activation, Flatten)."""
    layers: list[list[nn.Module]] = []
    for module in trunk:
        if any(True for _ in module.parameters()) or not layers:
            layers.append([])
        layers[-1].append(module)
    return [nn.Sequential(*modules) for modules in layers]


class PartialSharing(MultiTaskModel):
    """Share the first `shared_layers` layers of a trunk; every task gets its own copy of the rest.

    `make_trunk()` builds a fresh trunk (an `nn.Sequential` with `out_dim`, e.g. `lambda: CNN()`).
    shared_layers = 0 gives one separate network per task (single-task learning); shared_layers =
    the trunk's depth gives hard sharing. In between lies the sharing-depth sweep of chapter 2.
    """

    def __init__(self, make_trunk: Callable[[], nn.Sequential], tasks: Sequence[Task], shared_layers: int):
        super().__init__()
        shared = make_trunk()
        depth = len(trunk_layers(shared))
        if isinstance(shared_layers, bool) or not isinstance(shared_layers, int) or not 0 <= shared_layers <= depth:
            raise ValueError(f"shared_layers must lie in [0, {depth}] (the trunk has {depth} layers), "
                             f"got {shared_layers}.")
        self.depth, self.shared_layers = depth, shared_layers
        self.shared = nn.Sequential(*trunk_layers(shared)[:shared_layers])
        self.private = nn.ModuleDict({t.name: nn.Sequential(*trunk_layers(make_trunk())[shared_layers:])
                                      for t in tasks})
        self.heads = task_heads(tasks, shared.out_dim)

    def forward(self, x: Tensor, return_features: bool = False):
        """Predictions for every task (and the shared representation, the input when nothing is shared)."""
        z = self.shared(x)
        out = {name: head(self.private[name](z)) for name, head in self.heads.items()}
        return (out, z) if return_features else out

    def shared_parameters(self) -> list[nn.Parameter]:
        """The parameters of the shared layers (none when shared_layers = 0)."""
        return list(self.shared.parameters())


class IndependentMLPs(MultiTaskModel):
    """T separate MLPs (one per task, nothing shared), computed in one batched pass.

    Mathematically the same as T `single_task_model(MLP(...), task)` trained on the same batches
    (the summed loss gives each network exactly its own task's gradient), but one matrix product per
    layer instead of T: many single-task baselines train as fast as one. Every task must have the
    same `out_dim`.
    """

    def __init__(self, in_dim: int, widths: Sequence[int], tasks: Sequence[Task],
                 activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        out_dims = {t.out_dim for t in tasks}
        if len(out_dims) != 1:
            raise ValueError(f"IndependentMLPs needs tasks with one common out_dim, got "
                             f"{ {t.name: t.out_dim for t in tasks} }.")
        self.names = [t.name for t in tasks]
        sizes = [in_dim, *widths, out_dims.pop()]
        T = len(self.names)
        # nn.Linear's default initialization, U(-1/√fan_in, 1/√fan_in), for every task's layer.
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.empty(T, a, b).uniform_(-a ** -0.5, a ** -0.5)) for a, b in zip(sizes, sizes[1:])])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.empty(T, 1, b).uniform_(-a ** -0.5, a ** -0.5)) for a, b in zip(sizes, sizes[1:])])
        self.activation = activation()

    def forward(self, x: Tensor, return_features: bool = False):
        """Every task's prediction: layer by layer, h ← act(h @ W + b) with one (T, ., .) batched product."""
        h = x.unsqueeze(0).expand(len(self.names), *x.shape)                    # (T, N, in_dim)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = self.activation(h)
        out = dict(zip(self.names, h.unbind(0)))
        return (out, x) if return_features else out

    def shared_parameters(self) -> list[nn.Parameter]:
        """None: every parameter belongs to one task."""
        return []

    def load_single_task(self, name: str, model: HardSharing) -> None:
        """Copy the weights of a `single_task_model(MLP(...), task)` into task `name`'s network."""
        if name not in self.names:
            raise KeyError(f"Unknown task {name!r}; this model has tasks {self.names}.")
        linears = [m for m in model.trunk if isinstance(m, nn.Linear)] + [model.heads[name]]
        if len(linears) != len(self.weights):
            raise ValueError(f"The single-task model has {len(linears)} linear layers, this model {len(self.weights)}.")
        t = self.names.index(name)
        with torch.no_grad():
            for linear, w, b in zip(linears, self.weights, self.biases):
                if linear.weight.T.shape != w[t].shape:
                    raise ValueError(f"Layer shape {tuple(linear.weight.T.shape)} does not match {tuple(w[t].shape)}.")
                w[t].copy_(linear.weight.T)
                b[t, 0].copy_(linear.bias)
