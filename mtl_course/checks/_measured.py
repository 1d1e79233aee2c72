"""What the experiment exercises' checks share (chapters 8–11): the shape of a measured answer.

An experiment's check runs the learner's measurement, checks that its conclusion follows from the
learner's own numbers, and re-measures one of them by the stated protocol to see that they are real.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._core import describe


def vector_problem(value: object, shape: tuple[int, ...], what: str) -> str | None:
    """None if `value` is a finite float tensor of `shape`, else what is wrong with it, in words."""
    if not isinstance(value, Tensor) or not value.is_floating_point():
        return f"{what}: return a float tensor of shape {shape}; you returned {describe(value)}."
    if tuple(value.shape) != shape:
        return f"{what}: return a tensor of shape {shape}; yours has shape {tuple(value.shape)}."
    if not bool(value.detach().isfinite().all()):
        return f"{what} hold NaN or infinity ({value.detach().tolist()}): did a run diverge, or a division fail?"
    return None


def as_verdict(value: object) -> object:
    """A yes/no answer as a Python bool when it is one in another form (a NumPy or one-element bool tensor)."""
    if isinstance(value, Tensor) and value.numel() == 1 and value.dtype == torch.bool:
        return bool(value)
    if type(value).__name__ == "bool_":   # NumPy's bool
        return bool(value)
    return value
