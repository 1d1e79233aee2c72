"""Pytest hooks for the whole repository.

- Print how long each notebook took under nbval.
- Keep what each notebook printed and drew: as soon as every cell of a notebook in notebooks/ has
  passed, write it with its outputs to _build/executed/, so that the website (mtl_course/site.py) shows the very
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
_kept: set[str] = set()


def pytest_collection_modifyitems(items: list) -> None:
    """Move the website tests to the end, after the notebooks whose outputs they render."""
    items.sort(key=lambda item: item.get_closest_marker("site") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Copy a passing nbval cell's outputs into its notebook (nbval keeps them in `test_outputs`);
    when the last code cell of a notebook in notebooks/ has passed, write it to _build/executed/."""
    outcome = yield
    report = outcome.get_result()
    notebook = getattr(item, "parent", None)
    if call.when != "call" or not hasattr(item, "cell") or not hasattr(notebook, "nb"):
        return
    if report.passed and not report.skipped:
        item.cell.outputs = list(getattr(item, "test_outputs", None) or [])
        item.cell.execution_count = item.cell_num + 1
        _cells_passed[notebook] += 1
        if _cells_passed[notebook] == sum(cell.cell_type == "code" for cell in notebook.nb.cells):
            _write_executed(notebook)


def _write_executed(notebook) -> None:
    """Save a notebook of notebooks/ whose every code cell passed, outputs included, for the website."""
    import nbformat

    path = Path(str(notebook.fspath))
    if path.parent.name == "notebooks":
        EXECUTED.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook.nb, EXECUTED / path.name)
        _kept.add(path.name)


@pytest.fixture(scope="session")
def notebooks_kept_this_run() -> set[str]:
    """The notebooks that this pytest run executed under nbval and kept in _build/executed/."""
    return _kept


def pytest_runtest_logreport(report) -> None:
    """Add each notebook cell's setup, call and teardown time to its notebook's total."""
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    """After the run, one line per notebook with its total time (kernel start included)."""
    if not _notebook_seconds:
        return
    terminalreporter.section("time per notebook")
    for path, seconds in sorted(_notebook_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  all notebooks")
