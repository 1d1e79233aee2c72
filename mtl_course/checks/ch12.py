"""Checks for the exercises of notebook 12, the capstone project: the protocol of the runs, the verdict, its noise."""
from __future__ import annotations

import math
from typing import Callable

from ..metrics import delta_m
from ..plots import delta_m_table
from ..tasks import Task, regression
from ._core import Exercise, compare, fail, passed, run

PROTOCOL = Exercise(
    "12.1",
    concept="A comparison is only as honest as its protocol: every arm (single-task, equal weighting, your method) "
            "gets the same budget and tuning grid, is selected on validation and scored on test, seed by seed.",
    detail="the report is a dict with the keys tasks (mc.Task objects), seeds (at least three), relatedness (one "
           "finite number per seed), budget (one entry per arm, all equal), val and test (for each arm, one dict "
           "task -> metric per seed); the arms are 'single-task', 'equal' and at least one more.")
VERDICT = Exercise(
    "12.2",
    concept="Choose your method on the validation split, never on test; then compare it with equal weighting seed "
            "by seed on test, each seed's two runs against the same single-task baseline of that seed.",
    detail="ingredients: each arm's Δm% against the single-task arm of the same seed (mc.delta_m), averaged over "
           "the seeds on validation to choose among the arms other than 'single-task' and 'equal'; on test, "
           "one difference per seed, Δm%(chosen) − Δm%(equal); the method beats equal weighting on every seed "
           "when every difference is above 0. Return a dict with 'chosen', 'differences' and "
           "'beats_equal_on_every_seed'.")
SIGN_TEST = Exercise(
    "12.3",
    concept="The sign test asks how likely your number of wins would be if the two methods were equally good: "
            "then each seed is a fair coin flip.",
    detail="count the wins k (differences above 0; a difference of exactly 0 is not a win) among n seeds; the "
           "p-value is the probability of k or more heads in n fair flips, a sum of binomial coefficients "
           "C(n, i) / 2ⁿ for i from k to n. The answer is one number in (0, 1].")

REQUIRED = ("tasks", "seeds", "relatedness", "budget", "val", "test")


def _finite(value: object) -> bool:
    """A real, finite number (a bool is not a metric)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _protocol_problem(report: object) -> str:
    """What breaks the protocol in a capstone report, or '' if nothing does."""
    if not isinstance(report, dict):
        return f"run_project returned {type(report).__name__}, not the report dict."
    missing = [k for k in REQUIRED if k not in report]
    if missing:
        return f"the report has no {missing}: it needs the keys {list(REQUIRED)}."
    tasks, seeds = report["tasks"], report["seeds"]
    if not (isinstance(tasks, (list, tuple)) and len(tasks) >= 2 and all(isinstance(t, Task) for t in tasks)):
        return "report['tasks'] must be a list of at least two mc.Task objects (mc.regression, mc.classification)."
    if not (isinstance(seeds, (list, tuple)) and len(set(seeds)) >= 3 and len(set(seeds)) == len(seeds)):
        return f"report['seeds'] is {seeds!r}: use at least three different seeds, each once."
    related = report["relatedness"]
    if not (isinstance(related, (list, tuple)) and len(related) == len(seeds) and all(_finite(r) for r in related)):
        return "report['relatedness'] needs one finite number per seed (a measure from chapter 3)."
    arms = list(report["test"]) if isinstance(report["test"], dict) else []
    if "single-task" not in arms or "equal" not in arms or len(arms) < 3:
        return f"the arms are {arms}: you need 'single-task', 'equal' and at least one method of your own."
    budgets = report["budget"]
    if not isinstance(budgets, dict) or sorted(budgets) != sorted(arms):
        return f"report['budget'] must give one budget per arm {sorted(arms)}."
    if any(budgets[arm] != budgets["equal"] for arm in arms):
        unequal = [arm for arm in arms if budgets[arm] != budgets["equal"]]
        return f"the arms {unequal} have another budget than 'equal': every arm gets the same steps and grid."
    names = [t.name for t in tasks]
    for split in ("val", "test"):
        if not isinstance(report[split], dict) or sorted(report[split]) != sorted(arms):
            return f"report[{split!r}] must have the same arms as report['test']."
        for arm in arms:
            rows = report[split][arm]
            if not (isinstance(rows, (list, tuple)) and len(rows) == len(seeds)):
                return f"report[{split!r}][{arm!r}] needs one dict of metrics per seed ({len(seeds)})."
            for row in rows:
                if not (isinstance(row, dict) and all(_finite(row.get(n)) for n in names)):
                    return f"report[{split!r}][{arm!r}] has a seed without a finite metric for every task {names}."
    if report["val"] == report["test"]:
        return "the validation and test metrics are the same numbers: score each split on its own data."
    if len({tuple(row[n] for n in names) for row in report["test"]["single-task"]}) < len(seeds):
        return "two seeds gave the same single-task test metrics: each seed must draw its own run."
    return ""


def check_project_protocol(run_project: Callable[[tuple[int, ...]], dict]) -> bool:
    """Exercise 12.1: a capstone report whose runs follow the protocol (three seeds, equal budgets, val and test)."""
    ran, report = run(PROTOCOL, run_project, (0, 1, 2))
    if not ran:
        return False
    if problem := _protocol_problem(report):
        return fail(PROTOCOL, problem, "run_project((0, 1, 2))")
    tasks, single = report["tasks"], report["test"]["single-task"]
    lines = []
    for arm, rows in report["test"].items():
        if arm != "single-task":
            values = [delta_m(row, base, tasks) for row, base in zip(rows, single)]
            lines.append(f"   {arm}: test Δm% per seed " + ", ".join(f"{v:+.1f}" for v in values))
    table = delta_m_table(report["test"], single, tasks, title="Test metric per task (mean ± std over seeds) beside Δm%")
    return passed(PROTOCOL, f"{len(report['seeds'])} seeds, {len(report['test'])} arms on one budget.\n"
                  + "\n".join(lines) + f"\n{table}")


def _report(val: dict[str, list[float]], test: dict[str, list[float]]) -> dict:
    """A one-task report ("y", an MSE) from each arm's per-seed validation and test metrics."""
    rows = lambda values: [{"y": v} for v in values]
    return {"tasks": [regression("y")], "seeds": [0, 1, 2], "relatedness": [0.5, 0.5, 0.5],
            "budget": {arm: {"epochs": 10} for arm in val},
            "val": {arm: rows(v) for arm, v in val.items()}, "test": {arm: rows(v) for arm, v in test.items()}}


# On validation "static 1:3" is the best arm; on test "static 3:1" would look better: choosing on test is the trap.
VAL = {"single-task": [1.0, 1.0, 1.0], "equal": [0.9, 0.9, 0.9], "static 1:3": [0.8, 0.8, 0.8],
       "static 3:1": [1.1, 1.1, 1.1]}
TEST = {"single-task": [1.0, 2.0, 1.0], "equal": [0.9, 1.8, 1.0], "static 1:3": [0.85, 1.9, 0.9],
        "static 3:1": [0.5, 1.0, 0.5]}


def check_verdict(verdict: Callable[[dict], dict]) -> bool:
    """Exercise 12.2: the arm chosen on validation, its per-seed test Δm% minus equal weighting's, and the verdict."""
    ran, result = run(VERDICT, verdict, _report(VAL, TEST))
    if not ran:
        return False
    case = ("a report with one MSE task; validation MSE per arm " + str({a: v[0] for a, v in VAL.items()})
            + " on every seed; test MSE per seed " + str(TEST))
    if not isinstance(result, dict) or not {"chosen", "differences", "beats_equal_on_every_seed"} <= set(result):
        return fail(VERDICT, "Return a dict with the keys 'chosen', 'differences' and 'beats_equal_on_every_seed'.",
                    case)
    if result["chosen"] != "static 1:3":
        return fail(VERDICT, f"You chose {result['chosen']!r}; the arm with the best mean validation Δm% is another "
                             "one (choosing on test is what the protocol forbids).", case)
    want = [100 * (0.9 - 0.85) / 1.0, 100 * (1.8 - 1.9) / 2.0, 100 * (1.0 - 0.9) / 1.0]   # [+5, −5, +10]
    if problem := compare(tuple(result["differences"]) if isinstance(result["differences"], list)
                          else result["differences"], tuple(want), atol=1e-6):
        return fail(VERDICT, f"The per-seed differences: {problem}", case)
    if result["beats_equal_on_every_seed"] is not False:
        return fail(VERDICT, "The verdict does not follow from your differences: one seed is below 0.", case)
    return passed(VERDICT, "Chosen on validation, compared seed by seed: it wins two seeds of three, so it does "
                           "not beat equal weighting on every seed.")


def check_sign_test(sign_test: Callable[[list[float]], float]) -> bool:
    """Exercise 12.3: the one-sided sign test's p-value for the number of seeds won."""
    cases = [([0.5, 1.2, 0.3], 1 / 8), ([1.0, -1.0, 2.0, 3.0, 0.5], 6 / 32), ([0.0, 2.0, -0.1], 7 / 8)]
    for differences, want in cases:
        ran, result = run(SIGN_TEST, sign_test, list(differences))
        if not ran:
            return False
        if problem := compare(result, want, atol=1e-9):
            return fail(SIGN_TEST, problem, f"differences {differences}: p = {want:g}")
    return passed(SIGN_TEST, "Winning all three seeds happens one time in eight by chance alone: three seeds "
                             "cannot show a small effect.")
