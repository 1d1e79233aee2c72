"""Tasks with their own data (chapter 11): per-task sets, missing labels, the masked loss, batch schedules, F1."""
from __future__ import annotations

import math

import pytest
import torch

import mtl_course as mc
from mtl_course.data import MISSING, is_labelled
from mtl_course.schedules import steps_per_epoch


def two_sets(device, n_a: int = 20, n_b: int = 10) -> mc.PerTaskData:
    """Task "a" (regression) on n_a rows, task "b" (3 classes) on n_b other rows; x holds the row's id."""
    a = mc.MultiTaskData(torch.arange(n_a, dtype=torch.float32, device=device)[:, None].repeat(1, 2),
                         {"a": torch.arange(n_a, dtype=torch.float32, device=device)})
    b = mc.MultiTaskData(-1 - torch.arange(n_b, dtype=torch.float32, device=device)[:, None].repeat(1, 2),
                         {"b": torch.arange(n_b, device=device) % 3})
    return mc.PerTaskData({"a": a, "b": b})


TASKS = [mc.regression("a"), mc.classification("b", 3)]


# --- missing labels and the masked loss ---------------------------------------------------------------

def test_missing_labels_are_marked_in_the_targets(device):
    classes = torch.tensor([2, MISSING, 0], device=device)
    values = torch.tensor([[1.0, 2.0], [float("nan"), 0.0], [3.0, 4.0]], device=device)
    assert is_labelled(classes).tolist() == [True, False, True]
    assert is_labelled(values).tolist() == [True, False, True]   # a row with any NaN is missing


def test_hide_labels_hides_the_asked_fraction_of_one_task_only(device):
    data = mc.MultiTaskData(torch.zeros(10, 2, device=device),
                            {"a": torch.ones(10, device=device), "b": torch.ones(10, dtype=torch.long, device=device)})
    hidden = mc.hide_labels(data, "b", 0.7, seed=1)
    assert isinstance(hidden.to(device).subset(slice(0, 5)).only(["b"]), mc.PartiallyLabelled)
    assert int((~is_labelled(hidden.y["b"])).sum()) == 7 and bool(is_labelled(hidden.y["a"]).all())
    assert bool(is_labelled(data.y["b"]).all()), "the original must stay untouched"
    assert hidden.y["b"].device == data.y["b"].device
    with pytest.raises(ValueError, match="fraction"):
        mc.hide_labels(data, "b", 1.5)
    with pytest.raises(KeyError, match="'c'"):
        mc.hide_labels(data, "c", 0.5)


def test_masked_loss_by_hand(device):
    task = mc.regression("a")
    prediction = torch.tensor([[1.0], [2.0], [3.0]], device=device)
    target = torch.tensor([0.0, float("nan"), 1.0], device=device)
    assert math.isclose(float(mc.masked_loss(task, prediction, target)), (1 + 4) / 2, rel_tol=1e-6)


def test_masked_loss_equals_the_loss_on_the_labelled_subset_with_its_gradient(device):
    torch.manual_seed(0)
    for task, target in ((mc.classification("c", 4), torch.tensor([3, MISSING, 0, MISSING, 1, 2])),
                         (mc.regression("r", 2), torch.randn(6, 2).index_put_((torch.tensor([1, 4]),), torch.tensor(float("nan"))))):
        target = target.to(device)
        prediction = torch.randn(6, task.out_dim, device=device, requires_grad=True)
        keep = is_labelled(target)
        masked = mc.masked_loss(task, prediction, target)
        (g_masked,) = torch.autograd.grad(masked, prediction)
        subset = task.loss(prediction[keep], target[keep])
        (g_subset,) = torch.autograd.grad(subset, prediction)
        assert torch.allclose(masked, subset, atol=1e-6) and torch.allclose(g_masked, g_subset, atol=1e-6)


def test_masked_loss_without_any_label_is_zero_and_pushes_nothing(device):
    prediction = torch.randn(3, 4, device=device, requires_grad=True)
    loss = mc.masked_loss(mc.classification("c", 4), prediction, torch.full((3,), MISSING, device=device))
    (gradient,) = torch.autograd.grad(loss, prediction)
    assert float(loss.detach()) == 0.0 and bool((gradient == 0).all())


# --- per-task data ------------------------------------------------------------------------------------

def test_per_task_data_sizes_and_batches(device):
    data = two_sets(device)
    assert data.sizes == {"a": 20, "b": 10} and len(data) == 30 and data.tasks == ["a", "b"]
    batch = data.batch({"a": torch.tensor([3, 4]), "b": torch.tensor([1])})
    assert batch.x[:, 0].tolist() == [3.0, 4.0, -2.0]
    assert is_labelled(batch.y["a"]).tolist() == [True, True, False]
    assert is_labelled(batch.y["b"]).tolist() == [False, False, True] and int(batch.y["b"][2]) == 1


def test_per_task_data_refuses_bad_parts(device):
    x = torch.zeros(4, 2, device=device)
    with pytest.raises(ValueError, match="task 'a'.*only"):
        mc.PerTaskData({"a": mc.MultiTaskData(x, {"a": x[:, 0], "b": x[:, 0]})})
    with pytest.raises(ValueError, match="one shape"):
        mc.PerTaskData({"a": mc.MultiTaskData(x, {"a": x[:, 0]}),
                        "b": mc.MultiTaskData(torch.zeros(4, 3, device=device), {"b": x[:, 0]})})
    with pytest.raises(ValueError, match="empty"):
        mc.PerTaskData({"a": mc.MultiTaskData(x[:0], {"a": x[:0, 0]})})


def test_split_by_task_gives_disjoint_sets_of_the_asked_sizes(device):
    data = mc.MultiTaskData(torch.arange(50, device=device)[:, None].float(),
                            {"a": torch.arange(50, device=device).float(), "b": torch.arange(50, device=device)})
    per = mc.split_by_task(data, {"a": 30, "b": 5}, seed=2)
    rows = {t: set(part.x[:, 0].long().tolist()) for t, part in per.parts.items()}
    assert per.sizes == {"a": 30, "b": 5} and not rows["a"] & rows["b"]
    assert per.parts["b"].tasks == ["b"] and per.parts["b"].y["b"].tolist() == per.parts["b"].x[:, 0].long().tolist()
    with pytest.raises(ValueError, match="at most the 50"):
        mc.split_by_task(data, {"a": 30, "b": 25})
    with pytest.raises(KeyError, match="'c'"):
        mc.split_by_task(data, {"c": 3})


# --- schedules ----------------------------------------------------------------------------------------

def test_schedule_shares_by_hand():
    sizes = {"a": 900, "b": 100}
    assert mc.Proportional().shares(sizes) == pytest.approx({"a": 0.9, "b": 0.1})
    assert mc.Temperature(2).shares(sizes) == pytest.approx({"a": 0.75, "b": 0.25})   # √900 : √100 = 30 : 10
    assert mc.Uniform().shares(sizes) == pytest.approx({"a": 0.5, "b": 0.5})
    assert mc.RoundRobin().shares(sizes) == mc.AllTasks().shares(sizes) == {"a": 0.5, "b": 0.5}
    assert mc.OneTask("b").shares(sizes) == {"a": 0.0, "b": 1.0}
    with pytest.raises(ValueError, match="τ must be > 0"):
        mc.Temperature(0)


def test_schedule_plans():
    g = torch.Generator().manual_seed(0)
    sizes = {"a": 900, "b": 100, "c": 100}
    assert mc.RoundRobin().plan(sizes, 4, g) == [["a"], ["b"], ["c"], ["a"]]
    assert mc.AllTasks().plan(sizes, 2, g) == [["a", "b", "c"]] * 2
    assert mc.OneTask("c").plan(sizes, 2, g) == [["c"], ["c"]]
    plan = mc.Temperature(2).plan(sizes, 20_000, g)
    frequency = sum(step == ["a"] for step in plan) / len(plan)
    assert abs(frequency - 30 / 50) < 0.015        # √900 / (√900 + √100 + √100)
    assert steps_per_epoch(mc.Uniform(), sizes, 11) == 100 and steps_per_epoch(mc.AllTasks(), sizes, 11) == 33


def test_schedule_batches_show_every_schedule_the_same_examples(device):
    data = two_sets(device)   # 20 + 10 rows
    for schedule in (mc.RoundRobin(), mc.Proportional(), mc.Temperature(3), mc.Uniform(), mc.AllTasks()):
        batches = list(mc.schedule_batches(data, schedule, 5, torch.Generator().manual_seed(0)))
        assert sum(len(b) for b in batches) == 30, schedule
    # Round-robin: a, b, a, b, a, b: 15 rows each; b's 10 rows are all seen once before any repeats.
    batches = list(mc.schedule_batches(data, mc.RoundRobin(), 5, torch.Generator().manual_seed(0)))
    b_rows = torch.cat([batch.x[is_labelled(batch.y["b"]), 0] for batch in batches]).tolist()
    assert len(b_rows) == 15 and sorted(b_rows[:10]) == sorted(-1.0 - i for i in range(10))
    assert [bool(is_labelled(batch.y["a"]).all()) for batch in batches] == [True, False] * 3


def test_schedule_batches_refuse_what_is_not_a_schedule(device):
    with pytest.raises(TypeError, match="must be a Schedule"):
        next(mc.schedule_batches(two_sets(device), "uniform", 5))


# --- fit and evaluate on per-task data ------------------------------------------------------------------

def test_fit_learns_from_per_task_data_and_evaluate_scores_each_task_on_its_own_set(device):
    g = torch.Generator().manual_seed(0)
    xa, xb = torch.randn(400, 4, generator=g), torch.randn(40, 4, generator=g)
    data = mc.PerTaskData({"a": mc.MultiTaskData(xa, {"a": xa.sum(1)}),
                           "b": mc.MultiTaskData(xb, {"b": (xb[:, 0] > 0).long()})}).to(device)
    tasks = [mc.regression("a"), mc.classification("b", 2)]
    torch.manual_seed(0)
    model = mc.HardSharing(mc.MLP(4, [16]), tasks).to(device)
    before = mc.evaluate(model, tasks, data)
    with mc.cpu_threads(1):   # a model this small only waits for a second thread
        for schedule in (mc.Uniform(), mc.AllTasks()):
            mc.fit(model, tasks, data, schedule=schedule, epochs=15, lr=1e-2, batch_size=20, progress=False)
    after = mc.evaluate(model, tasks, data)
    assert after.loss["a"] < 0.1 * before.loss["a"] and after.metric["b"] > 0.9, (before, after)
    alone = mc.evaluate(mc.train._OneTask(model, "b"), [tasks[1]], data.parts["b"])
    assert alone.metric["b"] == after.metric["b"] and model.training
    with pytest.raises(ValueError, match="needs per-task data"):
        mc.fit(model, tasks, data.parts["a"], schedule=mc.Uniform(), epochs=1, progress=False)


def test_a_step_on_partially_labelled_data_is_a_step_on_the_labelled_subsets(device):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 4, generator=g)
    data = mc.hide_labels(mc.MultiTaskData(x, {"a": x.sum(1), "b": x[:, 0] - x[:, 1]}), "b", 0.75, seed=0).to(device)
    tasks = [mc.regression("a"), mc.regression("b")]
    torch.manual_seed(0)
    model = mc.HardSharing(mc.MLP(4, [8]), tasks).to(device)
    keep = is_labelled(data.y["b"])
    by_hand = sum(t.loss(model(x)[t.name], y) for t, x, y in
                  ((tasks[0], data.x, data.y["a"]), (tasks[1], data.x[keep], data.y["b"][keep])))
    want = torch.autograd.grad(by_hand, list(model.parameters()))
    mc.fit(model, tasks, data, epochs=1, batch_size=32, lr=1e-3, progress=False)   # one full-batch Adam step
    torch.manual_seed(0)
    reference = mc.HardSharing(mc.MLP(4, [8]), tasks).to(device)
    for p, grad in zip(reference.parameters(), want):
        p.grad = grad
    torch.optim.Adam(reference.parameters(), lr=1e-3).step()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(model.parameters(), reference.parameters()))


# --- F1 -----------------------------------------------------------------------------------------------

def test_f1_by_hand(device):
    predicted = torch.tensor([1, 1, 0, 0, 1], device=device)
    labels = torch.tensor([1, 0, 0, 1, 1], device=device)
    assert math.isclose(mc.f1(predicted, labels), 4 / 6)              # TP 2, FP 1, FN 1
    assert math.isclose(mc.f1(predicted, labels, positive=0), 2 / 4)  # TP 1, FP 1, FN 1
    assert math.isclose(mc.macro_f1(predicted, labels), (4 / 6 + 2 / 4) / 2)
    assert mc.f1(torch.zeros(5, dtype=torch.long, device=device), labels) == 0.0   # never predicts the positives
    three = torch.tensor([0, 1, 2, 2], device=device)
    assert math.isclose(mc.macro_f1(three, torch.tensor([0, 1, 2, 1], device=device)), (1 + 2 / 3 + 2 / 3) / 3)


def test_f1_refuses_scores_mismatches_and_undefined_cases(device):
    labels = torch.tensor([0, 1], device=device)
    with pytest.raises(ValueError, match="argmax"):
        mc.f1(torch.tensor([0.2, 0.9], device=device), labels)
    with pytest.raises(ValueError, match="3 predictions and 2 labels"):
        mc.f1(torch.tensor([0, 1, 1], device=device), labels)
    with pytest.raises(ValueError, match="undefined"):
        mc.f1(torch.zeros(2, dtype=torch.long, device=device), torch.zeros(2, dtype=torch.long, device=device))


def test_nan_in_ordinary_data_is_still_an_error_but_a_missing_label_in_partially_labelled_data(two_regression_tasks, device):
    x = torch.randn(16, 4, device=device)
    y = {"a": x.sum(1), "b": x[:, 0].clone()}
    y["b"][3] = float("nan")
    torch.manual_seed(0)
    model = mc.HardSharing(mc.MLP(4, [8]), two_regression_tasks).to(device)
    with pytest.raises(FloatingPointError, match="became"):
        mc.fit(model, two_regression_tasks, mc.MultiTaskData(x, y), epochs=1, progress=False)
    torch.manual_seed(0)   # a fresh model: fit reads its NaN record every few steps, so the first one took a NaN step
    model = mc.HardSharing(mc.MLP(4, [8]), two_regression_tasks).to(device)
    history = mc.fit(model, two_regression_tasks, mc.PartiallyLabelled(x, y), epochs=1, progress=False)
    assert all(math.isfinite(v) for v in history.records[0]["train_loss"].values())
