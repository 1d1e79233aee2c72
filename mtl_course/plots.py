"""Figures and tables that several chapters draw: learning curves, results tables, error bands."""
from __future__ import annotations

import html
import numbers
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .claims import number
from .metrics import delta_m, mean_std
from .tasks import Task
from .train import History


def plot_history(history: History, tasks: Sequence[Task], title: str | None = None) -> plt.Figure:
    """Per-task learning curves: training and validation loss (top), validation metric (bottom)."""
    fig, axes = plt.subplots(2, len(tasks), figsize=(4 * len(tasks), 5.5), squeeze=False, sharex=True)
    for col, task in enumerate(tasks):
        top, bottom = axes[0, col], axes[1, col]
        top.plot(*history.curve("train_loss", task.name), label="train")
        epochs, values = history.curve("val_loss", task.name)
        if epochs:
            top.plot(epochs, values, label="validation")
            bottom.plot(*history.curve("val_metric", task.name), color="C1")
        top.set_title(f"task {task.name!r}")
        top.set_ylabel("loss")
        bottom.set_ylabel(f"validation {task.metric_name}")
        bottom.set_xlabel("epoch")
        top.legend()
        if history.best_epoch:
            for ax in (top, bottom):
                ax.axvline(history.best_epoch, color="grey", ls=":", lw=1)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_band(ax: plt.Axes, x: Sequence[float], runs: np.ndarray, label: str, **kwargs) -> None:
    """Mean of several seeds' curves (rows of `runs`) as a line, ± one standard deviation as a band."""
    runs = np.asarray(runs, dtype=float)
    mean, std = runs.mean(axis=0), runs.std(axis=0, ddof=1) if len(runs) > 1 else np.zeros(runs.shape[1])
    line, = ax.plot(x, mean, marker="o", label=label, **kwargs)
    ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)


def _cell(value: object) -> str:
    """Format one table cell: (mean, std) pairs as 'mean ± std', other real numbers by `number`."""
    if isinstance(value, tuple) and len(value) == 2:
        return f"{_cell(value[0])} ± {_cell(value[1])}"
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return number(value)
    return str(value)


class Table:
    """A small results table that prints as text and renders as HTML in a notebook."""

    def __init__(self, rows: list[dict], columns: Sequence[str] | None = None, title: str | None = None):
        self.rows = rows
        self.columns = list(columns or (rows[0].keys() if rows else []))
        self.title = title

    def __str__(self) -> str:
        cells = [self.columns] + [[_cell(r.get(c, "")) for c in self.columns] for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = [" | ".join(s.ljust(w) for s, w in zip(row, widths)) for row in cells]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return "\n".join(([self.title] if self.title else []) + lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c, '')))}</td>" for c in self.columns)
                       + "</tr>" for r in self.rows)
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return str(self)


def _over_seeds(values: list[float]) -> tuple[float, float] | float:
    """(mean, std) of several seeds' values; a single seed's value as it is (no "± 0")."""
    return mean_std(values) if len(values) > 1 else values[0]


def delta_m_table(runs: Mapping[str, Sequence[Mapping[str, float]]],
                  single_task: Mapping[str, float] | Sequence[Mapping[str, float]],
                  tasks: Sequence[Task], title: str | None = None,
                  metric_names: Mapping[str, str] | None = None) -> Table:
    """Each method's metric per task (mean ± std over seeds) beside its Δm%, so no task hides in the average.

    runs maps a method's name to one metrics dict per seed. single_task is one metrics dict, or one per seed
    (then seed i of every method is compared with seed i of the single-task runs: paired differences).
    metric_names names a task's metric where it is not the task's own, e.g. {"income": "AUC"}.
    """
    names = {task.name: (metric_names or {}).get(task.name, task.metric_name) for task in tasks}
    paired = not isinstance(single_task, Mapping)
    rows = []
    for name, seeds in runs.items():
        if paired and len(seeds) != len(single_task):
            raise ValueError(f"delta_m_table: method {name!r} has {len(seeds)} seeds but single_task has "
                             f"{len(single_task)}; give one single-task result per seed, or one dict for all.")
        row: dict = {"method": name}
        for task in tasks:
            row[f"{task.name} {names[task.name]}"] = _over_seeds([s[task.name] for s in seeds])
        baselines = single_task if paired else [single_task] * len(seeds)
        row["Δm%"] = _over_seeds([delta_m(s, b, tasks) for s, b in zip(seeds, baselines)])
        rows.append(row)
    return Table(rows, title=title)
