"""Cross-stitch networks: one network per task, linked after every stage by a learned mixing unit."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from .models import MultiTaskModel, task_heads, trunk_layers
from .tasks import Task


class CrossStitch(MultiTaskModel):
    """Cross-stitch units (Misra, Shrivastava, Gupta & Hebert, "Cross-stitch Networks for Multi-task
    Learning", CVPR 2016): one column per task, and after each stage k a learned T×T matrix αᵏ mixes
    the columns' outputs, x̃ₜ = Σₛ αᵏₜₛ·hₛ, before they enter the next stage (or the heads).

    `make_trunk()` builds one column (an `nn.Sequential` with `out_dim`, e.g. `lambda: mc.CNN()`);
    its stages are those of `trunk_layers`. `init = (a, b)` starts every unit with a on the diagonal
    and b everywhere else (the paper's (0.9, 0.1) for two tasks). The identity unit, (1, 0), gives
    separate networks, one per task: single-task learning in one model.
    """

    def __init__(self, make_trunk: Callable[[], nn.Sequential], tasks: Sequence[Task],
                 init: tuple[float, float] = (0.9, 0.1)):
        super().__init__()
        if isinstance(make_trunk, nn.Module) or not callable(make_trunk):
            raise TypeError("CrossStitch needs a function that builds a trunk (e.g. lambda: mc.CNN()), "
                            "not a trunk: each task needs a column of its own.")
        if len(tasks) < 2:
            raise ValueError(f"Cross-stitch units link at least 2 tasks, got {len(tasks)}.")
        if len(init) != 2:
            raise ValueError(f"init must be (diagonal, off-diagonal), got {init}.")
        self.names = [t.name for t in tasks]
        trunks = [make_trunk() for _ in tasks]
        if len({id(t) for t in trunks}) != len(trunks):
            raise ValueError("make_trunk returned the same module twice: each task needs a column of its own.")
        if not all(isinstance(t, nn.Sequential) for t in trunks):
            raise TypeError(f"make_trunk must build an nn.Sequential (split into stages), got {type(trunks[0]).__name__}.")
        stages = [trunk_layers(t) for t in trunks]
        self.columns = nn.ModuleDict({name: nn.ModuleList(s) for name, s in zip(self.names, stages)})
        T, depth = len(tasks), len(stages[0])
        start = torch.full((T, T), float(init[1])).fill_diagonal_(float(init[0]))
        self.units = nn.ParameterList([nn.Parameter(start.clone()) for _ in range(depth)])
        self.heads = task_heads(tasks, trunks[0].out_dim)

    def forward(self, x: Tensor, return_features: bool = False) -> dict[str, Tensor]:
        """Every column runs its stage on its (mixed) input; a unit mixes the outputs; each head reads its column."""
        if return_features:
            raise ValueError("CrossStitch has no single shared representation: each task has its own column.")
        h = [x] * len(self.names)
        for k, alpha in enumerate(self.units):
            outputs = torch.stack([self.columns[name][k](h_t) for name, h_t in zip(self.names, h)])  # (T, N, ...)
            h = list(torch.einsum("ts,s...->t...", alpha, outputs).unbind(0))
        return {name: self.heads[name](h_t) for name, h_t in zip(self.names, h)}

    def mixing_matrices(self) -> list[Tensor]:
        """The learned T×T units, one per stage (row t: how much task t's next stage reads from each column)."""
        return [alpha.detach().clone() for alpha in self.units]

    def shared_parameters(self) -> list[nn.Parameter]:
        """Columns and units: once the units mix the columns, every task's loss reaches all of them.

        The units come first, so that the last weight matrix listed (where GradNorm measures) is a
        column's last layer, not a unit.
        """
        return list(self.units) + [p for name in self.names for p in self.columns[name].parameters()]
