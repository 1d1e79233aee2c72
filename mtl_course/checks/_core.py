"""What every exercise check shares: a friendly verdict, and a student's function run without a traceback."""
from __future__ import annotations

from typing import Callable


def report(ok: bool, exercise: str, message: str) -> bool:
    """Print the verdict of one exercise's check and return it."""
    print(f"✅ {exercise}: correct. {message}" if ok else f"❌ {exercise}: not yet. Hint: {message}")
    return ok


def run(exercise: str, hint: str, fn: Callable, *args):
    """Call the student's function; a stub or an error becomes a hint instead of a traceback."""
    try:
        return True, fn(*args)
    except NotImplementedError:
        report(False, exercise, "replace `raise NotImplementedError()` with your code. " + hint)
    except Exception as error:  # a student's bug: show its message, not the whole stack
        report(False, exercise, f"your function raised {type(error).__name__}: {error}. " + hint)
    return False, None


def as_number(result: object) -> float | None:
    """The student's result as a float (a Python number or a one-element tensor), or None if it is not one."""
    try:
        return float(result)
    except (TypeError, ValueError, RuntimeError):
        return None
