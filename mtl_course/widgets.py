"""Interactive explorers: move a slider, retrain small models in seconds, see the result.

Each explorer keeps its computation in a plain function (`compare_sharing`) and its drawing in an
`update` method, so a test or a notebook run without a browser drives it by calling `update`.
Chapter 3's sweep over ρ (`sharing_sweep`) and its figure (`draw_gain_of_sharing`) live here too, so that
the README's picture is drawn by the same code from the same run:
`python -m mtl_course.widgets notebooks/images/ch03_gain_of_sharing.png` writes it (about 30 s on a CPU).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from .data import low_rank_regression
from .device import seed_everything
from .models import MLP, HardSharing, IndependentMLPs
from .tasks import regression
from .train import evaluate, fit


STEPS = 1_000   # training steps of every model in compare_sharing: the shared model's early stopping needs up to ~1,000


def compare_sharing(rho: float, n_per_task: int, n_tasks: int = 6, width: int = 4, steps: int = STEPS,
                    lr: float = 1e-2, seed: int = 0, device: torch.device | str = "cpu") -> dict:
    """Single-task networks vs one hard-sharing model on `low_rank_regression(rho)`, on equal terms; test MSE per task.

    Single-task: `IndependentMLPs`, one tanh network d→`width`→1 per task, trained side by side (nothing
    shared). Hard sharing: one tanh trunk d→`width` with a linear head per task. Both get the same `fit`:
    `steps` full-batch Adam steps at `lr`, and early stopping on the summed loss of a validation split as
    large as the training set, checked every 25 steps. Returns {"stl": {task: mse}, "shared": {task: mse},
    "stl_mean", "shared_mean", "gain" (= stl_mean / shared_mean; > 1 means sharing helps),
    "best_step": {"stl": step, "shared": step} (where early stopping stopped), "time_s"}.
    """
    if n_per_task < 2:
        raise ValueError(f"n_per_task must be at least 2 samples, got {n_per_task}.")
    start = time.perf_counter()
    data = low_rank_regression(n_tasks=n_tasks, n_train=n_per_task, n_val=n_per_task, n_test=2_000, rho=rho,
                               seed=seed, structure_seed=0, device=device)
    tasks = [regression(name) for name in data.train.tasks]
    d = data.train.x.shape[1]
    models = {"stl": lambda: IndependentMLPs(d, [width], tasks, activation=nn.Tanh),
              "shared": lambda: HardSharing(MLP(d, [width], activation=nn.Tanh), tasks)}
    result: dict = {"best_step": {}}
    for name, make in models.items():
        seed_everything(seed)              # each model's initialization depends on the seed alone
        model = make().to(device)
        history = fit(model, tasks, data.train, data.val, epochs=steps, batch_size=n_per_task, lr=lr,
                      eval_every=25, restore_best=True, progress=False, seed=seed)
        result[name] = evaluate(model, tasks, data.test).metric
        result[f"{name}_mean"] = sum(result[name].values()) / n_tasks
        result["best_step"][name] = history.best_epoch
    result["gain"] = result["stl_mean"] / result["shared_mean"]
    result["time_s"] = time.perf_counter() - start
    return result


class SharingExplorer:
    """Sliders for relatedness ρ and samples per task; each change retrains and redraws STL vs shared.

    In a notebook, `display(explorer.widget)` shows the sliders and the figure. Without a browser,
    call `explorer.update(rho, n_per_task)`: it returns `compare_sharing`'s result and redraws.
    """

    def __init__(self, rho: float = 0.5, n_per_task: int = 100, n_tasks: int = 6, seed: int = 0,
                 steps: int = STEPS, device: torch.device | str = "cpu"):
        import ipywidgets as widgets  # imported here so the package imports without a notebook stack

        self.n_tasks, self.seed, self.steps, self.device = n_tasks, seed, steps, device
        self.rho = widgets.FloatSlider(value=rho, min=0.0, max=1.0, step=0.25, description="ρ (shared)",
                                       continuous_update=False)
        self.n = widgets.IntSlider(value=n_per_task, min=20, max=400, step=20, description="samples/task",
                                   continuous_update=False)
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.rho, self.n]), self.output])
        self.result: dict | None = None
        self.figure: plt.Figure | None = None
        self.rho.observe(lambda _: self.update(), names="value")
        self.n.observe(lambda _: self.update(), names="value")

    def update(self, rho: float | None = None, n_per_task: int | None = None) -> dict:
        """Retrain at (rho, n_per_task) (default: the sliders' values), redraw, and return the result."""
        rho = float(self.rho.value if rho is None else rho)
        n_per_task = int(self.n.value if n_per_task is None else n_per_task)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"rho must lie in [0, 1], got {rho}.")
        self.result = compare_sharing(rho, n_per_task, n_tasks=self.n_tasks, steps=self.steps, seed=self.seed,
                                      device=self.device)
        self.figure = self.draw(self.result, rho, n_per_task)
        with self.output:
            self.output.clear_output(wait=True)
            _show(self.figure)
        plt.close(self.figure)  # shown once, in the widget's output area, not again below the cell
        return self.result

    @staticmethod
    def draw(result: dict, rho: float, n_per_task: int) -> plt.Figure:
        """Bars of each task's test MSE, single-task vs shared, with the means in the title."""
        fig, ax = plt.subplots(figsize=(7, 3.2))
        names = list(result["stl"])
        x = torch.arange(len(names)).float()
        ax.bar(x - 0.2, [result["stl"][t] for t in names], width=0.4, label=f"single-task (mean {result['stl_mean']:.2f})")
        ax.bar(x + 0.2, [result["shared"][t] for t in names], width=0.4,
               label=f"hard sharing (mean {result['shared_mean']:.2f})")
        ax.axhline(1.0, color="grey", ls=":", lw=1)
        ax.set_xticks(x.tolist(), names)
        ax.set_ylabel("test MSE (1 = predict zero)")
        ax.set_title(f"ρ = {rho:.2f}, {n_per_task} samples per task: sharing gain ×{result['gain']:.2f} "
                     f"({result['time_s']:.1f} s)", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        return fig


# Chapter 3's CPU setting: the run behind the README's picture (tests/test_widgets.py checks that the notebook's
# size cell says the same).
README_SWEEP = {"rhos": (0.0, 0.25, 0.5, 0.75, 1.0), "seeds": (0, 1, 2), "n_per_task": 100, "n_tasks": 6,
                "steps": STEPS}


def sharing_sweep(rhos: Sequence[float], seeds: Sequence[int], n_per_task: int, n_tasks: int, steps: int = STEPS,
                  device: torch.device | str = "cpu", progress: bool = True) -> dict[tuple[float, int], dict]:
    """`compare_sharing` at every (ρ, seed), one progress bar over the runs: {(rho, seed): result}."""
    from tqdm.auto import tqdm

    runs = [(float(rho), int(seed)) for rho in rhos for seed in seeds]
    return {(rho, seed): compare_sharing(rho, n_per_task, n_tasks=n_tasks, steps=steps, seed=seed, device=device)
            for rho, seed in tqdm(runs, desc="ρ sweep", disable=not progress)}


def draw_gain_of_sharing(gains: dict[float, Sequence[float]]) -> plt.Figure:
    """Chapter 3's figure (and the README's): the gain of sharing against ρ, mean ± std over seeds and each seed."""
    from .plots import plot_band

    rhos = sorted(gains)
    runs = np.array([gains[rho] for rho in rhos]).T                 # seeds × ρ
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    plot_band(ax, rhos, runs, label=f"STL MSE / shared MSE (mean ± std of {len(runs)} seeds)")
    ax.plot(np.repeat(rhos, len(runs)), runs.T.ravel(), ".", color="C0", alpha=0.5, ms=5, label="each seed")
    ax.axhline(1.0, color="grey", ls=":", lw=1, label="no gain")
    ax.set_yscale("log")
    low, high = runs.min(), runs.max()
    ticks = [2.0 ** k for k in range(-4, 6) if low / 1.5 < 2.0 ** k < high * 1.5]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xticks(rhos)
    ax.set_xlabel("ρ: shared fraction of each task's representation")
    ax.set_ylabel("gain of sharing (log scale)")
    ax.set_title("Sharing pays only when the tasks share all they need", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


# written into the PNG's metadata: a file that carries it was drawn by this command and may be drawn again
FIGURE_TITLE = "mtl_course: chapter 3's gain of sharing"


def check_figure_path(path: Path | str) -> Path:
    """Refuse a path the figure must not be written to: not a .png, in a missing folder, or a file this command
    did not draw (writing there would lose it)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path={str(path)!r}: the figure is a PNG; give a path ending in .png, "
                         f"e.g. notebooks/images/ch03_gain_of_sharing.png.")
    if not path.parent.is_dir():
        raise ValueError(f"path={str(path)!r}: the folder {str(path.parent)!r} does not exist; create it first.")
    if path.exists():
        from PIL import Image   # matplotlib's own dependency
        try:
            with Image.open(path) as image:
                drawn_here = getattr(image, "text", {}).get("Title") == FIGURE_TITLE
        except OSError:
            drawn_here = False
        if not drawn_here:
            raise ValueError(f"path={str(path)!r} is a file this command did not draw; it is left as it is. "
                             f"Choose a new path, or the README's picture notebooks/images/ch03_gain_of_sharing.png.")
    return path


def write_readme_figure(path: Path | str) -> Path:
    """Run chapter 3's CPU-setting sweep on the CPU and write its figure as a PNG (the README's picture).

    A file already at `path` is replaced only if this command drew it (its PNG metadata says so)."""
    path = check_figure_path(path)
    settings = dict(README_SWEEP)
    rhos, seeds = settings.pop("rhos"), settings.pop("seeds")
    sweep = sharing_sweep(rhos, seeds, **settings)
    fig = draw_gain_of_sharing({rho: [sweep[rho, s]["gain"] for s in seeds] for rho in rhos})
    fig.savefig(path, dpi=100, metadata={"Title": FIGURE_TITLE})
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m mtl_course.widgets PATH`: write the README's picture of chapter 3's sweep to PATH."""
    parser = argparse.ArgumentParser(prog="python -m mtl_course.widgets",
                                     description="Run chapter 3's sweep over ρ (CPU setting) and write its figure.")
    parser.add_argument("path", help="the PNG to write, e.g. notebooks/images/ch03_gain_of_sharing.png (an existing file "
                                     "is replaced only if this command drew it)")
    args = parser.parse_args(argv)
    try:
        path = write_readme_figure(args.path)
    except ValueError as error:
        parser.error(str(error))
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def _show(figure: plt.Figure) -> None:
    """Display a figure inside a notebook (in a plain Python process there is nothing to show it in)."""
    try:
        from IPython.display import display
    except ImportError:
        return
    display(figure)


if __name__ == "__main__":
    main()
