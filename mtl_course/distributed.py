"""Data-parallel multi-task training with DistributedDataParallel, launched by torchrun (chapter 10).

Every rank holds a full copy of the model and an equal share of each global batch. For loss
weighting, DDP averages the ranks' gradients of Σₜ wₜLₜ in one all-reduce: the same gradient as one
process on the whole batch. For per-task-gradient methods that average destroys what they need (the
T separate gradients), so `DistributedGradientAggregation` all-reduces the T×D matrix of per-task
gradients instead, and every rank combines the same matrix with the same function.

Run it as a command (torchrun starts the ranks; rank 0 writes the result):
    python -m torch.distributed.run --standalone --nproc-per-node 2 -m mtl_course.distributed --out run.pt
or from Python with `launch(2, out=...)`, which picks a free port, enforces a timeout and cleans up.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch import Tensor, nn

from .arguments import positive, whole
from .data import low_rank_regression
from .gradients import GradientAggregation, gradient_sum, mgda, pcgrad, per_task_gradients, set_gradient
from .models import MLP, HardSharing, MultiTaskModel
from .tasks import regression, task_losses
from .weighting import EqualWeighting

METHODS = ("sum", "mgda", "pcgrad")
N_TRAIN = 512   # training samples of the low-rank tasks that `train` fits


def world() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) when no process group is running."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_reduce_mean(tensor: Tensor) -> Tensor:
    """The mean of `tensor` over all ranks, in place (a no-op in a single process)."""
    _, size = world()
    if size > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        tensor /= size
    return tensor


class DistributedGradientAggregation(GradientAggregation):
    """A gradient method across ranks: all-reduce the T×D per-task gradients, then combine them identically everywhere.

    Each rank computes its local per-task gradients on the shared parameters (mean losses over its
    share of the batch); their mean over ranks is the per-task gradient of the whole global batch.
    Every rank then applies the same `aggregate` (e.g. `mgda`) to the same matrix, so the ranks stay
    in sync without a second all-reduce. The heads' gradients are averaged as DDP would. Use it on
    the plain model, not on a DDP wrapper (whose all-reduce of the summed gradient it replaces).
    """

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Local per-task gradients → all-reduce (mean) → aggregate → `.grad` of the shared parameters."""
        shared = model.shared_parameters()
        if not shared:
            raise ValueError("DistributedGradientAggregation needs a model with shared parameters.")
        grads = all_reduce_mean(per_task_gradients(losses, shared))
        task_params = model.task_parameters()
        if task_params:
            torch.autograd.backward(torch.stack(list(losses.values())).sum(), inputs=task_params)
            for p in task_params:
                if p.grad is not None:
                    all_reduce_mean(p.grad)
        set_gradient(shared, self.aggregate(grads))
        return {}


def aggregator(method: str, seed: int = 0) -> Callable[[Tensor], Tensor]:
    """The gradient method `method` as a function of the T×D matrix (PCGrad's random order from its own seeded generator)."""
    if method == "mgda":
        return mgda
    if method == "pcgrad":
        return functools.partial(pcgrad, generator=torch.Generator().manual_seed(seed))
    if method == "sum":
        return gradient_sum
    raise ValueError(f"Unknown method {method!r}; choose one of {METHODS}.")


def train(method: str = "sum", steps: int = 20, global_batch: int = 64, n_tasks: int = 4, width: int = 32,
          lr: float = 1e-2, seed: int = 0, device: torch.device | str = "cpu") -> dict:
    """Train a small hard-sharing model on the low-rank tasks; works in one process or on every rank of a group.

    Every rank builds the same data and model (same seeds) and draws the same global batch of
    `global_batch` indices each step; rank r keeps its slice r of it. With method "sum" (equal
    weighting) the model is wrapped in DDP when there are several ranks; with "mgda" or "pcgrad"
    `DistributedGradientAggregation` replaces DDP's all-reduce. Returns the final parameters (on
    the CPU) and the global mean loss of every step, the same on every rank.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {METHODS}.")
    whole("steps", steps), whole("global_batch", global_batch), whole("n_tasks", n_tasks), whole("width", width)
    positive("lr", lr), whole("seed", seed, minimum=0)
    if global_batch > N_TRAIN:
        raise ValueError(f"global_batch must be at most the {N_TRAIN} training samples, got {global_batch}.")
    rank, size = world()
    if global_batch % size != 0:
        raise ValueError(f"The global batch of {global_batch} does not split evenly over {size} ranks.")
    device = torch.device(device)
    data = low_rank_regression(n_tasks=n_tasks, n_train=N_TRAIN, n_val=10, n_test=10, seed=seed).train.to(device)
    tasks = [regression(name) for name in data.tasks]
    torch.manual_seed(seed)
    model = HardSharing(MLP(data.x.shape[1], [width, width]), tasks).to(device)
    if method == "sum":
        strategy, net = EqualWeighting(), model
        if size > 1:
            net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    else:
        strategy, net = DistributedGradientAggregation(aggregator(method, seed)), model
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed + 1)
    local = global_batch // size
    losses = []
    for _ in range(steps):
        index = torch.randperm(len(data), generator=generator)[:global_batch]
        batch = data.subset(index[rank * local:(rank + 1) * local])
        step_losses = task_losses(tasks, net(batch.x), batch.y)
        optimizer.zero_grad(set_to_none=True)
        strategy.backward(step_losses, model)
        optimizer.step()
        total = all_reduce_mean(torch.stack([l.detach() for l in step_losses.values()]).sum())
        losses.append(float(total))
    return {"method": method, "world_size": size, "losses": losses,
            "params": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}


def max_difference(a: dict[str, Tensor], b: dict[str, Tensor]) -> float:
    """The largest absolute difference between two models' parameters (same names and shapes)."""
    if a.keys() != b.keys():
        raise ValueError(f"The two parameter sets differ in names: {sorted(set(a) ^ set(b))}.")
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def _main(argv: list[str] | None = None) -> None:
    """Entry point for torchrun: join the group, train each method, rank 0 saves {method: result}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="file where rank 0 writes the results (torch.save)")
    parser.add_argument("--methods", default="sum", help=f"comma-separated, from {METHODS}")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (nccl, one GPU per rank)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a collective may wait for the other ranks")
    args = parser.parse_args(argv)
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; choose from {METHODS}")
    torch.set_num_threads(1)                      # the ranks share the machine's cores
    device = torch.device(args.device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            timeout=datetime.timedelta(seconds=args.timeout))
    try:
        results = {m: train(m, args.steps, args.global_batch, seed=args.seed, device=device) for m in methods}
        if dist.get_rank() == 0:
            torch.save(results, args.out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def launch(nproc: int = 2, methods: tuple[str, ...] = ("sum",), steps: int = 20, global_batch: int = 64,
           seed: int = 0, device: str = "cpu", timeout: float = 120.0) -> dict:
    """Run `_main` on `nproc` ranks with torchrun in a subprocess and return rank 0's results.

    `--standalone` makes torchrun pick a free port itself. On failure or after `timeout` seconds the
    whole process group (torchrun and its workers) is killed and the error says why.
    """
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"nproc must be a positive number of processes, got {nproc!r}.")
    if isinstance(methods, str):
        raise TypeError(f"methods must be a tuple of method names, got the string {methods!r}; "
                        f"write methods=({methods!r},).")
    whole("steps", steps), whole("global_batch", global_batch), whole("seed", seed, minimum=0)
    positive("timeout", timeout)
    if global_batch > N_TRAIN:
        raise ValueError(f"global_batch must be at most the {N_TRAIN} training samples, got {global_batch}.")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; choose from {METHODS}.")
    if global_batch % nproc != 0:
        raise ValueError(f"The global batch of {global_batch} does not split evenly over {nproc} processes.")
    if not dist.is_available() or importlib.util.find_spec("torch.distributed.run") is None:
        raise RuntimeError("This PyTorch build has no torch.distributed / torchrun "
                           "(python -m torch.distributed.run); install a build with distributed support.")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.pt"
        _torchrun(["-m", "mtl_course.distributed", "--out", str(out), "--methods", ",".join(methods),
                   "--steps", str(steps), "--global-batch", str(global_batch), "--seed", str(seed),
                   "--device", device, "--timeout", str(timeout)], nproc, timeout)
        if not out.exists():
            raise RuntimeError(f"torchrun with {nproc} processes finished without writing its results to {out}.")
        return torch.load(out)


def _torchrun(arguments: list[str], nproc: int, timeout: float) -> None:
    """Run `python -m torch.distributed.run` on `arguments` (a script or -m module and its options) with `nproc` ranks.

    On failure the error carries the failing rank's own traceback; after `timeout` seconds the
    whole process group (torchrun and its workers) is killed.
    """
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "--max-restarts=0", *arguments]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, start_new_session=True)   # its own group: killable as a whole
    try:
        log, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise TimeoutError(f"torchrun with {nproc} processes did not finish within {timeout:g} s; "
                           "all its processes were stopped.") from None
    except BaseException:                     # e.g. KeyboardInterrupt: leave no orphan ranks behind
        _kill_group(process)
        raise
    if process.returncode != 0:
        lines = [re.sub(r"^\[rank\d+\]:", "", l) for l in log.splitlines()]
        errors = list(dict.fromkeys(l.strip() for l in lines if re.match(r"\s*[\w.]*(Error|Exception): ", l)))
        raise RuntimeError(f"torchrun with {nproc} processes failed (exit code {process.returncode}). "
                           f"Errors raised: {errors}.\n{_failing_rank_traceback(log)}"
                           "Last lines of its output:\n" + "\n".join(log.splitlines()[-25:]))


def _failing_rank_traceback(log: str) -> str:
    """The traceback of the rank that failed first (torchrun's "Root Cause"), from its lines prefixed "[rankN]:"."""
    by_rank: dict[str, list[str]] = {}
    for line in log.splitlines():
        match = re.match(r"\[rank(\d+)\]:(.*)", line)
        if match:
            by_rank.setdefault(match.group(1), []).append(match.group(2))
    root = re.search(r"Root Cause.*?\brank\s*:\s*(\d+)", log, re.S)
    rank = root.group(1) if root and root.group(1) in by_rank else next(iter(by_rank), None)
    if rank is None:                          # the ranks failed before joining the group: no prefixed lines
        return ""
    lines = by_rank[rank]
    start = max((i for i, l in enumerate(lines) if l.lstrip().startswith("Traceback")), default=0)
    return f"Rank {rank} failed first, with:\n" + "\n".join(lines[start:]) + "\n"


def _kill_group(process: subprocess.Popen) -> None:
    """Stop a launched torchrun and all its workers (they share its process group): SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


if __name__ == "__main__":
    _main()
