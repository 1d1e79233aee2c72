"""Chapter 12, the capstone: its worked answer says what its run shows, and its report is graded by hand in nbgrader.

The instructor's guide quotes the worked answer's results in words; this test runs the worked answer
(the solutions of exercises 12.1 and 12.2, as the notebook holds them) and checks each of those sentences.
"""
from __future__ import annotations

import re
from pathlib import Path

import mtl_course as mc
from mtl_course import course

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "12_capstone_project.ipynb"
GUIDE = ROOT / "notebooks" / "README.md"


def solutions() -> dict:
    """The notebook's exercise cells (with their solutions) run in one namespace, as a student's kernel would."""
    namespace: dict = {}
    exec("import torch\nfrom torch import nn\nimport mtl_course as mc\n", namespace)
    for cell in course.load(CHAPTER)["cells"]:
        if cell["cell_type"] == "code" and course.BEGIN in course.source(cell):
            exec(course.source(cell), namespace)
    return namespace


def test_the_worked_answer_says_what_its_run_shows():
    worked = solutions()
    report = worked["run_project"]((0, 1, 2))
    tasks, single = report["tasks"], report["test"]["single-task"]
    dm = {arm: [mc.delta_m(row, base, tasks) for row, base in zip(rows, single)]
          for arm, rows in report["test"].items()}
    guide = GUIDE.read_text(encoding="utf-8")
    assert "within 5% of the single-task models" in guide and "more than 10% worse on another" in guide
    assert max(dm["equal"]) > -5 and min(dm["equal"]) < -10, dm["equal"]
    assert "neither static weight is better than\n> equal weighting on every seed" in guide
    statics = [arm for arm in dm if arm.startswith("static")]
    assert len(statics) == 2 and not any(all(a > b for a, b in zip(dm[arm], dm["equal"])) for arm in statics), dm
    verdict = worked["verdict"](report)
    assert verdict["chosen"] in statics and verdict["beats_equal_on_every_seed"] is False, verdict
    assert all(-1 <= r <= 1 for r in report["relatedness"]) and min(report["relatedness"]) > 0.3, report["relatedness"]


def test_the_report_is_a_manually_graded_answer_worth_the_rubrics_points():
    cells = course.nbgrader_copy(course.load(CHAPTER))["cells"]
    manual = [c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c["cell_type"] == "markdown"]
    assert len(manual) == 1 and course.source(manual[0]).startswith("## Your report"), manual
    rubric = re.search(r"\*\*Rubric \((\d+) points\)\.\*\*(.*?)\n\n\*\*", GUIDE.read_text(encoding="utf-8"), re.S)
    points = [int(p) for p in re.findall(r"^\| [^|]+ \| (\d+) \|", rubric.group(2), re.M)]
    assert sum(points) == int(rubric.group(1)) == manual[0]["metadata"]["nbgrader"]["points"], points
