"""MultiMNIST: two overlapping digits per image, one task per digit.

Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018.
"""
from __future__ import annotations

import gzip

import numpy as np
import torch

from ..arguments import whole
from .batches import MultiTaskData, Splits
from .files import verified_path

CANVAS = 36   # side of the square canvas, in pixels
SHIFT = 6     # the right digit sits this many pixels right of and below the left one
POOLS = (6_000, 2_000, 2_000)  # source digits for train / validation / test, disjoint
POOL_SEED = 1234               # fixes the pools and the val/test pairs for every experiment


def load_mnist_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 shipped MNIST test digits: images (N, 28, 28) uint8 and labels (N,) uint8."""
    with gzip.open(verified_path("mnist/t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(verified_path("mnist/t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def overlay(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Place digit pairs (N, 28, 28) on a 36×36 canvas: left at the top-left, right shifted by 6 px; keep the brighter pixel."""
    n = len(left)
    a = np.zeros((n, CANVAS, CANVAS), np.uint8)
    b = np.zeros((n, CANVAS, CANVAS), np.uint8)
    o = (CANVAS - 28 - SHIFT) // 2  # a 1-pixel margin centres the pair on the canvas
    a[:, o:o + 28, o:o + 28] = left
    b[:, o + SHIFT:o + SHIFT + 28, o + SHIFT:o + SHIFT + 28] = right
    return np.maximum(a, b)


def digit_pools() -> list[np.ndarray]:
    """Indices of the source digits in the disjoint train / validation / test pools (6,000 / 2,000 / 2,000)."""
    order = np.random.default_rng(POOL_SEED).permutation(sum(POOLS))
    cut1, cut2 = POOLS[0], POOLS[0] + POOLS[1]
    return [order[:cut1], order[cut1:cut2], order[cut2:]]


def make_pairs(images: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> MultiTaskData:
    """`n` random pairs of two different digits from one pool, as a two-task data set."""
    i = rng.integers(0, len(images), n)
    j = (i + rng.integers(1, len(images), n)) % len(images)  # never the same digit twice
    x = torch.from_numpy(overlay(images[i], images[j])).float().div_(255).unsqueeze(1)
    y = {"left": torch.from_numpy(labels[i].astype(np.int64)),
         "right": torch.from_numpy(labels[j].astype(np.int64))}
    return MultiTaskData(x, y)


def multimnist(n_train: int = 12_000, n_val: int = 2_000, n_test: int = 4_000, seed: int = 0,
               device: torch.device | str = "cpu") -> Splits:
    """MultiMNIST splits with tasks "left" and "right" (10 classes each), images (N, 1, 36, 36) in [0, 1].

    The 10,000 source digits are split into disjoint pools *before* pairing, so no digit appears in
    two splits. Pools, validation and test pairs are the same for every `seed`; `seed` draws the
    training pairs, so runs with different seeds see different training sets of the same size.
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        whole(name, value, minimum=1)
    images, labels = load_mnist_digits()
    pools = digit_pools()
    fixed = np.random.default_rng(POOL_SEED + 1)
    val = make_pairs(images[pools[1]], labels[pools[1]], n_val, fixed)
    test = make_pairs(images[pools[2]], labels[pools[2]], n_test, fixed)
    train = make_pairs(images[pools[0]], labels[pools[0]], n_train, np.random.default_rng(seed))
    return Splits(train, val, test).to(device)
