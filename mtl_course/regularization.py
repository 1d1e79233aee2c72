"""Penalties Ω added to the multi-task objective Σₜ wₜ·Lₜ + λ·Ω: on the shared weights, or between tasks' networks.

Each penalty is a small function of tensors that returns a scalar (unweighted: multiply by λ
yourself). To train with one, hand `fit` a function of the model, e.g.
`fit(..., penalty=lambda m: lam * soft_sharing_penalty(m.corresponding_weights()))`.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import Tensor


def l2_penalty(params: Iterable[Tensor]) -> Tensor:
    """Σ ‖W‖²_F over `params`: the classic (Frobenius / L2) weight penalty, e.g. on the shared weights."""
    params = list(params)
    if not params:
        raise ValueError("l2_penalty got no parameters (a model without shared parameters?).")
    return torch.stack([(p ** 2).sum() for p in params]).sum()


def stack_tasks(weights: Sequence[Tensor]) -> Tensor:
    """T corresponding weights of the same shape, each flattened into one row of a T×D matrix."""
    if len(weights) < 2:
        raise ValueError(f"Coupling tasks needs the weights of at least 2 tasks, got {len(weights)}.")
    shapes = {tuple(w.shape) for w in weights}
    if len(shapes) != 1:
        raise ValueError(f"Corresponding weights must have one shape, got {sorted(shapes)}.")
    return torch.stack([w.reshape(-1) for w in weights])


def soft_sharing_penalty(layers: Sequence[Sequence[Tensor]]) -> Tensor:
    """Σ_layers Σ_{a<b} ‖W_a − W_b‖²_F: soft parameter sharing (Duong et al., ACL 2015).

    `layers[l]` holds layer l's weight of every task. The penalty pulls corresponding layers of the
    task networks towards each other: 0 lets them be independent (single-task learning), a large
    weight forces them to be equal (hard sharing). Equals T·Σ_layers Σₐ ‖W_a − W̄‖²_F.
    """
    if not layers:
        raise ValueError("soft_sharing_penalty got no layers to couple.")
    total = []
    for layer in layers:
        w = stack_tasks(layer)                                   # (T, D)
        total.append((w.unsqueeze(0) - w.unsqueeze(1)).pow(2).sum() / 2)  # each pair once (no sqrt: smooth at 0)
    return torch.stack(total).sum()


def nuclear_norm(matrix: Tensor) -> Tensor:
    """‖M‖_* = Σᵢ σᵢ(M), the sum of singular values: the tightest convex surrogate of the rank."""
    if matrix.dim() != 2:
        raise ValueError(f"The nuclear norm needs a matrix, got a tensor of shape {tuple(matrix.shape)}.")
    return torch.linalg.svdvals(matrix).sum()


def trace_norm_penalty(layers: Sequence[Sequence[Tensor]]) -> Tensor:
    """Σ_layers ‖[vec W₁; …; vec W_T]‖_*: trace-norm coupling (Yang & Hospedales, ICLR 2017).

    Each layer's T corresponding weights are stacked into a T×D matrix (the paper's "last axis
    flattening" of the weight tensor) whose nuclear norm is penalized: it drives the tasks' weights
    into a low-dimensional subspace, so tasks share structure without being forced to be equal.
    """
    if not layers:
        raise ValueError("trace_norm_penalty got no layers to couple.")
    return torch.stack([nuclear_norm(stack_tasks(layer)) for layer in layers]).sum()
