"""The gradient methods against an independent implementation: torchjd's aggregators (a test-only dependency).

torchjd solves MGDA by plain Frank–Wolfe (stopping at a step below `epsilon`) and CAGrad's dual by
an interior-point solver (CLARABEL), so their answers are approximate; the tolerances below follow
from that, and from the optimality of the package's exact solutions. Where the two differ by
design (see the README's table), the test states the difference instead of comparing.
"""
from __future__ import annotations

import pytest
import torch

from torchjd.aggregation import CAGrad, IMTLG, MGDA, PCGrad   # the [test] extra: torchjd[cagrad]

from mtl_course.gradients import cagrad, imtl_g, imtl_g_weights, mgda, pcgrad

SHAPES = [(2, 5), (3, 5), (5, 50), (10, 1000)]


def matrices(device: torch.device, seeds: int = 4):
    """Random float64 T×D matrices, half of them with rows of very different norms."""
    if device.type == "mps":
        pytest.skip("MPS has no float64")
    for T, D in SHAPES:
        for seed in range(seeds):
            g = torch.Generator().manual_seed(seed)
            grads = torch.randn(T, D, generator=g, dtype=torch.float64)
            if seed % 2:
                grads *= torch.exp(2 * torch.randn(T, 1, generator=g, dtype=torch.float64))
            yield grads.to(device)


def test_mgda_is_at_least_as_close_to_the_min_norm_as_torchjd(device):
    # For any x in the hull, ‖x − d*‖² ≤ ‖x‖² − ‖d*‖² (d* the min-norm point): torchjd's Frank–Wolfe
    # answer x must lie that close to ours, and be no shorter.
    oracle = MGDA(epsilon=1e-7, max_iters=2_000)
    for grads in matrices(device):
        ours, theirs = mgda(grads), oracle(grads)
        scale = float(grads.norm(dim=1).max()) ** 2
        assert float(ours @ ours) <= float(theirs @ theirs) + 1e-12 * scale
        assert float((theirs - ours) @ (theirs - ours)) <= float(theirs @ theirs - ours @ ours) + 1e-10 * scale


def test_pcgrad_equals_torchjd_with_the_same_random_order(device):
    # both draw one torch.randperm(T) per task from the global generator, in the same order
    for grads in matrices(device):
        torch.manual_seed(3)
        ours = pcgrad(grads)
        torch.manual_seed(3)
        theirs = PCGrad()(grads)
        assert torch.allclose(ours, theirs, rtol=1e-9, atol=1e-12 * float(grads.norm(dim=1).max()))


def test_imtl_g_equals_torchjd_for_independent_gradients(device):
    # Same weights up to rounding, except where torchjd's Σα = 1 turns d against every task: there the
    # package takes Σα = −1, the same direction reversed (a documented difference).
    for grads in matrices(device):
        ours, theirs = imtl_g(grads), IMTLG()(grads)
        sign = 1.0 if float(imtl_g_weights(grads).sum()) > 0 else -1.0
        assert torch.allclose(ours, sign * theirs, rtol=1e-6, atol=1e-9 * float(grads.norm(dim=1).max()))
        assert float((grads @ ours).min()) > 0


def test_imtl_g_with_a_zero_gradient_equals_torchjd(device):
    grads = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [0.0, 1.0, 1.0]], dtype=torch.float64, device=device)
    assert torch.allclose(imtl_g(grads), IMTLG()(grads))


def test_imtl_g_for_proportional_gradients_differs_from_torchjd_only_in_length(device):
    # α is not fixed by the equal-projection condition when gradients are proportional; torchjd picks
    # the minimum-norm α in the gradients' metric, the package in the unit gradients' one. Both point along g.
    g = torch.tensor([-1.0141, -0.3720], dtype=torch.float64, device=device)
    ours, theirs = imtl_g(torch.stack([g, 3 * g])), IMTLG()(torch.stack([g, 3 * g]))
    assert torch.allclose(ours, 1.5 * g) and torch.allclose(theirs, 2.5 * g)


def test_cagrad_equals_torchjd_away_from_a_zero_in_the_hull(device):
    for grads in matrices(device):
        ours, theirs = cagrad(grads, c=0.5), CAGrad(c=0.5, norm_eps=1e-12)(grads)
        g0 = grads.mean(dim=0)
        # CLARABEL's answer is within about 2e-4·‖g₀‖ of ours (measured: 1e-9 … 2.3e-4 on these
        # matrices), and where they differ ours has the better worst-task improvement minₜ gₜᵀd,
        # the quantity CAGrad maximizes
        assert torch.allclose(ours, theirs, rtol=0, atol=1e-3 * float(g0.norm()))
        assert float((grads @ ours).min()) >= float((grads @ theirs).min()) - 1e-12 * float(grads.norm(dim=1).max() * g0.norm())


def test_cagrad_with_zero_in_the_hull_differs_from_torchjd(device):
    # torchjd returns 0 there (the update stops), the authors' code g₀ (a task's loss rises), the
    # package the conflict-free direction in the ball closest to g₀ (a documented difference)
    if device.type == "mps":
        pytest.skip("MPS has no float64")
    grads = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.3, 1.0]], dtype=torch.float64, device=device)
    assert torch.allclose(CAGrad(c=0.5)(grads), torch.zeros(2, dtype=torch.float64, device=device), atol=1e-6)
    assert torch.allclose(cagrad(grads, c=0.5), torch.tensor([0.0, 1 / 3], dtype=torch.float64, device=device))
