"""Where the computation runs, and how to make it repeatable."""
from __future__ import annotations

import numbers
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
    if prefer is not None and not isinstance(prefer, (str, torch.device)):
        raise TypeError(f"get_device(prefer=...) takes a device name such as 'cpu' or 'cuda', got {prefer!r}.")
    if prefer:
        return _available(str(prefer), f"get_device(prefer={str(prefer)!r})")
    if os.environ.get("MTL_DEVICE", "").strip():
        return _available(os.environ["MTL_DEVICE"].strip(), f"MTL_DEVICE={os.environ['MTL_DEVICE']!r}")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _available(name: str, what: str) -> torch.device:
    """The device `name` if this machine has it; else an error that names `what` asked for it."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"{what} is not a device: use 'cpu', 'cuda', 'cuda:N' or 'mps' "
                         "(or leave it unset to pick the fastest available).") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{what}: CUDA is not available on this machine (torch.cuda.is_available() is False); "
                         "use 'cpu', or leave it unset to pick the fastest available device.")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"{what}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                         f"numbered from 0, so there is no cuda:{device.index}.")
    mps = getattr(torch.backends, "mps", None)
    if device.type == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError(f"{what}: Apple's MPS is not available on this machine; use 'cpu' or leave it unset.")
    return device


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
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a whole number in [0, 2**32), got {seed!r} ({type(seed).__name__}); "
                        "None would draw a fresh seed, and the re-run would not repeat.")
    if not 0 <= seed < 2 ** 32:
        raise ValueError(f"seed must be a whole number in [0, 2**32) (NumPy accepts no other), got {seed!r}.")
    seed = int(seed)
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
