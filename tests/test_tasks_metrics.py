"""Tasks, their losses and metrics, Δm%, and the clear errors for mismatched tasks and shapes."""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

import mtl_course as mc


def test_task_loss_and_metric_follow_the_kind(device):
    digit = mc.classification("digit", 3)
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]], device=device)
    labels = torch.tensor([0, 1], device=device)
    assert torch.isclose(digit.loss(logits, labels).cpu(), F.cross_entropy(logits.cpu(), labels.cpu()))
    assert digit.metric(logits, labels) == 0.5 and digit.higher_is_better and digit.metric_name == "accuracy"
    price = mc.regression("price")
    pred, target = torch.tensor([[1.0], [3.0]], device=device), torch.tensor([0.0, 1.0], device=device)
    assert float(price.loss(pred, target)) == pytest.approx((1 + 4) / 2)
    assert price.metric(pred, target) == pytest.approx(2.5) and not price.higher_is_better


def test_broadcasting_shape_mistake_is_refused():
    price = mc.regression("price")
    with pytest.raises(ValueError, match=r"'price'.*prediction has shape \(4,\), expected \(4, 1\)"):
        price.loss(torch.zeros(4), torch.zeros(4))
    with pytest.raises(ValueError, match=r"'price'.*target has shape \(4, 1\)"):
        price.loss(torch.zeros(4, 1), torch.zeros(4, 1))
    with pytest.raises(ValueError, match=r"'digit'.*expected \(2, 10\)"):
        mc.classification("digit", 10).loss(torch.zeros(2, 9), torch.zeros(2, dtype=torch.long))


def test_bad_task_descriptions():
    with pytest.raises(ValueError, match="kind must be one of"):
        mc.Task("x", "ranking")
    with pytest.raises(ValueError, match="out_dim >= 2"):
        mc.classification("x", 1)


def test_predictions_naming_other_tasks_are_refused():
    tasks = [mc.regression("a"), mc.regression("b")]
    targets = {"a": torch.zeros(2), "b": torch.zeros(2)}
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['c'\].*no entry for described task\(s\) \['b'\]"):
        mc.task_losses(tasks, {"a": torch.zeros(2, 1), "c": torch.zeros(2, 1)}, targets)
    with pytest.raises(ValueError, match=r"No targets for task\(s\) \['b'\]"):
        mc.task_losses(tasks, {"a": torch.zeros(2, 1), "b": torch.zeros(2, 1)}, {"a": torch.zeros(2)})


def test_delta_m_by_hand():
    tasks = [mc.classification("acc", 10), mc.regression("err")]
    # accuracy 0.8 -> 0.88 is +10 %, error 2.0 -> 2.5 is 25 % worse: mean (10 - 25) / 2 = -7.5
    assert mc.delta_m({"acc": 0.88, "err": 2.5}, {"acc": 0.8, "err": 2.0}, tasks) == pytest.approx(-7.5)
    assert mc.delta_m({"acc": 0.8, "err": 2.0}, {"acc": 0.8, "err": 2.0}, tasks) == 0.0
    with pytest.raises(ValueError, match="single-task metric is 0"):
        mc.delta_m({"acc": 0.5, "err": 1.0}, {"acc": 0.0, "err": 1.0}, tasks)


def test_auc_equals_pairwise_definition(device):
    g = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 5, (40,), generator=g).float()  # many ties
    labels = torch.rand(40, generator=g) < 0.4
    pos, neg = scores[labels], scores[~labels]
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for p, n in itertools.product(pos, neg)]
    assert mc.auc(scores.to(device), labels.to(device)) == pytest.approx(sum(pairs) / len(pairs))
    assert mc.auc(torch.tensor([0.1, 0.9], device=device), torch.tensor([0, 1], device=device)) == 1.0


def test_mean_std():
    assert mc.mean_std([1.0, 3.0]) == (2.0, pytest.approx(2 ** 0.5))
    assert mc.mean_std([5.0]) == (5.0, 0.0)


def test_auc_on_every_device(device):
    """AUC of tensors on a GPU: its ranks are built on the scores' device (it once mixed in a CPU tensor)."""
    scores = torch.tensor([0.2, 0.9, 0.4, 0.4, 0.7], device=device)
    labels = torch.tensor([0, 1, 0, 1, 1], device=device)
    assert mc.auc(scores, labels) == pytest.approx(mc.auc(scores.cpu(), labels.cpu()))
    assert mc.auc(scores, labels) == pytest.approx((1 + 1 + 0.5 + 1 + 1 + 1) / 6)


@pytest.mark.parametrize("value, on_a_gpu, want", [
    ("", False, False), ("", True, True), ("gpu", False, True), ("GPU", False, True), ("cpu", True, False)])
def test_gpu_setting_follows_the_device_unless_mtl_setting_says_otherwise(monkeypatch, value, on_a_gpu, want):
    monkeypatch.setenv("MTL_SETTING", value)
    device = torch.device("cuda" if on_a_gpu else "cpu")
    assert mc.gpu_setting(device) is want


def test_gpu_setting_refuses_an_unknown_value(monkeypatch):
    monkeypatch.setenv("MTL_SETTING", "tpu")
    with pytest.raises(ValueError, match="MTL_SETTING='tpu'"):
        mc.gpu_setting(torch.device("cpu"))
