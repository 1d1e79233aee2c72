"""mtl_course: the small helper package of the course "Multi-Task Learning with PyTorch".

One module per idea, in the order the chapters introduce them:
    device          where computation runs; seed_everything; the environment report  (chapter 0);
                    a clock and one CPU thread for timing                             (chapters 2, 6, 9, 10)
    data            MultiMNIST, synthetic tasks, UCI Adult, on-device tensors        (chapters 0, 3, 4)
    tasks           what a task is: kind, output size, loss, metric                   (chapter 0)
    train           fit and evaluate                                                  (chapter 0)
    plots           learning curves, tables, error bands                              (chapter 0)
    metrics         accuracy, MSE, AUC, Δm%; F1 and macro F1                          (chapters 0-1, 11)
    models          trunks, heads, single-task models, hard and partial sharing       (chapters 0-2)
    relatedness     gradient cosine, task affinity (TAG), task groupings              (chapter 3)
    widgets         interactive explorers                                             (chapter 3)
    weighting       the strategy interface; static weights; uncertainty, GradNorm,    (chapters 0, 4-5)
                    DWA, DTP, random loss weighting
    gradients       per-task gradients; MGDA(-UB), PCGrad, CAGrad, IMTL-G             (chapter 6)
    regularization  penalties: L2 on shared weights, soft sharing, trace norm         (chapter 7)
    architectures   soft parameter sharing                                            (chapter 7)
    cross_stitch    cross-stitch units between task columns                           (chapter 8)
    mmoe            multi-gate mixture of experts                                     (chapter 8)
    attention       per-task attention masks over shared features                     (chapter 8)
    benchmark       every method on equal terms: run, summarize, write tables; a command (chapter 9)
    scaling         many tasks: task sampling                                         (chapter 10)
    distributed     data-parallel training with DDP and torchrun                      (chapter 10)
    data.per_task   one data set per task; missing labels and the loss that masks them (chapter 11)
    schedules       batch schedules over per-task data: round-robin, proportional,    (chapter 11)
                    temperature, uniform, all tasks per step
    arguments       checks of the sizes and rates users pass, with errors that name them
    claims          a sentence of the prose checked against the run: claim, number
    checks          the exercises' checks, one module per notebook
    course          the notebooks as files: setup cell, Colab badges, student copies, nbgrader
    site            the course website (Jupyter Book 1.x), built from the executed notebooks
"""
from .architectures import SoftSharing
from .claims import ClaimFailed, claim, number
from .attention import TaskAttention
from .cross_stitch import CrossStitch
from .data import (MultiTaskData, Splits, adult, correlated_regression, grouped_regression, label_correlation,
                   low_rank_regression, minibatches, multimnist)
from .device import clock, cpu_threads, environment_report, get_device, gpu_setting, on_gpu, seed_everything
from .gradients import (GradientAggregation, RepresentationWeighting, cagrad, gradient_sum, imtl_g, mgda,
                        mgda_weights, pcgrad)
from .metrics import accuracy, auc, delta_m, mean_std, mse
from .mmoe import MMoE
from .models import (CNN, MLP, HardSharing, IndependentMLPs, MultiTaskModel, PartialSharing, count_parameters,
                     single_task_model, task_heads, trunk_layers)
from .plots import Table, delta_m_table, plot_band, plot_history
from .regularization import l2_penalty, nuclear_norm, soft_sharing_penalty, stack_tasks, trace_norm_penalty
from .relatedness import (GradientCosineProbe, best_grouping, conflict_fraction, gradient_cosine, group_affinity,
                          lookahead_affinity, task_affinity)
from .tasks import Task, classification, regression, task_losses
from .train import Evaluation, History, evaluate, fit
from .scaling import TaskSampling
from .data import PartiallyLabelled, PerTaskData, hide_labels, masked_loss, masked_task_losses, split_by_task
from .metrics import f1, macro_f1
from . import schedules
from .schedules import AllTasks, OneTask, Proportional, RoundRobin, Schedule, Temperature, Uniform, schedule_batches
from .weighting import (DynamicTaskPrioritization, DynamicWeightAverage, EqualWeighting, GradNorm, LossWeighting,
                        RandomLossWeighting, StaticWeighting, Strategy, UncertaintyWeighting)

__version__ = "0.1.0"

# The two modules that are also commands load on first use (mc.benchmark, mc.run_benchmark, …): imported
# here, `python -m mtl_course.benchmark` would find them loaded already and print runpy's RuntimeWarning.
_LAZY = {"benchmark": ("benchmark", None), "run_benchmark": ("benchmark", "run_benchmark"),
         "summarize": ("benchmark", "summarize"), "distributed": ("distributed", None),
         "DistributedGradientAggregation": ("distributed", "DistributedGradientAggregation")}


def __getattr__(name: str):
    """Load `benchmark` and `distributed` (and their exports) when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'mtl_course' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f".{module_name}", __name__)
    return module if attribute is None else getattr(module, attribute)
