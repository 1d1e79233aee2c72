"""What the checks of the *experiment* exercises share: read the measurements, and re-measure one point.

An experiment exercise asks for a function that runs a small measurement, e.g. `f(weights, seeds)`, and
returns the measurements (a table `{knob: {seed: number}}`, or a tensor of them) together with the
conclusion the learner draws from them. Its check verifies three things: the measurements are complete and
finite, the conclusion follows from the learner's own numbers, and one point re-measured by a second call
agrees with them (so that the numbers were measured with fixed seeds, not typed in).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import Tensor

from ._core import Exercise, _number, describe, fail, run


def table(exercise: Exercise, result: object, key: str, knobs: Sequence, seeds: Sequence[int],
          knob_name: str) -> dict | None:
    """`result[key]` as {knob: {seed: float}}, with a hint (and None) when it is missing, incomplete or not finite."""
    if not isinstance(result, dict):
        fail(exercise, f"Return a dict (with the key {key!r} among others); you returned {describe(result)}.")
        return None
    if key not in result:
        fail(exercise, f"Your dict has no key {key!r}: it holds {sorted(map(str, result))}.")
        return None
    measured, out = result[key], {}
    if not isinstance(measured, dict):
        fail(exercise, f"result[{key!r}] should be a dict {{{knob_name}: {{seed: number}}}}; it is {describe(measured)}.")
        return None
    for knob in knobs:
        row = measured.get(knob)
        if not isinstance(row, dict):
            fail(exercise, f"result[{key!r}] has no dict of seeds for the {knob_name} {knob!r}: give one entry per "
                           f"{knob_name} you were passed, each a dict {{seed: number}}.")
            return None
        out[knob] = {}
        for seed in seeds:
            value = _number(row.get(seed))
            if value is None or isinstance(value, complex) or not math.isfinite(value):
                fail(exercise, f"result[{key!r}][{knob!r}][{seed!r}] should be one finite number; it is "
                               f"{describe(row.get(seed)) if row.get(seed) is not None else 'missing'}.")
                return None
            out[knob][seed] = float(value)
    return out


def varied(exercise: Exercise, measured: dict, key: str) -> bool:
    """True if the table holds at least two different numbers; a table of one repeated number was not measured."""
    if len({v for row in measured.values() for v in row.values()}) > 1:
        return True
    return fail(exercise, f"Every entry of result[{key!r}] is the same number: measure each point, don't fill the "
                          "table with one value.")


def measured(exercise: Exercise, fn: Callable, args: tuple, key: str, knobs: Sequence, seeds: Sequence[int],
             knob_name: str) -> tuple[dict, dict] | None:
    """Run the learner's experiment; (its result, result[key] as a complete, finite and varied table), or None
    after a hint."""
    ran, result = run(exercise, fn, *args)
    if not ran:
        return None
    numbers = table(exercise, result, key, knobs, seeds, knob_name)
    if numbers is None or not varied(exercise, numbers, key):
        return None
    return result, numbers


def shown(value: object) -> str:
    """A learner's conclusion as it reads in a message: a number, a string or None as such, anything else described."""
    return repr(value) if value is None or isinstance(value, (int, float, str)) else describe(value)


def keyed(exercise: Exercise, result: object, keys: Sequence[str], table_key: str, entries: Sequence,
          per: str) -> bool:
    """True if `result` is a dict with exactly `keys`, and result[table_key] a dict with one entry per item of
    `entries`; otherwise a hint that names them and says what was returned."""
    if (isinstance(result, dict) and set(result) == set(keys) and isinstance(result[table_key], dict)
            and set(result[table_key]) == set(entries)):
        return True
    listed = ", ".join(f"{k!r} (a dict with one entry per {per}, {list(entries)})" if k == table_key else repr(k)
                       for k in keys)
    return fail(exercise, f"Return a dict with the keys {listed}; you returned {describe(result)}"
                          f"{' with keys ' + str(list(result)) if isinstance(result, dict) else ''}.")


def mean(row: dict) -> float:
    """The mean over the seeds of one row of a table."""
    return sum(row.values()) / len(row)


def flag(exercise: Exercise, result: dict, key: str) -> bool | None:
    """`result[key]` as a bool, with a hint (and None) when it is not one."""
    value = result.get(key)
    if not isinstance(value, bool):
        fail(exercise, f"result[{key!r}] should be True or False (a bool); it is "
                       f"{describe(value) if key in result else 'missing'}.")
        return None
    return value


def remeasured(exercise: Exercise, fn: Callable, args: tuple, key: str, knob, seed: int, before: float,
               knob_name: str) -> bool:
    """Call the function again on one knob and one seed; True if it measures what the full call returned."""
    ran, again = run(exercise, fn, *args)
    if not ran:
        return False
    point = table(exercise, again, key, [knob], [seed], knob_name)
    if point is None:
        return False
    now = point[knob][seed]
    if not math.isclose(now, before, rel_tol=1e-3, abs_tol=1e-6):
        return fail(exercise, f"Called again with only the {knob_name} {knob!r} and seed {seed}, your function "
                              f"measured {now:.6g}, not the {before:.6g} it returned before. Measure every point "
                              "(seed each run), don't type numbers in.",
                    f"the {knob_name} {knob!r}, seed {seed}")
    return True


def vector_problem(value: object, shape: tuple[int, ...], what: str) -> str | None:
    """None if `value` is a finite float tensor of `shape`, else what is wrong with it, in words."""
    if not isinstance(value, Tensor) or not value.is_floating_point():
        return f"{what}: return a float tensor of shape {shape}; you returned {describe(value)}."
    if tuple(value.shape) != shape:
        return f"{what}: return a tensor of shape {shape}; yours has shape {tuple(value.shape)}."
    if not bool(value.detach().isfinite().all()):
        return f"{what} hold NaN or infinity ({value.detach().tolist()}): did a run diverge, or a division fail?"
    return None


def two_measured(exercise: Exercise, result: object, returns: str, whats: tuple[str, str], kind: str, length: int,
                 case: str) -> tuple | None:
    """(first, second, conclusion) of an experiment that measures two positive vectors of `length` and concludes;
    None once a hint is printed (not three things, or a vector that is missing, non-finite or not positive)."""
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(exercise, f"Return three things ({returns}); you returned {describe(result)}.", case)
        return None
    for values, what in zip(result[:2], whats):
        if problem := vector_problem(values, (length,), what):
            fail(exercise, problem, case)
            return None
        if not bool((values > 0).all()):
            fail(exercise, f"{what} must be positive {kind}; yours are {values.detach().tolist()}.", case)
            return None
    return tuple(result)


def as_verdict(value: object) -> object:
    """A yes/no answer as a Python bool when it is one in another form (a NumPy or one-element bool tensor)."""
    if isinstance(value, Tensor) and value.numel() == 1 and value.dtype == torch.bool:
        return bool(value)
    if type(value).__name__ == "bool_":   # NumPy's bool
        return bool(value)
    return value
