"""Where the computation runs, and how to make it repeatable."""
from __future__ import annotations

import os
import platform
import random
import time
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the fastest available device: CUDA, then Apple's MPS, then the CPU.

    `prefer` (or the environment variable MTL_DEVICE) forces one, e.g. "cpu" to compare timings.
    """
    choice = prefer or os.environ.get("MTL_DEVICE")
    if choice:
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def on_gpu(device: torch.device | None = None) -> bool:
    """True when `device` (default: the chosen one) is a GPU, where the notebooks use their larger setting."""
    return (device or get_device()).type in ("cuda", "mps")


def gpu_setting(device: torch.device | None = None) -> bool:
    """True when a notebook should use its larger GPU setting: on a GPU, or wherever MTL_SETTING=gpu says so.

    MTL_SETTING=gpu runs the GPU setting on any device (to check its assertions on a CPU);
    MTL_SETTING=cpu runs the CPU setting on a GPU (to compare with CI's numbers).
    """
    setting = os.environ.get("MTL_SETTING", "").strip().lower()
    if setting not in ("", "cpu", "gpu"):
        raise ValueError(f"MTL_SETTING={setting!r}: use 'cpu' or 'gpu' (or leave it unset to follow the device).")
    return setting == "gpu" if setting else on_gpu(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a re-run gives the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def clock(device: torch.device) -> float:
    """Seconds for timing training: wall time on a GPU (after waiting for it), this process's CPU time on a CPU.

    CPU time is what other programs on a shared machine disturb least; take differences of two calls.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return time.perf_counter()
    if device.type == "mps":
        torch.mps.synchronize()
        return time.perf_counter()
    return time.process_time()


@contextmanager
def cpu_threads(n: int) -> Iterator[None]:
    """Run a block with `n` PyTorch CPU threads, restored afterwards.

    The course's models are tiny: extra threads mostly wait for each other, and on a busy machine
    that waiting inflates and scatters CPU times. Timed comparisons on a CPU therefore use one thread.
    """
    if n < 1:
        raise ValueError(f"cpu_threads needs at least one thread, got {n}.")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def environment_report(device: torch.device | None = None) -> str:
    """One line saying what this notebook runs on: Python, torch, device, GPU name, CPU threads."""
    device = device or get_device()
    parts = [f"Python {platform.python_version()}", f"torch {torch.__version__}", f"device {device.type}"]
    if device.type == "cuda":
        parts.append(torch.cuda.get_device_name(device))
    parts.append(f"{torch.get_num_threads()} CPU threads")
    return " | ".join(parts)
