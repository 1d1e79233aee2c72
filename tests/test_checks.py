"""The exercises' checks grade honestly: wrong answers fail, right ones pass in any numeric type, and no
message, first or second hint, ever shows a line of the solution."""
from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import io
import re
import textwrap

import numpy as np
import pytest
import torch

from mtl_course import course
from mtl_course.checks import _core
from test_project import EXERCISES, PRELUDE  # (path, solution cell, function name, check cell) per exercise

IDS = [f"{path.stem[:2]}-{name}" for path, _, name, _ in EXERCISES]


@pytest.fixture(autouse=True)
def fresh_kernel():
    """Every test starts as a fresh kernel does: no failure counted yet."""
    _core.FAILURES.clear()
    yield
    _core.FAILURES.clear()


def load(solution: str, name: str, check: str, strip: bool = False) -> tuple:
    """The exercise's function (the solution, or the student's stub) and its check function."""
    checker = re.search(r"check_\w+", re.search(rf"check_\w+\({name}\b", check).group(0)).group(0)
    namespace: dict = {}
    exec(PRELUDE + f"from mtl_course.checks import {checker}\n"
         + (course.strip_solutions(solution) if strip else solution), namespace)
    return namespace[name], namespace[checker]


def solution_lines(solution: str) -> list[str]:
    """The code lines between the solution markers, without comments or indentation."""
    body = solution.split(course.BEGIN)[1].split(course.END)[0]
    code = (line.split("  #")[0].strip() for line in body.splitlines())
    return [line for line in code if line and not line.startswith("#")]


def squeezed(text: str) -> str:
    """Text without any whitespace, so that `a*b` and `a * b` compare equal."""
    return re.sub(r"\s+", "", text)


def solution_code(solution: str, shortest: int = 12) -> list[str]:
    """Every line of the solution, and every call, operation and subscript in it that is at least `shortest`
    characters long without spaces (`torch.softmax(rates / temperature, dim=0)` of a longer line), squeezed."""
    body = textwrap.dedent(solution.split(course.BEGIN)[1].split(course.END)[0])
    parts = {squeezed(line) for line in solution_lines(solution)}
    kinds = (ast.Call, ast.BinOp, ast.Subscript, ast.Compare, ast.BoolOp, ast.UnaryOp)
    for node in ast.walk(ast.parse(body)):
        if isinstance(node, kinds):
            parts.add(squeezed(ast.get_source_segment(body, node)))
    return sorted(p for p in parts if len(p) >= shortest)


def test_the_leak_detector_finds_code_inside_prose_whatever_the_spacing():
    solution = f"def dwa(previous, before, temperature):\n    {course.BEGIN}\n    rates = previous / before\n" \
               f"    return len(rates) * torch.softmax(rates / temperature, dim=0)\n    {course.END}\n"
    found = [code for code in solution_code(solution) if code in squeezed("Hint: use torch.softmax(rates/temperature, dim = 0).")]
    assert "torch.softmax(rates/temperature,dim=0)" in found and "rates/temperature" in found


def graded(check, fn) -> tuple[bool, str]:
    """Run a check on a function; its verdict and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        verdict = check(fn)
    return verdict, out.getvalue()


def exercise_number(check) -> str:
    """The exercise a check grades, from its docstring ("Exercise 5.2: ...")."""
    return re.match(r"Exercise (\d+\.\d+)", check.__doc__).group(1)


def raises(*args, **kwargs):
    raise ValueError("a bug in the student's code")


WRONG = {  # answers a student really returns: a stub, a bug, a forgotten return, a constant, the input
    "stub": None,  # replaced by the exercise's stripped cell
    "nan": lambda *a, **k: float("nan"),
    "inf": lambda *a, **k: float("inf"),
    "nan tensor": lambda *a, **k: torch.tensor(float("nan")),
    "nan vector": lambda *a, **k: torch.full((2,), float("nan")),
    "None": lambda *a, **k: None,
    "str": lambda *a, **k: "42",
    "wrong value": lambda *a, **k: 0.123,
    "wrong shape": lambda *a, **k: torch.zeros(7, 5),
    "first argument": lambda *a, **k: a[0],
    "an error": raises,
}


@pytest.mark.parametrize("path,solution,name,check", EXERCISES, ids=IDS)
@pytest.mark.parametrize("wrong", list(WRONG))
def test_wrong_answers_fail_and_no_hint_shows_the_solution(path, solution, name, check, wrong):
    """Twice each (the second failure prints the second hint), then the hint on request."""
    stub, checker = load(solution, name, check, strip=True)
    fn = stub if wrong == "stub" else WRONG[wrong]
    first_ok, first = graded(checker, fn)
    second_ok, second = graded(checker, fn)
    requested = io.StringIO()
    with contextlib.redirect_stdout(requested):
        _core.hint(exercise_number(checker))
    assert first_ok is False and second_ok is False, first + second
    assert f"❌ Exercise {exercise_number(checker)}:" in first, first  # the verdict names the docstring's exercise
    assert "Hint:" in first and "Second hint:" not in first, first
    assert "Second hint:" in second, second
    if wrong == "stub":
        assert "NotImplementedError" in first
    printed = squeezed(first + second + requested.getvalue())
    leaked = [code for code in solution_code(solution) if code in printed]
    assert not leaked, f"{path.name}: the check printed solution code {leaked}:\n{printed}"


def fresh(value):
    """A copy of an answer, so that a check that changes it in place sees it unchanged next time (a tensor that is
    part of an autograd graph cannot be copied, and is returned as it is)."""
    try:
        return copy.deepcopy(value)
    except RuntimeError:
        return value


def as_torch(value):
    """A number as a 0-d tensor (tuples element by element); anything else unchanged."""
    if type(value) is tuple:
        return tuple(as_torch(v) for v in value)
    return torch.tensor(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def as_numpy(value):
    """A number or a 0-d tensor as a NumPy scalar (tuples element by element); anything else unchanged."""
    if type(value) is tuple:
        return tuple(as_numpy(v) for v in value)
    if isinstance(value, torch.Tensor) and value.dim() == 0 and not value.requires_grad:
        return value.numpy()[()]
    return np.array(value)[()] if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def as_python(value):
    """A 0-d tensor as a Python number (tuples element by element); anything else unchanged."""
    if type(value) is tuple:
        return tuple(as_python(v) for v in value)
    return value.item() if isinstance(value, torch.Tensor) and value.dim() == 0 else value


@pytest.mark.parametrize("path,solution,name,check", EXERCISES, ids=IDS)
def test_a_right_answer_passes_whatever_its_numeric_type(path, solution, name, check):
    """The solution's numbers returned as 0-d tensors, NumPy scalars or Python numbers (answers of other kinds unchanged)."""
    fn, checker = load(solution, name, check)
    returns = inspect.signature(fn).return_annotation   # a string here: this file's annotations are postponed
    if re.fullmatch(r"dict(\[.*\])?", str(returns)):   # an experiment's table and verdict: no number to convert
        pytest.skip(f"{name} returns a dict, which none of the conversions changes")
    answers = []   # the solution runs once (an experiment exercise trains models); its answers are replayed

    def recorded(*args, **kwargs):
        answers.append(fn(*args, **kwargs))
        return fresh(answers[-1])

    assert graded(checker, recorded)[0] is True
    for convert in (as_torch, as_numpy, as_python):
        replay = iter(answers)
        ok, printed = graded(checker, lambda *args, **kwargs: convert(fresh(next(replay))))
        assert ok is True and "✅" in printed, f"{convert.__name__}: {printed}"


def test_nan_is_refused_where_it_used_to_pass():
    from mtl_course.checks import check_shared_fraction

    ok, printed = graded(check_shared_fraction, lambda model: float("nan"))
    assert ok is False and "nan" in printed


def test_a_0d_tensor_is_compared_as_a_number():
    """Issue 16's example: −5 returned as a tensor passes the first case; a constant then fails the second."""
    from mtl_course.checks import check_delta_m_percent

    ok, printed = graded(check_delta_m_percent, lambda *a: torch.tensor(-5.0))
    assert ok is False and "equal to its baseline" in printed and "Return" not in printed
    right = {(0.88, 0.6): -5.0, (0.5,): 0.0}
    ok, printed = graded(check_delta_m_percent, lambda multi, *a: torch.tensor(right[tuple(multi.values())]))
    assert ok is True, printed


def test_second_hint_only_after_a_second_failure_or_on_request():
    from mtl_course.checks import check_gradnorm_balance, hint

    _, first = graded(check_gradnorm_balance, lambda norms, *a: 1 / norms)
    _, second = graded(check_gradnorm_balance, lambda norms, *a: 1 / norms)
    assert "Second hint" not in first and "mc.checks.hint('5.2')" in first
    assert "Second hint" in second and "The case that failed" in second and "[1.6, 0.4]" in second
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        hint("Exercise 5.2")
    assert "Second hint" in out.getvalue()
    with pytest.raises(ValueError, match=r"no exercise '12\.7'.*'10\.3'"):
        hint("12.7")


def test_an_exercise_number_has_one_set_of_hints():
    assert _core.Exercise("5.2", _core.EXERCISES["5.2"].concept, _core.EXERCISES["5.2"].detail)  # a reload is fine
    with pytest.raises(ValueError, match="Exercise 5.2 is defined twice"):
        _core.Exercise("5.2", "another concept", "another detail")


@pytest.mark.parametrize("got", [1.5, np.float64(1.5), np.float32(1.5), torch.tensor(1.5), torch.tensor([1.5]),
                                 torch.tensor(1.5, dtype=torch.float64)])
def test_compare_accepts_a_number_in_any_form(got):
    assert _core.compare(got, 1.5) is None


@pytest.mark.parametrize("got,words", [
    (float("nan"), "nan"), (float("inf"), "inf"), (torch.tensor(float("-inf")), "inf"), (np.float64("nan"), "nan"),
    (None, "None"), ("1.5", "str"), (True, "bool"), (torch.ones(2), "shape (2,)"), (1.6, "not the expected value"),
    (1 + 2j, "complex"),
])
def test_compare_refuses_a_wrong_number_and_says_why(got, words):
    problem = _core.compare(got, 1.5)
    assert problem is not None and words in problem, problem


def test_compare_counts_tensors_tuples_and_names():
    want = torch.tensor([[1.0, 0.5]])
    assert _core.compare(want.clone() + 1e-7, want) is None
    assert "NaN" in _core.compare(torch.tensor([[float("nan"), 0.5]]), want)
    assert "shape (1, 2)" in _core.compare(torch.ones(2), want)
    assert "tensor" in _core.compare([[1.0, 0.5]], want)
    assert "bool" in _core.compare(torch.tensor([1, 0]), torch.tensor([True, False]))
    assert _core.compare(torch.tensor([2, 0], dtype=torch.int32), torch.tensor([2, 0])) is None
    assert "integer" in _core.compare(torch.tensor([2.0, 0.0]), torch.tensor([2, 0]))
    assert _core.compare(np.int64(3), 3) is None and _core.compare(torch.tensor(3), 3) is None
    assert "whole number" in _core.compare(3.0, 3)
    assert _core.compare((torch.tensor(1e-3), 0.43), (1e-3, 0.43)) is None
    assert "Element 1" in _core.compare((1e-3, float("nan")), (1e-3, 0.43))
    assert "pair of 2" in _core.compare(0.43, (1e-3, 0.43))
    assert _core.compare(["a", "b"], ["a", "b"]) is None and "list" in _core.compare(("a", "b"), ["a", "b"])
