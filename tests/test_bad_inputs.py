"""Bad inputs that students and instructors really type (issue 16): each gives a clear error, never a silent wrong
result or an internal exception. Every case asserts the error's type and that its message names the argument
(or task, or variable) and the value given."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

import mtl_course as mc
from mtl_course import benchmark, distributed

A, B = mc.regression("a"), mc.regression("b")
TASKS = [A, B]
NAN, INF = float("nan"), float("inf")


def _data(n: int = 32, seed: int = 0) -> mc.MultiTaskData:
    """A tiny two-task regression set: y_a = sum(x), y_b = x_0 - x_1."""
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed))
    return mc.MultiTaskData(x, {"a": x.sum(1), "b": x[:, 0] - x[:, 1]})


def _model(tasks=TASKS) -> mc.HardSharing:
    torch.manual_seed(0)
    return mc.HardSharing(mc.MLP(4, [8]), tasks)


def _fit(**kwargs):
    """fit on the tiny set with one keyword changed."""
    args = dict(epochs=1, progress=False)
    args.update(kwargs)
    return mc.fit(_model(), TASKS, _data(), **args)


def raises(error: type[Exception], call, *fragments: str) -> str:
    """Run `call`, expect `error`, and check that its message contains every fragment (argument, value, …)."""
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# ------------------------------------------------------------------------------------------------
# fit and evaluate
# ------------------------------------------------------------------------------------------------

FIT_VALUES = [("batch_size", -1, ValueError), ("batch_size", 0, ValueError), ("batch_size", 2.5, TypeError),
              ("batch_size", True, TypeError), ("batch_size", "64", TypeError),
              ("epochs", -3, ValueError), ("epochs", 0, ValueError), ("epochs", 1.5, TypeError),
              ("eval_every", 0, ValueError), ("eval_every", -1, ValueError),
              ("lr", 0, ValueError), ("lr", -1e-3, ValueError), ("lr", NAN, ValueError), ("lr", INF, ValueError),
              ("lr", "1e-3", TypeError), ("weight_decay", -0.1, ValueError), ("weight_decay", NAN, ValueError),
              ("strategy_lr", 0.0, ValueError), ("strategy_lr", -1.0, ValueError),
              ("seed", None, TypeError), ("seed", -1, ValueError), ("seed", 0.5, TypeError)]


@pytest.mark.parametrize("name, value, error", FIT_VALUES, ids=[f"{n}={v!r}" for n, v, _ in FIT_VALUES])
def test_fit_refuses_bad_sizes_and_rates(name, value, error):
    raises(error, lambda: _fit(**{name: value}), name, repr(value) if isinstance(value, str) else str(value))


def test_fit_refuses_a_strategy_class():
    raises(TypeError, lambda: _fit(strategy=mc.EqualWeighting), "strategy=EqualWeighting", "class",
           "EqualWeighting(...)")


def test_fit_refuses_a_strategy_that_is_not_one():
    raises(TypeError, lambda: _fit(strategy={"a": 1.0}), "strategy", "dict")


def test_fit_refuses_a_model_without_parameters():
    raises(ValueError, lambda: mc.fit(nn.Identity(), TASKS, _data(), progress=False), "Identity", "no parameters")


def test_fit_refuses_a_model_that_is_not_a_module():
    raises(TypeError, lambda: mc.fit(lambda x: x, TASKS, _data(), progress=False), "model", "function")


def test_fit_refuses_an_empty_training_set():
    raises(ValueError, lambda: mc.fit(_model(), TASKS, _data().subset(slice(0, 0)), progress=False),
           "train", "0 samples")


def test_fit_refuses_train_that_is_not_data():
    raises(TypeError, lambda: mc.fit(_model(), TASKS, (torch.zeros(4, 4), {}), progress=False), "train", "tuple")


def test_fit_refuses_two_tasks_with_one_name():
    raises(ValueError, lambda: mc.fit(_model(), [A, mc.regression("a")], _data(), progress=False),
           "['a']", "more than once")


def test_fit_refuses_tasks_that_are_not_tasks():
    raises(TypeError, lambda: mc.fit(_model(), ["a", "b"], _data(), progress=False), "mc.Task", "'a'")


def test_evaluate_on_an_empty_split():
    raises(ValueError, lambda: mc.evaluate(_model(), TASKS, _data().subset(slice(0, 0))), "0 samples",
           "['a', 'b']")


@pytest.mark.parametrize("batch_size", [0, -4])
def test_evaluate_refuses_a_bad_batch_size(batch_size):
    raises(ValueError, lambda: mc.evaluate(_model(), TASKS, _data(), batch_size=batch_size), "batch_size",
           str(batch_size))


def test_restore_best_with_nan_in_the_validation_targets():
    val = _data(16, seed=1)
    val.y["b"][3] = NAN
    raises(FloatingPointError, lambda: _fit(val=val, restore_best=True), "Validation loss", "'b': nan", "epoch 1",
           "validation targets")


def test_a_float_target_for_a_classification_task_names_the_task():
    x = torch.randn(8, 4)
    data = mc.MultiTaskData(x, {"digit": torch.zeros(8)})
    tasks = [mc.classification("digit", 3)]
    raises(TypeError, lambda: mc.fit(_model(tasks), tasks, data, progress=False), "'digit'", "torch.float32",
           "target.long()")


def test_an_integer_target_for_a_regression_task_names_the_task():
    data = mc.MultiTaskData(torch.randn(8, 4), {"a": torch.zeros(8, dtype=torch.long), "b": torch.zeros(8)})
    raises(TypeError, lambda: mc.fit(_model(), TASKS, data, progress=False), "'a'", "torch.int64", "target.float()")


def test_nan_in_the_training_targets_names_task_epoch_and_steps():
    data = _data(64)
    data.y["b"][40] = NAN                                   # in one of the 4 batches of epoch 1
    message = raises(FloatingPointError, lambda: mc.fit(_model(), TASKS, data, epochs=2, batch_size=16,
                                                        progress=False),
                     "['b']", "[nan]", "epoch 1", "checked over steps 1-4")
    assert "'a'" not in message.split("became")[0]


def test_divergence_warns_naming_task_and_epoch():
    with pytest.warns(RuntimeWarning, match=r"Task '[ab]': the mean training loss of epoch \d+ is .* diverging"):
        _fit(epochs=5, lr=1e6)


# ------------------------------------------------------------------------------------------------
# Tasks and models
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("out_dim", [0, -1, 1.5, True])
def test_regression_refuses_a_bad_out_dim(out_dim):
    raises(ValueError, lambda: mc.regression("r", out_dim=out_dim), "'r'", "out_dim", repr(out_dim))


@pytest.mark.parametrize("n_classes", [1, 0])
def test_classification_needs_two_classes(n_classes):
    raises(ValueError, lambda: mc.classification("c", n_classes), "'c'", "out_dim", str(n_classes))


@pytest.mark.parametrize("name", ["", None, 3])
def test_a_task_needs_a_name(name):
    raises(ValueError, lambda: mc.regression(name), "name", repr(name))


def test_two_heads_with_one_name_are_refused():
    raises(ValueError, lambda: mc.HardSharing(mc.MLP(4, [8]), [A, mc.regression("a")]), "['a']", "share one head")


def test_a_model_needs_tasks():
    raises(ValueError, lambda: mc.HardSharing(mc.MLP(4, [8]), []), "at least one task")


def test_a_trunk_without_out_dim_asks_for_feature_dim():
    raises(ValueError, lambda: mc.HardSharing(nn.Linear(4, 8), TASKS), "Linear", "out_dim", "feature_dim")


@pytest.mark.parametrize("call, fragments", [
    (lambda: mc.MLP(4, 8), ("widths", "8", "[8]")),
    (lambda: mc.MLP(4, [0]), ("widths[0]", "0")),
    (lambda: mc.MLP(4, [8, -2]), ("widths[1]", "-2")),
    (lambda: mc.MLP(0, [8]), ("in_dim", "0")),
    (lambda: mc.CNN(channels=(16, 0)), ("channels[1]", "0")),
    (lambda: mc.CNN(hidden=0), ("hidden", "0")),
    (lambda: mc.PartialSharing(lambda: mc.MLP(4, [8, 8]), TASKS, 3), ("shared_layers", "3")),
    (lambda: mc.PartialSharing(lambda: mc.MLP(4, [8, 8]), TASKS, 1.5), ("shared_layers", "1.5")),
], ids=["widths-int", "width-0", "width-negative", "in_dim-0", "channels-0", "hidden-0", "shared-too-deep",
        "shared-float"])
def test_model_sizes(call, fragments):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert all(f in str(info.value) for f in fragments), str(info.value)


# ------------------------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------------------------

def test_mse_refuses_broadcasting():
    raises(ValueError, lambda: mc.mse(torch.arange(4.).reshape(4, 1), torch.arange(4.)), "prediction", "(4, 1)",
           "(4,)")


def test_mse_of_equal_shapes_is_right():
    assert mc.mse(torch.arange(4.), torch.arange(4.)) == 0.0


@pytest.mark.parametrize("metric, args, fragments", [
    (mc.mse, (torch.zeros(0), torch.zeros(0)), ("mse", "prediction", "empty", "(0,)")),
    (mc.accuracy, (torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)), ("accuracy", "logits", "empty", "(0, 3)")),
    (mc.auc, (torch.zeros(0), torch.zeros(0)), ("auc", "scores", "empty")),
    (mc.accuracy, (torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.long)), ("labels", "(4, 1)", "(4,)")),
    (mc.auc, (torch.tensor([0.1, NAN, 0.3]), torch.tensor([0, 1, 1])), ("scores", "1 NaN")),
    (mc.auc, (torch.tensor([0.1, INF, 0.3]), torch.tensor([0, 1, 1])), ("scores", "infinite")),
    (mc.auc, (torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0, 1, 2])), ("labels", "0 or 1", "2")),
    (mc.auc, (torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0, 1])), ("3 scores", "2 labels")),
], ids=["mse-empty", "accuracy-empty", "auc-empty", "accuracy-label-shape", "auc-nan", "auc-inf", "auc-label-2",
        "auc-sizes"])
def test_metrics_refuse_bad_tensors(metric, args, fragments):
    raises(ValueError, lambda: metric(*args), *fragments)


def test_metrics_refuse_lists():
    raises(TypeError, lambda: mc.mse([1.0], torch.zeros(1)), "prediction", "list")


@pytest.mark.parametrize("multi, single, fragments", [
    ({"a": 1.0}, {"a": 1.0, "b": 2.0}, ("multi_task", "['b']")),
    ({"a": 1.0, "b": 2.0}, {"a": 1.0}, ("single_task", "['b']")),
    ({"a": NAN, "b": 2.0}, {"a": 1.0, "b": 2.0}, ("'a'", "nan")),
], ids=["multi-missing", "single-missing", "nan"])
def test_delta_m_task_sets(multi, single, fragments):
    raises(ValueError, lambda: mc.delta_m(multi, single, TASKS), *fragments)


def test_mean_std_of_nothing():
    raises(ValueError, lambda: mc.mean_std([]), "mean_std", "none")


# ------------------------------------------------------------------------------------------------
# Devices and seeds
# ------------------------------------------------------------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_get_device_cuda_without_cuda():
    raises(ValueError, lambda: mc.get_device("cuda"), "prefer='cuda'", "CUDA is not available")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("value", ["cuda", "cuda:0"])
def test_mtl_device_cuda_without_cuda(monkeypatch, value):
    monkeypatch.setenv("MTL_DEVICE", value)
    raises(ValueError, lambda: mc.on_gpu(), f"MTL_DEVICE={value!r}", "CUDA is not available")


@pytest.mark.parametrize("value", ["bogus", "gpu", "cuda:x"])
def test_mtl_device_bogus_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("MTL_DEVICE", value)
    raises(ValueError, lambda: mc.get_device(), f"MTL_DEVICE={value!r}", "is not a device", "'cpu'")


def test_get_device_bogus_names_the_argument():
    raises(ValueError, lambda: mc.get_device("bogus"), "prefer='bogus'", "is not a device")


def test_get_device_of_a_number():
    raises(TypeError, lambda: mc.get_device(0), "prefer", "0")


def test_cuda_index_beyond_the_devices(monkeypatch):
    index = torch.cuda.device_count() + 7
    raises(ValueError, lambda: mc.get_device(f"cuda:{index}"), f"cuda:{index}")


def test_mps_without_mps():
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    raises(ValueError, lambda: mc.get_device("mps"), "prefer='mps'", "MPS is not available")


@pytest.mark.parametrize("seed, error", [(None, TypeError), (1.5, TypeError), ("0", TypeError), (True, TypeError),
                                         (-1, ValueError), (2 ** 32, ValueError)])
def test_seed_everything(seed, error):
    raises(error, lambda: mc.seed_everything(seed), "seed", repr(seed))


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------

DATA_SIZES = [(mc.low_rank_regression, dict(n_tasks=2, n_train=-5, n_val=10, n_test=10), "n_train", "-5"),
              (mc.low_rank_regression, dict(n_tasks=2, n_train=0), "n_train", "0"),
              (mc.low_rank_regression, dict(n_tasks=2, n_val=0), "n_val", "0"),
              (mc.low_rank_regression, dict(n_tasks=2, n_test=-1), "n_test", "-1"),
              (mc.low_rank_regression, dict(n_tasks=0), "n_tasks", "0"),
              (mc.low_rank_regression, dict(n_tasks=2, d=0), "d", "0"),
              (mc.low_rank_regression, dict(n_tasks=2, k=0), "k", "0"),
              (mc.low_rank_regression, dict(n_tasks=2, n_train=10.5), "n_train", "10.5"),
              (mc.low_rank_regression, dict(n_tasks=2, noise=-0.1), "noise", "-0.1"),
              (mc.low_rank_regression, dict(n_tasks=2, noise=NAN), "noise", "nan"),
              (lambda **kw: mc.correlated_regression(0.5, **kw), dict(n_train=0), "n_train", "0"),
              (lambda **kw: mc.correlated_regression(0.5, **kw), dict(d=1), "d", "1"),
              (lambda **kw: mc.correlated_regression(0.5, **kw), dict(m=-1), "m", "-1"),
              (mc.grouped_regression, dict(n_train=-1), "n_train", "-1"),
              (mc.grouped_regression, dict(k=0), "k", "0"),
              (mc.multimnist, dict(n_train=0), "n_train", "0"),
              (mc.multimnist, dict(n_test=-10), "n_test", "-10")]


@pytest.mark.parametrize("make, kwargs, name, value", DATA_SIZES,
                         ids=[f"{k}" for _, k, _, _ in DATA_SIZES])
def test_data_sizes(make, kwargs, name, value):
    with pytest.raises((ValueError, TypeError)) as info:
        make(**kwargs)
    assert name in str(info.value) and value in str(info.value), str(info.value)


@pytest.mark.parametrize("fractions", [(0.9, 0.2), (0.0, 0.15), (0.7, 0.0), (1.0, 0.1), (0.7, -0.1), (0.5, 0.5)])
def test_adult_fractions_leave_no_split_empty(fractions):
    raises(ValueError, lambda: mc.adult(fractions=fractions), "fractions", repr(fractions))


def test_adult_tasks_given_as_a_string():
    raises(TypeError, lambda: mc.adult(tasks="income"), "tasks", "'income'", "('income',)")


@pytest.mark.parametrize("batch_size", [0, -1])
def test_minibatches_batch_size(batch_size):
    raises(ValueError, lambda: list(mc.minibatches(_data(), batch_size)), "batch_size", str(batch_size))


def test_multitask_data_needs_tensors():
    raises(TypeError, lambda: mc.MultiTaskData([[0.0]], {"a": torch.zeros(1)}), "x", "list")
    raises(TypeError, lambda: mc.MultiTaskData(torch.zeros(1, 2), [torch.zeros(1)]), "y", "list")


# ------------------------------------------------------------------------------------------------
# The benchmark: function and command
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name, value", [
    (dict(epochs=0), "epochs", "0"), (dict(batch_size=0), "batch_size", "0"), (dict(lr=0), "lr", "0"),
    (dict(epochs=-2), "epochs", "-2"), (dict(lr=NAN), "lr", "nan"), (dict(seeds=[0, 0]), "seeds", "[0, 0]"),
    (dict(seeds=[-1]), "seed", "-1"), (dict(methods="equal"), "methods", "'equal'"), (dict(seeds=0), "seeds", "0"),
], ids=["epochs-0", "batch-0", "lr-0", "epochs-neg", "lr-nan", "seeds-repeated", "seed-neg", "methods-str", "seeds-int"])
def test_run_benchmark_refuses_zero_instead_of_using_defaults(kwargs, name, value):
    args = dict(dataset="synthetic", methods=["equal"], seeds=[0], device="cpu", progress=False)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError)) as info:
        benchmark.run_benchmark(**args)
    assert name in str(info.value) and value in str(info.value), str(info.value)


def test_train_method_refuses_zero_epochs():
    problem = benchmark.load_problem("synthetic")
    raises(ValueError, lambda: benchmark.train_method(problem, "equal", 0, epochs=0, batch_size=10), "epochs", "0")


COMMAND_ERRORS = [(["--data", "cifar"], ["--data", "'cifar'"]),
                  (["--data", "synthetic", "--methods", "nash"], ["'nash'", "unknown method"]),
                  (["--data", "synthetic", "--methods", "DTP"], ["'DTP'", "'synthetic'"]),
                  (["--setting", "tpu"], ["--setting", "'tpu'"]),
                  (["--epochs", "0"], ["--epochs", "'0'"]),
                  (["--epochs", "two"], ["--epochs", "'two'"]),
                  (["--batch-size", "0"], ["--batch-size", "'0'"]),
                  (["--lr", "0"], ["--lr", "'0'"]),
                  (["--lr", "nan"], ["--lr", "'nan'"]),
                  (["--seeds", "-1"], ["--seeds", "'-1'"]),
                  (["--seeds", "1", "1"], ["--seeds", "[1, 1]"]),
                  (["--device", "bogus"], ["--device", "'bogus'"])]


@pytest.mark.parametrize("argv, fragments", COMMAND_ERRORS, ids=[" ".join(a) for a, _ in COMMAND_ERRORS])
def test_command_bad_arguments_give_usage_and_exit_2(argv, fragments, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        benchmark.main(argv + ["--out", str(tmp_path / "out")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m mtl_course.benchmark")
    assert all(f in err for f in fragments), err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_command_refuses_an_out_path_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("mine")
    with pytest.raises(SystemExit) as info:
        benchmark.main(["--data", "synthetic", "--out", str(target)])
    assert info.value.code == 2 and f"--out {target} is a file" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_command_checks_an_unwritable_out_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(benchmark, "run_benchmark", lambda *a, **k: pytest.fail("trained before checking --out"))
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as info:
        benchmark.main(["--data", "synthetic", "--out", str(tmp_path / "file" / "results")])
    assert info.value.code == 2 and "cannot write into --out" in capsys.readouterr().err


def test_command_never_overwrites_files_it_did_not_write(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(benchmark, "run_benchmark", lambda *a, **k: pytest.fail("trained before checking --out"))
    (tmp_path / "benchmark_synthetic.md").write_text("my notes")
    with pytest.raises(SystemExit) as info:
        benchmark.main(["--data", "synthetic", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "benchmark_synthetic.md" in err and "--force" in err
    assert (tmp_path / "benchmark_synthetic.md").read_text() == "my notes"


def test_command_help_prints_usage_and_does_nothing_else(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mtl_course.benchmark", "--help"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("usage: python -m mtl_course.benchmark")
    assert "--force" in result.stdout
    assert "RuntimeWarning" not in result.stderr, result.stderr       # runpy's double-import warning
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# The distributed launcher
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, fragments", [
    (lambda: distributed.launch(2, methods="sum"), TypeError, ("methods", "'sum'", "('sum',)")),
    (lambda: distributed.launch(2, steps=0), ValueError, ("steps", "0")),
    (lambda: distributed.launch(2, global_batch=1024), ValueError, ("global_batch", "1024", "512")),
    (lambda: distributed.launch(2, timeout=0), ValueError, ("timeout", "0")),
    (lambda: distributed.launch(True), ValueError, ("nproc", "True")),
    (lambda: distributed.train("sum", steps=-1), ValueError, ("steps", "-1")),
    (lambda: distributed.train("sum", global_batch=0), ValueError, ("global_batch", "0")),
], ids=["methods-str", "steps-0", "batch-too-large", "timeout-0", "nproc-bool", "train-steps", "train-batch"])
def test_distributed_arguments(call, error, fragments):
    raises(error, call, *fragments)

