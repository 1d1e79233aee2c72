"""The capstone benchmark: every method of the course on equal terms, as a function and as a command.

One protocol for every method: the same data, trunk, epochs, batch size and learning rate (Adam);
the weights of the epoch with the lowest summed validation loss (early stopping), scored once on the test
split; Δm% against single-task networks (STL) trained on the same seed; time per epoch; peak GPU memory.

    python -m mtl_course.benchmark --data adult --setting auto --seeds 0 1 2 --out results

writes results/benchmark_adult.csv and .md (mean ± std over the seeds), rewritten after every run so that a
failure late in the run loses nothing, and prints the Markdown table. It checks the folder before training
and refuses to overwrite files that already exist unless given --force.
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from .architectures import SoftSharing
from .arguments import positive, whole
from .attention import TaskAttention
from .cross_stitch import CrossStitch
from .data import Splits, adult, low_rank_regression, multimnist
from .device import clock, cpu_threads, get_device, seed_everything
from .gradients import GradientAggregation, RepresentationWeighting, cagrad, imtl_g, mgda, mgda_weights, pcgrad
from .metrics import delta_m, mean_std
from .mmoe import MMoE
from .models import CNN, MLP, HardSharing, MultiTaskModel, single_task_model
from .regularization import soft_sharing_penalty
from .tasks import Task, classification, regression
from .train import evaluate, fit
from .weighting import (DynamicTaskPrioritization, DynamicWeightAverage, EqualWeighting, GradNorm,
                        RandomLossWeighting, StaticWeighting, Strategy, UncertaintyWeighting)

# ---------------------------------------------------------------------------------------------
# The problems: data, tasks and the trunk every method builds on
# ---------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One benchmark problem: its tasks, its data, and a function that builds a fresh trunk."""

    name: str
    tasks: list[Task]
    data: Splits
    make_trunk: Callable[[], nn.Module]
    in_dim: int          # number of input features (flattened), for gates that read the input


# Sizes of each setting: CPU (small, what CI runs) and GPU (more data and epochs). Epochs, batch
# size and learning rate are the same for every method of a problem.
SETTINGS = {
    "cpu": {"multimnist": {"n_train": 2_000, "n_test": 2_000, "epochs": 4, "batch_size": 64, "lr": 1e-3},
            "adult": {"epochs": 3, "batch_size": 256, "lr": 1e-3},
            "synthetic": {"n_train": 100, "n_test": 2_000, "epochs": 150, "batch_size": 100, "lr": 1e-2}},
    "gpu": {"multimnist": {"n_train": 12_000, "n_test": 4_000, "epochs": 10, "batch_size": 256, "lr": 1e-3},
            "adult": {"epochs": 10, "batch_size": 256, "lr": 1e-3},
            "synthetic": {"n_train": 100, "n_test": 2_000, "epochs": 150, "batch_size": 100, "lr": 1e-2}},
}   # the synthetic problem is small by design (100 samples per task): the GPU setting only adds seeds
DATASETS = tuple(SETTINGS["cpu"])


def _check_choice(value: str, valid: Sequence[str], what: str) -> None:
    """Raise a clear error for an unknown name, listing the valid ones."""
    if value not in valid:
        raise ValueError(f"Unknown {what} {value!r}; choose from {', '.join(valid)}.")


def load_problem(dataset: str, seed: int = 0, setting: str = "cpu", device: torch.device | str = "cpu") -> Problem:
    """The data, tasks and trunk of one benchmark problem at one setting's size (`seed` draws the data)."""
    _check_choice(dataset, DATASETS, "data set")
    _check_choice(setting, tuple(SETTINGS), "setting")
    size = SETTINGS[setting][dataset]
    if dataset == "multimnist":
        data = multimnist(n_train=size["n_train"], n_val=500, n_test=size["n_test"], seed=seed, device=device)
        tasks = [classification("left", 10), classification("right", 10)]
        return Problem(dataset, tasks, data, lambda: CNN(channels=(16, 32, 32), hidden=64), 36 * 36)
    if dataset == "adult":   # chapter 4's pair: one classification and one (standardized) regression task
        data = adult(tasks=("income", "hours"), device=device)
        tasks = [classification("income", 2), regression("hours")]
        d = data.train.x.shape[1]
        return Problem(dataset, tasks, data, lambda: MLP(d, [64, 32]), d)
    # Four regression tasks on one shared 4-dimensional representation (chapter 2), 100 samples each:
    # the regime where sharing pays. The trunk's tanh matches the generator's.
    data = low_rank_regression(n_tasks=4, n_train=size["n_train"], n_val=100, n_test=size["n_test"], rho=1.0,
                               seed=seed, device=device)
    tasks = [regression(name) for name in data.train.tasks]
    return Problem(dataset, tasks, data, lambda: MLP(50, [8], activation=nn.Tanh), 50)


# ---------------------------------------------------------------------------------------------
# The methods: name → a function that builds (model, strategy, penalty) for a problem
# ---------------------------------------------------------------------------------------------


class Method(NamedTuple):
    """What one method trains: a model, a strategy for the update, and an optional penalty for `fit`."""

    model: MultiTaskModel
    strategy: Strategy
    penalty: Callable[[nn.Module], torch.Tensor] | None = None


def scale_weights(problem: Problem) -> dict[str, float]:
    """Static weights wₜ ∝ 1/Lₜ⁰, Lₜ⁰ the training loss of the best constant prediction (label entropy,
    target variance), normalized to sum to T: chapter 4's scale correction, fixed before training."""
    baseline = {}
    for task in problem.tasks:
        y = problem.data.train.y[task.name].cpu()   # once per run, in float64: MPS has none
        if task.kind == "classification":
            p = torch.bincount(y, minlength=task.out_dim).double() / len(y)
            baseline[task.name] = float(-(p[p > 0] * p[p > 0].log()).sum())
        else:
            baseline[task.name] = float(y.double().var(dim=0, correction=0).mean())
    inverse = {t: 1.0 / v for t, v in baseline.items()}
    return {t: len(inverse) * v / sum(inverse.values()) for t, v in inverse.items()}


def _hard(problem: Problem, strategy: Strategy) -> Method:
    return Method(HardSharing(problem.make_trunk(), problem.tasks), strategy)


SOFT_SHARING_LAMBDA = 1e-2


def _soft(problem: Problem, seed: int) -> Method:
    return Method(SoftSharing(problem.make_trunk, problem.tasks), EqualWeighting(),
                  lambda m: SOFT_SHARING_LAMBDA * soft_sharing_penalty(m.corresponding_weights()))


def _stl(problem: Problem, seed: int) -> Method:
    """The single-task networks in one model (soft sharing with no penalty, initialized apart). For the
    benchmark `train_method` trains each alone instead, so that each gets its own early stopping."""
    return Method(SoftSharing(problem.make_trunk, problem.tasks, same_init=False), EqualWeighting())


def _dtp(problem: Problem, seed: int) -> Method:
    """DTP with γ = 2; DynamicTaskPrioritization itself refuses a problem without a classification task."""
    return _hard(problem, DynamicTaskPrioritization(problem.tasks, gamma=2.0))


MMOE_EXPERTS = 3   # experts per MMoE, each a copy of the problem's trunk


def _mmoe(problem: Problem, seed: int) -> Method:
    """MMoE with copies of the problem's trunk as experts (its gates read images flattened)."""
    return Method(MMoE(problem.make_trunk, MMOE_EXPERTS, problem.tasks, problem.in_dim), EqualWeighting())


METHODS: dict[str, Callable[[Problem, int], Method]] = {
    "STL": _stl,
    "equal": lambda p, seed: _hard(p, EqualWeighting()),
    "static 1/L0": lambda p, seed: _hard(p, StaticWeighting(scale_weights(p))),
    "uncertainty": lambda p, seed: _hard(p, UncertaintyWeighting(p.tasks)),
    "GradNorm": lambda p, seed: _hard(p, GradNorm(p.tasks, alpha=1.5)),
    "DWA": lambda p, seed: _hard(p, DynamicWeightAverage(p.tasks, temperature=2.0)),
    "DTP": _dtp,
    "RLW": lambda p, seed: _hard(p, RandomLossWeighting(p.tasks, seed=seed)),
    "MGDA": lambda p, seed: _hard(p, GradientAggregation(mgda)),
    "MGDA-UB": lambda p, seed: _hard(p, RepresentationWeighting(mgda_weights)),
    "PCGrad": lambda p, seed: _hard(p, GradientAggregation(partial(pcgrad, generator=torch.Generator().manual_seed(seed)))),
    "CAGrad": lambda p, seed: _hard(p, GradientAggregation(cagrad)),
    "IMTL-G": lambda p, seed: _hard(p, GradientAggregation(imtl_g)),
    "soft sharing": _soft,
    "cross-stitch": lambda p, seed: Method(CrossStitch(p.make_trunk, p.tasks), EqualWeighting()),
    "MMoE": _mmoe,
    "task attention": lambda p, seed: Method(TaskAttention(p.make_trunk, p.tasks), EqualWeighting()),
}
# The learning rate of a strategy's own parameters (uncertainty weighting's log σ², chapter 5).
STRATEGY_LR = 0.01
# On a CPU the benchmark pins the number of threads: the models are small, so extra threads mostly
# wait for each other (and for other programs), which makes times both larger and noisier.
CPU_THREADS = 1
# DTP's priorities come from a KPI in (0, 1] such as accuracy (Guo et al.); on a problem with only
# regression tasks the package's stand-in exp(−MSE) is no such KPI, so the benchmark leaves DTP out there.
NEEDS_CLASSIFICATION = {"DTP"}


def available_methods(dataset: str) -> list[str]:
    """The methods that apply to a data set: all of them, less DTP where no task has an accuracy."""
    _check_choice(dataset, DATASETS, "data set")
    return [m for m in METHODS if not (m in NEEDS_CLASSIFICATION and dataset == "synthetic")]


# ---------------------------------------------------------------------------------------------
# Running and summarizing
# ---------------------------------------------------------------------------------------------


def metric_column(task: Task) -> str:
    """The column of a task's test metric, e.g. 'left_accuracy' or 'hours_mse'."""
    return f"{task.name}_{task.metric_name}"


def _train(problem: Problem, tasks: list[Task], method: Method, seed: int, epochs: int, batch_size: int,
           lr: float, device: torch.device) -> tuple[dict[str, float], dict[str, float], float, int]:
    """Fit one model (weights of its best validation epoch); its test metrics, its training loss per task in
    the epoch it keeps, training seconds, parameters."""
    names = [t.name for t in tasks]
    model = method.model.to(device)
    start = clock(device)
    history = fit(model, tasks, problem.data.train.only(names), problem.data.val.only(names),
                  strategy=method.strategy, epochs=epochs, batch_size=batch_size, lr=lr, strategy_lr=STRATEGY_LR,
                  restore_best=True, seed=seed, progress=False, penalty=method.penalty)
    seconds = clock(device) - start
    metric = evaluate(model, tasks, problem.data.test.only(names)).metric
    kept = next((r for r in history.records if r["epoch"] == history.best_epoch), history.records[-1])
    return metric, kept["train_loss"], seconds, sum(p.numel() for p in model.parameters())


def train_method(problem: Problem, name: str, seed: int, epochs: int, batch_size: int, lr: float = 1e-3,
                 device: torch.device | str = "cpu") -> dict:
    """Train one method on one seed: test metric per task, the summed training loss of the epoch it keeps
    (beside the test metric it tells fitting from generalizing), seconds per epoch, peak GPU memory, parameters.

    STL trains one single-task network (the same trunk, one head) per task, each alone on its own
    task's data; its time per epoch is the sum of theirs, as if they ran one after the other.
    """
    _check_choice(name, tuple(METHODS), "method")
    whole("epochs", epochs), whole("batch_size", batch_size), positive("lr", lr), whole("seed", seed, minimum=0)
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    if name == "STL":
        metric, train_loss, seconds, parameters = {}, {}, 0.0, 0
        for task in problem.tasks:
            seed_everything(seed)
            single = Method(single_task_model(problem.make_trunk(), task), EqualWeighting())
            m, l, s, n = _train(problem, [task], single, seed, epochs, batch_size, lr, device)
            metric.update(m)
            train_loss.update(l)
            seconds, parameters = seconds + s, parameters + n
    else:
        seed_everything(seed)
        metric, train_loss, seconds, parameters = _train(problem, problem.tasks, METHODS[name](problem, seed), seed,
                                                         epochs, batch_size, lr, device)
    memory = torch.cuda.max_memory_allocated(device) / 2 ** 20 if device.type == "cuda" else None
    return {"metric": metric, "train_loss": sum(train_loss.values()), "epoch_s": seconds / epochs,
            "peak_mb": memory, "parameters": parameters}


def _warm_up(problem: Problem, device: torch.device) -> None:
    """One short untimed run, so that the first timed method does not pay for loading kernels."""
    seed_everything(0)
    model = HardSharing(problem.make_trunk(), problem.tasks).to(device)
    fit(model, problem.tasks, problem.data.train.subset(slice(0, 64)), epochs=2, batch_size=32, progress=False)


def run_benchmark(dataset: str, methods: Sequence[str], seeds: Sequence[int], epochs: int | None = None, *,
                  batch_size: int | None = None, lr: float | None = None, setting: str = "cpu",
                  device: torch.device | str | None = None, progress: bool = True,
                  on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """Train every method on every seed of one problem under one protocol; one row per (method, seed).

    Protocol: the same trunk, epochs, batch size and learning rate (Adam) for every method; the
    weights of the epoch with the lowest summed validation loss (early stopping); test metrics.
    A row holds each task's test metric, Δm% against the STL run of the same seed, the summed training
    loss of the kept epoch, seconds per epoch, peak GPU memory in MB (None off CUDA) and the number of parameters. STL is always trained
    (Δm% needs it) but reported only when asked for. Sizes left as None come from the setting.
    `on_row(row)` is called as soon as each row exists (the command writes its files there). On a
    CPU every run uses CPU_THREADS threads (restored afterwards), so that times compare across machines.
    """
    _check_choice(dataset, DATASETS, "data set")
    _check_choice(setting, tuple(SETTINGS), "setting")
    if isinstance(methods, str) or isinstance(seeds, (str, int)):
        raise TypeError(f"methods and seeds must be lists, e.g. methods=['equal'], seeds=[0]; "
                        f"got methods={methods!r}, seeds={seeds!r}.")
    for name in methods:
        _check_choice(name, tuple(METHODS), "method")
    if not seeds:
        raise ValueError("run_benchmark needs at least one seed.")
    for seed in seeds:
        whole("seed", seed, minimum=0)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct (a repeated seed repeats the same run), got {list(seeds)}.")
    size = SETTINGS[setting][dataset]
    epochs = whole("epochs", size["epochs"] if epochs is None else epochs)
    batch_size = whole("batch_size", size["batch_size"] if batch_size is None else batch_size)
    lr = positive("lr", size["lr"] if lr is None else lr)
    device = torch.device(device) if device is not None else get_device()
    with cpu_threads(CPU_THREADS if device.type == "cpu" else torch.get_num_threads()):
        return _run(dataset, methods, seeds, epochs, batch_size, lr, setting, device, progress, on_row)


def _run(dataset: str, methods: Sequence[str], seeds: Sequence[int], epochs: int, batch_size: int, lr: float,
         setting: str, device: torch.device, progress: bool, on_row: Callable[[dict], None] | None) -> list[dict]:
    """The loop of `run_benchmark`: STL first on every seed, then the methods asked for."""
    order = ["STL"] + [m for m in methods if m != "STL"]
    rows = []
    bar = tqdm([(seed, m) for seed in seeds for m in order], desc=f"benchmark {dataset}", disable=not progress)
    problem, problem_seed, stl, warm = None, None, {}, False
    for seed, name in bar:
        bar.set_postfix(method=name, seed=seed)
        if problem is None or (problem_seed != seed and dataset != "adult"):   # Adult's split does not depend on the seed
            problem, problem_seed = load_problem(dataset, seed, setting, device), seed
            if not warm:
                _warm_up(problem, device)
                warm = True
        result = train_method(problem, name, seed, epochs, batch_size, lr, device)
        if name == "STL":
            stl = result["metric"]
        row = {"dataset": dataset, "method": name, "seed": seed,
               **{metric_column(t): result["metric"][t.name] for t in problem.tasks},
               "delta_m": delta_m(result["metric"], stl, problem.tasks),
               **{k: result[k] for k in ("train_loss", "epoch_s", "peak_mb", "parameters")}}
        if name in methods:
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def summarize(rows: Sequence[dict], baseline: str = "equal") -> list[dict]:
    """Mean ± std over seeds per (data set, method), and time per epoch relative to `baseline` on the same seed.

    Every numeric column becomes (mean, std); 'time_rel' is None when the baseline was not run.
    """
    epoch_s = {(r["dataset"], r["seed"]): r["epoch_s"] for r in rows if r["method"] == baseline}
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    summary = []
    for (dataset, method), runs in groups.items():
        out: dict = {"dataset": dataset, "method": method, "seeds": len(runs)}
        for key in runs[0]:
            if key in ("dataset", "method", "seed"):
                continue
            values = [r[key] for r in runs]
            out[key] = None if any(v is None for v in values) else mean_std(values)
        ratios = [r["epoch_s"] / epoch_s[dataset, r["seed"]] for r in runs if (dataset, r["seed"]) in epoch_s]
        out["time_rel"] = mean_std(ratios) if len(ratios) == len(runs) else None
        summary.append(out)
    return summary


def _flat(summary: Sequence[dict]) -> tuple[list[str], list[list]]:
    """Columns and rows with every (mean, std) pair split into two columns."""
    columns: list[str] = []
    for row in summary:
        for key, value in row.items():
            names = [f"{key}_mean", f"{key}_std"] if isinstance(value, tuple) or value is None else [key]
            columns += [c for c in names if c not in columns]
    table = []
    for row in summary:
        cells = {}
        for key, value in row.items():
            if isinstance(value, tuple) or value is None:
                cells[f"{key}_mean"], cells[f"{key}_std"] = value if value is not None else ("", "")
            else:
                cells[key] = value
        table.append([cells.get(c, "") for c in columns])
    return columns, table


def write_csv(summary: Sequence[dict], path: str | Path) -> Path:
    """The summary as CSV, one row per method, a mean and a std column per quantity."""
    path = Path(path)
    columns, table = _flat(summary)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(table)
    return path


def _fmt(value: object, digits: int = 3) -> str:
    """A cell: 'mean ± std' for pairs, a few significant digits for numbers, '–' for missing."""
    if value is None:
        return "–"
    if isinstance(value, tuple):
        return f"{_fmt(value[0], digits)} ± {_fmt(value[1], 2)}"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def to_markdown(summary: Sequence[dict]) -> str:
    """The summary as a Markdown table: metrics, Δm%, relative time, seconds per epoch, peak memory."""
    skip = {"dataset", "seeds", "parameters", "train_loss", "epoch_s", "time_rel", "peak_mb"}
    columns = [c for c in summary[0] if c not in skip] + ["time_rel", "epoch_s"] if summary else []
    if summary and any(row.get("peak_mb") is not None for row in summary):
        columns.append("peak_mb")
    names = {"delta_m": "Δm% vs STL", "epoch_s": "s / epoch", "time_rel": "time vs equal", "peak_mb": "peak MB"}
    lines = ["| " + " | ".join(names.get(c, c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in summary:
        lines.append("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def write_markdown(summary: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """The Markdown table in a file, under an optional heading."""
    path = Path(path)
    path.write_text((f"## {title}\n\n" if title else "") + to_markdown(summary) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def _parse_whole(text: str) -> int:
    """An argparse type: a whole number ≥ 1 (0 would otherwise train nothing or fall back to a default)."""
    try:
        return whole("the value", int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, got {text!r}") from None


def _parse_positive(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        return positive("the value", float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}") from None


def _parse_seed(text: str) -> int:
    """An argparse type: a seed, a whole number ≥ 0."""
    try:
        return whole("the seed", int(text), minimum=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 0, got {text!r}") from None


def _output_files(out: Path, datasets: Sequence[str]) -> list[Path]:
    """The files the command will write: a CSV and a Markdown table per data set."""
    return [out / f"benchmark_{d}.{ext}" for d in datasets for ext in ("csv", "md")]


def _check_output(out: Path, files: list[Path], force: bool) -> str | None:
    """Before any training: why `out` cannot take the result files (None if it can), so no run is lost at the end."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a folder."
    existing = [str(f) for f in files if f.exists()]
    if existing and not force:
        return f"{', '.join(existing)} already exist(s); pass --force to overwrite, or choose another --out."
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        return f"cannot write into --out {out}: {error.strerror or error}."
    return None


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """`python -m mtl_course.benchmark`: run, write DIR/benchmark_<data>.csv and .md as rows arrive, print the tables."""
    parser = argparse.ArgumentParser(prog="python -m mtl_course.benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="all", choices=DATASETS + ("all",), help="the problem (default: all)")
    parser.add_argument("--setting", default="auto", choices=("cpu", "gpu", "auto"),
                        help="the sizes: auto is gpu when CUDA is present")
    parser.add_argument("--seeds", type=_parse_seed, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                        help=f"default: all that apply to the data set; from {', '.join(map(repr, METHODS))}")
    parser.add_argument("--epochs", type=_parse_whole, default=None, help="default: the setting's")
    parser.add_argument("--batch-size", type=_parse_whole, default=None, help="default: the setting's")
    parser.add_argument("--lr", type=_parse_positive, default=None, help="default: the setting's")
    parser.add_argument("--device", default=None, help="default: the fastest available")
    parser.add_argument("--out", default="benchmark_results", help="folder for the CSV and Markdown files")
    parser.add_argument("--force", action="store_true", help="overwrite result files that already exist")
    args = parser.parse_args(argv)
    datasets = DATASETS if args.data == "all" else (args.data,)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds must be distinct (a repeated seed repeats the same run), got {args.seeds}")
    unknown = [m for m in args.methods or [] if m not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; choose from {', '.join(map(repr, METHODS))}")
    for dataset in datasets:
        left_out = [m for m in args.methods or [] if m not in available_methods(dataset)]
        if left_out:
            parser.error(f"method(s) {left_out} do not apply to data set {dataset!r} (no classification task)")
    try:
        device = get_device(args.device)
    except ValueError as error:
        parser.error(f"--device: {error}")
    setting = ("gpu" if device.type == "cuda" else "cpu") if args.setting == "auto" else args.setting
    out = Path(args.out)
    problem = _check_output(out, _output_files(out, datasets), args.force)
    if problem:
        parser.error(problem)
    everything = []
    for dataset in datasets:
        rows: list[dict] = []
        title = f"{dataset}, {setting} setting, seeds {args.seeds} on {device.type}"

        def write(row: dict) -> None:
            """Rewrite this data set's two files with every row so far: a late failure loses nothing."""
            rows.append(row)
            summary = summarize(rows)
            write_csv(summary, out / f"benchmark_{dataset}.csv")
            write_markdown(summary, out / f"benchmark_{dataset}.md", title)

        run_benchmark(dataset, args.methods or available_methods(dataset), args.seeds, args.epochs,
                      batch_size=args.batch_size, lr=args.lr, setting=setting, device=device,
                      progress=sys.stderr.isatty(), on_row=write)
        print(f"## {title}\n\n{to_markdown(summarize(rows))}\n")
        everything += rows
    return everything


if __name__ == "__main__":
    main()
