"""Interactive explorers: move a slider, retrain small models in seconds, see the result.

Each explorer keeps its computation in a plain function (`compare_sharing`) and its drawing in an
`update` method, so a test or a notebook run without a browser drives it by calling `update`.
"""
from __future__ import annotations

import time

import matplotlib.pyplot as plt
import torch
from torch import nn

from .data import low_rank_regression
from .device import seed_everything
from .models import MLP, HardSharing, single_task_model
from .tasks import regression
from .train import evaluate, fit


def compare_sharing(rho: float, n_per_task: int, n_tasks: int = 6, width: int = 4, stl_steps: int = 400,
                    shared_steps: int = 600, lr: float = 1e-2, seed: int = 0,
                    device: torch.device | str = "cpu") -> dict:
    """Single-task MLPs vs one hard-sharing model on `low_rank_regression(rho)`; test MSE of each task.

    Both use a tanh trunk d→`width`, full-batch Adam and early stopping on a validation split of
    the same size as the training set. Returns {"stl": {task: mse}, "shared": {task: mse},
    "stl_mean", "shared_mean", "gain" (= stl_mean / shared_mean; > 1 means sharing helps), "time_s"}.
    """
    if n_per_task < 2:
        raise ValueError(f"n_per_task must be at least 2 samples, got {n_per_task}.")
    start = time.perf_counter()
    data = low_rank_regression(n_tasks=n_tasks, n_train=n_per_task, n_val=n_per_task, n_test=2_000, rho=rho,
                               seed=seed, structure_seed=0, device=device)
    tasks = [regression(name) for name in data.train.tasks]
    d = data.train.x.shape[1]
    options = dict(batch_size=n_per_task, lr=lr, eval_every=25, restore_best=True, progress=False, seed=seed)
    seed_everything(seed)
    stl = {}
    for task in tasks:
        own = data.only([task.name])
        model = single_task_model(MLP(d, [width], activation=nn.Tanh), task).to(device)
        fit(model, [task], own.train, own.val, epochs=stl_steps, **options)
        stl[task.name] = evaluate(model, [task], own.test).metric[task.name]
    model = HardSharing(MLP(d, [width], activation=nn.Tanh), tasks).to(device)
    fit(model, tasks, data.train, data.val, epochs=shared_steps, **options)
    shared = evaluate(model, tasks, data.test).metric
    stl_mean, shared_mean = sum(stl.values()) / n_tasks, sum(shared.values()) / n_tasks
    return {"stl": stl, "shared": shared, "stl_mean": stl_mean, "shared_mean": shared_mean,
            "gain": stl_mean / shared_mean, "time_s": time.perf_counter() - start}


class SharingExplorer:
    """Sliders for relatedness ρ and samples per task; each change retrains and redraws STL vs shared.

    In a notebook, `display(explorer.widget)` shows the sliders and the figure. Without a browser,
    call `explorer.update(rho, n_per_task)`: it returns `compare_sharing`'s result and redraws.
    """

    def __init__(self, rho: float = 0.5, n_per_task: int = 100, n_tasks: int = 6, seed: int = 0):
        import ipywidgets as widgets  # imported here so the package imports without a notebook stack

        self.n_tasks, self.seed = n_tasks, seed
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
        self.result = compare_sharing(rho, n_per_task, n_tasks=self.n_tasks, seed=self.seed)
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


def _show(figure: plt.Figure) -> None:
    """Display a figure inside a notebook (in a plain Python process there is nothing to show it in)."""
    try:
        from IPython.display import display
    except ImportError:
        return
    display(figure)
