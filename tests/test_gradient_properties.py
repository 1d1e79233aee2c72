"""Properties every gradient method must have, on random and degenerate T×D matrices (float64).

The families are the hard cases of issue 15: random, nearly parallel rows, an exactly opposite pair,
a zero row, rows scaled by 1e−6 and 1e6, duplicate rows, more tasks than dimensions, and 0 inside
the convex hull. Tolerances are relative to the gradients' own norms, so they hold at every scale.
"""
from __future__ import annotations

import pytest
import torch

import mtl_course as mc
from mtl_course.gradients import cagrad, imtl_g, mgda, pcgrad

FAMILIES = ["random", "nearly_parallel", "opposite", "zero_row", "scaled", "duplicates", "zero_in_hull"]
SHAPES = [(2, 5), (3, 5), (10, 5), (10, 50), (5, 1000)]          # (10, 5): more tasks than dimensions
# Families with 0 in the convex hull of the gradients for every shape: Pareto-stationary points
STATIONARY = {"opposite", "zero_row", "zero_in_hull"}


def family(name: str, T: int, D: int, seed: int, device: torch.device) -> torch.Tensor:
    """A T×D float64 gradient matrix of one of the hard families."""
    if device.type == "mps":
        pytest.skip("MPS has no float64")
    g = torch.Generator().manual_seed(seed)
    grads = torch.randn(T, D, generator=g, dtype=torch.float64)
    if name == "nearly_parallel":
        grads = grads[0] + 1e-6 * grads
    elif name == "opposite":
        grads[1] = -2.5 * grads[0]
    elif name == "zero_row":
        grads[0] = 0.0
    elif name == "scaled":
        grads *= torch.tensor([1e-6 if t % 2 == 0 else 1e6 for t in range(T)], dtype=torch.float64)[:, None]
    elif name == "duplicates":
        grads[1] = grads[0]
    elif name == "zero_in_hull":
        grads[-1] = -(torch.rand(T - 1, generator=g, dtype=torch.float64) + 0.1) @ grads[:-1]
    return grads.to(device)


def cases(device: torch.device, seeds: int = 3):
    """Every family × shape × seed, as (family name, matrix)."""
    for name in FAMILIES:
        for T, D in SHAPES:
            for seed in range(seeds):
                yield name, family(name, T, D, seed, device)


def test_mgda_raises_no_loss_and_is_zero_exactly_at_pareto_stationary_points(device):
    for name, grads in cases(device):
        d, norms = mgda(grads), grads.norm(dim=1)
        big = float(norms.max())
        if float(d.norm()) <= 1e-12 * big:                           # Pareto-stationary: d = 0
            continue
        assert name not in STATIONARY, (name, float(d.norm()) / big)
        # the min-norm point d satisfies gₜᵀd ≥ ‖d‖² for every task (first-order decrease of every loss)
        assert bool((grads @ d >= d @ d - 1e-10 * norms * d.norm()).all()), name
    for name in STATIONARY:
        assert float(mgda(family(name, 10, 5, 0, device)).norm()) <= 1e-12 * 10


def test_pcgrad_raises_neither_loss_for_two_tasks(device):
    # for T = 2, g₁ᵀd = ‖g₁‖² − (g₁ᵀg₂)²/‖g₂‖² ≥ 0 after a projection (Cauchy–Schwarz)
    for name, grads in cases(device):
        if len(grads) == 2:
            d, norms = pcgrad(grads), grads.norm(dim=1)
            rounding = 1e-12 * norms * norms.max()                    # d = 0 up to rounding for opposite rows
            assert bool((grads @ d >= -1e-10 * norms * d.norm() - rounding).all()), name


def test_imtl_g_projections_are_equal_and_positive_where_an_equal_direction_exists(device):
    for name, grads in cases(device):
        T, D = grads.shape
        if name in STATIONARY - {"zero_row"} or T > D:               # no direction improves every task
            continue
        norms = grads.norm(dim=1)
        live = norms > 0
        projections = (grads @ imtl_g(grads))[live] / norms[live]
        assert float(projections.min()) > 0, name
        assert float(projections.max() - projections.min()) <= 1e-8 * float(projections.max()), name


def test_cagrad_stays_in_its_ball_and_never_worsens_the_mean_gradients_worst_task(device):
    c = 0.5
    for name, grads in cases(device):
        d, g0 = cagrad(grads, c), grads.mean(dim=0)
        assert float((d - g0).norm()) <= c * float(g0.norm()) * (1 + 1e-9), name
        # g₀ is in the ball, so the optimum's worst improvement is at least g₀'s
        slack = 1e-9 * float(grads.norm(dim=1).max() * g0.norm())
        assert float((grads @ d).min()) >= float((grads @ g0).min()) - slack, name


@pytest.mark.parametrize("method", [mgda, cagrad, imtl_g], ids=["mgda", "cagrad", "imtl_g"])
def test_order_of_the_tasks_does_not_matter(method, device):
    generator = torch.Generator().manual_seed(0)
    for name, grads in cases(device, seeds=2):
        perm = torch.randperm(len(grads), generator=generator).to(device)
        scale = float(grads.norm(dim=1).max())
        tol = 1e-6 if method is cagrad else 1e-9                      # CAGrad's dual is solved by Frank–Wolfe
        assert torch.allclose(method(grads[perm]), method(grads), rtol=0, atol=tol * scale), name


@pytest.mark.parametrize("method", [mgda, cagrad, imtl_g, pcgrad, mc.gradient_sum],
                         ids=["mgda", "cagrad", "imtl_g", "pcgrad", "sum"])
def test_positive_scaling_of_all_rows_scales_the_update(method, device):
    for name, grads in cases(device, seeds=2):
        scale = float(grads.norm(dim=1).max())
        for s in (1e-3, 7.0):
            kwargs = {"generator": torch.Generator().manual_seed(1)} if method is pcgrad else {}
            expected = s * method(grads, **kwargs)
            kwargs = {"generator": torch.Generator().manual_seed(1)} if method is pcgrad else {}
            assert torch.allclose(method(s * grads, **kwargs), expected, rtol=1e-6, atol=1e-9 * s * scale), (name, s)
