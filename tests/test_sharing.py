"""Partial sharing and batched independent networks (chapters 1-2), checked against their definitions."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import mtl_course as mc


def test_trunk_layers_groups_each_parametrized_module_with_what_follows():
    layers = mc.trunk_layers(mc.CNN())
    assert [[type(m).__name__ for m in layer] for layer in layers] == [
        ["Conv2d", "ReLU"], ["Conv2d", "ReLU"], ["Conv2d", "ReLU", "Flatten"], ["Linear", "ReLU"]]
    assert len(mc.trunk_layers(mc.MLP(4, [8, 8, 8]))) == 3


@pytest.mark.parametrize("shared", [0, 1, 2, 3])
def test_partial_sharing_counts_shared_and_private_parameters(two_regression_tasks, shared, device):
    model = mc.PartialSharing(lambda: mc.MLP(4, [8, 8, 8]), two_regression_tasks, shared_layers=shared).to(device)
    sizes = [4 * 8 + 8, 8 * 8 + 8, 8 * 8 + 8]   # the trunk's three layers
    assert mc.count_parameters(model.shared_parameters()) == sum(sizes[:shared])
    assert mc.count_parameters(model) == sum(sizes[:shared]) + 2 * sum(sizes[shared:]) + 2 * (8 + 1)
    out, z = model(torch.zeros(5, 4, device=device), return_features=True)
    assert {k: v.shape for k, v in out.items()} == {"a": (5, 1), "b": (5, 1)}
    assert z.shape == ((5, 8) if shared else (5, 4))


def test_partial_sharing_at_full_depth_is_hard_sharing(two_regression_tasks, device):
    torch.manual_seed(0)
    partial = mc.PartialSharing(lambda: mc.MLP(4, [8, 8]), two_regression_tasks, shared_layers=2).to(device)
    hard = mc.HardSharing(mc.MLP(4, [8, 8]), two_regression_tasks).to(device)
    hard.trunk.load_state_dict({k.replace("0.0.", "0.").replace("1.0.", "2."): v
                                for k, v in partial.shared.state_dict().items()})
    hard.heads.load_state_dict(partial.heads.state_dict())
    x = torch.randn(6, 4, device=device)
    for task in ("a", "b"):
        assert torch.allclose(partial(x)[task], hard(x)[task])


def test_partial_sharing_with_nothing_shared_keeps_tasks_apart(two_regression_tasks, device):
    model = mc.PartialSharing(lambda: mc.MLP(4, [8]), two_regression_tasks, shared_layers=0).to(device)
    out = model(torch.randn(3, 4, device=device))
    out["a"].sum().backward()
    assert all(p.grad is None for p in model.private["b"].parameters())
    assert model.shared_parameters() == []


def test_partial_sharing_refuses_a_depth_out_of_range(two_regression_tasks):
    with pytest.raises(ValueError, match=r"shared_layers must lie in \[0, 2\].*got 3"):
        mc.PartialSharing(lambda: mc.MLP(4, [8, 8]), two_regression_tasks, shared_layers=3)


def test_independent_mlps_equal_separate_single_task_networks(two_regression_tasks, device):
    torch.manual_seed(0)
    batched = mc.IndependentMLPs(4, [8, 6], two_regression_tasks).to(device)
    singles = {t.name: mc.single_task_model(mc.MLP(4, [8, 6]), t).to(device) for t in two_regression_tasks}
    for name, single in singles.items():
        batched.load_single_task(name, single)
    x = torch.randn(7, 4, device=device)
    out = batched(x)
    for name, single in singles.items():
        assert torch.allclose(out[name], single(x)[name], atol=1e-6)
    assert mc.count_parameters(batched) == sum(mc.count_parameters(s) for s in singles.values())
    assert batched.shared_parameters() == []


def test_independent_mlps_give_each_network_only_its_own_gradient(two_regression_tasks, device):
    batched = mc.IndependentMLPs(4, [8], two_regression_tasks).to(device)
    batched(torch.randn(5, 4, device=device))["a"].sum().backward()
    assert all(float(w.grad[1].abs().sum()) == 0 and float(w.grad[0].abs().sum()) > 0 for w in batched.weights)


def test_independent_mlps_refuse_mixed_output_sizes_and_unknown_tasks(two_regression_tasks):
    with pytest.raises(ValueError, match="one common out_dim"):
        mc.IndependentMLPs(4, [8], [mc.regression("a"), mc.classification("c", 3)])
    batched = mc.IndependentMLPs(4, [8], two_regression_tasks)
    with pytest.raises(KeyError, match="Unknown task 'z'"):
        batched.load_single_task("z", mc.single_task_model(mc.MLP(4, [8]), mc.regression("z")))
    with pytest.raises(ValueError, match="linear layers"):
        batched.load_single_task("a", mc.single_task_model(mc.MLP(4, [8, 8]), mc.regression("a")))
