"""The capstone benchmark: rows, Δm% against STL, summaries, files, the command, and clear errors."""
import csv
import math

import pytest
import torch

import mtl_course as mc
from mtl_course import benchmark

EPOCHS = 2   # tiny runs: the synthetic problem has 100 training samples


@pytest.fixture(scope="module")
def rows():
    return benchmark.run_benchmark("synthetic", ["STL", "equal", "MGDA"], [0, 1], EPOCHS, device="cpu",
                                   progress=False)


def test_rows_have_the_columns(rows):
    tasks = benchmark.load_problem("synthetic").tasks
    want = {"dataset", "method", "seed", "delta_m", "train_loss", "epoch_s", "peak_mb", "parameters",
            *(benchmark.metric_column(t) for t in tasks)}
    assert len(rows) == 3 * 2
    for row in rows:
        assert set(row) == want
        assert row["peak_mb"] is None            # only CUDA reports peak memory
        assert row["epoch_s"] > 0 and row["parameters"] > 0 and 0 < row["train_loss"] < math.inf
    assert [(r["method"], r["seed"]) for r in rows][:3] == [("STL", 0), ("equal", 0), ("MGDA", 0)]


def test_train_loss_is_the_kept_epochs_summed_over_the_tasks():
    problem = benchmark.load_problem("synthetic")
    result = benchmark.train_method(problem, "equal", 0, epochs=3, batch_size=100, lr=1e-2)
    mc.seed_everything(0)
    method = benchmark.METHODS["equal"](problem, 0)
    history = mc.fit(method.model, problem.tasks, problem.data.train, problem.data.val, epochs=3, batch_size=100,
                     lr=1e-2, strategy_lr=benchmark.STRATEGY_LR, restore_best=True, seed=0, progress=False)
    kept = history.records[history.best_epoch - 1]["train_loss"]
    assert math.isclose(result["train_loss"], sum(kept.values()), rel_tol=1e-6)


def test_stl_against_itself_is_zero_and_delta_m_is_by_definition(rows):
    tasks = benchmark.load_problem("synthetic").tasks
    for seed in (0, 1):
        stl = next(r for r in rows if r["method"] == "STL" and r["seed"] == seed)
        assert stl["delta_m"] == 0.0
        for row in rows:
            if row["seed"] != seed:
                continue
            # MSE: lower is better, so Δm% = mean over tasks of −100·(M − S)/S
            by_hand = sum(-100 * (row[benchmark.metric_column(t)] - stl[benchmark.metric_column(t)])
                          / stl[benchmark.metric_column(t)] for t in tasks) / len(tasks)
            assert math.isclose(row["delta_m"], by_hand, rel_tol=1e-9, abs_tol=1e-9)


def test_summarize_means_stds_and_relative_time(rows):
    summary = {s["method"]: s for s in benchmark.summarize(rows)}
    assert set(summary) == {"STL", "equal", "MGDA"}
    equal = summary["equal"]
    dm = [r["delta_m"] for r in rows if r["method"] == "equal"]
    assert equal["seeds"] == 2
    assert math.isclose(equal["delta_m"][0], sum(dm) / 2)
    assert math.isclose(equal["delta_m"][1], abs(dm[0] - dm[1]) / math.sqrt(2))
    assert equal["time_rel"] == (1.0, 0.0)
    ratios = [m["epoch_s"] / e["epoch_s"] for m, e in zip([r for r in rows if r["method"] == "MGDA"],
                                                         [r for r in rows if r["method"] == "equal"])]
    assert math.isclose(summary["MGDA"]["time_rel"][0], sum(ratios) / 2)
    assert summary["STL"]["peak_mb"] is None
    no_baseline = benchmark.summarize([r for r in rows if r["method"] != "equal"])
    assert all(s["time_rel"] is None for s in no_baseline)


def test_writers(rows, tmp_path):
    summary = benchmark.summarize(rows)
    path = benchmark.write_csv(summary, tmp_path / "table.csv")
    with open(path) as f:
        table = list(csv.DictReader(f))
    assert [r["method"] for r in table] == ["STL", "equal", "MGDA"]
    assert {"delta_m_mean", "delta_m_std", "time_rel_mean", "epoch_s_mean"} <= set(table[0])
    assert math.isclose(float(table[1]["delta_m_mean"]), summary[1]["delta_m"][0], rel_tol=1e-9)
    markdown = benchmark.to_markdown(summary)
    lines = markdown.splitlines()
    assert lines[0].startswith("| method |") and "Δm% vs STL" in lines[0] and len(lines) == 2 + 3
    assert "peak MB" not in lines[0]          # no device reported memory
    assert lines[0].index("time vs equal") < lines[0].index("s / epoch")
    assert benchmark.write_markdown(summary, tmp_path / "t.md", "title").read_text().startswith("## title")


def test_command_writes_both_files(tmp_path, capsys):
    rows = benchmark.main(["--data", "synthetic", "--setting", "cpu", "--seeds", "0", "--methods", "STL", "equal",
                           "--epochs", "1", "--device", "cpu", "--out", str(tmp_path)])
    assert (tmp_path / "benchmark_synthetic.csv").is_file() and (tmp_path / "benchmark_synthetic.md").is_file()
    assert len(rows) == 2
    assert "| equal |" in capsys.readouterr().out


def test_command_writes_each_row_as_it_arrives(tmp_path, monkeypatch):
    """A failure after the first run leaves that run's row in both files: nothing already trained is lost."""
    real = benchmark.train_method

    def fail_on_mgda(problem, name, *args, **kwargs):
        if name == "MGDA":
            raise RuntimeError("out of memory, say")
        return real(problem, name, *args, **kwargs)

    monkeypatch.setattr(benchmark, "train_method", fail_on_mgda)
    with pytest.raises(RuntimeError, match="out of memory"):
        benchmark.main(["--data", "synthetic", "--setting", "cpu", "--seeds", "0", "--methods", "STL", "equal",
                        "MGDA", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path)])
    with open(tmp_path / "benchmark_synthetic.csv") as f:
        assert [r["method"] for r in csv.DictReader(f)] == ["STL", "equal"]
    assert "| equal |" in (tmp_path / "benchmark_synthetic.md").read_text()


def test_command_overwrites_its_own_files_only_with_force(tmp_path, capsys):
    argv = ["--data", "synthetic", "--setting", "cpu", "--seeds", "0", "--methods", "equal", "--epochs", "1",
            "--device", "cpu", "--out", str(tmp_path)]
    benchmark.main(argv)
    (tmp_path / "benchmark_synthetic.md").write_text("edited")
    with pytest.raises(SystemExit):
        benchmark.main(argv)
    assert (tmp_path / "benchmark_synthetic.md").read_text() == "edited"
    assert "--force" in capsys.readouterr().err
    benchmark.main(argv + ["--force"])
    assert "| equal |" in (tmp_path / "benchmark_synthetic.md").read_text()


def test_scale_weights_by_hand(device):
    # the best constant prediction's training loss: label entropy for "c" (labels 1:3), variance 5 for "r"
    data = mc.MultiTaskData(torch.zeros(4, 3), {"c": torch.tensor([0, 1, 1, 1]),
                                                "r": torch.tensor([1.0, 3.0, 5.0, 7.0])}).to(device)
    problem = benchmark.Problem("toy", [mc.classification("c", 2), mc.regression("r")], mc.Splits(data, data, data),
                                lambda: mc.MLP(3, [2]), 3)
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    w = benchmark.scale_weights(problem)
    assert math.isclose(w["c"] + w["r"], 2.0)
    assert math.isclose(w["c"], 2 * (1 / entropy) / (1 / entropy + 1 / 5.0), rel_tol=1e-9)


def test_every_method_builds_and_trains_one_step(device):
    problem = benchmark.load_problem("multimnist", device=device)   # images: also MMoE's flattening gates
    for name in benchmark.available_methods("multimnist"):
        method = benchmark.METHODS[name](problem, 0)
        small = problem.data.train.subset(slice(0, 64))
        history = mc.fit(method.model.to(device), problem.tasks, small, strategy=method.strategy, epochs=1,
                         batch_size=64, progress=False, penalty=method.penalty)
        assert all(math.isfinite(v) for v in history.records[0]["train_loss"].values()), name


def test_clear_errors():
    with pytest.raises(ValueError, match="Unknown data set 'cifar'.*multimnist, adult, synthetic"):
        benchmark.run_benchmark("cifar", ["equal"], [0], 1)
    with pytest.raises(ValueError, match="Unknown method 'nash'.*equal"):
        benchmark.run_benchmark("synthetic", ["equal", "nash"], [0], 1)
    with pytest.raises(ValueError, match="Unknown setting 'tpu'"):
        benchmark.load_problem("adult", setting="tpu")
    with pytest.raises(ValueError, match="at least one seed"):
        benchmark.run_benchmark("synthetic", ["equal"], [], 1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -1.0"):
        benchmark.run_benchmark("synthetic", ["equal"], [0], 1, lr=-1.0)
    with pytest.raises(ValueError, match="accuracy-like KPI.*all regression tasks"):
        benchmark.METHODS["DTP"](benchmark.load_problem("synthetic"), 0)
    assert "DTP" not in benchmark.available_methods("synthetic") and "DTP" in benchmark.available_methods("adult")
    with pytest.raises(SystemExit, match="2"):
        benchmark.main(["--data", "mnist"])              # argparse: usage and exit code 2 (test_bad_inputs.py)


def test_cpu_runs_pin_the_threads_and_restore_them():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        benchmark.run_benchmark("synthetic", ["equal"], [0], 1, device="cpu", progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
