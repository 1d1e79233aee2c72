"""Figures and tables: they show what the history and the rows hold."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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
    assert "0.8812 ± 0.0041" in text and text.splitlines()[0] == "T"
    assert "&lt;stl&gt;" in table._repr_html_() and "<caption>T</caption>" in table._repr_html_()
