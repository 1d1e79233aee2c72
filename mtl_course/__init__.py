"""mtl_course: the small helper package of the course "Multi-Task Learning with PyTorch".

One module per idea, in the order the chapters introduce them:
    device      where computation runs; seed_everything; the environment report   (chapter 0)
    data        MultiMNIST, synthetic tasks, UCI Adult, on-device tensors, batches (chapters 0, 4)
    tasks       what a task is: kind, output size, loss, metric                    (chapter 0)
    models      trunks, heads, single-task models, hard and partial sharing        (chapters 0-2)
    weighting   the strategy interface and static loss weights                     (chapters 0, 4)
    gradients   per-task gradients and gradient methods                            (chapter 6)
    train       fit and evaluate                                                   (chapter 0)
    metrics     accuracy, MSE, AUC, Δm%                                            (chapters 0-1)
    plots       learning curves, tables, error bands                               (chapter 0)
    checks      the exercises' checks
    course      the notebooks as files: setup cell, Colab badges, student copies
"""
from .data import (MultiTaskData, Splits, adult, correlated_regression, label_correlation, low_rank_regression,
                   minibatches, multimnist)
from .device import environment_report, get_device, on_gpu, seed_everything
from .metrics import accuracy, auc, delta_m, mean_std, mse
from .models import CNN, MLP, HardSharing, MultiTaskModel, count_parameters, single_task_model, task_heads
from .models import IndependentMLPs, PartialSharing, trunk_layers
from .plots import Table, plot_band, plot_history
from .tasks import Task, classification, regression, task_losses
from .train import Evaluation, History, evaluate, fit
from .weighting import EqualWeighting, LossWeighting, StaticWeighting, Strategy

__version__ = "0.1.0"
