"""Dynamic loss weighting (chapter 5), checked against the papers' formulas on hand-computed inputs."""
from __future__ import annotations

import math

import pytest
import torch

import mtl_course as mc
from mtl_course.weighting import dwa_weights, focal_weight, gradnorm_targets, last_shared_layer


def losses_of(a: float, b: float, grad: bool = False, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    return {t: torch.tensor(v, requires_grad=grad, device=device) for t, v in (("a", a), ("b", b))}


def test_uncertainty_loss_matches_kendall_formula(device):
    strategy = mc.UncertaintyWeighting(["a", "b"]).to(device)
    with torch.no_grad():
        strategy.log_var.copy_(torch.tensor([0.0, math.log(4.0)], device=device))   # σ² = 1 and 4
    total, weights = strategy.combine(losses_of(2.0, 8.0, device=device))
    # L/(2σ²) + log σ: 2/2 + 0 + 8/8 + log 2
    assert float(total.detach()) == pytest.approx(2.0 + math.log(2.0))
    assert weights == pytest.approx({"a": 0.5, "b": 0.125})
    assert strategy.sigma() == pytest.approx({"a": 1.0, "b": 2.0})


def test_uncertainty_optimum_is_sigma_squared_equal_to_the_loss(device):
    strategy = mc.UncertaintyWeighting([mc.regression("a"), mc.regression("b")]).to(device)
    with torch.no_grad():
        strategy.log_var.copy_(torch.log(torch.tensor([3.0, 0.2], device=device)))
    total, _ = strategy.combine(losses_of(3.0, 0.2, device=device))
    (grad,) = torch.autograd.grad(total, strategy.log_var)
    assert torch.allclose(grad, torch.zeros(2, device=device), atol=1e-6)


def test_uncertainty_parameters_are_trained_by_fit(two_regression_tasks, tiny_regression, device):
    strategy = mc.UncertaintyWeighting(two_regression_tasks)
    torch.manual_seed(0)
    model = mc.HardSharing(mc.MLP(4, [16]), two_regression_tasks).to(device)
    mc.fit(model, two_regression_tasks, tiny_regression.train.to(device), strategy=strategy, epochs=3,
           strategy_lr=0.05, progress=False)
    assert strategy.log_var.device.type == device.type
    assert not torch.equal(strategy.log_var.detach().cpu(), torch.zeros(2))


def test_gradnorm_targets_by_hand(device):
    norms, losses, initial = (torch.tensor(v, device=device) for v in ([1.0, 3.0], [1.0, 1.0], [2.0, 0.5]))
    # loss ratios 0.5 and 2, mean 1.25 → relative inverse training rates 0.4 and 1.6; mean norm 2
    assert torch.allclose(gradnorm_targets(norms, losses, initial, alpha=1.0).cpu(), torch.tensor([0.8, 3.2]))
    assert torch.allclose(gradnorm_targets(norms, losses, initial, alpha=2.0).cpu(), torch.tensor([0.32, 5.12]))
    assert torch.allclose(gradnorm_targets(norms, losses, initial, alpha=0.0).cpu(), torch.tensor([2.0, 2.0]))


def small_model(tasks, seed: int = 0, device: torch.device | str = "cpu") -> mc.HardSharing:
    torch.manual_seed(seed)
    return mc.HardSharing(mc.MLP(4, [8, 8]), tasks).to(device)


def test_gradnorm_first_step_is_the_plain_sum_and_lowers_the_larger_norm(two_regression_tasks, tiny_regression, device):
    batch = tiny_regression.train.subset(slice(0, 64)).to(device)
    y = {"a": batch.y["a"], "b": 10 * batch.y["b"]}           # task b: a much larger loss and gradient
    grads = []
    for strategy in (mc.EqualWeighting(), mc.GradNorm(two_regression_tasks, alpha=1.0, lr=0.1).to(device)):
        model = small_model(two_regression_tasks, device=device)
        losses = mc.task_losses(two_regression_tasks, model(batch.x), y)
        used = strategy.backward(losses, model)
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert used == {"a": 1.0, "b": 1.0}
    assert torch.allclose(grads[0], grads[1], atol=1e-6)
    assert float(strategy.weights.detach().sum()) == pytest.approx(2.0)
    assert strategy.weights[1] < 1.0 < strategy.weights[0]
    assert torch.allclose(strategy.initial_losses, torch.stack([losses["a"], losses["b"]]).detach())
    assert last_shared_layer(model) is model.trunk[2].weight


def test_gradnorm_equalizes_weighted_gradient_norms(two_regression_tasks, tiny_regression, device):
    train = tiny_regression.train.to(device)
    y = {"a": train.y["a"], "b": 10 * train.y["b"]}
    data = mc.MultiTaskData(train.x, y)
    model = small_model(two_regression_tasks, device=device)
    strategy = mc.GradNorm(two_regression_tasks, alpha=0.0, lr=0.05)
    mc.fit(model, two_regression_tasks, data, strategy=strategy, epochs=30, batch_size=64, lr=3e-3, progress=False)
    losses = mc.task_losses(two_regression_tasks, model(data.x), data.y)
    layer = last_shared_layer(model)
    raw = torch.stack([torch.autograd.grad(losses[t], layer, retain_graph=True)[0].norm() for t in ("a", "b")])
    before = raw.max() / raw.min()
    weighted = strategy.weights * raw
    assert before > 5 and weighted.max() / weighted.min() < 2, (raw, strategy.weights)


def test_dwa_weights_by_hand(device):
    w = dwa_weights(torch.tensor([1.0, 2.0], device=device), torch.tensor([2.0, 2.0], device=device), temperature=2.0)
    e1, e2 = math.exp(0.25), math.exp(0.5)
    assert torch.allclose(w.cpu(), torch.tensor([2 * e1 / (e1 + e2), 2 * e2 / (e1 + e2)]))
    strategy = mc.DynamicWeightAverage(["a", "b"]).to(device)
    assert strategy.combine(losses_of(1.0, 1.0, device=device))[1] == {"a": 1.0, "b": 1.0}
    strategy.end_epoch({"a": 2.0, "b": 2.0})
    assert strategy.combine(losses_of(1.0, 1.0, device=device))[1] == {"a": 1.0, "b": 1.0}   # equal for two epochs
    strategy.end_epoch({"b": 2.0, "a": 1.0})
    total, weights = strategy.combine(losses_of(3.0, 5.0, device=device))
    assert list(weights.values()) == pytest.approx(w.tolist())
    assert float(total) == pytest.approx(3.0 * float(w[0]) + 5.0 * float(w[1]), rel=1e-6)


def test_focal_weight_and_dtp_by_hand(device):
    assert torch.allclose(focal_weight(torch.tensor([0.5, 1.0], device=device), gamma=2.0).cpu(),
                          torch.tensor([0.25 * math.log(2.0), 0.0]))
    strategy = mc.DynamicTaskPrioritization(["a", "b"], gamma=2.0, smoothing=0.5).to(device)
    _, w1 = strategy.combine(losses_of(math.log(2.0), math.log(4.0), device=device))   # KPIs exp(−L) = 0.5, 0.25
    assert w1 == pytest.approx({"a": 0.25 * math.log(2.0), "b": 0.5625 * math.log(4.0)})
    total, w2 = strategy.combine(losses_of(0.0, math.log(4.0), device=device))        # KPI a: 1 → average 0.75
    assert w2["a"] == pytest.approx(-(0.25 ** 2) * math.log(0.75))
    assert float(total) == pytest.approx(w2["b"] * math.log(4.0))
    assert w2["b"] > w2["a"], "the harder task (lower KPI) gets the higher priority"


def test_random_loss_weighting_draws_fresh_positive_weights_with_mean_one(device):
    strategy = mc.RandomLossWeighting(["a", "b", "c"], seed=1).to(device)
    draws = torch.tensor([list(strategy.combine({t: torch.tensor(1.0, device=device) for t in "abc"})[1].values())
                          for _ in range(2000)])
    assert (draws > 0).all() and torch.allclose(draws.sum(1), torch.full((2000,), 3.0))
    assert not torch.equal(draws[0], draws[1])
    assert torch.allclose(draws.mean(0), torch.ones(3), atol=0.05)
    again = mc.RandomLossWeighting(["a", "b", "c"], seed=1)
    assert list(again.combine({t: torch.tensor(1.0, device=device) for t in "abc"})[1].values()) == draws[0].tolist()


@pytest.mark.parametrize("make", [
    lambda: mc.UncertaintyWeighting(["a", "b"]), lambda: mc.DynamicWeightAverage(["a", "b"]),
    lambda: mc.DynamicTaskPrioritization(["a", "b"]), lambda: mc.RandomLossWeighting(["a", "b"])])
def test_weighting_refuses_losses_of_other_tasks(make):
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['c'\] and lack task\(s\) \['b'\]"):
        make().combine({"a": torch.tensor(1.0), "c": torch.tensor(1.0)})


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="distinct task names"):
        mc.UncertaintyWeighting([])
    with pytest.raises(ValueError, match="distinct task names"):
        mc.DynamicWeightAverage(["a", "a"])
    with pytest.raises(ValueError, match="alpha >= 0"):
        mc.GradNorm(["a", "b"], alpha=-1.0)
    with pytest.raises(ValueError, match="temperature must be positive"):
        mc.DynamicWeightAverage(["a", "b"], temperature=0.0)
    with pytest.raises(ValueError, match="smoothing"):
        mc.DynamicTaskPrioritization(["a", "b"], smoothing=1.0)
    with pytest.raises(ValueError, match="losses have"):
        mc.GradNorm(["a", "b"]).backward({"a": torch.tensor(1.0)}, small_model([mc.regression("a")]))
    bias_only = mc.HardSharing(torch.nn.Identity(), [mc.regression("a")], feature_dim=4)
    with pytest.raises(ValueError, match="no shared weight matrix"):
        last_shared_layer(bias_only)


def test_uncertainty_weight_at_the_optimum_equals_kendalls_classification_form(device):
    # Kendall et al.'s classification form exp(−s)·L + ½s has its optimum at σ² = 2L; the package's
    # regression form ½exp(−s)·L + ½s at σ² = L. The weight each puts on L there is the same, 1/(2L).
    L = torch.tensor(0.35, device=device)
    s_paper = torch.log(2 * L)                                   # ∂/∂s (exp(−s)L + ½s) = 0
    assert float(torch.autograd.functional.jacobian(lambda s: torch.exp(-s) * L + 0.5 * s, s_paper)) == pytest.approx(0, abs=1e-7)
    strategy = mc.UncertaintyWeighting([mc.classification("income", 2)]).to(device)
    with torch.no_grad():
        strategy.log_var.fill_(float(torch.log(L)))               # the package's optimum σ² = L
    total, weights = strategy.combine({"income": L})
    (grad,) = torch.autograd.grad(total, strategy.log_var)
    assert float(grad) == pytest.approx(0.0, abs=1e-7)
    assert weights["income"] == pytest.approx(float(torch.exp(-s_paper)), rel=1e-6)   # both 1/(2L)
    assert strategy.sigma()["income"] ** 2 == pytest.approx(float(L), rel=1e-6)        # paper's: 2L


def test_random_loss_weighting_is_t_times_the_papers_softmax(device):
    strategy = mc.RandomLossWeighting(["a", "b", "c"], seed=3).to(device)
    z = torch.randn(3, generator=torch.Generator().manual_seed(3))
    weights = torch.tensor(list(strategy.combine({t: torch.tensor(1.0, device=device) for t in "abc"})[1].values()))
    assert torch.allclose(weights / 3, torch.softmax(z, 0))          # the paper's weights sum to 1


def test_dtp_takes_one_gamma_per_task_as_the_paper_allows(device):
    strategy = mc.DynamicTaskPrioritization(["a", "b"], gamma={"a": 0.0, "b": 1.0}, smoothing=0.0).to(device)
    _, w = strategy.combine(losses_of(math.log(2.0), math.log(4.0), device=device))    # KPIs 0.5 and 0.25
    assert w == pytest.approx({"a": math.log(2.0), "b": 0.75 * math.log(4.0)})
    with pytest.raises(ValueError, match="gamma >= 0 for each of the tasks"):
        mc.DynamicTaskPrioritization(["a", "b"], gamma={"a": 1.0})
    with pytest.raises(ValueError, match="gamma >= 0"):
        mc.DynamicTaskPrioritization(["a", "b"], gamma=float("nan"))


def test_dtp_refuses_regression_only_tasks_unless_given_a_kpi(device):
    regression = [mc.regression("a"), mc.regression("b")]
    with pytest.raises(ValueError, match=r"DTP needs an accuracy-like KPI.*all regression tasks.*kpi="):
        mc.DynamicTaskPrioritization(regression)
    assert not mc.DynamicTaskPrioritization.applies_to(regression)
    mixed = [mc.classification("a", 2), mc.regression("b")]
    assert mc.DynamicTaskPrioritization.applies_to(mixed) and mc.DynamicTaskPrioritization(mixed).tasks == ["a", "b"]
    with_kpi = mc.DynamicTaskPrioritization(regression, kpi=lambda task, loss: 1 / (1 + loss)).to(device)
    assert with_kpi.combine(losses_of(1.0, 3.0, device=device))[1] == pytest.approx(
        {"a": -(0.5 ** 2) * math.log(0.5), "b": -(0.75 ** 2) * math.log(0.25)})


@pytest.mark.parametrize("weights, match", [
    ([1.0, 2.0], r"weights must map each task's name to its weight.*got list \[1.0, 2.0\]"),
    ((1.0, 2.0), r"got tuple"),
    ({"a": float("nan")}, r"weight of task 'a' must be a finite number >= 0, got nan"),
    ({"a": -1.0}, r"weight of task 'a' must be a finite number >= 0, got -1.0"),
    ({"a": "1"}, r"weight of task 'a' must be a finite number >= 0, got '1'"),
])
def test_static_weighting_refuses_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        mc.StaticWeighting(weights)


def test_static_weighting_accepts_numbers_and_scalar_tensors(device):
    strategy = mc.StaticWeighting({"a": 1, "b": torch.tensor(0.5, device=device)})
    total, weights = strategy.combine(losses_of(2.0, 4.0, device=device))
    assert weights == {"a": 1.0, "b": 0.5} and float(total) == pytest.approx(4.0)


@pytest.mark.parametrize("make", [lambda: mc.UncertaintyWeighting("ab"), lambda: mc.GradNorm("ab"),
                                  lambda: mc.DynamicTaskPrioritization("ab", kpi=lambda t, loss: torch.exp(-loss))],
                         ids=["uncertainty", "gradnorm", "dtp"])
def test_learned_weights_stay_on_the_device_as_tensors(make, device):
    """Weights computed on the device are returned as detached 0-d tensors there, not floats: a float per
    step would make the CPU wait for the GPU at every step."""
    model = mc.HardSharing(mc.MLP(3, [4]), [mc.regression("a"), mc.regression("b")]).to(device)
    x = torch.randn(8, 3, device=device)
    out = model(x)
    losses = {t: (out[t].squeeze(-1) - 1.0).pow(2).mean() for t in "ab"}
    strategy = make().to(device)
    weights = strategy.backward(losses, model)
    assert all(torch.is_tensor(w) and w.dim() == 0 and w.device.type == device.type and not w.requires_grad
               for w in weights.values()), weights


@pytest.mark.skipif(not torch.cuda.is_available(), reason="host synchronization exists only with a CUDA device")
@pytest.mark.parametrize("make", [lambda: mc.EqualWeighting(), lambda: mc.UncertaintyWeighting("ab"),
                                  lambda: mc.DynamicTaskPrioritization("ab", kpi=lambda t, loss: torch.exp(-loss))],
                         ids=["equal", "uncertainty", "dtp"])
def test_a_loss_weighting_step_does_not_synchronize_with_the_gpu(make):
    model = mc.HardSharing(mc.MLP(3, [4]), [mc.regression("a"), mc.regression("b")]).cuda()
    strategy = make().cuda()
    x = torch.randn(8, 3, device="cuda")
    for step in range(2):                       # the second step runs past any first-call set-up
        out = model(x)
        losses = {t: (out[t].squeeze(-1) - 1.0).pow(2).mean() for t in "ab"}
        torch.cuda.set_sync_debug_mode("error" if step else 0)
        try:
            strategy.backward(losses, model)
        finally:
            torch.cuda.set_sync_debug_mode(0)
