"""Batch schedules for tasks with their own data sets: which task(s) each training step draws a batch from (chapter 11).

With one data set per task, a step cannot draw "a batch of the data": it draws from some tasks'
sets. One task per step: round-robin (Collobert & Weston, 2008), proportional to the sets' sizes
(Sanh et al., 2019), temperature sampling pₜ ∝ nₜ^{1/τ} (Arivazhagan et al., 2019), or uniform.
Or one batch of every task per step (`AllTasks`). An epoch is Σₜ nₜ examples seen under every
schedule, so schedules compared at the same number of epochs have the same budget.
"""
from __future__ import annotations

import math
from typing import Iterator, Mapping

import torch

from .data.batches import MultiTaskData, minibatches
from .data.per_task import PerTaskData


class Schedule:
    """Which tasks each step draws one batch from; `shares` is the long-run fraction of batches per task."""

    tasks_per_step = 1

    def shares(self, sizes: Mapping[str, int]) -> dict[str, float]:
        """The fraction of all batches that each task gets in the long run."""
        raise NotImplementedError

    def plan(self, sizes: Mapping[str, int], steps: int, generator: torch.Generator) -> list[list[str]]:
        """The tasks of each of `steps` steps."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class Temperature(Schedule):
    """One task per step, drawn with probability pₜ ∝ nₜ^{1/τ} (Arivazhagan et al., 2019).

    τ = 1 is proportional to the sets' sizes; τ → ∞ is uniform; in between, small tasks are drawn
    more often than their size alone says, large ones less.
    """

    def __init__(self, tau: float):
        if not tau > 0:
            raise ValueError(f"The temperature τ must be > 0 (1: proportional, ∞: uniform), got {tau}.")
        self.tau = float(tau)

    def shares(self, sizes: Mapping[str, int]) -> dict[str, float]:
        """pₜ = nₜ^{1/τ} / Σᵤ nᵤ^{1/τ}."""
        _check_sizes(sizes)
        weights = {t: float(n) ** (1.0 / self.tau) for t, n in sizes.items()}
        total = sum(weights.values())
        return {t: w / total for t, w in weights.items()}

    def plan(self, sizes: Mapping[str, int], steps: int, generator: torch.Generator) -> list[list[str]]:
        """Each step's task drawn independently from pₜ."""
        names, p = list(sizes), torch.tensor(list(self.shares(sizes).values()), dtype=torch.float64)
        return [[names[i]] for i in torch.multinomial(p, steps, replacement=True, generator=generator).tolist()]

    def __repr__(self) -> str:
        return f"Temperature(tau={self.tau:g})"


class Proportional(Temperature):
    """One task per step, drawn with probability proportional to its set's size, pₜ = nₜ / Σᵤ nᵤ (Sanh et al., 2019)."""

    def __init__(self):
        super().__init__(1.0)

    def __repr__(self) -> str:
        return "Proportional()"


class Uniform(Temperature):
    """One task per step, each with probability 1/T, whatever its size."""

    def __init__(self):
        super().__init__(math.inf)

    def __repr__(self) -> str:
        return "Uniform()"


class RoundRobin(Schedule):
    """One task per step, in turn: t₁, t₂, …, t_T, t₁, … (Collobert & Weston, 2008)."""

    def shares(self, sizes: Mapping[str, int]) -> dict[str, float]:
        """1/T each."""
        _check_sizes(sizes)
        return {t: 1.0 / len(sizes) for t in sizes}

    def plan(self, sizes: Mapping[str, int], steps: int, generator: torch.Generator) -> list[list[str]]:
        """Step s trains task s mod T."""
        names = list(sizes)
        return [[names[s % len(names)]] for s in range(steps)]


class AllTasks(Schedule):
    """One batch of every task per step, their losses summed: T batches, one update."""

    tasks_per_step = None  # all of them

    def shares(self, sizes: Mapping[str, int]) -> dict[str, float]:
        """1/T each."""
        _check_sizes(sizes)
        return {t: 1.0 / len(sizes) for t in sizes}

    def plan(self, sizes: Mapping[str, int], steps: int, generator: torch.Generator) -> list[list[str]]:
        """Every task at every step."""
        return [list(sizes)] * steps


class OneTask(Schedule):
    """Every step draws task `name` alone: one phase of pretrain-then-fine-tune, on the same per-task data."""

    def __init__(self, name: str):
        self.name = name

    def shares(self, sizes: Mapping[str, int]) -> dict[str, float]:
        """1 for the task, 0 for the others."""
        _check_sizes(sizes)
        if self.name not in sizes:
            raise KeyError(f"OneTask({self.name!r}): no such task among {list(sizes)}.")
        return {t: float(t == self.name) for t in sizes}

    def plan(self, sizes: Mapping[str, int], steps: int, generator: torch.Generator) -> list[list[str]]:
        """The task at every step."""
        self.shares(sizes)
        return [[self.name]] * steps

    def __repr__(self) -> str:
        return f"OneTask({self.name!r})"


def _check_sizes(sizes: Mapping[str, int]) -> None:
    """Refuse an empty task list or a task without examples."""
    if not sizes or any(n < 1 for n in sizes.values()):
        raise ValueError(f"A schedule needs at least one task, each with ≥ 1 example; got sizes {dict(sizes)}.")


def steps_per_epoch(schedule: Schedule, sizes: Mapping[str, int], batch_size: int) -> int:
    """Steps that show Σₜ nₜ examples: Σₜ nₜ / batch_size, divided by T when every step draws every task."""
    per_step = batch_size * (schedule.tasks_per_step or len(sizes))
    return max(1, round(sum(sizes.values()) / per_step))


class _Stream:
    """Row indices of one task's set in shuffled passes, reshuffled whenever a pass is used up."""

    def __init__(self, n: int, generator: torch.Generator):
        self.n, self.generator = n, generator
        self.order, self.position = torch.randperm(n, generator=generator), 0

    def take(self, k: int) -> torch.Tensor:
        """The next `k` rows (fewer only if the set has fewer than `k`)."""
        k, taken = min(k, self.n), []
        while k > 0:
            if self.position == self.n:
                self.order, self.position = torch.randperm(self.n, generator=self.generator), 0
            part = self.order[self.position:self.position + k]
            taken.append(part)
            self.position += len(part)
            k -= len(part)
        return torch.cat(taken)


def schedule_batches(data: PerTaskData, schedule: Schedule, batch_size: int,
                     generator: torch.Generator | None = None) -> Iterator[MultiTaskData]:
    """One epoch (Σₜ nₜ examples) of batches: each step, `batch_size` rows from each task the schedule names.

    Each task's rows come in shuffled passes over its own set, so a small task drawn often
    repeats its examples (more passes per epoch) and a large one drawn rarely sees part of its set.
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule (RoundRobin(), Proportional(), Temperature(τ), Uniform(), "
                        f"AllTasks()), got {schedule!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}.")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    sizes = data.sizes
    streams = {t: _Stream(n, generator) for t, n in sizes.items()}
    for tasks in schedule.plan(sizes, steps_per_epoch(schedule, sizes, batch_size), generator):
        yield data.batch({t: streams[t].take(batch_size) for t in tasks})


def training_batches(train: MultiTaskData | PerTaskData, batch_size: int, generator: torch.Generator,
                     schedule: Schedule | None = None) -> Iterator[MultiTaskData]:
    """`fit`'s batches for one epoch: shuffled minibatches of one data set, or a schedule's over per-task sets."""
    if isinstance(train, PerTaskData):
        return schedule_batches(train, schedule if schedule is not None else Proportional(), batch_size, generator)
    if schedule is not None:
        raise ValueError(f"schedule={schedule!r} needs per-task data (a PerTaskData); this training set is one "
                         "MultiTaskData, which is drawn in shuffled minibatches.")
    return minibatches(train, batch_size, generator=generator)
