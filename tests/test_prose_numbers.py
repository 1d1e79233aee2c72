"""The prose cannot drift from the run: every measured number it states is a bound of a claim (or a setting) in
the same notebook's code, and every check of the prose is an `mc.claim` in a tagged cell, not a bare assert.

A number counts as measured when it has a decimal point, a % or a ×, or is a range ("17–24", "1.1–1.6×").
It is covered when a claim cell of the notebook (one that calls mc.claim) writes it, as a bound (a percentage
may be written as a fraction). A setting the prose mentions goes in `code` or $math$, which is not scanned,
as are links, the **Time:** line, references to chapters, exercises, seeds and cells, sizes
such as 36×36, and the Exercises and References sections (an exercise's givens live in its check).
"""
from __future__ import annotations

import re

import pytest

from mtl_course import course

NOTEBOOKS = course.notebook_paths()
ONE = r"[−-]?\d+(?:,\d{3})*(?:\.\d+)?"
NUMBER = re.compile(rf"(?<![\w.,/^_]){ONE}(?:\s*[–-]\s*{ONE})?(?:\s*(?:%|×))?(?![\w×^])")
NOT_MEASURED = re.compile(r"(?:[Ee]xercises?|[Cc]hapters?|§|[Ss]ections?|[Cc]ells?|[Nn]otebooks?|[Ff]igure|[Tt]able|"
                          r"[Ss]eeds?|[Ss]teps?|[Ee]pochs?|[Ll]ayers?|[Cc]olumns?|[Rr]ows?|[Pp]age|[Ee]q\.|[Ee]quation|"
                          r"v)\s*$")
LITERAL = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def prose(notebook: dict) -> list[tuple[int, str]]:
    """The markdown cells a reader reads for results: up to the Exercises (or References) section."""
    cells = []
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = course.source(cell)
        end = re.search(r"^## (Exercises|References)", text, flags=re.M)
        text = text[:end.start()] if end else text  # the heading may close a Summary cell
        text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", " ", text, flags=re.S)  # formulas
        text = re.sub(r"\]\([^)]*\)|https?://\S+|`[^`\n]*`", " ", text)  # links and code
        text = re.sub(r"\*\*Time:\*\*[^\n]*", " ", text)
        cells.append((i, text))
        if end:
            break
    return cells


def code_values(notebook: dict) -> set[float]:
    """Every number written in the notebook's claim cells: the bounds its claims check."""
    code = "\n".join(course.source(c) for c in notebook["cells"]
                     if c["cell_type"] == "code" and "mc.claim(" in course.source(c)).replace("_", "")
    return {round(float(x), 9) for x in LITERAL.findall(code)}


def measured_numbers(notebook: dict) -> list[tuple[int, str, list[float]]]:
    """(cell, text, values) of each measured number in the prose."""
    found = []
    for i, text in prose(notebook):
        for m in NUMBER.finditer(text):
            written = m.group(0).strip()
            if NOT_MEASURED.search(text[max(0, m.start() - 12):m.start()]) or re.match(r"\d+×\d", text[m.start():]):
                continue
            parts = [p.replace("−", "").replace("-", "").replace(",", "") for p in re.findall(ONE, written)]
            if not ("." in written or "%" in written or "×" in written or len(parts) == 2):
                continue
            found.append((i, written, [float(p) for p in parts]))
    return found


def covered(value: float, written: str, values: set[float]) -> bool:
    """A prose number is covered when the code holds it (for a percentage: it, or it / 100)."""
    options = {round(value, 9)} | ({round(value / 100, 9)} if "%" in written else set())
    return bool(options & values)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_measured_number_in_the_prose_is_a_bound_or_a_setting_in_the_code(path):
    notebook = course.load(path)
    values = code_values(notebook)
    loose = [f"cell {i}: {written!r}" for i, written, numbers in measured_numbers(notebook)
             if not all(covered(v, written, values) for v in numbers)]
    assert not loose, (f"{path.name}: these numbers in the prose are neither checked by a claim with that bound nor set "
                       f"in the code, so a re-run can contradict them unseen; check them with mc.claim, or let the run "
                       f"print them instead: {loose}")


def test_the_scanner_finds_measured_numbers_and_skips_the_rest():
    nb = {"cells": [{"cell_type": "markdown", "source": (
        "GradNorm costs 1.1–1.6× the time; accuracy about 80% and MSE 0.30. Chapters 1–3, seeds 0–3, "
        "Exercise 3.2, a 36×36 canvas, $\\log 2 \\approx 0.69$, `lr=0.5`, 1,000 pairs.\n**Time:** 20–30 minutes")},
        {"cell_type": "code", "source": "mc.claim('x', 1.1 <= r <= 1.6, '')\nmc.claim('y', 0.8 < acc, '')",
         "outputs": []},
        {"cell_type": "code", "source": "mse = 0.30", "outputs": []}]}
    assert [(w, v) for _, w, v in measured_numbers(nb)] == [("1.1–1.6×", [1.1, 1.6]), ("80%", [80.0]),
                                                            ("0.30", [0.3])]
    values = code_values(nb)
    assert covered(1.1, "1.1–1.6×", values) and covered(80.0, "80%", values) and not covered(0.3, "0.30", values)  # a setting, not a claim


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_the_prose_is_checked_by_claims_not_bare_asserts(path):
    """A bare assert stops with no measurement and reads as code between the ideas; an exercise's solution and
    its `assert check_...` line are the only asserts a chapter keeps."""
    bare = []
    for i, cell in enumerate(course.load(path)["cells"]):
        text = course.source(cell)
        if cell["cell_type"] != "code" or course.BEGIN in text:
            continue
        bare += [f"cell {i}: {line.strip()[:60]}" for line in text.splitlines()
                 if re.match(r"\s*assert\b", line) and not re.match(r"\s*assert check_\w+\(", line)]
    assert not bare, f"{path.name}: use mc.claim(text, condition, measured) for these: {bare}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_claim_cells_are_tagged_for_the_website(path):
    notebook = course.load(path)
    tagged = [course.CLAIM in c.get("metadata", {}).get("tags", []) for c in notebook["cells"]]
    course.tag_claims(notebook)
    assert tagged == [course.CLAIM in c.get("metadata", {}).get("tags", []) for c in notebook["cells"]], (
        f"{path.name}: run `make sync` to tag the cells that call mc.claim")
