"""Task sampling: the subset it draws, its T/k scale, its unbiasedness, and its errors."""
from __future__ import annotations

import itertools

import pytest
import torch

import mtl_course as mc


def five_task_problem(device: torch.device | str = "cpu"):
    data = mc.low_rank_regression(n_tasks=5, n_train=32, n_val=4, n_test=4, device=device)
    tasks = [mc.regression(t) for t in data.train.tasks]
    torch.manual_seed(0)
    model = mc.HardSharing(mc.MLP(50, [8]), tasks).to(device)
    return model, tasks, data.train


def trunk_grad(model) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) for p in model.shared_parameters()])


def test_sample_draws_k_distinct_tasks_reproducibly():
    names = [f"t{i}" for i in range(10)]
    a, b = mc.TaskSampling(mc.EqualWeighting(), 4, seed=1), mc.TaskSampling(mc.EqualWeighting(), 4, seed=1)
    draws = [a.sample(names) for _ in range(50)]
    assert draws == [b.sample(names) for _ in range(50)]
    assert all(len(d) == 4 == len(set(d)) and set(d) <= set(names) for d in draws)
    assert len({tuple(d) for d in draws}) > 1, "the subset should change from step to step"


def test_backward_is_the_scaled_sum_of_the_sampled_losses_and_heads_of_others_get_no_gradient(device):
    model, tasks, data = five_task_problem(device)
    losses = mc.task_losses(tasks, model(data.x), data.y)
    sampler = mc.TaskSampling(mc.EqualWeighting(), 2, seed=0)
    chosen = mc.TaskSampling(mc.EqualWeighting(), 2, seed=0).sample(list(losses))
    weights = sampler.backward(losses, model)
    assert weights == {t: (2.5 if t in chosen else 0.0) for t in losses}
    got = trunk_grad(model)
    model.zero_grad()
    losses = mc.task_losses(tasks, model(data.x), data.y)
    (2.5 * sum(losses[t] for t in chosen)).backward()
    assert torch.allclose(got, trunk_grad(model), atol=1e-6)
    model.zero_grad()
    losses = mc.task_losses(tasks, model(data.x), data.y)
    mc.TaskSampling(mc.EqualWeighting(), 2, seed=0).backward(losses, model)
    for name, head in model.heads.items():
        assert (head.weight.grad is None) == (name not in chosen)


def test_unscaled_sampling_uses_weight_one(device):
    model, tasks, data = five_task_problem(device)
    losses = mc.task_losses(tasks, model(data.x), data.y)
    weights = mc.TaskSampling(mc.EqualWeighting(), 3, unbiased=False).backward(losses, model)
    assert sorted(weights.values()) == [0.0, 0.0, 1.0, 1.0, 1.0]


def test_unbiased_over_all_subsets_equals_the_full_gradient(device):
    """E over uniform k-subsets of (T/k)·Σ_{t∈S} ∇Lₜ = Σₜ ∇Lₜ (each task is in S with probability k/T)."""
    model, tasks, data = five_task_problem(device)
    losses = mc.task_losses(tasks, model(data.x), data.y)
    names = list(losses)
    grads = []
    for subset in itertools.combinations(names, 2):
        model.zero_grad()
        (2.5 * sum(losses[t] for t in subset)).backward(retain_graph=True)
        grads.append(trunk_grad(model))
    model.zero_grad()
    sum(losses.values()).backward()
    assert torch.allclose(torch.stack(grads).mean(0), trunk_grad(model), atol=1e-5)


def test_wraps_a_gradient_method_and_trains_with_fit(device):
    model, tasks, data = five_task_problem(device)
    before = mc.evaluate(model, tasks, data).loss
    mc.fit(model, tasks, data, strategy=mc.TaskSampling(mc.GradientAggregation(mc.pcgrad), 2), epochs=30,
           batch_size=32, lr=1e-2, progress=False)
    assert sum(mc.evaluate(model, tasks, data).loss.values()) < sum(before.values())


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="k >= 1"):
        mc.TaskSampling(mc.EqualWeighting(), 0)
    with pytest.raises(ValueError, match="k >= 1"):
        mc.TaskSampling(mc.EqualWeighting(), 1.5)
    with pytest.raises(ValueError, match="shared representation"):
        mc.TaskSampling(mc.RepresentationWeighting(mc.mgda_weights), 2)
    with pytest.raises(ValueError, match="only 3"):
        mc.TaskSampling(mc.EqualWeighting(), 4).sample(["a", "b", "c"])
