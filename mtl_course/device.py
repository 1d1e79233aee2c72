"""Where the computation runs, and how to make it repeatable."""
from __future__ import annotations

import os
import platform
import random

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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a re-run gives the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def environment_report(device: torch.device | None = None) -> str:
    """One line saying what this notebook runs on: Python, torch, device, GPU name, CPU threads."""
    device = device or get_device()
    parts = [f"Python {platform.python_version()}", f"torch {torch.__version__}", f"device {device.type}"]
    if device.type == "cuda":
        parts.append(torch.cuda.get_device_name(device))
    parts.append(f"{torch.get_num_threads()} CPU threads")
    return " | ".join(parts)
