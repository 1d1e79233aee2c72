"""The course as a project: notebook structure, exercises and student copies, and the environment files."""
from __future__ import annotations

import contextlib
import json
import io
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from mtl_course import course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = course.notebook_paths()
REQUIRED_SECTIONS = ("Learning objectives", "Summary", "Exercises", "Discussion questions")


def markdown(nb: dict) -> str:
    return "\n".join(course.source(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def code_cells(nb: dict) -> list[str]:
    return [course.source(c) for c in nb["cells"] if c["cell_type"] == "code"]


def test_notebooks_are_numbered_in_order_without_gaps():
    assert NOTEBOOKS, "no notebooks found"
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(len(NOTEBOOKS))), [p.name for p in NOTEBOOKS]
    stray = [p.name for p in (ROOT / "notebooks").glob("*.ipynb") if p not in NOTEBOOKS]
    assert not stray, f"notebooks not named NN_title.ipynb: {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_structure(path):
    nb = course.load(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, \
                f"{path.name} is stored with outputs: clear them before committing"
    assert code_cells(nb)[0] == course.setup_cell(), \
        f"{path.name}: the first code cell must be the standard setup cell (python -m mtl_course.course sync)"
    text = markdown(nb)
    badges = course.BADGE.findall(text)
    assert badges == [course.colab_url(f"notebooks/{path.name}")], f"{path.name}: Colab badge {badges}"
    first = course.source(nb["cells"][0])
    assert first.startswith("# "), f"{path.name}: the first cell is the title"
    assert "**Before you start:**" in first and "**Time:**" in first, f"{path.name}: prerequisites and time go first"
    assert all(f"]({page}.md)" in first for page in ("glossary", "pitfalls", "bibliography")), path.name
    headings = re.findall(r"^##\s+(.+)$", text, flags=re.M)
    positions = [next((i for i, h in enumerate(headings) if h.startswith(s)), None) for s in REQUIRED_SECTIONS]
    assert None not in positions, f"{path.name}: missing sections among {REQUIRED_SECTIONS}: {headings}"
    assert positions == sorted(positions), f"{path.name}: sections out of order: {headings}"


def test_setup_cell_and_badge_use_the_one_repository_url():
    with open(ROOT / "pyproject.toml", "rb") as f:
        url = tomllib.load(f)["project"]["urls"]["Repository"]
    assert url.rstrip("/") in course.setup_cell()
    assert course.colab_url("notebooks/x.ipynb") == url.replace(
        "https://github.com/", "https://colab.research.google.com/github/").rstrip("/") + "/blob/main/notebooks/x.ipynb"


def test_readme_colab_badge_opens_chapter_00_of_this_repository():
    badges = course.BADGE.findall((ROOT / "README.md").read_text())
    assert badges == [course.colab_url("notebooks/00_getting_started.ipynb")], badges


def test_strip_solutions_keeps_indentation_and_removes_text():
    text = "def f(x):\n    ### BEGIN SOLUTION\n    secret = x * 42\n    return secret\n    ### END SOLUTION\n"
    stripped = course.strip_solutions(text)
    assert stripped == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    with pytest.raises(ValueError, match="without a matching END"):
        course.strip_solutions("### BEGIN SOLUTION\nx = 1")


def exercises(path: Path) -> list[tuple[str, str, str]]:
    """(solution cell, the function it defines, the check cell) for every exercise of a notebook."""
    cells = code_cells(course.load(path))
    found = []
    for i, src in enumerate(cells):
        if course.BEGIN in src:
            name = re.search(r"^def (\w+)\(", src, flags=re.M).group(1)
            check = next(c for c in cells[i + 1:] if re.search(rf"check_\w+\({name}\b", c))
            found.append((src, name, check))
    return found


EXERCISES = [(p, *e) for p in NOTEBOOKS for e in exercises(p)]
PRELUDE = "import torch\nfrom torch import nn\nimport mtl_course as mc\n"


@pytest.mark.parametrize("path,solution,name,check", EXERCISES, ids=lambda v: v.name if isinstance(v, Path) else "")
def test_check_passes_on_shipped_solution_and_hints_on_stub(path, solution, name, check):
    """Exercise cells are self-contained (they use torch, nn and mc only), so they run here as they do in the notebook."""
    call = re.search(rf"(check_\w+)\({name}\b[^)]*\)", check).group(0)
    checker = re.search(r"check_\w+", call).group(0)
    for source, should_pass in ((solution, True), (course.strip_solutions(solution), False)):
        namespace: dict = {}
        exec(PRELUDE + f"from mtl_course.checks import {checker}\n" + source, namespace)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            passed = eval(call, namespace)
        assert passed is should_pass, out.getvalue()
        assert ("✅" in out.getvalue()) is should_pass
        if not should_pass:
            assert "Hint:" in out.getvalue() and "NotImplementedError" in out.getvalue()


def test_every_notebook_has_three_exercises_and_an_experiment():
    """At least three exercises per chapter, and one of them an experiment whose check verifies a measured
    conclusion (its heading says so: **Exercise N.k (experiment): ...**)."""
    for path in NOTEBOOKS:
        text = markdown(course.load(path))
        headings = re.findall(r"\*\*Exercise (\d+)\.(\d+)( \(experiment\))?:", text)
        assert len(exercises(path)) >= 3 and len(headings) == len(exercises(path)), (path.name, headings)
        assert {int(chapter) for chapter, _, _ in headings} == {int(path.name[:2])}, (path.name, headings)
        assert [int(k) for _, k, _ in headings] == list(range(1, len(headings) + 1)), (path.name, headings)
        assert any(experiment for _, _, experiment in headings), f"{path.name}: no experiment exercise"


def squeeze(code: str) -> str:
    """Code without whitespace or comments, so that a copy with other spacing still matches."""
    return re.sub(r"\s+", "", "\n".join(line.split("#")[0] for line in code.splitlines()))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_exercise_copies_a_cell_of_its_chapter(path):
    """An exercise asks for thinking: its solution is neither inside another code cell of the notebook nor, for
    half or more of its long lines (30 characters or more), made of lines found there."""
    cells = code_cells(course.load(path))
    for solution, name, _ in exercises(path):
        others = [c for c in cells if c != solution]
        body = solution.split(course.BEGIN)[1].split(course.END)[0]
        assert not any(squeeze(body) in squeeze(c) for c in others), f"{path.name}: {name} is a copy of a cell"
        long_lines = [l.strip() for l in body.splitlines() if len(l.strip()) >= 30 and not l.strip().startswith("#")]
        copied = [l for l in long_lines if any(l in c for c in others)]
        assert not long_lines or len(copied) < len(long_lines) / 2, f"{path.name}: {name} repeats {copied}"


def test_the_guide_answers_every_chapters_discussion_questions():
    guide = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    answers = guide.split("## Discussion questions: short answers")[1]
    for path in NOTEBOOKS:
        if path.name.startswith("12_"):
            continue  # the capstone's questions are about the student's own project: the rubric is its guide
        section = re.search(rf"^### {path.name[:2]} .*?(?=^### |\Z)", answers, re.M | re.S)
        assert section and "go here" not in section.group(0) and len(section.group(0)) > 300, path.name


def test_student_copies_have_stubs_and_no_solution_text(tmp_path):
    written = course.write_student_copies(tmp_path)
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    for original, copy in zip(NOTEBOOKS, written):
        student = "\n".join(code_cells(course.load(copy)))
        assert course.BEGIN not in student and course.END not in student
        assert student.count("raise NotImplementedError()") == len(exercises(original))
        for solution, _, _ in exercises(original):
            body = solution.split(course.BEGIN)[1].split(course.END)[0]
            lines = [l.strip() for l in body.splitlines() if l.strip()]
            assert "\n".join(lines) not in "\n".join(l.strip() for l in student.splitlines())
            # short lines ("return total", "with torch.no_grad():") are generic syntax, not the answer
            for line in (l for l in lines if len(l) >= 30):
                assert line not in student, f"{copy.name}: solution line leaked: {line!r}"


def test_student_folder_is_ignored_by_git():
    assert "student/" in (ROOT / ".gitignore").read_text().split()


def _requirement(spec: str) -> tuple[str, str]:
    """'torch>=2.1' -> ('torch', '>=2.1')."""
    name, bound = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
    return name.lower(), bound.replace(" ", "")


def test_environment_yml_agrees_with_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    wanted = dict(_requirement(s) for s in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.update(_requirement(s) for s in extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_names = {"pytorch": "torch"}
    listed = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, bound = _requirement(dep)
            listed[conda_names.get(name, name)] = bound
    pip_part = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed.update(_requirement(s.split("#")[0]) for s in pip_part if not s.startswith("-"))
    for name, bound in wanted.items():
        assert name in listed, f"environment.yml lacks {name} (pyproject.toml asks for {name}{bound})"
        assert listed[name] == bound, f"{name}: environment.yml has {listed[name]!r}, pyproject.toml {bound!r}"
    pip_part = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_part, "environment.yml must install the course package itself"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


def test_constraints_pin_every_dependency_and_the_tested_torch():
    pins = dict(l.split("==") for l in (ROOT / "constraints.txt").read_text().splitlines()
                if l and not l.startswith("#"))
    pins = {k.lower(): v for k, v in pins.items()}
    assert pins["torch"] == "2.13.0"
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    names = [_requirement(s)[0] for s in project["dependencies"]]
    names += [_requirement(s)[0] for extra in project["optional-dependencies"].values() for s in extra]
    assert not [n for n in names if n not in pins], "constraints.txt misses a dependency: run make constraints"


def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    commands = [l.strip() for l in ci.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert commands[-1] == "make test", commands
    quick_start = readme.split("## Quick start")[1].split("\n## ")[0]
    assert re.findall(r"^make (\w+)$", quick_start, flags=re.M) == ["lab", "test"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_nbgrader_copy_marks_each_solution_as_answer_and_its_check_as_a_locked_test(path):
    nb = course.load(path)
    marked = [c for c in course.nbgrader_copy(nb)["cells"] if "nbgrader" in c.get("metadata", {})]
    manual = [c for c in marked if c["metadata"]["nbgrader"]["solution"] and c["metadata"]["nbgrader"]["grade"]]
    assert all(c["cell_type"] == "markdown" and c["metadata"]["nbgrader"]["points"] > 0 for c in manual)
    assert len(manual) == sum(course.MANUAL in c.get("metadata", {}).get("mtl_course", {}) for c in nb["cells"])
    marked = [c for c in marked if c not in manual]
    answers = [c for c in marked if c["metadata"]["nbgrader"]["solution"]]
    tests = [c for c in marked if c["metadata"]["nbgrader"]["grade"]]
    solutions = [c for c in code_cells(nb) if course.BEGIN in c]
    assert len(answers) == len(tests) == len(solutions) >= 1
    assert all(course.BEGIN in course.source(c) for c in answers)
    assert all("assert check_" in course.source(c) and c["metadata"]["nbgrader"]["locked"] for c in tests)
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in marked]
    assert len(ids) == len(set(ids))
    assert "nbgrader" not in json.dumps(course.load(path)["cells"][0].get("metadata", {}))  # the source is untouched


def test_the_guide_gives_every_notebooks_run_time_which_orders_the_test_run():
    """conftest.py starts the slowest notebooks first from the guide's run times (a fresh clone has no cache)."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    seconds = root_conftest.expected_seconds(types.SimpleNamespace(cache=None))
    assert sorted(seconds) == [p.name for p in NOTEBOOKS] and all(s > 0 for s in seconds.values()), seconds
