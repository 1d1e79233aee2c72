"""Makefile targets that CI cannot run whole: the GPU check (no GPU here) and `make student`'s command.

`make -n` prints a target's commands without running them (none of these targets has a `$(MAKE)`
line, which make would run even then).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mtl_course import course

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> list[str]:
    """The commands `make -n ARGS` would run, one per line."""
    run = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return [line for line in run.stdout.splitlines() if line.strip()]


def test_gpu_check_installs_without_constraints_and_collects_unit_tests_and_every_notebook():
    """Never runs the GPU setting: each pytest command of `make test-gpu` only collects (--collect-only)."""
    lines = dry_run("test-gpu", f"PYTHON={sys.executable}")
    pip = [l for l in lines if " -m pip install " in l]
    assert len(pip) == 1 and pip[0].startswith(f"{sys.executable} -m pip install") and '".[test]"' in pip[0], pip
    assert "constraints" not in pip[0] and " -c " not in pip[0], "the GPU check must keep the torch that is there"
    pytest_lines = [l for l in lines if " -m pytest " in l]
    start = f"MTL_SETTING=gpu OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 {sys.executable} -m pytest"   # one thread per worker
    assert len(pytest_lines) == 2 and all(l.startswith(start) for l in pytest_lines), pytest_lines
    assert all(" -n " in l and "--dist loadfile" in l for l in pytest_lines), pytest_lines
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    collected = {}
    for line in pytest_lines:
        run = subprocess.run(line + " --collect-only -q -p no:cacheprovider", shell=True, cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"{line}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
        collected[line] = {nodeid.split("::")[0] for nodeid in run.stdout.splitlines() if "::" in nodeid}
    unit, notebooks = collected.values()
    assert {f"notebooks/{p.name}" for p in course.notebook_paths()} == notebooks
    assert "tests/test_train.py" in unit and "tests/test_lab.py" not in unit  # unit tests; not `make lab`'s .venv
    assert not [n for n in unit if n.endswith(".ipynb")]


def test_make_student_runs_the_course_command_that_keeps_existing_copies():
    lines = dry_run("student", "STAMP=", "OUT=somewhere")
    assert lines == [".venv/bin/python -m mtl_course.course student somewhere"], lines
    assert dry_run("student", "STAMP=", "ARGS=--force") == [".venv/bin/python -m mtl_course.course student student --force"]


def test_make_test_runs_the_parts_in_order_and_reports_their_times():
    """The recipe's parts, read from the Makefile (make -n would run it: it calls $(MAKE) for the setup)."""
    recipe = (ROOT / "Makefile").read_text().split("\ntest:\n")[1].split("\n\n")[0]
    parts = [line.split("$(call part,")[1].split(",")[0] for line in recipe.splitlines() if "$(call part," in line]
    assert parts == ["setup", "tests", "site"], parts
    assert "time per part" in recipe and "tests/test_site.py -m site" in recipe
    tests_part = recipe.split("$(call part,tests,")[1].split("); \\")[0]
    assert "tests $(NB) -m \"not site\"" in tests_part and "--dist loadfile" in tests_part, tests_part
