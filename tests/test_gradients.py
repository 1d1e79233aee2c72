"""Gradient methods (chapter 6) checked against their definitions and hand-computed values."""
from __future__ import annotations

import itertools

import pytest
import torch

import mtl_course as mc
from mtl_course.gradients import (GradientAggregation, RepresentationWeighting, cagrad, cagrad_weights, gradient_sum,
                                  imtl_g, imtl_g_weights, mgda, mgda_weights, pcgrad, pcgrad_projections)


def simplex_grid(T: int, n: int) -> torch.Tensor:
    """All points of the T-simplex whose coordinates are multiples of 1/n (float64)."""
    points = [c for c in itertools.product(range(n + 1), repeat=T - 1) if sum(c) <= n]
    w = torch.tensor([list(c) + [n - sum(c)] for c in points], dtype=torch.float64) / n
    return w


def float64_on(device: torch.device) -> dict:
    """Keyword arguments for a float64 tensor on `device`; skips the test on MPS, which has no float64."""
    if device.type == "mps":
        pytest.skip("MPS has no float64")
    return {"dtype": torch.float64, "device": device}


def random_grads(T: int, D: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, D, generator=g, dtype=torch.float64).to(**float64_on(torch.device(device)))


# --- MGDA --------------------------------------------------------------------------------------

def test_mgda_by_hand(device):
    on = lambda rows: torch.tensor(rows, device=device)
    assert torch.allclose(mgda(on([[1.0, 0.0], [0.0, 1.0]])).cpu(), torch.tensor([0.5, 0.5]))
    assert torch.allclose(mgda(on([[2.0, 0.0], [-1.0, 0.0]])).cpu(), torch.zeros(2))  # opposed: Pareto-stationary
    # g2 is shorter and g1·g2 > ‖g2‖²: the min-norm point is the vertex g2
    assert torch.allclose(mgda(on([[3.0, 1.0], [1.0, 0.0]])).cpu(), torch.tensor([1.0, 0.0]))


@pytest.mark.parametrize("T,n", [(2, 2000), (3, 200)])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mgda_is_the_min_norm_point_of_the_hull(T, n, seed, device):
    grads = random_grads(T, 5, seed, device)
    grads[1] -= 1.5 * grads[0]          # make them conflict, so the minimum is often interior
    w = simplex_grid(T, n).to(device)
    grid_norms = (w @ grads).norm(dim=1)
    alpha = mgda_weights(grads)
    assert alpha.min() >= 0 and float(alpha.sum()) == pytest.approx(1.0)
    found = float(mgda(grads).norm())
    assert found <= float(grid_norms.min()) + 1e-9
    assert found >= float(grid_norms.min()) - 2e-2 * float(grads.norm(dim=1).max()) / n ** 0.5


def test_mgda_decreases_every_loss_unless_stationary(device):
    for seed in range(5):
        grads = random_grads(3, 10, seed, device)
        d = mgda(grads)
        assert bool((grads @ d >= float(d @ d) - 1e-8).all())  # gₜᵀd ≥ ‖d‖² for the min-norm point


# --- PCGrad ------------------------------------------------------------------------------------

def test_pcgrad_by_hand(device):
    grads = torch.tensor([[1.0, 0.0], [-1.0, 1.0]], device=device)
    projected = pcgrad_projections(grads)
    assert torch.allclose(projected.cpu(), torch.tensor([[0.5, 0.5], [0.0, 1.0]]))
    assert torch.allclose(pcgrad(grads).cpu(), torch.tensor([0.5, 1.5]))


@pytest.mark.parametrize("seed", range(6))
def test_pcgrad_projected_gradients_do_not_conflict_with_the_other(seed, device):
    grads = random_grads(2, 8, seed, device)
    grads[1] -= 2 * grads[0]            # conflicting pair
    assert float(grads[0] @ grads[1]) < 0
    projected = pcgrad_projections(grads)
    assert float(projected[0] @ grads[1]) == pytest.approx(0.0, abs=1e-9)
    assert float(projected[1] @ grads[0]) == pytest.approx(0.0, abs=1e-9)


def test_pcgrad_three_tasks_by_hand_and_reproducible_order(device):
    # only g1 and g2 conflict; g3 is orthogonal to both, so the order does not matter here
    grads = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 2.0]], **float64_on(device))
    expected = torch.tensor([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]], **float64_on(device))
    for seed in range(4):
        assert torch.allclose(pcgrad_projections(grads, torch.Generator().manual_seed(seed)), expected)
    # all three conflict: the order matters, and a generator makes it reproducible
    grads = torch.tensor([[1.0, 0.0], [-0.5, 1.0], [-0.5, -1.0]], **float64_on(device))
    results = {tuple(pcgrad(grads, torch.Generator().manual_seed(s)).tolist()) for s in range(20)}
    assert len(results) > 1
    same = pcgrad(grads, torch.Generator().manual_seed(5)), pcgrad(grads, torch.Generator().manual_seed(5))
    assert torch.equal(*same) if device.type == "cpu" else torch.allclose(*same, rtol=1e-12, atol=1e-15)


def test_pcgrad_without_conflict_is_the_sum(device):
    grads = torch.tensor([[1.0, 2.0], [0.5, 0.1], [2.0, 0.0]], device=device)
    assert torch.allclose(pcgrad(grads), grads.sum(0))


# --- CAGrad ------------------------------------------------------------------------------------

def test_cagrad_at_c_zero_is_the_mean_gradient(device):
    for seed in range(4):
        grads = random_grads(3, 6, seed, device)
        assert torch.allclose(cagrad(grads, c=0.0), grads.mean(0))


@pytest.mark.parametrize("T", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_cagrad_maximizes_the_worst_improvement_in_the_ball(T, seed, device):
    # primal: max_d min_t gₜᵀd subject to ‖d − g₀‖ ≤ c‖g₀‖; no sampled d in the ball does better
    c = 0.5
    grads = random_grads(T, 4, seed, device)
    grads[1] -= 1.2 * grads[0]
    g0 = grads.mean(0)
    d = cagrad(grads, c)
    assert float((d - g0).norm()) <= c * float(g0.norm()) * (1 + 1e-9)
    best = float((grads @ d).min())
    generator = torch.Generator().manual_seed(100 + seed)
    directions = torch.randn(200_000, 4, generator=generator, dtype=torch.float64).to(device)
    radii = torch.rand(200_000, 1, generator=generator, dtype=torch.float64).to(device) ** 0.25
    samples = g0 + c * float(g0.norm()) * radii * directions / directions.norm(dim=1, keepdim=True)
    assert float((samples @ grads.T).min(dim=1).values.max()) <= best + 1e-9


def test_cagrad_dual_weights_minimize_the_dual_on_a_grid(device):
    c = 0.5
    grads = random_grads(3, 5, 7, device)
    grads[2] -= grads[0] + grads[1]
    g0 = grads.mean(0)
    w_grid = simplex_grid(3, 200).to(device)
    dual = w_grid @ grads @ g0 + c * g0.norm() * (w_grid @ grads).norm(dim=1)
    weights = cagrad_weights(grads, c)
    # weights = 1/T + c‖g₀‖/‖g_w‖ · w: recover w, the dual's minimizer
    w = (weights - 1 / 3) / float((weights - 1 / 3).sum())
    found = float(w @ grads @ g0 + c * g0.norm() * (w @ grads).norm())
    assert found <= float(dual.min()) + 1e-9


# --- IMTL-G ------------------------------------------------------------------------------------

@pytest.mark.parametrize("T", [2, 3, 4])
def test_imtl_g_projections_on_unit_gradients_are_equal(T, device):
    grads = random_grads(T, 10, T, device) * torch.tensor([1.0, 10.0, 0.1, 3.0][:T], **float64_on(device))[:, None]
    alpha = imtl_g_weights(grads)
    d = imtl_g(grads)
    projections = grads @ d / grads.norm(dim=1)
    assert float(alpha.sum()) == pytest.approx(1.0)
    assert torch.allclose(projections, projections[0].expand(T), rtol=1e-8)


def test_imtl_g_by_hand(device):
    # g1 = (2, 0), g2 = (0, 1): equal projections on (1, 0) and (0, 1) with α1 + α2 = 1 gives 2α1 = α2
    weights = imtl_g_weights(torch.tensor([[2.0, 0.0], [0.0, 1.0]], device=device))
    assert torch.allclose(weights.cpu().float(), torch.tensor([1 / 3, 2 / 3]))


# --- all methods -------------------------------------------------------------------------------

def test_every_method_is_the_sum_up_to_its_scale_when_gradients_agree(device):
    g = torch.tensor([0.3, -1.0, 2.0], **float64_on(device))
    T = 3
    grads = g.expand(T, 3).clone()
    total = gradient_sum(grads)
    assert torch.allclose(total, T * g)
    assert torch.allclose(mgda(grads), total / T)
    assert torch.allclose(pcgrad(grads), total)
    assert torch.allclose(cagrad(grads, c=0.5), 1.5 * total / T)
    assert torch.allclose(imtl_g(grads), total / T)


@pytest.mark.parametrize("method", [mgda, pcgrad, cagrad, imtl_g])
def test_bad_gradient_matrices_are_refused(method):
    with pytest.raises(ValueError, match=r"T×D matrix"):
        method(torch.ones(3))
    with pytest.raises(ValueError, match=r"T×D matrix"):
        method(torch.ones(0, 3))
    with pytest.raises(ValueError, match="NaN or inf"):
        method(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))


@pytest.mark.parametrize("c", [-0.1, float("nan"), float("inf")])
def test_cagrad_radius_out_of_range_is_refused(c):
    with pytest.raises(ValueError, match="radius c"):
        cagrad(torch.eye(2), c=c)


# --- strategies in the training loop -----------------------------------------------------------

def small_model(tasks, seed: int = 0, device: torch.device | str = "cpu") -> mc.HardSharing:
    torch.manual_seed(seed)
    return mc.HardSharing(mc.MLP(4, [16]), tasks).to(device)


def test_mgda_ub_weights_come_from_representation_gradients(two_regression_tasks, tiny_regression, device):
    batch = tiny_regression.train.subset(slice(0, 32)).to(device)
    model = small_model(two_regression_tasks, device=device)
    predictions, z = model(batch.x, return_features=True)
    losses = mc.task_losses(two_regression_tasks, predictions, batch.y)
    rep = torch.stack([torch.autograd.grad(l, z, retain_graph=True)[0].flatten() for l in losses.values()])
    expected = mgda_weights(rep)
    weights = RepresentationWeighting(mgda_weights).backward(losses, model, z)
    assert list(weights) == ["a", "b"] and torch.allclose(torch.tensor(list(weights.values())), expected.cpu())
    # the trunk's gradient is that of the weighted sum of losses
    model2 = small_model(two_regression_tasks, device=device)
    predictions2 = model2(batch.x)
    losses2 = mc.task_losses(two_regression_tasks, predictions2, batch.y)
    (expected[0] * losses2["a"] + expected[1] * losses2["b"]).backward()
    for p, q in zip(model.parameters(), model2.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-6)


def test_representation_weighting_without_features_is_refused(two_regression_tasks, tiny_regression):
    batch = tiny_regression.train.subset(slice(0, 8))
    model = small_model(two_regression_tasks)
    losses = mc.task_losses(two_regression_tasks, model(batch.x), batch.y)
    with pytest.raises(ValueError, match="return_features=True"):
        RepresentationWeighting(mgda_weights).backward(losses, model, None)


@pytest.mark.parametrize("strategy", [GradientAggregation(mgda), GradientAggregation(pcgrad),
                                      GradientAggregation(cagrad), GradientAggregation(imtl_g),
                                      RepresentationWeighting(mgda_weights)])
def test_gradient_methods_train(strategy, two_regression_tasks, tiny_regression, device):
    model = small_model(two_regression_tasks, device=device)
    tiny_regression = tiny_regression.to(device)
    before = mc.evaluate(model, two_regression_tasks, tiny_regression.test).metric
    mc.fit(model, two_regression_tasks, tiny_regression.train, epochs=20, lr=1e-2, batch_size=64,
           strategy=strategy, progress=False)
    after = mc.evaluate(model, two_regression_tasks, tiny_regression.test).metric
    assert all(after[t] < 0.5 * before[t] for t in after), (before, after)


def test_gradient_aggregation_on_a_model_without_shared_parameters(device, same_run):
    """Soft sharing shares no parameter: a gradient method then gives each network its own task's gradient."""
    tasks = [mc.regression("a"), mc.regression("b")]
    torch.manual_seed(0)
    model = mc.SoftSharing(lambda: mc.MLP(4, [8]), tasks).to(device)
    x = torch.randn(16, 4).to(device)
    y = {"a": x.sum(1), "b": x[:, 0]}
    GradientAggregation(mgda).backward(mc.task_losses(tasks, model(x), y), model)
    with_method = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    torch.stack(list(mc.task_losses(tasks, model(x), y).values())).sum().backward()
    assert all(same_run(a, p.grad) for a, p in zip(with_method, model.parameters()))


# --- the edge cases of issue 15, one test each ---------------------------------------------------

def test_imtl_g_keeps_the_direction_of_proportional_gradients(device):
    g = torch.tensor([-1.014132766540945, -0.37203293677684834], dtype=torch.float64, device=device)
    d = imtl_g(torch.stack([g, 3 * g]))
    assert float(d @ g) > 0 and torch.allclose(d / d.norm(), g / g.norm())   # the paper's form gave −g
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        g = torch.randn(50, generator=generator, dtype=torch.float64).to(device)
        assert float(imtl_g(torch.stack([g, 3 * g])) @ g) > 0


def test_imtl_g_leaves_out_a_zero_gradient(device):
    grads = torch.tensor([[0.0, 0.0], [1.0, 2.0]], device=device)
    assert torch.allclose(imtl_g(grads), torch.tensor([1.0, 2.0], device=device))   # was [0, 0]
    assert imtl_g_weights(grads).tolist() == [0.0, 1.0]


def test_imtl_g_never_turns_against_every_task(device):
    # Σα = 1 with α ∝ C⁻¹1/‖g‖ flips d when Σₜ βₜ/‖gₜ‖ < 0; this matrix is such a case
    generator = torch.Generator().manual_seed(0)
    flipped = 0
    for _ in range(300):
        grads = torch.randn(4, 6, generator=generator, dtype=torch.float64)
        grads *= torch.exp(2 * torch.randn(4, 1, generator=generator, dtype=torch.float64))
        grads = grads.to(**float64_on(device))
        alpha = imtl_g_weights(grads)
        flipped += float(alpha.sum()) < 0
        projections = grads @ imtl_g(grads) / grads.norm(dim=1)
        assert float(projections.min()) > 0 and torch.allclose(projections, projections[0].expand(4))
    assert flipped > 0, "no case where the paper's normalization would flip d: the test checks nothing"


def test_mgda_reaches_the_pareto_stationary_point_and_warns_when_it_cannot(device):
    grads = torch.tensor([[0.63, 1.69], [-0.63, -1.69], [0.05, -0.05]], **float64_on(device))
    assert float(mgda(grads).norm()) <= 1e-12                     # was ‖d‖ = 0.026 with g₁·d < 0
    generator = torch.Generator().manual_seed(0)
    for _ in range(100):                                          # T = 10, D = 5, one opposite pair
        grads = torch.randn(10, 5, generator=generator, dtype=torch.float64).to(device)
        grads[1] = -grads[0]
        assert float(mgda(grads).norm()) <= 1e-12 * float(grads.norm(dim=1).max())
    grads = random_grads(6, 20, 0, device)
    with pytest.warns(RuntimeWarning, match="did not converge in max_iter = 1"):
        mgda_weights(grads, max_iter=1)


def test_cagrad_with_zero_in_the_hull_avoids_every_conflict_where_its_ball_allows(device):
    grads = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.3, 1.0]], **float64_on(device))
    d = cagrad(grads, c=0.5)
    # the answer was g₀ = (0.1, 1/3), with g₂·d < 0
    assert torch.allclose(d, torch.tensor([0.0, 1 / 3], **float64_on(device)), atol=1e-12)
    assert float((grads @ d).min()) >= -1e-12
    # the measurement behind the choice: random matrices with an opposite pair (so 0 is in the hull),
    # where the ball holds a conflict-free direction. The authors' answer g₀ hurts a task; this never does.
    generator = torch.Generator().manual_seed(1)
    g0_hurts = checked = 0
    for _ in range(200):
        grads = torch.randn(4, 6, generator=generator, dtype=torch.float64)
        grads[1] = -(0.5 + torch.rand(1, generator=generator, dtype=torch.float64)) * grads[0]
        grads = grads.to(device)
        g0, d = grads.mean(0), cagrad(grads, c=0.5)
        if float((d - g0).norm()) < 0.5 * float(g0.norm()) * (1 - 1e-9):   # the projection was in the ball
            checked += 1
            g0_hurts += float((grads @ g0).min()) < 0
            assert float((grads @ d).min()) >= -1e-10 * float(grads.norm(dim=1).max() * d.norm())
    assert checked >= 20 and g0_hurts == checked, (checked, g0_hurts)


def test_cagrad_weights_sum_to_one_plus_c_times_the_norm_ratio(device):
    grads = torch.tensor([[1.0, 0.0], [0.0, 3.0]], **float64_on(device))
    weights = cagrad_weights(grads, c=0.5)
    g0 = grads.mean(0)
    g_w = (weights - 0.5) @ grads / float((weights - 0.5).sum())         # the dual's g_w, Σw = 1
    assert float(weights.sum()) == pytest.approx(1 + 0.5 * float(g0.norm() / g_w.norm()))
    assert float(weights.sum()) == pytest.approx(1.79, abs=0.01)        # not 1 + c = 1.5


@pytest.mark.parametrize("method", [mgda, cagrad, imtl_g])
def test_gram_overflow_is_refused_with_its_own_message(method, device):
    with pytest.raises(ValueError, match="overflow float64"):
        method(torch.tensor([[1e200, 0.0], [0.0, 1.0]], **float64_on(device)))
