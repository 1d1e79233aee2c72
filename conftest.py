"""Pytest hooks for the whole repository.

- Print how long each notebook took under nbval.
- Keep what each notebook printed and drew: when every cell of a notebook in notebooks/ passed, write
  it with its outputs to _build/executed/, so that the website (mtl_course/site.py) shows the very
  run that the tests checked instead of executing every notebook a second time.
- Run the tests marked `site` (they build the website from those outputs) after everything else.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "executed"

_notebook_seconds: dict[str, float] = defaultdict(float)
_cells_passed: dict[object, int] = defaultdict(int)


def pytest_collection_modifyitems(items: list) -> None:
    """Move the website tests to the end, after the notebooks whose outputs they render."""
    items.sort(key=lambda item: item.get_closest_marker("site") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Copy a passing nbval cell's outputs into its notebook (nbval keeps them in `test_outputs`)."""
    outcome = yield
    report = outcome.get_result()
    notebook = getattr(item, "parent", None)
    if call.when != "call" or not hasattr(item, "cell") or not hasattr(notebook, "nb"):
        return
    if report.passed and not report.skipped:
        item.cell.outputs = list(getattr(item, "test_outputs", None) or [])
        item.cell.execution_count = item.cell_num + 1
        _cells_passed[notebook] += 1


def pytest_runtest_logreport(report) -> None:
    """Add each notebook cell's setup, call and teardown time to its notebook's total."""
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_sessionfinish(session) -> None:
    """Write each notebook of notebooks/ whose every code cell passed, with outputs, to _build/executed/."""
    import nbformat

    for notebook, passed in _cells_passed.items():
        path = Path(str(notebook.fspath))
        n_code = sum(cell.cell_type == "code" for cell in notebook.nb.cells)
        if path.parent.name == "notebooks" and passed == n_code:
            EXECUTED.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook.nb, EXECUTED / path.name)


def pytest_terminal_summary(terminalreporter) -> None:
    """After the run, one line per notebook with its total time (kernel start included)."""
    if not _notebook_seconds:
        return
    terminalreporter.section("time per notebook")
    for path, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  all notebooks")
