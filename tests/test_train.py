"""The training loop, the strategy interface and the models, on tiny problems with known answers."""
from __future__ import annotations

import math
import time

import pytest
import torch
from torch import nn

import mtl_course as mc
from mtl_course.gradients import GradientAggregation, gradient_sum, per_task_gradients, set_gradient


def small_model(tasks, seed: int = 0, device: torch.device | str = "cpu") -> mc.HardSharing:
    torch.manual_seed(seed)
    return mc.HardSharing(mc.MLP(4, [16]), tasks).to(device)


def test_models_return_one_prediction_per_task(two_regression_tasks, device):
    model = small_model(two_regression_tasks, device=device)
    out, z = model(torch.zeros(3, 4, device=device), return_features=True)
    assert {k: v.shape for k, v in out.items()} == {"a": (3, 1), "b": (3, 1)} and z.shape == (3, 16)
    shared, own = model.shared_parameters(), model.task_parameters()
    assert mc.count_parameters(model) == mc.count_parameters(shared) + mc.count_parameters(own)
    assert mc.count_parameters(shared) == 4 * 16 + 16 and mc.count_parameters(own) == 2 * (16 + 1)
    cnn = mc.CNN().to(device)
    assert cnn(torch.zeros(2, 1, 36, 36, device=device)).shape == (2, cnn.out_dim)
    single = mc.single_task_model(mc.MLP(4, [8]), two_regression_tasks[0]).to(device)
    assert list(single(torch.zeros(1, 4, device=device))) == ["a"]


def test_fit_learns_and_records_history(two_regression_tasks, tiny_regression, device):
    model = small_model(two_regression_tasks, device=device)
    tiny_regression = tiny_regression.to(device)
    before = mc.evaluate(model, two_regression_tasks, tiny_regression.test).metric
    history = mc.fit(model, two_regression_tasks, tiny_regression.train, tiny_regression.val,
                     epochs=40, lr=1e-2, batch_size=64, progress=False)
    after = mc.evaluate(model, two_regression_tasks, tiny_regression.test).metric
    assert all(after[t] < 0.2 * before[t] for t in after), (before, after)
    assert history.epochs == 40 and history.time_s > 0
    epochs, values = history.curve("val_loss", "a")
    assert epochs == list(range(1, 41)) and values[-1] < values[0]
    assert history.records[0]["weights"] == {"a": 1.0, "b": 1.0}


def test_fit_is_reproducible(two_regression_tasks, tiny_regression, device, same_run):
    def run() -> torch.Tensor:
        model = small_model(two_regression_tasks, seed=3, device=device)
        mc.fit(model, two_regression_tasks, tiny_regression.train.to(device), epochs=3, seed=7, progress=False)
        return torch.cat([p.detach().flatten() for p in model.parameters()]).cpu()
    assert same_run(run(), run())


def test_restore_best_returns_the_best_validation_epoch(two_regression_tasks, tiny_regression, device):
    model = small_model(two_regression_tasks, device=device)
    tiny_regression = tiny_regression.to(device)
    history = mc.fit(model, two_regression_tasks, tiny_regression.train, tiny_regression.val,
                     epochs=15, lr=0.3, progress=False, restore_best=True)  # a too-large lr oscillates
    totals = {r["epoch"]: sum(r["val_loss"].values()) for r in history.records}
    assert history.best_epoch == min(totals, key=totals.get)
    final = sum(mc.evaluate(model, two_regression_tasks, tiny_regression.val).loss.values())
    assert final == pytest.approx(totals[history.best_epoch], rel=1e-5)


def test_nan_loss_stops_with_epoch_and_task(two_regression_tasks, tiny_regression, device):
    train = tiny_regression.train.to(device)
    bad = mc.MultiTaskData(train.x, {"a": train.y["a"], "b": train.y["b"].clone()})
    bad.y["b"][5] = float("nan")
    with pytest.raises(FloatingPointError, match=r"task\(s\) \['b'\] became \[nan\] in epoch 1"):
        mc.fit(small_model(two_regression_tasks, device=device), two_regression_tasks, bad, epochs=2, progress=False)


def test_model_with_a_wrong_head_name_is_refused(two_regression_tasks, tiny_regression):
    model = mc.HardSharing(mc.MLP(4, [8]), [mc.regression("a"), mc.regression("c")])
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['c'\]"):
        mc.fit(model, two_regression_tasks, tiny_regression.train, epochs=1, progress=False)


def test_static_weighting_scales_each_loss(two_regression_tasks, device):
    losses = {"a": torch.tensor(2.0, device=device), "b": torch.tensor(3.0, device=device)}
    total, weights = mc.StaticWeighting({"a": 0.5, "b": 2.0}).combine(losses)
    assert float(total) == pytest.approx(0.5 * 2 + 2 * 3) and weights == {"a": 0.5, "b": 2.0}
    assert float(mc.EqualWeighting().combine(losses)[0]) == 5.0
    with pytest.raises(ValueError, match="weights for"):
        mc.StaticWeighting({"a": 1.0}).combine(losses)


def test_per_task_gradients_match_separate_backward_passes(device):
    w = torch.tensor([1.0, -2.0], requires_grad=True, device=device)
    losses = {"a": (w ** 2).sum(), "b": (3 * w).sum()}
    grads = per_task_gradients(losses, [w])
    assert torch.allclose(grads.cpu(), torch.tensor([[2.0, -4.0], [3.0, 3.0]]))
    set_gradient([w], grads.sum(0))
    assert torch.allclose(w.grad.cpu(), torch.tensor([5.0, -1.0]))


def test_gradient_sum_strategy_equals_equal_weighting(two_regression_tasks, tiny_regression, device):
    batch = tiny_regression.train.subset(slice(0, 32)).to(device)
    grads = []
    for strategy in (mc.EqualWeighting(), GradientAggregation(gradient_sum)):
        model = small_model(two_regression_tasks, device=device)
        losses = mc.task_losses(two_regression_tasks, model(batch.x), batch.y)
        strategy.backward(losses, model)
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


class LearnedWeights(mc.LossWeighting):
    """A test strategy with a parameter of its own: fit must hand it to the optimizer."""

    def __init__(self):
        super().__init__()
        self.log_w = nn.Parameter(torch.zeros(2))

    def combine(self, losses):
        w = self.log_w.exp()
        total = (w * torch.stack(list(losses.values()))).sum() - self.log_w.sum()
        return total, {t: float(v) for t, v in zip(losses, w.detach())}


def test_strategy_parameters_are_trained(two_regression_tasks, tiny_regression, device):
    strategy = LearnedWeights()
    mc.fit(small_model(two_regression_tasks, device=device), two_regression_tasks, tiny_regression.train.to(device),
           strategy=strategy, epochs=2, progress=False, strategy_lr=0.1)
    assert strategy.log_w.device.type == device.type
    assert not torch.equal(strategy.log_w.detach().cpu(), torch.zeros(2))
    assert all(math.isfinite(v) for v in strategy.log_w.tolist())


def test_device_helpers(monkeypatch):
    monkeypatch.setenv("MTL_DEVICE", "cpu")
    assert mc.get_device().type == "cpu" and not mc.on_gpu()
    assert "torch" in mc.environment_report() and "device cpu" in mc.environment_report()
    mc.seed_everything(1)
    a = torch.rand(3)
    mc.seed_everything(1)
    assert torch.equal(a, torch.rand(3))


def test_cpu_threads_sets_and_restores_the_thread_count():
    before = torch.get_num_threads()
    with mc.cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), mc.cpu_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before              # restored after an error too
    with pytest.raises(ValueError, match="at least one thread"):
        with mc.cpu_threads(0):
            pass


def test_clock_on_a_cpu_counts_this_process_cpu_time():
    cpu = torch.device("cpu")
    start = mc.clock(cpu)
    x = torch.rand(200, 200)
    for _ in range(200):
        x = torch.tanh(x @ x.T / 200)
    busy = mc.clock(cpu) - start
    start = mc.clock(cpu)
    time.sleep(0.2)                                        # sleeping uses no CPU time
    idle = mc.clock(cpu) - start
    assert busy > 0 and idle < 0.05, (busy, idle)


def test_fit_reads_the_non_finite_record_every_check_every_steps(two_regression_tasks, tiny_regression, monkeypatch,
                                                                 device):
    """No host synchronization per step: the last steps' losses are read every CHECK_EVERY steps and at each epoch's end."""
    from mtl_course import train as train_module
    calls = []
    real = train_module._NonFinite.check
    monkeypatch.setattr(train_module, "CHECK_EVERY", 5)
    monkeypatch.setattr(train_module._NonFinite, "check", lambda self, epoch, step: (calls.append(step),
                                                                                     real(self, epoch, step)))
    mc.fit(small_model(two_regression_tasks, device=device), two_regression_tasks, tiny_regression.train.to(device),
           epochs=2, batch_size=16, progress=False)          # 256 samples: 16 steps per epoch
    assert calls == [5, 10, 15, 16, 20, 25, 30, 32]


def test_nan_under_a_gradient_method_names_task_and_step(two_regression_tasks, tiny_regression, device):
    """A gradient method that refuses NaN gradients still yields fit's message naming the task, epoch and step."""
    train = tiny_regression.train.to(device)
    bad = mc.MultiTaskData(train.x, {"a": train.y["a"], "b": train.y["b"].clone()})
    bad.y["b"][:] = float("nan")
    with pytest.raises(FloatingPointError, match=r"\['b'\] became \[nan\] in epoch 1 \(step 1, checked over steps 1-1\)"):
        mc.fit(small_model(two_regression_tasks, device=device), two_regression_tasks, bad,
               strategy=GradientAggregation(mc.mgda), epochs=1, progress=False)


class TensorWeights(mc.LossWeighting):
    """Weights returned as device tensors: fit sums them on the device and records their mean as floats."""

    def combine(self, losses):
        w = torch.tensor([0.5, 2.0], device=next(iter(losses.values())).device)
        return (w * torch.stack(list(losses.values()))).sum(), dict(zip(losses, w))


def test_weights_and_losses_are_recorded_as_floats_on_every_device(two_regression_tasks, tiny_regression, device):
    model = small_model(two_regression_tasks).to(device)
    history = mc.fit(model, two_regression_tasks, tiny_regression.train, tiny_regression.val, strategy=TensorWeights(),
                     epochs=2, batch_size=100, progress=False)
    record = history.records[-1]
    assert record["weights"] == {"a": pytest.approx(0.5), "b": pytest.approx(2.0)}
    assert all(type(v) is float for key in ("weights", "train_loss", "val_loss") for v in record[key].values())
    by_hand = mc.evaluate(model, two_regression_tasks, tiny_regression.val).loss
    assert record["val_loss"] == pytest.approx(by_hand)


def test_divergence_warning_compares_the_epoch_mean_with_the_first_batch(two_regression_tasks, tiny_regression, device):
    train = tiny_regression.train.to(device)
    with pytest.warns(RuntimeWarning, match=r"Task '[ab]': the mean training loss of epoch 2 is .* first batch's"):
        mc.fit(small_model(two_regression_tasks, device=device), two_regression_tasks, train, epochs=3, lr=1e6,
               progress=False)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # an ordinary run stays silent
        mc.fit(small_model(two_regression_tasks, device=device), two_regression_tasks, train, epochs=3,
               progress=False)
