"""Figures and tables: they show what the history and the rows hold."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import mtl_course as mc


def test_plot_history_draws_one_column_per_task(two_regression_tasks, tiny_regression):
    model = mc.HardSharing(mc.MLP(4, [8]), two_regression_tasks)
    history = mc.fit(model, two_regression_tasks, tiny_regression.train, tiny_regression.val, epochs=3,
                     progress=False, restore_best=True)
    fig = mc.plot_history(history, two_regression_tasks, title="t")
    axes = fig.get_axes()
    assert len(axes) == 4
    train_line = axes[0].get_lines()[0]
    assert list(train_line.get_xdata()) == [1, 2, 3]
    assert np.allclose(train_line.get_ydata(), history.curve("train_loss", "a")[1])
    plt.close(fig)


def test_plot_band_shades_one_standard_deviation():
    fig, ax = plt.subplots()
    runs = np.array([[1.0, 2.0], [3.0, 4.0]])
    mc.plot_band(ax, [10, 20], runs, label="x")
    assert np.allclose(ax.get_lines()[0].get_ydata(), [2.0, 3.0])
    band = ax.collections[0].get_paths()[0].vertices
    assert np.isclose(band[:, 1].max(), 3.0 + np.sqrt(2)) and np.isclose(band[:, 1].min(), 2.0 - np.sqrt(2))
    plt.close(fig)


def test_table_formats_mean_and_std():
    table = mc.Table([{"model": "shared", "acc": (0.8812, 0.0041)}, {"model": "<stl>", "acc": 0.87}], title="T")
    text = str(table)
    assert "0.881 ± 0.00410" in text  # three significant digits (mc.number) and text.splitlines()[0] == "T"
    assert "&lt;stl&gt;" in table._repr_html_() and "<caption>T</caption>" in table._repr_html_()


def test_delta_m_table_shows_every_task_beside_delta_m_with_paired_seeds():
    tasks = [mc.regression("a"), mc.classification("b", 2)]
    runs = {"equal": [{"a": 0.3, "b": 0.9}, {"a": 0.2, "b": 0.8}]}
    single = [{"a": 0.4, "b": 0.9}, {"a": 0.2, "b": 1.0}]
    row = mc.delta_m_table(runs, single, tasks).rows[0]
    assert row["method"] == "equal" and set(row) == {"method", "a mse", "b accuracy", "Δm%"}
    assert np.allclose(row["a mse"], (0.25, np.std([0.3, 0.2], ddof=1)))
    paired = [mc.delta_m(r, s, tasks) for r, s in zip(runs["equal"], single)]  # seed i against seed i
    assert np.allclose(row["Δm%"], (np.mean(paired), np.std(paired, ddof=1)))
    one = mc.delta_m_table(runs, {"a": 0.4, "b": 0.9}, tasks).rows[0]["Δm%"][0]
    assert np.isclose(one, np.mean([mc.delta_m(r, {"a": 0.4, "b": 0.9}, tasks) for r in runs["equal"]]))


def test_delta_m_table_gives_one_seed_as_a_plain_number():
    tasks = [mc.regression("a")]
    row = mc.delta_m_table({"equal": [{"a": 0.3}]}, {"a": 0.4}, tasks).rows[0]
    assert row["a mse"] == 0.3 and row["Δm%"] == pytest.approx(25.0)


def test_delta_m_table_names_a_metric_the_task_does_not_use_by_default():
    tasks = [mc.classification("income", 2), mc.regression("hours")]
    table = mc.delta_m_table({"equal": [{"income": 0.9, "hours": 0.5}]}, {"income": 0.9, "hours": 0.5}, tasks,
                             metric_names={"income": "AUC"})
    assert table.columns == ["method", "income AUC", "hours mse", "Δm%"]


def test_delta_m_table_refuses_unpaired_seeds():
    tasks = [mc.regression("a")]
    with pytest.raises(ValueError, match="'equal' has 1 seeds but single_task has 2"):
        mc.delta_m_table({"equal": [{"a": 1.0}]}, [{"a": 1.0}, {"a": 2.0}], tasks)


def test_table_prints_numbers_with_sensible_digits():
    text = str(mc.Table([{"std": np.float64(5.771e-05), "mean": np.float32(0.38912), "n": 3}]))
    assert "0.0000577" in text and "0.389" in text and "e-05" not in text and "np.float" not in text
