"""Multi-gate mixture of experts: shared experts, one softmax gate per task."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn

from .models import MultiTaskModel, task_heads
from .tasks import Task


def _out_dim(module: nn.Module, what: str) -> int:
    """A module's declared output width (`out_dim`, as `MLP` and `CNN` have), or a clear error."""
    if not isinstance(getattr(module, "out_dim", None), int):
        raise ValueError(f"The {what} must say its output width in an `out_dim` attribute (mc.MLP does), "
                         f"got a {type(module).__name__} without one.")
    return module.out_dim


class MMoE(MultiTaskModel):
    """Multi-gate Mixture-of-Experts (Ma, Zhao, Yi, Chen, Hong & Chi, "Modeling Task Relationships in
    Multi-task Learning with Multi-gate Mixture-of-Experts", KDD 2018).

    E experts fᵢ (built by `make_expert()`, each with `out_dim`) all read the input; task t mixes them
    with its own gate, gₜ(x) = softmax(Wₜx) over the experts (an image x is flattened for the gate):
    zₜ = Σᵢ gₜ(x)ᵢ·fᵢ(x); then an optional tower (built by `tower()`, one per task) and the task's head.
    With one expert every gate is 1 and this is the shared-bottom model, `mc.HardSharing` (plus
    towers): the baseline MMoE is compared with.
    """

    def __init__(self, make_expert: Callable[[], nn.Module], n_experts: int, tasks: Sequence[Task],
                 in_dim: int, tower: Callable[[], nn.Module] | None = None):
        super().__init__()
        if isinstance(make_expert, nn.Module) or not callable(make_expert):
            raise TypeError("MMoE needs a function that builds an expert (e.g. lambda: mc.MLP(100, [16])), "
                            "not an expert: one module reused would be a single expert.")
        if isinstance(tower, nn.Module):
            raise TypeError("tower must be a function that builds a tower (e.g. lambda: mc.MLP(16, [8])), not a module.")
        if int(n_experts) != n_experts or n_experts < 1:
            raise ValueError(f"MMoE needs n_experts >= 1 (a whole number), got {n_experts}.")
        if len(tasks) < 1 or len({t.name for t in tasks}) != len(tasks):
            raise ValueError(f"MMoE needs at least one task and distinct names, got {[t.name for t in tasks]}.")
        if int(in_dim) != in_dim or in_dim < 1:
            raise ValueError(f"in_dim must be the input width (>= 1), got {in_dim}.")
        self.in_dim = int(in_dim)
        self.experts = nn.ModuleList([make_expert() for _ in range(int(n_experts))])
        dims = {_out_dim(e, "expert") for e in self.experts}
        if len(dims) != 1 or len({id(e) for e in self.experts}) != len(self.experts):
            raise ValueError("make_expert must build a new expert of the same out_dim on every call.")
        dim = dims.pop()
        self.gates = nn.ModuleDict({t.name: nn.Linear(self.in_dim, int(n_experts)) for t in tasks})
        self.towers = nn.ModuleDict({t.name: tower() for t in tasks}) if tower is not None else None
        head_dim = _out_dim(next(iter(self.towers.values())), "tower") if self.towers is not None else dim
        self.heads = task_heads(tasks, head_dim)

    def _check_input(self, x: Tensor) -> None:
        """Refuse inputs without in_dim values per sample: a gate is a linear map of the (flattened) input."""
        if x.dim() < 2 or x[0].numel() != self.in_dim:
            raise ValueError(f"MMoE expects inputs of shape (N, {self.in_dim}) (or images of {self.in_dim} "
                             f"pixels, which the gates read flattened), got {tuple(x.shape)}.")

    def expert_outputs(self, x: Tensor) -> Tensor:
        """Every expert's output, stacked: (N, E, out_dim)."""
        self._check_input(x)
        return torch.stack([expert(x) for expert in self.experts], dim=1)

    def gate_weights(self, x: Tensor) -> dict[str, Tensor]:
        """Each task's gate, softmax(Wₜx): (N, E), rows summing to 1, how much it reads from each expert."""
        self._check_input(x)
        return {name: torch.softmax(gate(x.flatten(1)), dim=-1) for name, gate in self.gates.items()}

    def forward(self, x: Tensor, return_features: bool = False):
        """Predictions for every task (and the experts' outputs, the representation all tasks share, if asked)."""
        experts = self.expert_outputs(x)
        out = {}
        for name, g in self.gate_weights(x).items():
            z = torch.einsum("ne,ned->nd", g, experts)
            if self.towers is not None:
                z = self.towers[name](z)
            out[name] = self.heads[name](z)
        return (out, experts) if return_features else out

    def shared_parameters(self) -> list[nn.Parameter]:
        """The experts' parameters (every gate reads every expert); gates, towers and heads are the task's own."""
        return list(self.experts.parameters())
