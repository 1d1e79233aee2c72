"""Cross-stitch, MMoE and task attention (chapter 8): definitions, errors, and every strategy of the course."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import mtl_course as mc

TASKS = [mc.regression("a"), mc.regression("b")]


def small_cnn() -> mc.CNN:
    return mc.CNN(channels=(4, 8), hidden=16, image_size=12)


def reached(model: mc.MultiTaskModel, x: torch.Tensor) -> dict[str, set[int]]:
    """For each task, the ids of the parameters its loss reaches (autograd gives them a gradient)."""
    params = [p for p in model.parameters() if p.requires_grad]
    out = model(x)
    result = {}
    for name, prediction in out.items():
        grads = torch.autograd.grad(prediction.sum(), params, retain_graph=True, allow_unused=True)
        result[name] = {id(p) for p, g in zip(params, grads) if g is not None}
    return result


ARCHITECTURES = {
    "hard": lambda: mc.HardSharing(mc.MLP(4, [8, 8]), TASKS),
    "soft": lambda: mc.SoftSharing(lambda: mc.MLP(4, [8, 8]), TASKS),
    "cross_stitch": lambda: mc.CrossStitch(lambda: mc.MLP(4, [8, 8]), TASKS),
    "mmoe": lambda: mc.MMoE(lambda: mc.MLP(4, [8]), 3, TASKS, in_dim=4, tower=lambda: mc.MLP(8, [4])),
    "attention": lambda: mc.TaskAttention(lambda: mc.MLP(4, [8, 8]), TASKS),
}
NO_SHARED_FEATURES = {"soft", "cross_stitch", "attention"}
NO_SHARED_MATRIX = {"soft"}   # GradNorm measures the last shared weight matrix


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_shared_parameters_are_those_reached_by_more_than_one_task(arch, device):
    torch.manual_seed(0)
    model = ARCHITECTURES[arch]().to(device)
    by_task = reached(model, torch.randn(5, 4, device=device))
    counts: dict[int, int] = {}
    for ids in by_task.values():
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
    assert {id(p) for p in model.shared_parameters()} == {i for i, c in counts.items() if c > 1}
    assert all(counts.get(id(p), 0) == 1 for p in model.task_parameters())


@pytest.mark.parametrize("arch", ["cross_stitch", "attention"])
def test_image_architectures_give_one_prediction_per_task(arch, device):
    tasks = [mc.classification("left", 10), mc.classification("right", 10)]
    model = (mc.CrossStitch(small_cnn, tasks) if arch == "cross_stitch" else mc.TaskAttention(small_cnn, tasks))
    model.to(device)
    out = model(torch.rand(3, 1, 12, 12, device=device))
    assert {k: tuple(v.shape) for k, v in out.items()} == {"left": (3, 10), "right": (3, 10)}


def test_cross_stitch_units_start_as_asked_and_identity_gives_independent_networks(device):
    torch.manual_seed(0)
    model = mc.CrossStitch(small_cnn, TASKS, init=(1.0, 0.0)).to(device)
    matrices = model.mixing_matrices()
    assert len(matrices) == 3 and all(torch.equal(m.cpu(), torch.eye(2)) for m in matrices)
    assert torch.equal(mc.CrossStitch(small_cnn, TASKS).mixing_matrices()[0], torch.tensor([[0.9, 0.1], [0.1, 0.9]]))
    x = torch.rand(4, 1, 12, 12, device=device)
    out = model(x)
    for task in TASKS:
        single = mc.single_task_model(small_cnn(), task).to(device)
        with torch.no_grad():
            for p, q in zip(single.trunk.parameters(), model.columns[task.name].parameters()):
                p.copy_(q)
        single.heads[task.name].load_state_dict(model.heads[task.name].state_dict())
        assert torch.allclose(out[task.name], single(x)[task.name], atol=1e-6)
    # ... and with the identity unit, task a's loss gives column b no gradient
    out["a"].sum().backward()
    assert all(float(p.grad.abs().sum()) == 0 for p in model.columns["b"].parameters())


def test_mmoe_gates_are_distributions_and_one_expert_is_the_shared_bottom(device):
    torch.manual_seed(0)
    model = mc.MMoE(lambda: mc.MLP(4, [8]), 3, TASKS, in_dim=4).to(device)
    x = torch.randn(6, 4, device=device)
    gates = model.gate_weights(x)
    assert set(gates) == {"a", "b"} and all(g.shape == (6, 3) and bool((g > 0).all()) for g in gates.values())
    assert all(torch.allclose(g.sum(1), torch.ones(6, device=device)) for g in gates.values())
    out, experts = model(x, return_features=True)
    assert experts.shape == (6, 3, 8) and {k: tuple(v.shape) for k, v in out.items()} == {"a": (6, 1), "b": (6, 1)}
    # z_t = Σᵢ g_t,i·f_i(x), by hand
    by_hand = sum(gates["a"][:, i:i + 1] * model.experts[i](x) for i in range(3))
    assert torch.allclose(out["a"], model.heads["a"](by_hand), atol=1e-6)
    one = mc.MMoE(lambda: mc.MLP(4, [8]), 1, TASKS, in_dim=4).to(device)
    bottom = mc.HardSharing(one.experts[0], TASKS).to(device)
    bottom.heads.load_state_dict(one.heads.state_dict())
    for name in ("a", "b"):
        assert torch.allclose(one(x)[name], bottom(x)[name], atol=1e-6)


def test_mmoe_gates_read_images_flattened(device):
    tasks = [mc.classification("left", 10), mc.classification("right", 10)]
    model = mc.MMoE(small_cnn, 2, tasks, in_dim=144).to(device)
    x = torch.rand(3, 1, 12, 12, device=device)
    assert torch.allclose(model.gate_weights(x)["left"], torch.softmax(model.gates["left"](x.reshape(3, 144)), -1))
    assert model(x)["right"].shape == (3, 10)


def test_attention_starts_as_hard_sharing_and_its_masks_learn_from_the_first_step(device):
    torch.manual_seed(0)
    model = mc.TaskAttention(small_cnn, TASKS).to(device)
    x = torch.rand(2, 1, 12, 12, device=device)
    masks = model.attention(x)
    assert [tuple(m.shape) for m in masks["a"]] == [(2, 4, 6, 6), (2, 8, 3, 3), (2, 16)]
    assert all(bool((m == 1).all()) for m in masks["a"] + masks["b"])     # every mask passes its features through
    torch.manual_seed(0)
    hard = mc.HardSharing(small_cnn(), TASKS).to(device)                    # the same seed draws the same trunk and heads
    out, want = model(x), hard(x)
    for name in ("a", "b"):
        assert torch.equal(out[name], want[name])                           # exactly hard sharing at step 0
    # ... and not a saturated σ: the loss reaches every mask layer's weight and bias
    sum(o.square().sum() for o in out.values()).backward()
    for stage in model.masks:
        for layer in stage.values():
            assert layer.weight.grad.abs().max() > 1e-4 and layer.bias.grad.abs().max() > 1e-4
    # the masks lie in (0, 2) and 2σ(b) of a bias b alone, for any logits
    with torch.no_grad():
        for layer in model.masks.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                layer.weight.normal_(0, 3.0)
                layer.bias.fill_(0.5)
    assert all(bool(((m > 0) & (m < 2)).all()) for m in model.attention(x)["a"])
    assert torch.allclose(mc.attention.mask(torch.tensor([-50.0, 0.0, math.log(3)])), torch.tensor([0.0, 1.0, 1.5]))


def test_one_step_moves_attention_away_from_hard_sharing(device):
    """Trained one step, the masks leave 1 and the two tasks' masks differ: the start is not a fixed point."""
    torch.manual_seed(0)
    model = mc.TaskAttention(lambda: mc.MLP(4, [8, 8]), TASKS).to(device)
    x, y = torch.randn(16, 4, device=device), {t.name: torch.randn(16, 1, device=device) for t in TASKS}
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    out = model(x)
    sum(((out[t] - y[t]) ** 2).mean() for t in y).backward()
    optimizer.step()
    with torch.no_grad():
        masks = model.attention(x)
    assert all(float((m - 1).abs().max()) > 1e-3 for m in masks["a"] + masks["b"])
    assert float((masks["a"][0] - masks["b"][0]).abs().max()) > 1e-3


@pytest.mark.parametrize("make", [
    lambda: mc.CrossStitch(mc.MLP(4, [8]), TASKS),
    lambda: mc.TaskAttention(mc.MLP(4, [8]), TASKS),
    lambda: mc.MMoE(mc.MLP(4, [8]), 2, TASKS, in_dim=4),
    lambda: mc.MMoE(lambda: mc.MLP(4, [8]), 2, TASKS, in_dim=4, tower=mc.MLP(8, [4])),
], ids=["cross_stitch", "attention", "mmoe", "mmoe_tower"])
def test_a_module_instead_of_a_builder_is_refused(make):
    with pytest.raises(TypeError, match="function that builds"):
        make()


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="at least 2 tasks, got 1"):
        mc.CrossStitch(lambda: mc.MLP(4, [8]), TASKS[:1])
    with pytest.raises(ValueError, match="at least 2 tasks, got 1"):
        mc.TaskAttention(lambda: mc.MLP(4, [8]), TASKS[:1])
    shared = mc.MLP(4, [8])
    with pytest.raises(ValueError, match="same module twice"):
        mc.CrossStitch(lambda: shared, TASKS)
    with pytest.raises(ValueError, match="diagonal, off-diagonal"):
        mc.CrossStitch(lambda: mc.MLP(4, [8]), TASKS, init=(1.0,))
    with pytest.raises(TypeError, match="nn.Sequential"):
        mc.CrossStitch(lambda: nn.Linear(4, 8), TASKS)
    with pytest.raises(TypeError, match="start with Conv2d or Linear, got ReLU"):
        mc.TaskAttention(lambda: nn.Sequential(nn.ReLU()), TASKS)
    for n in (0, -1, 1.5):
        with pytest.raises(ValueError, match="n_experts >= 1"):
            mc.MMoE(lambda: mc.MLP(4, [8]), n, TASKS, in_dim=4)
    with pytest.raises(ValueError, match="out_dim"):
        mc.MMoE(lambda: nn.Linear(4, 8), 2, TASKS, in_dim=4)
    with pytest.raises(ValueError, match="in_dim"):
        mc.MMoE(lambda: mc.MLP(4, [8]), 2, TASKS, in_dim=0)
    model = mc.MMoE(lambda: mc.MLP(4, [8]), 2, TASKS, in_dim=4)
    with pytest.raises(ValueError, match=r"shape \(N, 4\).*got \(3, 5\)"):
        model(torch.randn(3, 5))
    for model in (mc.CrossStitch(lambda: mc.MLP(4, [8]), TASKS), mc.TaskAttention(lambda: mc.MLP(4, [8]), TASKS)):
        with pytest.raises(ValueError, match="no single shared representation"):
            model(torch.randn(3, 4), return_features=True)


names = [t.name for t in TASKS]
STRATEGIES = {
    "equal": lambda: mc.EqualWeighting(),
    "static": lambda: mc.StaticWeighting({"a": 0.3, "b": 2.0}),
    "uncertainty": lambda: mc.UncertaintyWeighting(names),
    "gradnorm": lambda: mc.GradNorm(names),
    "dwa": lambda: mc.DynamicWeightAverage(names),
    "dtp": lambda: mc.DynamicTaskPrioritization(names),
    "rlw": lambda: mc.RandomLossWeighting(names),
    "mgda": lambda: mc.GradientAggregation(mc.mgda),
    "pcgrad": lambda: mc.GradientAggregation(mc.pcgrad),
    "cagrad": lambda: mc.GradientAggregation(mc.cagrad),
    "imtl_g": lambda: mc.GradientAggregation(mc.imtl_g),
    "mgda_ub": lambda: mc.RepresentationWeighting(mc.mgda_weights),
}


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_strategy_trains_every_architecture(arch, strategy, tiny_regression, device):
    torch.manual_seed(0)
    model = ARCHITECTURES[arch]().to(device)
    before = [p.detach().clone() for p in model.parameters()]
    train = tiny_regression.train.subset(slice(0, 64)).to(device)
    run = lambda: mc.fit(model, TASKS, train, epochs=1, batch_size=32, strategy=STRATEGIES[strategy](),
                         progress=False)
    if strategy == "mgda_ub" and arch in NO_SHARED_FEATURES:
        with pytest.raises(ValueError, match="no single shared representation|no shared representation"):
            run()
        return
    if strategy == "gradnorm" and arch in NO_SHARED_MATRIX:
        with pytest.raises(ValueError, match="no shared weight matrix"):
            run()
        return
    history = run()
    assert all(math.isfinite(v) for r in history.records for v in r["train_loss"].values())
    changed = [not torch.equal(b, p) for b, p in zip(before, model.parameters())]
    if strategy == "mgda_ub":   # MGDA's weights may be 0 for a task: then only its head stays
        heads = {id(p) for p in model.heads.parameters()}
        changed = [c for c, p in zip(changed, model.parameters()) if id(p) not in heads]
    assert all(changed), f"{sum(not c for c in changed)} parameter tensors did not change"
