"""Task attention: one shared trunk, and per-task soft masks that pick from its features after every stage.

Every mask starts fully open: it passes the shared features through unchanged, so an untrained model computes
hard sharing (the trunk's features, one head per task), and training moves each task away from it as it needs.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from .models import MultiTaskModel, task_heads, trunk_layers
from .tasks import Task


def _mask_layer(stage: nn.Sequential) -> nn.Module:
    """A mask generator for a stage's output: a 1×1 convolution after a Conv2d, a linear layer after a Linear.

    Its weight and bias start at zero, so every mask starts at 2σ(0) = 1 (hard sharing), where σ is far from
    saturated: the gradient reaches the mask's parameters from the first step.
    """
    layer = stage[0]   # a Conv2d or a Linear: TaskAttention checks every stage before drawing any weights
    if isinstance(layer, nn.Conv2d):
        mask = nn.Conv2d(layer.out_channels, layer.out_channels, kernel_size=1)
    else:
        mask = nn.Linear(layer.out_features, layer.out_features)
    nn.init.zeros_(mask.weight)
    nn.init.zeros_(mask.bias)
    return mask


def mask(logits: Tensor) -> Tensor:
    """A task's mask from its mask layer's output: 2σ(logits), in (0, 2), exactly 1 at zero logits.

    σ alone would start at 0.5 and halve every feature at every stage (four stages: 1/16 of the signal); the
    factor 2 lets the mask start as the identity where its slope, 2σ'(0) = 1/2, is far from saturated, and
    still close a feature (towards 0) or stress it (towards 2).
    """
    return 2 * torch.sigmoid(logits)


def _before_flatten(stage: nn.Sequential) -> tuple[nn.Sequential, nn.Sequential]:
    """Split a stage where it flattens, so that a convolution's mask acts on (N, C, H, W) features."""
    cut = next((i for i, m in enumerate(stage) if isinstance(m, nn.Flatten)), len(stage))
    return stage[:cut], stage[cut:]


class TaskAttention(MultiTaskModel):
    """Per-task soft attention over shared features, in the spirit of MTAN (Liu, Johns & Davison,
    "End-to-End Multi-Task Learning with Attention", CVPR 2019).

    The stages of the trunk built by `make_trunk()` (its `trunk_layers`) are shared. Task t runs
    them on its own path and after stage k keeps aₜᵏ = 2σ(Gₜᵏ(u)) ⊙ u, with u = stageₖ(aₜᵏ⁻¹) and aₜ⁰ = x:
    a mask in (0, 2) per feature, computed from the features by the task's own 1×1 convolution
    (a linear layer for flat features). Its head reads the last stage's masked features.
    Gₜᵏ starts at zero, so every mask starts at exactly 1: the untrained model is hard sharing.
    Simpler than MTAN: one layer per mask (MTAN: two 1×1 convolutions with batch norm, masks σ(·) in (0, 1)), and no
    separate attention branch (MTAN runs the shared network once and computes each mask from its
    features and the task's previous masked ones); here the shared weights run once per task, as
    the columns of a cross-stitch network do.
    """

    def __init__(self, make_trunk: Callable[[], nn.Sequential], tasks: Sequence[Task]):
        super().__init__()
        if isinstance(make_trunk, nn.Module) or not callable(make_trunk):
            raise TypeError("TaskAttention needs a function that builds a trunk (e.g. lambda: mc.CNN()), "
                            "not a trunk, as the other architectures of this chapter do.")
        if len(tasks) < 2:
            raise ValueError(f"Task attention shares a trunk among at least 2 tasks, got {len(tasks)}.")
        trunk = make_trunk()
        if not isinstance(trunk, nn.Sequential):
            raise TypeError(f"make_trunk must build an nn.Sequential (split into stages), got {type(trunk).__name__}.")
        self.names = [t.name for t in tasks]
        self.stages = nn.ModuleList(trunk_layers(trunk))
        for stage in self.stages:
            if not isinstance(stage[0], (nn.Conv2d, nn.Linear)):
                raise TypeError(f"TaskAttention masks stages that start with Conv2d or Linear, got {type(stage[0]).__name__}.")
        self.heads = task_heads(tasks, trunk.out_dim)   # drawn before the masks: the same start as HardSharing's
        self.masks = nn.ModuleList([nn.ModuleDict({name: _mask_layer(stage) for name in self.names})
                                    for stage in self.stages])

    def _path(self, name: str, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Task `name`'s features after the last stage, and its mask at every stage."""
        a, masks = x, []
        for stage, mask_layers in zip(self.stages, self.masks):
            body, tail = _before_flatten(stage)
            u = body(a)
            masks.append(mask(mask_layers[name](u)))
            a = tail(masks[-1] * u)
        return a, masks

    def attention(self, x: Tensor) -> dict[str, list[Tensor]]:
        """Each task's masks 2σ(Gₜᵏ(u)), one per stage: how much it keeps of each feature (1: all of it)."""
        return {name: self._path(name, x)[1] for name in self.names}

    def forward(self, x: Tensor, return_features: bool = False) -> dict[str, Tensor]:
        """Each task's prediction from its masked path through the shared stages."""
        if return_features:
            raise ValueError("TaskAttention has no single shared representation: each task masks the "
                             "shared stages' features with its own attention.")
        return {name: self.heads[name](self._path(name, x)[0]) for name in self.names}

    def shared_parameters(self) -> list[nn.Parameter]:
        """The trunk's stages (every task's path runs through them); masks and heads are the task's own."""
        return list(self.stages.parameters())
