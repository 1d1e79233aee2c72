"""Shared fixtures of the unit tests."""
from __future__ import annotations

import pytest
import torch

import mtl_course as mc


@pytest.fixture
def two_regression_tasks() -> list[mc.Task]:
    """Two scalar regression tasks named "a" and "b"."""
    return [mc.regression("a"), mc.regression("b")]


@pytest.fixture
def tiny_regression(two_regression_tasks) -> mc.Splits:
    """A small, learnable two-task regression problem: y_a = sum(x), y_b = x_0 - x_1."""
    g = torch.Generator().manual_seed(0)

    def split(n: int) -> mc.MultiTaskData:
        x = torch.randn(n, 4, generator=g)
        return mc.MultiTaskData(x, {"a": x.sum(1), "b": x[:, 0] - x[:, 1]})

    return mc.Splits(split(256), split(128), split(128))


def pytest_configure(config) -> None:
    """Draw figures off-screen in unit tests."""
    import matplotlib

    matplotlib.use("Agg")


def _devices() -> list[str]:
    """The CPU always; CUDA and Apple's MPS where this machine has them."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found


@pytest.fixture(params=_devices())
def device(request) -> torch.device:
    """Each device this machine has: a test that takes `device` runs on the CPU, and on a GPU where there is one."""
    return torch.device(request.param)


@pytest.fixture
def same_run(device):
    """How two runs of one computation compare: bit for bit on the CPU; to float32 rounding on a GPU,
    which need not repeat its own rounding exactly (its kernels may sum in another order)."""
    if device.type == "cpu":
        return torch.equal
    return lambda a, b: torch.allclose(a, b, rtol=1e-5, atol=1e-6)
