"""Trunks, task heads, and the two basic models: single-task networks and hard parameter sharing.

Every model maps an input to `{task name: prediction}` and can say which of its parameters are
shared by all tasks, which is what the weighting and gradient methods of later chapters need.
"""
from __future__ import annotations

from typing import Iterator, Sequence

from torch import Tensor, nn

from .tasks import Task


class MLP(nn.Sequential):
    """Fully connected layers, each followed by a ReLU: in_dim → widths[0] → … → widths[-1]."""

    def __init__(self, in_dim: int, widths: Sequence[int], activation: type[nn.Module] = nn.ReLU):
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
