"""What `mc.fit` costs over a minimal hand-written PyTorch loop: steps per second on the same model, data and optimizer.

    python tests/bench_fit.py                  # the chosen device (a GPU where there is one)
    python tests/bench_fit.py --device cpu --repeats 7

A benchmark, not a test: timings depend on the machine, so nothing here fails on a slow one. The two
loops run interleaved (hand, fit, hand, fit, ...) from the same initial weights and batch order, and
each keeps its best of `--repeats` runs, so a busy moment of the machine hurts both alike. A ratio
of 1.00 means `fit` (progress bar, history, NaN checks, strategy interface) adds nothing measurable.
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import torch
from torch import nn

import mtl_course as mc


def hand_loop(model: nn.Module, tasks: list[mc.Task], train: mc.MultiTaskData, epochs: int,
              batch_size: int, lr: float, seed: int) -> None:
    """The loop `fit` replaces: summed task losses, one backward, one Adam step (set up as `fit` sets it up), nothing else."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)   # the same optimizer as fit
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in mc.minibatches(train, batch_size, generator=generator):
            predictions = model(batch.x)
            loss = sum(task.loss(predictions[task.name], batch.y[task.name]) for task in tasks)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def fit_loop(model: nn.Module, tasks: list[mc.Task], train: mc.MultiTaskData, epochs: int,
             batch_size: int, lr: float, seed: int) -> None:
    """The course's `fit` on the same problem (equal weighting, no validation split, no progress bar)."""
    mc.fit(model, tasks, train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, progress=False)


def seconds(loop: Callable, make_model: Callable[[], nn.Module], problem: dict,
            device: torch.device) -> tuple[float, float]:
    """Wall time and this process's CPU time of one run of `loop` from freshly seeded weights (waiting for
    the GPU at both ends). On a busy machine the CPU time is the steadier of the two."""
    mc.seed_everything(0)
    model = make_model().to(device)
    wall = (lambda: mc.clock(device)) if device.type != "cpu" else time.perf_counter
    start, cpu = wall(), time.process_time()
    loop(model, **problem)
    return wall() - start, time.process_time() - cpu


def compare(name: str, make_model: Callable[[], nn.Module], tasks: list[mc.Task], train: mc.MultiTaskData,
            device: torch.device, epochs: int, batch_size: int, repeats: int) -> dict[str, float]:
    """Steps per second of the hand loop and of `fit`, best of `repeats` interleaved runs, and their ratio."""
    problem = dict(tasks=tasks, train=train.to(device), epochs=epochs, batch_size=batch_size, lr=1e-3, seed=0)
    steps = epochs * -(-len(train) // batch_size)
    seconds(hand_loop, make_model, problem, device)   # warm-up: allocator, kernels, caches
    hand, fitted = [], []
    for _ in range(repeats):
        hand.append(seconds(hand_loop, make_model, problem, device))
        fitted.append(seconds(fit_loop, make_model, problem, device))
    hand_rate, fit_rate = steps / min(w for w, _ in hand), steps / min(w for w, _ in fitted)
    return {"problem": name, "steps": steps, "hand steps/s": hand_rate, "fit steps/s": fit_rate,
            "fit / hand": fit_rate / hand_rate,
            "fit / hand, CPU time": min(c for _, c in hand) / min(c for _, c in fitted)}


def problems(device: torch.device, scale: float = 1.0) -> list[tuple]:
    """The two cases of the issue: chapter 0's MultiMNIST CNN, and a small MLP with ten regression tasks."""
    digits = mc.multimnist(n_train=int(3_000 * scale), n_val=100, n_test=100, seed=0)
    digit_tasks = [mc.classification("left", 10), mc.classification("right", 10)]
    g = torch.Generator().manual_seed(0)
    n, d, t = int(20_000 * scale), 50, 10
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, t, generator=g) / d ** 0.5
    mlp_tasks = [mc.regression(f"t{i}") for i in range(t)]
    mlp_data = mc.MultiTaskData(x, {task.name: torch.tanh(x @ w[:, i]) for i, task in enumerate(mlp_tasks)})
    return [
        ("MultiMNIST CNN", lambda: mc.HardSharing(mc.CNN(), digit_tasks), digit_tasks, digits.train, 3, 256),
        ("MLP, 10 tasks", lambda: mc.HardSharing(mc.MLP(d, [64, 64]), mlp_tasks), mlp_tasks, mlp_data, 3, 256),
    ]


def main(argv: list[str] | None = None) -> list[dict[str, float]]:
    """Parse the command line, run both comparisons, print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the fastest available)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs of each loop; the best counts")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    device = mc.get_device(args.device)
    print(mc.environment_report(device))
    rows = []
    for name, make_model, tasks, train, epochs, batch_size in problems(device):
        row = compare(name, make_model, tasks, train, device, epochs, batch_size, args.repeats)
        print(f"{name:>15}: hand loop {row['hand steps/s']:7.1f} steps/s, fit {row['fit steps/s']:7.1f} steps/s, "
              f"fit / hand = {row['fit / hand']:.2f} ({row['steps']} steps, best of {args.repeats}; "
              f"in CPU time {row['fit / hand, CPU time']:.2f})")
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
