"""Chapter 7's penalties, the soft-sharing model and fit's `penalty`, against hand-computed values."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import mtl_course as mc


def test_l2_penalty_is_the_summed_squared_frobenius_norm(device):
    w, b = torch.tensor([[1.0, 2.0], [3.0, 4.0]], device=device), torch.tensor([0.5, -0.5], device=device)
    assert float(mc.l2_penalty([w, b])) == pytest.approx(1 + 4 + 9 + 16 + 0.25 + 0.25)
    with pytest.raises(ValueError, match="no parameters"):
        mc.l2_penalty([])


def test_soft_sharing_penalty_of_two_known_layers(device):
    # layer 1: W_a − W_b = [[1, 0], [0, -2]] → 1 + 4 = 5; layer 2 (bias): [3] → 9
    layer1 = [torch.tensor(w, device=device) for w in ([[1.0, 1.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 3.0]])]
    layer2 = [torch.tensor([4.0], device=device), torch.tensor([1.0], device=device)]
    assert float(mc.soft_sharing_penalty([layer1, layer2])) == pytest.approx(14.0)


def test_soft_sharing_penalty_sums_every_pair_of_three_tasks(device):
    # scalars 0, 1, 3: pairs (0,1) → 1, (0,3) → 9, (1,3) → 4; also T·Σ(w − mean)² = 3·(16/9 + 1/9 + 25/9) = 14
    layer = [torch.tensor([v], device=device) for v in (0.0, 1.0, 3.0)]
    assert float(mc.soft_sharing_penalty([layer])) == pytest.approx(14.0)


def test_soft_sharing_penalty_has_a_finite_gradient_at_equal_weights(device):
    w = torch.ones(3, requires_grad=True, device=device)
    mc.soft_sharing_penalty([[w, w.detach().clone()]]).backward()
    assert torch.equal(w.grad.cpu(), torch.zeros(3))


def test_nuclear_norm_of_known_matrices(device):
    # diag(3, 4) has singular values 4 and 3; a rank-1 outer product u vᵀ has one, ‖u‖·‖v‖
    assert float(mc.nuclear_norm(torch.diag(torch.tensor([3.0, -4.0], device=device)))) == pytest.approx(7.0)
    u, v = torch.tensor([3.0, 4.0], device=device), torch.tensor([1.0, 2.0, 2.0], device=device)
    assert float(mc.nuclear_norm(torch.outer(u, v))) == pytest.approx(5.0 * 3.0, rel=1e-5)
    with pytest.raises(ValueError, match="needs a matrix"):
        mc.nuclear_norm(torch.ones(2, 2, 2))


def test_trace_norm_penalty_stacks_tasks_as_rows(device):
    # two tasks' 2×1 weights → the 2×2 matrix [[3, 0], [0, 4]] (rows = tasks): nuclear norm 7
    layer = [torch.tensor([[3.0], [0.0]], device=device), torch.tensor([[0.0], [4.0]], device=device)]
    assert torch.equal(mc.stack_tasks(layer).cpu(), torch.tensor([[3.0, 0.0], [0.0, 4.0]]))
    assert float(mc.trace_norm_penalty([layer])) == pytest.approx(7.0)
    # identical tasks: rank 1, so the nuclear norm is sqrt(2)·‖w‖
    same = [torch.tensor([3.0, 4.0], device=device), torch.tensor([3.0, 4.0], device=device)]
    assert float(mc.trace_norm_penalty([same])) == pytest.approx(math.sqrt(2) * 5.0, rel=1e-5)


def test_coupling_refuses_mismatched_or_single_tasks():
    with pytest.raises(ValueError, match="one shape"):
        mc.soft_sharing_penalty([[torch.ones(2), torch.ones(3)]])
    with pytest.raises(ValueError, match="at least 2 tasks"):
        mc.trace_norm_penalty([[torch.ones(2)]])
    with pytest.raises(ValueError, match="no layers"):
        mc.soft_sharing_penalty([])


def soft_model(tasks, seed: int = 0, device: torch.device | str = "cpu") -> mc.SoftSharing:
    torch.manual_seed(seed)
    return mc.SoftSharing(lambda: mc.MLP(4, [8]), tasks).to(device)


def test_soft_sharing_model_has_one_network_per_task(two_regression_tasks, device):
    model = soft_model(two_regression_tasks, device=device)
    out = model(torch.zeros(3, 4, device=device))
    assert {k: v.shape for k, v in out.items()} == {"a": (3, 1), "b": (3, 1)}
    layers = model.corresponding_weights()
    assert [tuple(l[0].shape) for l in layers] == [(8, 4), (8,)] and all(len(l) == 2 for l in layers)
    assert layers[0][0] is model.trunks["a"][0].weight and layers[0][1] is model.trunks["b"][0].weight
    assert model.shared_parameters() == [] and len(model.task_parameters()) == len(list(model.parameters()))
    assert float(mc.soft_sharing_penalty(layers).detach()) == 0.0, "same_init: the trunks start equal"
    torch.manual_seed(0)
    apart = mc.SoftSharing(lambda: mc.MLP(4, [8]), two_regression_tasks, same_init=False).to(device)
    assert float(mc.soft_sharing_penalty(apart.corresponding_weights()).detach()) > 0.0


def test_soft_sharing_refuses_a_trunk_instead_of_a_factory(two_regression_tasks):
    with pytest.raises(TypeError, match="function that builds a trunk"):
        mc.SoftSharing(mc.MLP(4, [8]), two_regression_tasks)
    trunk = mc.MLP(4, [8])
    with pytest.raises(ValueError, match="same module twice"):
        mc.SoftSharing(lambda: trunk, two_regression_tasks)
    widths = iter([[8], [9]])
    with pytest.raises(ValueError, match="differ in their layers"):
        mc.SoftSharing(lambda: mc.MLP(4, next(widths)), two_regression_tasks)
    with pytest.raises(ValueError, match="no shared representation"):
        soft_model(two_regression_tasks)(torch.zeros(1, 4), return_features=True)


def test_lambda_zero_leaves_the_single_task_gradients_unchanged(two_regression_tasks, tiny_regression, device):
    """Soft sharing at λ = 0: each task's network gets exactly the gradient of its own single-task loss."""
    batch = tiny_regression.train.subset(slice(0, 32)).to(device)
    model = soft_model(two_regression_tasks, device=device)
    losses = mc.task_losses(two_regression_tasks, model(batch.x), batch.y)
    total = sum(losses.values()) + 0.0 * mc.soft_sharing_penalty(model.corresponding_weights()) \
        + 0.0 * mc.trace_norm_penalty(model.corresponding_weights())
    total.backward()
    for task in two_regression_tasks:
        trunk, head = model.trunks[task.name], model.heads[task.name]
        stl = mc.HardSharing(mc.MLP(4, [8]), [task]).to(device)
        stl.trunk.load_state_dict(trunk.state_dict())
        stl.heads[task.name].load_state_dict(head.state_dict())
        mc.task_losses([task], stl(batch.x), batch.y)[task.name].backward()
        for p, q in zip(list(trunk.parameters()) + list(head.parameters()), stl.parameters()):
            assert torch.allclose(p.grad, q.grad, atol=1e-7)


def train_and_flatten(tasks, data, device: torch.device | str = "cpu", **kwargs) -> torch.Tensor:
    model = soft_model(tasks, seed=1, device=device)
    mc.fit(model, tasks, data.train.to(device), epochs=3, batch_size=64, seed=2, progress=False, **kwargs)
    return torch.cat([p.detach().flatten() for p in model.parameters()]).cpu()


def test_fit_with_no_or_a_zero_penalty_trains_as_before(two_regression_tasks, tiny_regression, device, same_run):
    same = same_run
    plain = train_and_flatten(two_regression_tasks, tiny_regression, device)
    assert same(plain, train_and_flatten(two_regression_tasks, tiny_regression, device, penalty=None))
    zero = lambda m: 0.0 * mc.soft_sharing_penalty(m.corresponding_weights())
    assert same(plain, train_and_flatten(two_regression_tasks, tiny_regression, device, penalty=zero))
    constant = lambda m: torch.tensor(3.0, device=device)
    assert same(plain, train_and_flatten(two_regression_tasks, tiny_regression, device, penalty=constant))


def test_fit_penalty_adds_its_gradient_to_the_strategys(two_regression_tasks, tiny_regression, device):
    """With a large soft-sharing λ the two trunks end much closer than without it."""
    def distance(lam: float) -> float:
        model = soft_model(two_regression_tasks, seed=1, device=device)
        mc.fit(model, two_regression_tasks, tiny_regression.train.to(device), epochs=100, lr=1e-2, progress=False,
               penalty=lambda m: lam * mc.soft_sharing_penalty(m.corresponding_weights()))
        return float(mc.soft_sharing_penalty(model.corresponding_weights()).detach())
    assert distance(10.0) < 0.05 * distance(0.0)


def test_fit_refuses_a_penalty_that_is_not_a_scalar(two_regression_tasks, tiny_regression, device):
    model = soft_model(two_regression_tasks, device=device)
    with pytest.raises(ValueError, match="scalar tensor"):
        mc.fit(model, two_regression_tasks, tiny_regression.train.to(device), epochs=1, progress=False,
               penalty=lambda m: torch.ones(2, requires_grad=True, device=device))
