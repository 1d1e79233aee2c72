"""UCI Adult (census income, 1994) as a multi-task problem with classification and regression tasks.

Becker & Kohavi, "Adult", UCI Machine Learning Repository, 1996. Tasks:
    income         classification (2 classes): income > 50K
    hours          regression: hours worked per week (standardized unless asked otherwise)
    never_married  classification (2 classes): marital status is "Never-married" (the MMoE paper's
                   second census task, Ma et al., KDD 2018)
"""
from __future__ import annotations

import gzip

import numpy as np
import torch

from .batches import MultiTaskData, Splits
from .files import verified_path

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
           "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
           "native-country", "income"]
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "race", "sex", "native-country"]
TASKS = ("income", "hours", "never_married")
# Inputs that would give a task's answer away: the target itself, or (for never_married) the
# columns that encode marital status, as in the MMoE paper.
LEAKS = {"income": {"income"}, "hours": {"hours-per-week"}, "never_married": {"marital-status", "relationship"}}
SPLIT_SEED = 4321


def load_adult_rows() -> list[list[str]]:
    """The 32,561 rows of the shipped training file, each a list of 15 stripped strings."""
    with gzip.open(verified_path("adult/adult.data.gz"), "rt", encoding="utf-8") as f:
        rows = [[v.strip() for v in line.split(",")] for line in f if line.strip()]
    bad = [i for i, r in enumerate(rows) if len(r) != len(COLUMNS)]
    if bad:
        raise ValueError(f"adult/adult.data.gz: rows {bad[:5]} do not have {len(COLUMNS)} columns.")
    return rows


def _check_fractions(fractions: tuple[float, float]) -> None:
    """Refuse training and validation fractions that leave a split empty or overlap."""
    if len(fractions) != 2 or not all(isinstance(f, (int, float)) and 0 < f < 1 for f in fractions) \
            or sum(fractions) >= 1:
        raise ValueError(f"fractions must be (train, validation), each in (0, 1) with a sum below 1 so that the "
                         f"test split keeps the rest, got {fractions!r} (e.g. (0.7, 0.15)).")


def adult(tasks: tuple[str, ...] = ("income", "hours"), standardize_hours: bool = True,
          fractions: tuple[float, float] = (0.7, 0.15), seed: int = SPLIT_SEED,
          device: torch.device | str = "cpu") -> Splits:
    """UCI Adult split into train / validation / test (70 / 15 / 15 %) with the chosen tasks.

    Inputs: age, education-num, log(1 + capital gain), log(1 + capital loss), hours-per-week
    (standardized with the training split's statistics) and one-hot categories ('?' is a category
    of its own); fnlwgt (a sampling weight) and education (the same as education-num) are left out,
    and so is every column that gives a chosen task's answer away (see LEAKS).
    """
    if isinstance(tasks, str):
        raise TypeError(f"tasks must be a tuple of task names, got the string {tasks!r}; write tasks=({tasks!r},).")
    _check_fractions(fractions)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown or not tasks:
        raise ValueError(f"Unknown Adult task(s) {unknown}; choose from {TASKS}.")
    rows = load_adult_rows()
    col = {name: [r[i] for r in rows] for i, name in enumerate(COLUMNS)}
    dropped = set().union(*(LEAKS[t] for t in tasks))

    order = np.random.default_rng(seed).permutation(len(rows))
    n_train, n_val = int(fractions[0] * len(rows)), int(fractions[1] * len(rows))
    parts = [order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]]

    features = []
    for name in NUMERIC:
        if name in dropped:
            continue
        values = np.array(col[name], dtype=np.float64)
        if name.startswith("capital"):
            values = np.log1p(values)
        train_values = values[parts[0]]
        features.append(((values - train_values.mean()) / train_values.std())[:, None])
    for name in CATEGORICAL:
        if name in dropped:
            continue
        categories = sorted(set(col[name]))
        codes = np.array([categories.index(v) for v in col[name]])
        features.append(np.eye(len(categories))[codes])
    x = torch.tensor(np.concatenate(features, axis=1), dtype=torch.float32)

    hours = np.array(col["hours-per-week"], dtype=np.float64)
    if standardize_hours:
        hours = (hours - hours[parts[0]].mean()) / hours[parts[0]].std()
    targets = {
        "income": torch.tensor([v == ">50K" for v in col["income"]], dtype=torch.int64),
        "hours": torch.tensor(hours, dtype=torch.float32),
        "never_married": torch.tensor([v == "Never-married" for v in col["marital-status"]], dtype=torch.int64),
    }
    data = MultiTaskData(x, {t: targets[t] for t in tasks})
    return Splits(*(data.subset(torch.from_numpy(p)) for p in parts)).to(device)
