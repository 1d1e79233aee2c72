"""Pytest hooks for the whole repository.

- Print how long each notebook (and the JupyterLab browser test, which `make test` runs beside them) took.
- Keep what each notebook printed and drew: as soon as every cell of a notebook in notebooks/ has
  passed, write it with its outputs to _build/executed/, so that the website (mtl_course/site.py) shows the very
  run that the tests checked instead of executing every notebook a second time.
- Run the tests marked `site` (they build the website from those outputs) after everything else.
- Order a run for pytest-xdist (`-n 2 --dist loadfile`, one file per worker at a time, as `make test`
  runs them): the unit tests first, then the notebooks and the browser test, slowest first, so that the
  workers finish at about the same time; the website's tests last.
- Add up what each kind of test took (unit tests, notebooks, the browser test) for `make test`'s table.

All of this works under pytest-xdist: a notebook runs whole on one worker, which keeps its outputs;
the times reach the main process with each test's report. `make test` builds the website in a second
pytest run, after every notebook has passed (`notebooks_kept_this_run` then reads _build/executed/).
"""
from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "executed"
GUIDE = ROOT / "notebooks" / "README.md"
KEPT_BY = "nbval"  # metadata mark of a notebook that a test run executed and kept (not the site itself)
CACHE_KEY = "mtl_course/notebook_seconds"

_file_seconds: dict[str, float] = defaultdict(float)  # notebooks and the browser test: the timed files
_unit_seconds: dict[str, float] = defaultdict(float)  # every other test file (but the website's)
_cells_passed: dict[object, int] = defaultdict(int)
_notebook_failed: set[str] = set()


def pytest_configure(config) -> None:
    """Keep the collection order when pytest-xdist hands out whole files (it would sort them by test count)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def expected_seconds(config) -> dict[str, float]:
    """Each notebook's last run time: this machine's last run (pytest's cache), else the instructor's guide's table."""
    guide = GUIDE.read_text(encoding="utf-8") if GUIDE.exists() else ""
    seconds = {name: float(s) for name, s in re.findall(r"\]\((\d\d_\w+\.ipynb)\) \|.*\| (?:\d+–)?(\d+) s \|", guide)}
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    seconds.update(cache.get(CACHE_KEY, {}) if cache else {})
    return seconds


def timed(path: str, keywords) -> bool:
    """Whether a test's file is one whose time is reported and used to order runs: a notebook, or the browser test."""
    return path.endswith(".ipynb") or "lab" in keywords


def pytest_collection_modifyitems(config, items: list) -> None:
    """Order the run: unit tests first, then notebooks and the browser test slowest first (a new one, of
    unknown time, before them), and the website tests last, after the notebooks whose outputs they render.
    The short files at the end let both workers finish together."""
    seconds = expected_seconds(config)

    def key(item) -> tuple:
        path = Path(str(item.fspath))
        slow = timed(str(path), item.keywords)
        return (item.get_closest_marker("site") is not None, slow,
                -seconds.get(path.name, math.inf) if slow else 0.0)

    items.sort(key=key)  # stable: the cells of a notebook keep their order


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
        notebook.nb.metadata["mtl_course"] = {"kept_by": KEPT_BY}
        nbformat.write(notebook.nb, EXECUTED / path.name)


@pytest.fixture(scope="session")
def notebooks_kept_this_run() -> set[str]:
    """The notebooks that a test run executed under nbval and kept in _build/executed/ with their current code:
    this run's notebooks (in `make test`, the first of its two pytest runs), which the site must not execute again."""
    from mtl_course.course import NOTEBOOKS, load, source

    code = lambda nb: [source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    kept = set()
    for path in EXECUTED.glob("*.ipynb"):
        ran, current = load(path), NOTEBOOKS / path.name
        if ran.get("metadata", {}).get("mtl_course", {}).get("kept_by") == KEPT_BY and current.exists() \
                and code(ran) == code(load(current)):
            kept.add(path.name)
    return kept


def pytest_runtest_logreport(report) -> None:
    """Add each notebook cell's (or browser test's) setup, call and teardown time to its file's total."""
    path = report.nodeid.split("::")[0]
    if timed(path, report.keywords):
        _file_seconds[path] += report.duration
        if report.failed:
            _notebook_failed.add(path)
    elif "site" not in report.keywords:
        _unit_seconds[path] += report.duration


def pytest_sessionfinish(session) -> None:
    """In the main process: remember each timed file's time in pytest's cache, to start the slowest first
    next time; and where MTL_TIMES_DETAIL names a file (make test), write there what each kind of test
    took, added up, for make test's table of times."""
    if not (_file_seconds or _unit_seconds) or hasattr(session.config, "workerinput"):
        return
    if getattr(session.config, "cache", None):
        seconds = session.config.cache.get(CACHE_KEY, {})
        seconds.update({Path(path).name: round(s, 1) for path, s in _file_seconds.items()
                        if path not in _notebook_failed})  # a failed file stopped early: its time is no guide
        session.config.cache.set(CACHE_KEY, seconds)
    if os.environ.get("MTL_TIMES_DETAIL"):
        notebooks = [s for path, s in _file_seconds.items() if path.endswith(".ipynb")]
        browser = sum(s for path, s in _file_seconds.items() if not path.endswith(".ipynb"))
        Path(os.environ["MTL_TIMES_DETAIL"]).write_text(
            f"         added up over the workers: unit tests {sum(_unit_seconds.values()):.0f} s "
            f"({len(_unit_seconds)} files), notebooks {sum(notebooks):.0f} s ({len(notebooks)}), "
            f"browser {browser:.0f} s\n")


def pytest_terminal_summary(terminalreporter) -> None:
    """After the run, one line per notebook (and browser test) with its total time (kernel start included)."""
    if not _file_seconds:
        return
    terminalreporter.section("time per notebook")
    for path, seconds in sorted(_file_seconds.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(s for p, s in _file_seconds.items() if p.endswith('.ipynb')):7.1f} s  all notebooks")
