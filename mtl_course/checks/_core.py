"""What every exercise check shares: a verdict, hints in two steps, and one way to compare an answer.

A failed check never shows the solution. The first failure of an exercise prints what went wrong and a
first hint naming the concept or the quantity to compute; a second failure of the same exercise in the
same kernel (or `mc.checks.hint("5.2")`) adds a second hint naming the shape, the formula's ingredients
and the test case that failed, with its expected value. Neither hint holds code of the solution
(tests/test_checks.py checks every line of every solution against every message).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

EXERCISES: dict[str, "Exercise"] = {}  # "5.2" -> its hints, filled as the check modules are imported
FAILURES: dict[str, int] = {}          # "5.2" -> failed checks so far in this kernel


@dataclass(frozen=True)
class Exercise:
    """One exercise's two hints: `concept` (the idea or quantity) and `detail` (shape, ingredients)."""
    number: str   # "5.2"
    concept: str
    detail: str

    def __post_init__(self) -> None:
        if EXERCISES.setdefault(self.number, self) != self:
            raise ValueError(f"Exercise {self.number} is defined twice, with different hints: give each its own number.")

    @property
    def name(self) -> str:
        """How the verdict names the exercise: "Exercise 5.2"."""
        return f"Exercise {self.number}"


def passed(exercise: Exercise, message: str) -> bool:
    """Print that the exercise is solved, with what it shows, and return True."""
    print(f"✅ {exercise.name}: correct. {message}")
    return True


def fail(exercise: Exercise, problem: str, case: str = "") -> bool:
    """Print what went wrong and the first hint; from the second failure on, the second hint and the case."""
    count = FAILURES[exercise.number] = FAILURES.get(exercise.number, 0) + 1
    lines = [f"❌ {exercise.name}: not yet. {problem}", f"   Hint: {exercise.concept}"]
    if count >= 2:
        lines.append(f"   Second hint: {exercise.detail}")
        if case:
            lines.append(f"   The case that failed: {case}")
    else:
        lines.append(f"   (Check again for a second hint, or run mc.checks.hint({exercise.number!r}).)")
    print("\n".join(lines))
    return False


def hint(number: str) -> None:
    """Print both hints of an exercise on request, e.g. `mc.checks.hint("5.2")`."""
    key = str(number).removeprefix("Exercise").strip()
    if key not in EXERCISES:
        raise ValueError(f"hint: no exercise {number!r}; the exercises are {sorted(EXERCISES, key=_order)}.")
    exercise = EXERCISES[key]
    print(f"💡 {exercise.name}\n   Hint: {exercise.concept}\n   Second hint: {exercise.detail}")


def _order(number: str) -> tuple[int, ...]:
    """Sort key of an exercise number: "10.1" after "9.3"."""
    return tuple(int(part) for part in number.split("."))


def run(exercise: Exercise, fn: Callable, *args) -> tuple[bool, object]:
    """Call the student's function; a stub or an error becomes a hint instead of a traceback."""
    try:
        return True, fn(*args)
    except NotImplementedError:
        fail(exercise, "Replace `raise NotImplementedError()` with your code.")
    except Exception as error:  # a student's bug: show its message, not the whole stack
        fail(exercise, f"Your function raised {type(error).__name__}: {error}.")
    return False, None


def describe(value: object) -> str:
    """A short description of a returned value for a message: its type, and its shape for a tensor."""
    if isinstance(value, Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if value is None:
        return "None (did you forget `return`?)"
    return f"a {type(value).__name__}"


def expected(want: object) -> str:
    """What kind of answer a check expects, in words, without its value."""
    if isinstance(want, Tensor):
        kind = "bool " if want.dtype == torch.bool else "" if want.is_floating_point() else "integer "
        return f"a {kind}tensor of shape {tuple(want.shape)}"
    return describe(want)


def _number(value: object) -> float | int | None:
    """A Python number, NumPy scalar or one-element tensor as a Python number; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Tensor):
        return value.detach().reshape(()).item() if value.numel() == 1 else None
    if isinstance(value, numbers.Number):  # int, float, and NumPy's scalars
        try:
            return value.item() if hasattr(value, "item") else value
        except (TypeError, ValueError):
            return None
    return None


def _is_integral(value: object) -> bool:
    """True for an int, a NumPy integer or an integer tensor (not a bool)."""
    if isinstance(value, Tensor):
        return not value.dtype.is_floating_point and not value.dtype.is_complex and value.dtype != torch.bool
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def compare(got: object, want: object, rtol: float = 1e-5, atol: float = 1e-6) -> str | None:
    """None if `got` is the answer `want`, else what is wrong with it, in words (never the answer).

    `want` says what kind of answer is expected: a float (any number, including a NumPy scalar or a
    one-element tensor, within the tolerances), an int (a whole number, exactly), a tensor (same shape,
    values within the tolerances; bool and integer tensors exactly), a tuple (element by element), or
    anything else (equal, and of the same type). NaN and infinity are refused wherever they appear.
    """
    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"Return a pair of {len(want)} values as a tuple; you returned {describe(got)}."
        for i, (g, w) in enumerate(zip(got, want)):
            problem = compare(g, w, rtol, atol)
            if problem:
                return f"Element {i} of your tuple: {problem}"
        return None
    if isinstance(want, bool) or not isinstance(want, (numbers.Number, Tensor)):
        if type(got) is not type(want):
            return f"Return {expected(want)}; you returned {describe(got)}."
        return None if got == want else f"Your {type(got).__name__} is not the expected one."
    if isinstance(want, numbers.Number):
        value = _number(got)
        if value is None:
            return f"Return a single number (a float, or a one-element tensor); you returned {describe(got)}."
        if isinstance(value, complex):
            return f"Return a real number; you returned the complex number {value}."
        if isinstance(value, float) and not math.isfinite(value):
            return f"Your function returned {value}: look for a division by zero, a log of zero, or a missing case."
        if isinstance(want, numbers.Integral):
            if not _is_integral(got):
                return f"Return a whole number (an int); you returned {describe(got)}."
            return None if value == want else f"Your function returned {value}, which is not the expected count."
        close = math.isclose(value, want, rel_tol=rtol, abs_tol=atol)
        return None if close else f"Your function returned {value:.6g}, which is not the expected value."
    if not isinstance(got, Tensor):
        return f"Return {expected(want)}; you returned {describe(got)}."
    if tuple(got.shape) != tuple(want.shape):
        return f"Return a tensor of shape {tuple(want.shape)}; yours has shape {tuple(got.shape)}."
    if want.dtype == torch.bool:
        if got.dtype != torch.bool:
            return f"Return a bool tensor (True/False per entry); yours is {describe(got)}."
        return None if torch.equal(got.cpu(), want.cpu()) else f"Your tensor {got.tolist()} is not the expected one."
    if got.dtype == torch.bool or got.is_complex():
        return f"Return a real-valued tensor; yours is {describe(got)}."
    values = got.detach().cpu()
    if values.is_floating_point() and not bool(torch.isfinite(values).all()):
        return f"Your tensor holds NaN or infinity ({values.tolist()}): look for a division by zero or a missing case."
    if not want.is_floating_point():
        if values.is_floating_point():
            return f"Return integer indices (an integer tensor); yours is {describe(got)}."
        equal = torch.equal(values.long(), want.cpu().long())
        return None if equal else f"Your tensor {values.tolist()} is not the expected one."
    close = torch.allclose(values.double(), want.detach().cpu().double(), rtol=rtol, atol=atol)
    return None if close else "Your tensor's values are not the expected ones."
