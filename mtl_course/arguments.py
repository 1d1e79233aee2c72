"""Checks of the arguments users type, so that a bad value stops with its name and what would be right."""
from __future__ import annotations

import math
import numbers


def whole(name: str, value: object, minimum: int = 1) -> int:
    """`value` as an int if it is a whole number ≥ `minimum` (not a bool or a float); otherwise a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number ≥ {minimum}, got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}.")
    return int(value)


def positive(name: str, value: object, zero: bool = False) -> float:
    """`value` as a float if it is a finite number > 0 (≥ 0 with `zero`); otherwise a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    low_ok = value >= 0 if zero else value > 0
    if not math.isfinite(value) or not low_ok:
        raise ValueError(f"{name} must be a finite number {'≥' if zero else '>'} 0, got {value!r}.")
    return float(value)
