"""Relatedness: gradient cosine, lookahead task affinity, groupings, the grouped data and the explorer."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import mtl_course as mc
from mtl_course.relatedness import partitions


def test_gradient_cosine_on_hand_made_gradients(device):
    grads = torch.tensor([[1.0, 0.0], [1.0, 1.0], [-2.0, 0.0], [0.0, 0.0]], device=device)
    cos = mc.gradient_cosine(grads)
    assert cos.device.type == device.type
    cos = cos.cpu()
    assert cos[0, 1] == pytest.approx(1 / math.sqrt(2))
    assert cos[0, 2] == pytest.approx(-1.0) and cos[1, 2] == pytest.approx(-1 / math.sqrt(2))
    assert torch.allclose(cos, cos.T) and cos[3].abs().sum() == 0  # a zero gradient has no direction
    assert torch.allclose(cos.diagonal()[:3], torch.ones(3))
    with pytest.raises(ValueError, match="T×D"):
        mc.gradient_cosine(torch.zeros(3))


def test_gradient_cosine_survives_overflow_and_refuses_nan(device):
    huge = torch.tensor([[3e38, 3e38], [1.0, 1.0], [-1e-30, 0.0]], device=device)  # ‖row 0‖ overflows float32
    cos = mc.gradient_cosine(huge).cpu()
    assert cos[0, 1] == pytest.approx(1.0) and cos[0, 0] == pytest.approx(1.0)
    assert cos[0, 2] == pytest.approx(-1 / math.sqrt(2)) and cos[2, 2] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"row\(s\) \[1\] contain NaN or inf"):
        mc.gradient_cosine(torch.tensor([[1.0, 0.0], [float("nan"), 1.0]], device=device))


def test_conflict_fraction_counts_negative_cosines(device):
    assert mc.conflict_fraction([0.5, -0.1, -0.3, 0.0]) == 0.5
    assert mc.conflict_fraction(torch.tensor([0.5, -0.1, -0.3, 0.0], device=device)) == 0.5   # a probe's log
    with pytest.raises(ValueError, match="at least one"):
        mc.conflict_fraction([])


def test_cosine_probe_logs_without_changing_training(two_regression_tasks, tiny_regression, device, same_run):
    def train(strategy):
        torch.manual_seed(0)
        model = mc.HardSharing(mc.MLP(4, [8]), two_regression_tasks).to(device)
        mc.fit(model, two_regression_tasks, tiny_regression.train.to(device), epochs=2, batch_size=64,
               strategy=strategy, progress=False)
        return torch.cat([p.detach().flatten() for p in model.parameters()]).cpu()
    probe = mc.GradientCosineProbe(every=3)
    assert same_run(train(None), train(probe))
    assert probe.steps == [1, 4, 7] and len(probe.cosines) == 3  # 2 epochs × 4 batches = 8 steps
    # cos(a, b) and cos(b, a) are equal in exact arithmetic; a GPU's matrix product may round them differently
    assert probe.pair("a", "b").shape == (3,)
    assert torch.allclose(probe.pair("a", "b"), probe.pair("b", "a"), rtol=1e-5, atol=1e-6)
    with pytest.raises(KeyError, match="Unknown task 'c'"):
        probe.pair("a", "c")
    with pytest.raises(ValueError, match="positive"):
        mc.GradientCosineProbe(every=0)


class Linear(mc.MultiTaskModel):
    """A shared scalar w and no heads: both tasks predict w·x."""

    def __init__(self, w: float):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([w]))

    def forward(self, x):
        return {"a": x * self.w, "b": x * self.w}

    def shared_parameters(self):
        return [self.w]


def test_lookahead_affinity_matches_hand_computation(device):
    # x = 1, targets a = 1, b = -1, w = 0.5: L_a = (w-1)² = 0.25, L_b = (w+1)² = 2.25,
    # ∇L_a = 2(w-1) = -1, ∇L_b = 2(w+1) = 3. With lr 0.1: step on a → w = 0.6, step on b → w = 0.2.
    tasks = [mc.regression("a"), mc.regression("b")]
    batch = mc.MultiTaskData(torch.ones(1, 1), {"a": torch.tensor([1.0]), "b": torch.tensor([-1.0])}).to(device)
    model = Linear(0.5).to(device)
    z = mc.lookahead_affinity(model, tasks, batch, lr=0.1)
    expected = torch.tensor([[1 - 0.16 / 0.25, 1 - 2.56 / 2.25], [1 - 0.64 / 0.25, 1 - 1.44 / 2.25]])
    z = z.cpu()
    assert torch.allclose(z, expected, atol=1e-6)
    assert not torch.allclose(z, z.T)          # affinity is not symmetric
    assert model.w.item() == 0.5                # the model is left as it was


def test_task_affinity_finds_related_pairs(device):
    data = mc.grouped_regression((2, 2), n_train=200, seed=0, device=device)
    tasks = [mc.regression(t) for t in data.train.tasks]
    torch.manual_seed(0)
    model = mc.HardSharing(mc.MLP(50, [8], activation=nn.Tanh), tasks).to(device)
    z = mc.task_affinity(model, tasks, data.train, epochs=20, batch_size=50, lr=1e-2, every=2)
    assert z.shape == (4, 4)
    within = (z[0, 1] + z[1, 0] + z[2, 3] + z[3, 2]) / 4
    across = z[[0, 0, 1, 1], [2, 3, 2, 3]].mean()
    assert within > across
    assert mc.best_grouping(z, n_groups=2) == [[0, 1], [2, 3]]


def test_group_affinity_and_best_grouping_on_a_hand_made_matrix(device):
    z = torch.tensor([[0.0, 0.4, -0.1], [0.2, 0.0, 0.0], [-0.3, 0.1, 0.0]], device=device)
    # {0,1},{2}: onto 0 from 1 = 0.2, onto 1 from 0 = 0.4 → 0.6
    assert mc.group_affinity(z, [[0, 1], [2]]) == pytest.approx(0.6)
    # {0,1,2}: onto 0: (0.2-0.3)/2, onto 1: (0.4+0.1)/2, onto 2: (-0.1+0)/2 → 0.15
    assert mc.group_affinity(z, [[0, 1, 2]]) == pytest.approx(0.15)
    assert mc.best_grouping(z) == [[0, 1], [2]]
    assert mc.best_grouping(z, n_groups=3) == [[0], [1], [2]]
    with pytest.raises(ValueError, match="exactly once"):
        mc.group_affinity(z, [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="square"):
        mc.group_affinity(torch.zeros(2, 3), [[0, 1]])
    with pytest.raises(ValueError, match="n_groups"):
        mc.best_grouping(z, n_groups=4)


def test_partitions_are_counted_by_bell_numbers():
    assert [len(list(partitions(range(n)))) for n in range(1, 7)] == [1, 2, 5, 15, 52, 203]


def test_grouped_regression_has_the_stated_structure(device):
    data = mc.grouped_regression((2, 1), n_train=50, n_val=10, n_test=4000, noise=0.0, seed=1, device=device)
    assert data.train.tasks == ["t0", "t1", "t2"] and len(data.train) == 50
    y = torch.stack([data.test.y[t] for t in data.test.tasks])
    assert torch.allclose(y.var(dim=1), torch.ones(3, device=device), atol=0.1)   # unit-variance signal
    again = mc.grouped_regression((2, 1), n_train=50, n_val=10, n_test=4000, noise=0.0, seed=1, device=device)
    assert torch.equal(again.test.y["t0"], data.test.y["t0"])
    with pytest.raises(ValueError, match="group_sizes"):
        mc.grouped_regression((2, 0))


def test_explorer_runs_headless_and_sharing_wins_when_tasks_share_everything():
    from mtl_course.widgets import SharingExplorer, compare_sharing
    explorer = SharingExplorer(n_tasks=3, n_per_task=60)
    result = explorer.update(rho=1.0, n_per_task=200)   # 200 samples: the shared trunk wins for every seed tried
    assert set(result["stl"]) == set(result["shared"]) == {"t00", "t01", "t02"}
    assert result["gain"] == pytest.approx(result["stl_mean"] / result["shared_mean"])
    assert result["gain"] > 1.0 and explorer.figure is not None
    assert explorer.result is result
    # moving a slider in JupyterLab sets its value in the kernel; that alone must retrain and redraw
    explorer.n.value = 60
    explorer.rho.value = 0.0
    assert explorer.result is not result and "ρ = 0.00, 60 samples" in explorer.figure.axes[0].get_title()
    with pytest.raises(ValueError, match="rho"):
        explorer.update(rho=1.5)
    with pytest.raises(ValueError, match="n_per_task"):
        compare_sharing(0.5, n_per_task=1)
