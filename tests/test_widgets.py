"""Chapter 3's sweep helpers in mtl_course.widgets: equal terms for both models, the figure, the README command."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import mtl_course as mc  # noqa: E402
from mtl_course import course, widgets  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_compare_sharing_trains_both_models_on_equal_terms():
    result = widgets.compare_sharing(1.0, n_per_task=20, n_tasks=3, steps=60, seed=0)
    assert set(result["stl"]) == set(result["shared"]) == {"t00", "t01", "t02"}
    assert result["gain"] == pytest.approx(result["stl_mean"] / result["shared_mean"])
    assert set(result["best_step"]) == {"stl", "shared"}
    # early stopping is checked every 25 steps, for both, within the same budget
    assert all(step in (25, 50) for step in result["best_step"].values()), result["best_step"]
    again = widgets.compare_sharing(1.0, n_per_task=20, n_tasks=3, steps=60, seed=0)
    assert again["gain"] == result["gain"]                                  # seeded: a re-run repeats


def test_the_readme_sweep_is_chapter_3s_cpu_setting(monkeypatch):
    """The command that draws the README's picture runs exactly the notebook's CPU-setting sweep."""
    notebook = course.load(ROOT / "notebooks" / "03_task_relatedness.ipynb")
    sizes = next(course.source(c) for c in notebook["cells"]
                 if c["cell_type"] == "code" and "mc.gpu_setting(DEVICE)" in course.source(c))
    monkeypatch.setenv("MTL_SETTING", "cpu")
    names = {"mc": mc, "DEVICE": "cpu", "print": lambda *a, **k: None}
    exec(sizes, names)
    assert widgets.README_SWEEP == {"rhos": tuple(names["RHOS"]), "seeds": tuple(names["SEEDS"]),
                                    "n_per_task": names["N_PER_TASK"], "n_tasks": names["N_TASKS"],
                                    "steps": names["STEPS"]}


def test_gain_figure_draws_every_seed_on_a_log_axis():
    gains = {0.0: [0.6, 0.7, 0.5], 0.5: [0.8, 0.7, 0.75], 1.0: [4.0, 3.0, 5.0]}
    fig = widgets.draw_gain_of_sharing(gains)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert list(ax.get_xticks()) == [0.0, 0.5, 1.0]
    assert {0.5, 1.0, 2.0, 4.0} <= set(ax.get_yticks())
    seeds = next(line for line in ax.get_lines() if line.get_label() == "each seed")
    assert sorted(seeds.get_ydata()) == sorted(g for v in gains.values() for g in v)
    plt.close(fig)


def test_the_command_writes_a_small_png(tmp_path, monkeypatch):
    monkeypatch.setattr(widgets, "README_SWEEP", {"rhos": (0.0, 1.0), "seeds": (0, 1), "n_per_task": 20,
                                                   "n_tasks": 2, "steps": 30})
    widgets.main([str(tmp_path / "gain.png")])
    png = (tmp_path / "gain.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 150_000


def test_the_command_run_twice_redraws_its_own_picture_and_keeps_every_other_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(widgets, "README_SWEEP", {"rhos": (0.0, 1.0), "seeds": (0,), "n_per_task": 20,
                                                   "n_tasks": 2, "steps": 10})
    picture = tmp_path / "gain.png"
    widgets.main([str(picture)])
    widgets.main([str(picture)])                      # its own picture: drawn again
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    foreign = tmp_path / "mine.png"
    plt.figure().savefig(foreign)
    plt.close("all")
    notebook = tmp_path / "notes.ipynb"
    notebook.write_text("{}")
    for path, words in ((foreign, "did not draw"), (notebook, "ending in .png"), (tmp_path / "no" / "x.png", "does not exist")):
        before = path.read_bytes() if path.exists() else None
        with pytest.raises(SystemExit):
            widgets.main([str(path)])
        err = capsys.readouterr().err
        assert words in err and f"path={str(path)!r}" in err
        assert (path.read_bytes() if path.exists() else None) == before


def test_the_readme_picture_is_in_the_repository_and_small():
    picture = ROOT / "notebooks" / "images" / "ch03_gain_of_sharing.png"
    assert picture.stat().st_size < 150_000, "the README's picture should stay under 150 KB"
    widgets.check_figure_path(picture)                 # drawn by the command, so the command may redraw it


def test_explorer_uses_the_settings_it_is_given(monkeypatch):
    pytest.importorskip("ipywidgets")
    seen = {}

    def fake(rho, n_per_task, **kwargs):
        seen.update(kwargs, rho=rho, n_per_task=n_per_task)
        return {"stl": {"t00": 0.5}, "shared": {"t00": 0.25}, "stl_mean": 0.5, "shared_mean": 0.25, "gain": 2.0,
                "best_step": {"stl": 25, "shared": 50}, "time_s": 0.1}

    monkeypatch.setattr(widgets, "compare_sharing", fake)
    explorer = widgets.SharingExplorer(n_tasks=1, seed=3, steps=123, device="cpu")
    explorer.update(rho=0.25, n_per_task=40)
    assert seen == {"rho": 0.25, "n_per_task": 40, "n_tasks": 1, "steps": 123, "seed": 3, "device": "cpu"}
    plt.close("all")

