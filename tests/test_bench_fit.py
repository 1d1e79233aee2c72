"""The fit-vs-hand-loop benchmark (tests/bench_fit.py) runs and measures both loops on the same work; no timing is asserted."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

import mtl_course as mc

sys.path.insert(0, str(Path(__file__).parent))
import bench_fit  # noqa: E402


def test_hand_loop_and_fit_train_the_same_model_identically(device):
    """Same seed, same batches, same optimizer: the two loops end with the same weights, so the timing compares like with like."""
    tasks = [mc.regression("a"), mc.regression("b")]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    data = mc.MultiTaskData(x, {"a": x.sum(1), "b": x[:, 0] - x[:, 1]}).to(device)
    weights = []
    for loop in (bench_fit.hand_loop, bench_fit.fit_loop):
        mc.seed_everything(0)
        model = mc.HardSharing(mc.MLP(4, [8]), tasks).to(device)
        loop(model, tasks, data, epochs=2, batch_size=16, lr=1e-2, seed=0)
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.allclose(weights[0], weights[1], atol=1e-6)


def test_compare_reports_both_rates_and_their_ratio():
    tasks = [mc.regression("a")]
    x = torch.randn(32, 3)
    row = bench_fit.compare("tiny", lambda: mc.HardSharing(mc.MLP(3, [4]), tasks), tasks,
                            mc.MultiTaskData(x, {"a": x.sum(1)}), torch.device("cpu"), epochs=1, batch_size=8, repeats=1)
    assert row["steps"] == 4
    assert row["hand steps/s"] > 0 and row["fit steps/s"] > 0
    assert row["fit / hand"] == row["fit steps/s"] / row["hand steps/s"]
    assert row["fit / hand, CPU time"] > 0
