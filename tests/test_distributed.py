"""Data-parallel training: two gloo processes under torchrun give the one-process result; failures are clear."""
from __future__ import annotations

import importlib.util

import pytest
import torch

import mtl_course as mc
from mtl_course import distributed


def test_two_gloo_processes_match_one_process():
    """Same global batch, same seeds: DDP (sum) and the all-reduced per-task method (mgda) match one process."""
    methods = ("sum", "mgda")
    two = distributed.launch(2, methods=methods, steps=8, global_batch=32, timeout=120)
    for method in methods:
        one = distributed.train(method, steps=8, global_batch=32)
        assert two[method]["world_size"] == 2 and one["world_size"] == 1
        assert distributed.max_difference(one["params"], two[method]["params"]) < 1e-5
        assert one["losses"] == pytest.approx(two[method]["losses"], rel=1e-5)


def test_distributed_aggregation_in_one_process_is_gradient_aggregation(tiny_regression, two_regression_tasks):
    """With no process group the all-reduce is the identity: the same gradients as chapter 6's strategy."""
    grads = []
    for strategy in (mc.DistributedGradientAggregation(mc.mgda), mc.GradientAggregation(mc.mgda)):
        torch.manual_seed(0)
        model = mc.HardSharing(mc.MLP(4, [8]), two_regression_tasks)
        losses = mc.task_losses(two_regression_tasks, model(tiny_regression.train.x), tiny_regression.train.y)
        strategy.backward(losses, model)
        grads.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    assert torch.allclose(grads[0], grads[1])


def test_all_reduce_mean_without_a_group_is_the_identity():
    x = torch.tensor([1.0, 2.0])
    assert distributed.world() == (0, 1)
    assert torch.equal(distributed.all_reduce_mean(x.clone()), x)


def test_max_difference_is_the_largest_entry():
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([0.0])}
    b = {"w": torch.tensor([1.0, 2.5]), "b": torch.tensor([-0.1])}
    assert distributed.max_difference(a, b) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="differ in names"):
        distributed.max_difference(a, {"w": a["w"]})


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="Unknown method"):
        distributed.train("nash")
    with pytest.raises(ValueError, match="Unknown method"):
        distributed.launch(2, methods=("sum", "nash"))
    with pytest.raises(ValueError, match="positive number of processes"):
        distributed.launch(0)
    with pytest.raises(ValueError, match="does not split evenly"):
        distributed.launch(2, global_batch=3)


def test_missing_torchrun_is_a_clear_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch.distributed.run" else real(name, *a))
    with pytest.raises(RuntimeError, match="torchrun"):
        distributed.launch(2)


def test_a_hung_run_times_out_and_is_stopped():
    with pytest.raises(TimeoutError, match="stopped"):
        distributed.launch(2, timeout=0.5)


def test_a_failing_rank_reports_its_own_traceback(tmp_path):
    """torch ≥ 2.2 prefixes worker lines with "[rankN]:"; the error carries the failing rank's traceback, not only
    torchrun's ChildFailedError."""
    script = tmp_path / "fail.py"
    script.write_text("import datetime\nimport torch.distributed as dist\n"
                      "dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=30))\n"
                      "def broken_step():\n    raise ValueError('rank 1 broke on purpose')\n"
                      "if dist.get_rank() == 1:\n    broken_step()\ndist.barrier()\n")
    with pytest.raises(RuntimeError) as info:
        distributed._torchrun([str(script)], 2, timeout=120)
    message = str(info.value)
    assert "Rank 1 failed first" in message
    assert "in broken_step" in message and "ValueError: rank 1 broke on purpose" in message
    assert "[rank1]:" not in message.split("Last lines")[0]


def test_failing_rank_traceback_from_a_log():
    log = ("[rank0]: Traceback (most recent call last):\n[rank0]: RuntimeError: Connection closed by peer\n"
           "[rank1]: Traceback (most recent call last):\n[rank1]:   File \"x.py\", line 3, in step\n"
           "[rank1]: KeyError: 'b'\nRoot Cause (first observed failure):\n[0]:\n  rank      : 1 (local_rank: 1)\n")
    text = distributed._failing_rank_traceback(log)
    assert text.startswith("Rank 1 failed first") and "KeyError: 'b'" in text and "Connection closed" not in text
    assert distributed._failing_rank_traceback("no ranks here") == ""


def test_a_failing_run_reports_its_output():
    with pytest.raises(RuntimeError, match="(?s)failed.*nonsense"):
        distributed.launch(2, steps=1, device="nonsense")   # the ranks fail: no such device
