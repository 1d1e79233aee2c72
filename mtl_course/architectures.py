"""Architectures beyond hard sharing. Soft parameter sharing: one network per task, coupled by a penalty."""
from __future__ import annotations

from typing import Callable, Sequence

from torch import Tensor, nn

from .models import MultiTaskModel, task_heads
from .tasks import Task


class SoftSharing(MultiTaskModel):
    """One trunk and head per task, with corresponding layers (Duong et al., ACL 2015).

    Nothing is shared by construction; `corresponding_weights()` lists each trunk parameter of every
    task, for a penalty such as `soft_sharing_penalty` or `trace_norm_penalty` to couple them.
    Without a penalty this is single-task learning, trained in one model. With `same_init` every
    trunk starts from the same weights: hidden units then correspond from the first step, so a large
    penalty keeps the trunks equal (hard sharing) instead of averaging unrelated units.
    """

    def __init__(self, make_trunk: Callable[[], nn.Module], tasks: Sequence[Task], feature_dim: int | None = None,
                 same_init: bool = True):
        super().__init__()
        if isinstance(make_trunk, nn.Module):
            raise TypeError("SoftSharing needs a function that builds a trunk (e.g. lambda: mc.MLP(50, [8])), "
                            "not a trunk: one module reused by every task would be hard sharing.")
        if len(tasks) < 2:
            raise ValueError(f"Soft sharing couples at least 2 tasks, got {len(tasks)}.")
        self.trunks = nn.ModuleDict({t.name: make_trunk() for t in tasks})
        trunks = list(self.trunks.values())
        if len({id(t) for t in trunks}) != len(trunks):
            raise ValueError("make_trunk returned the same module twice: each task needs a trunk of its own.")
        layouts = {tuple((n, tuple(p.shape)) for n, p in t.named_parameters()) for t in trunks}
        if len(layouts) != 1:
            raise ValueError("The task trunks differ in their layers; soft sharing needs corresponding layers.")
        if same_init:
            for trunk in trunks[1:]:
                trunk.load_state_dict(trunks[0].state_dict())
        self.heads = task_heads(tasks, feature_dim or trunks[0].out_dim)

    def forward(self, x: Tensor, return_features: bool = False) -> dict[str, Tensor]:
        """Each task's prediction from its own trunk and head."""
        if return_features:
            raise ValueError("SoftSharing has no shared representation: each task has its own features.")
        return {name: self.heads[name](trunk(x)) for name, trunk in self.trunks.items()}

    def corresponding_weights(self) -> list[list[nn.Parameter]]:
        """For each trunk parameter (in order), the list of that parameter in every task's trunk."""
        per_task = [list(trunk.parameters()) for trunk in self.trunks.values()]
        return [list(layer) for layer in zip(*per_task)]

    def shared_parameters(self) -> list[nn.Parameter]:
        """None: no parameter is reached by every task's loss; only a penalty ties the tasks together."""
        return []
