"""The course's data sets, held whole as tensors on one device."""
from .adult import adult
from .batches import MultiTaskData, Splits, minibatches
from .files import DataFileError, data_dir, verified_path
from .per_task import (MISSING, PartiallyLabelled, PerTaskData, hide_labels, is_labelled, masked_loss, masked_task_losses,
                       split_by_task)
from .mnist import load_mnist_digits, multimnist, overlay
from .synthetic import correlated_regression, grouped_regression, label_correlation, low_rank_regression

__all__ = ["adult", "MultiTaskData", "Splits", "minibatches", "DataFileError", "data_dir", "verified_path",
           "load_mnist_digits", "multimnist", "overlay", "correlated_regression", "label_correlation", "low_rank_regression",
           "grouped_regression", "MISSING", "PartiallyLabelled", "PerTaskData", "hide_labels", "is_labelled", "masked_loss",
           "masked_task_losses", "split_by_task"]
