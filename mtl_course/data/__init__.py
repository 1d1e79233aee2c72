"""The course's data sets, held whole as tensors on one device."""
from .adult import adult
from .batches import MultiTaskData, Splits, minibatches
from .files import DataFileError, data_dir, verified_path
from .mnist import load_mnist_digits, multimnist, overlay
from .synthetic import correlated_regression, grouped_regression, label_correlation, low_rank_regression

__all__ = ["adult", "MultiTaskData", "Splits", "minibatches", "DataFileError", "data_dir", "verified_path",
           "load_mnist_digits", "multimnist", "overlay", "correlated_regression", "label_correlation", "low_rank_regression",
           "grouped_regression"]
