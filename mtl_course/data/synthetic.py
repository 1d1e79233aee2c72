"""Synthetic multi-task problems whose relatedness we control exactly."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..arguments import positive, whole
from .batches import MultiTaskData, Splits


def _check_sizes(**sizes: object) -> None:
    """Refuse sample counts and dimensions below 1 (a negative n_train would move test rows into training)."""
    for name, value in sizes.items():
        whole(name, value, minimum=1)


def _split(data: MultiTaskData, n_train: int, n_val: int) -> Splits:
    """The first n_train rows for training, the next n_val for validation, the rest for testing."""
    cut1, cut2 = n_train, n_train + n_val
    return Splits(data.subset(slice(0, cut1)), data.subset(slice(cut1, cut2)), data.subset(slice(cut2, len(data))))


def _tanh_tasks(basis: Tensor, g: torch.Generator, names: list[str], n: int, noise: float,
                data_seed: int) -> MultiTaskData:
    """n samples of yₜ = aₜᵀ tanh(2·Bₜᵀx) / sₜ + noise·ε for the task bases Bₜ = basis[t] (T×d×k).

    aₜ and the scales sₜ (noise-free signal of unit variance) come from the structure generator `g`;
    x and the noise from `data_seed`.
    """
    n_tasks, d, k = basis.shape
    a = torch.randn(n_tasks, k, generator=g)                                 # (T, k)
    probe = torch.randn(10_000, d, generator=g)                              # fixes the scale sₜ
    signal = lambda x: torch.einsum("tk,ntk->nt", a, torch.tanh(2 * torch.einsum("nd,tdk->ntk", x, basis)))
    scale = signal(probe).std(dim=0)
    g = torch.Generator().manual_seed(data_seed)
    x = torch.randn(n, d, generator=g)
    y = signal(x) / scale + noise * torch.randn(n, n_tasks, generator=g)
    return MultiTaskData(x, {name: y[:, t].contiguous() for t, name in enumerate(names)})


def _check_correlation(p: float) -> None:
    """Refuse a task correlation outside [-1, 1] (it would make sqrt(1 - p²) imaginary)."""
    if not -1.0 <= p <= 1.0 or math.isnan(p):
        raise ValueError(f"Task correlation p must lie in [-1, 1], got p = {p}.")


def correlated_regression(p: float, n_train: int = 10_000, n_val: int = 2_000, n_test: int = 2_000,
                          d: int = 100, m: int = 10, c: float = 1.0, noise: float = 0.1,
                          seed: int = 0, structure_seed: int = 0,
                          device: torch.device | str = "cpu") -> Splits:
    """Two regression tasks "t1", "t2" whose weight vectors have cosine similarity p.

    Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
    Mixture-of-Experts" (MMoE), KDD 2018: with orthonormal u1, u2,
        w1 = c·u1,  w2 = c·(p·u1 + sqrt(1 - p²)·u2),
        y_t = w_tᵀx + Σᵢ sin(αᵢ·w_tᵀx + βᵢ) + noise,  x ~ N(0, I_d).
    The structure (u1, u2, α, β; shared by both tasks, as in the paper) comes from `structure_seed`
    and stays fixed across `seed`, which draws only the samples and the noise.
    """
    _check_correlation(p)
    _check_sizes(n_train=n_train, n_val=n_val, n_test=n_test, d=d)
    whole("m", m, minimum=0)   # m = 0: no sine terms, y_t = w_tᵀx
    if d < 2:
        raise ValueError(f"d must be at least 2 (two orthonormal task directions), got d = {d}.")
    positive("noise", noise, zero=True)
    g = torch.Generator().manual_seed(structure_seed)
    u, _ = torch.linalg.qr(torch.randn(d, 2, generator=g))  # two orthonormal columns
    u1, u2 = u[:, 0], u[:, 1]
    w = torch.stack([c * u1, c * (p * u1 + math.sqrt(1 - p * p) * u2)], dim=1)  # (d, 2)
    alpha, beta = torch.randn(m, generator=g), torch.randn(m, generator=g)

    g = torch.Generator().manual_seed(10_000 + seed)
    n = n_train + n_val + n_test
    x = torch.randn(n, d, generator=g)
    z = x @ w                                                          # (n, 2)
    y = z + torch.sin(alpha * z.unsqueeze(-1) + beta).sum(-1) + noise * torch.randn(n, 2, generator=g)
    data = MultiTaskData(x, {"t1": y[:, 0].contiguous(), "t2": y[:, 1].contiguous()})
    return _split(data, n_train, n_val).to(device)


def label_correlation(data: MultiTaskData, a: str = "t1", b: str = "t2") -> float:
    """Pearson correlation of two tasks' targets: how related the labels look from outside."""
    ya, yb = data.y[a].cpu().double(), data.y[b].cpu().double()   # on the CPU: MPS has no float64
    return float(torch.corrcoef(torch.stack([ya, yb]))[0, 1])


def low_rank_regression(n_tasks: int = 20, n_train: int = 100, n_val: int = 100, n_test: int = 2_000,
                        d: int = 50, k: int = 4, rho: float = 1.0, noise: float = 0.1, seed: int = 0,
                        structure_seed: int = 0, device: torch.device | str = "cpu") -> Splits:
    """Many regression tasks "t00", "t01", … built on a k-dimensional representation of x ∈ R^d.

    Each task reads its own k directions Bₜ (d×k); a fraction `rho` of those k columns is the same
    for every task, the rest is private to the task (rho = 1: one shared representation, as in
    Maurer, Pontil & Romera-Paredes, "The Benefit of Multitask Representation Learning", JMLR 2016;
    rho = 0: unrelated tasks). yₜ = aₜᵀ tanh(2·Bₜᵀx) / sₜ + noise·ε, where sₜ scales the
    noise-free signal to unit variance, so an MSE of 1 is what predicting zero costs.
    The structure (B, a, s) comes from `structure_seed`; `seed` draws only the samples and the noise.
    """
    if not 0.0 <= rho <= 1.0 or math.isnan(rho):
        raise ValueError(f"The shared fraction rho must lie in [0, 1], got rho = {rho}.")
    _check_sizes(n_tasks=n_tasks, n_train=n_train, n_val=n_val, n_test=n_test, d=d, k=k)
    positive("noise", noise, zero=True)
    n_shared = round(rho * k)
    g = torch.Generator().manual_seed(structure_seed)
    shared = torch.randn(d, n_shared, generator=g) / math.sqrt(d)
    basis = torch.stack([torch.cat([shared, torch.randn(d, k - n_shared, generator=g) / math.sqrt(d)], dim=1)
                         for _ in range(n_tasks)])                           # (T, d, k)
    names = [f"t{t:0{max(len(str(n_tasks - 1)), 2)}d}" for t in range(n_tasks)]
    data = _tanh_tasks(basis, g, names, n_train + n_val + n_test, noise, 20_000 + seed)
    return _split(data, n_train, n_val).to(device)


def grouped_regression(group_sizes: tuple[int, ...] = (2, 2), n_train: int = 100, n_val: int = 100,
                       n_test: int = 2_000, d: int = 50, k: int = 4, noise: float = 0.1, seed: int = 0,
                       structure_seed: int = 0, device: torch.device | str = "cpu") -> Splits:
    """Regression tasks in groups of known structure: tasks of one group share their k directions, groups share none.

    Group g draws its own representation B_g (d×k); task t of group g is yₜ = aₜᵀ tanh(2·B_gᵀx) / sₜ + noise·ε,
    as in `low_rank_regression` with rho = 1 inside a group and rho = 0 across groups. Tasks are named
    "t0", "t1", … in group order, so (2, 2) gives the related pairs {t0, t1} and {t2, t3}.
    The structure comes from `structure_seed`; `seed` draws only the samples and the noise.
    """
    if not group_sizes or any(int(s) != s or s < 1 for s in group_sizes):
        raise ValueError(f"group_sizes must be positive whole numbers of tasks, got {group_sizes}.")
    _check_sizes(n_train=n_train, n_val=n_val, n_test=n_test, d=d, k=k)
    positive("noise", noise, zero=True)
    g = torch.Generator().manual_seed(structure_seed)
    bases = [torch.randn(d, k, generator=g) / math.sqrt(d) for _ in group_sizes]
    basis = torch.stack([b for b, size in zip(bases, group_sizes) for _ in range(size)])   # (T, d, k)
    names = [f"t{t}" for t in range(len(basis))]
    data = _tanh_tasks(basis, g, names, n_train + n_val + n_test, noise, 30_000 + seed)
    return _split(data, n_train, n_val).to(device)
