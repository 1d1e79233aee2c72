"""Data files, MultiMNIST and the synthetic generators, checked against their definitions."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import mtl_course as mc
from mtl_course.data import DataFileError, data_dir, files, mnist as mm, verified_path


def test_shipped_files_verify():
    for name in files.CHECKSUMS:
        assert verified_path(name).is_file()


def test_missing_file_names_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match=r"mnist/t10k-labels-idx1-ubyte.gz.*missing.*git checkout"):
        verified_path("mnist/t10k-labels-idx1-ubyte.gz")


def test_corrupt_file_is_refused(tmp_path, monkeypatch):
    name = "mnist/t10k-labels-idx1-ubyte.gz"
    (tmp_path / "mnist").mkdir()
    broken = tmp_path / name
    shutil.copy(data_dir() / name, broken)
    with open(broken, "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match="corrupt"):
        mc.multimnist(n_train=10)


def test_unknown_file_name():
    with pytest.raises(KeyError, match="Unknown data file"):
        verified_path("mnist/train-images.gz")


def test_mnist_digits_match_published_class_counts():
    images, labels = mm.load_mnist_digits()
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_overlay_places_left_top_left_and_right_shifted_by_six():
    left = np.zeros((1, 28, 28), np.uint8)
    right = np.zeros((1, 28, 28), np.uint8)
    left[0, 0, 0], right[0, 0, 0], left[0, 27, 27], right[0, 21, 21] = 10, 20, 30, 40
    canvas = mm.overlay(left, right)[0]
    assert canvas.shape == (36, 36)
    o = (36 - 28 - 6) // 2
    assert canvas[o, o] == 10 and canvas[o + 6, o + 6] == 20
    assert canvas[o + 27, o + 27] == 40  # both digits have ink here: the brighter pixel wins
    assert mm.overlay(left, right).sum() == 10 + 20 + 40


def test_digit_pools_are_disjoint_and_cover_all_digits():
    pools = mm.digit_pools()
    assert [len(p) for p in pools] == [6_000, 2_000, 2_000]
    assert sorted(np.concatenate(pools).tolist()) == list(range(10_000))


def test_pairs_use_only_their_pool_and_two_different_digits():
    # digit k of a fake pool is a solid 28×28 square of brightness k + 1: the pixel seen only in the
    # left digit's corner tells which digit went left, likewise for the right corner
    pool = np.repeat(np.arange(1, 51, dtype=np.uint8)[:, None, None], 28, 1).repeat(28, 2)
    data = mm.make_pairs(pool, np.arange(50, dtype=np.uint8) % 10, 500, np.random.default_rng(0))
    o = (36 - 28 - 6) // 2
    left = (data.x[:, 0, o, o] * 255).round().long() - 1
    right = (data.x[:, 0, o + 33, o + 33] * 255).round().long() - 1
    assert left.min() >= 0 and right.max() < 50 and bool((left != right).all())
    assert torch.equal(data.y["left"], left % 10) and torch.equal(data.y["right"], right % 10)


def test_multimnist_seed_changes_train_only(device):
    a, b = (mc.multimnist(n_train=100, n_val=50, n_test=50, seed=seed, device=device) for seed in (0, 1))
    assert all(t.device.type == device.type for split in a for t in (split.x, *split.y.values()))
    assert torch.equal(a.val.x, b.val.x) and torch.equal(a.test.y["left"], b.test.y["left"])
    assert not torch.equal(a.train.x, b.train.x)
    assert a.train.x.shape == (100, 1, 36, 36) and 0 <= a.train.x.min() and a.train.x.max() <= 1


@pytest.mark.parametrize("p", [-1.5, 1.01, float("nan")])
def test_correlation_outside_range_is_refused(p):
    with pytest.raises(ValueError, match=r"p must lie in \[-1, 1\]"):
        mc.correlated_regression(p, n_train=10)


def test_identical_tasks_at_p_one_without_noise(device):
    s = mc.correlated_regression(1.0, n_train=50, n_val=10, n_test=10, noise=0.0, device=device)
    assert torch.allclose(s.train.y["t1"], s.train.y["t2"], atol=1e-5)


def test_task_weight_vectors_have_cosine_p(device):
    # without the sine terms (m = 0), y_t = w_tᵀx, so corr(y1, y2) = cos(w1, w2) = p
    for p in (-0.5, 0.0, 0.6):
        s = mc.correlated_regression(p, n_train=50_000, n_val=10, n_test=10, m=0, noise=0.0, device=device)
        assert abs(mc.label_correlation(s.train) - p) < 0.02


def test_structure_fixed_across_seeds(device):
    a = mc.correlated_regression(0.5, n_train=20_000, n_val=10, n_test=10, seed=0, device=device)
    b = mc.correlated_regression(0.5, n_train=20_000, n_val=10, n_test=10, seed=1, device=device)
    assert not torch.equal(a.train.x, b.train.x)
    assert abs(mc.label_correlation(a.train) - mc.label_correlation(b.train)) < 0.03


def test_low_rank_regression_shapes_scale_and_relatedness(device):
    s = mc.low_rank_regression(n_tasks=12, n_train=30, n_val=20, n_test=4_000, rho=1.0, device=device)
    assert s.train.tasks == [f"t{t:02d}" for t in range(12)] and s.train.x.shape == (30, 50)
    ys = torch.stack([s.test.y[t] for t in s.test.tasks], 1)
    assert abs(float(ys.var(0).mean()) - (1 + 0.1 ** 2)) < 0.1  # unit-variance signal plus noise
    # noise-free targets are combinations of tanh features: with rho = 1 every task uses the same
    # k = 4 features, so the n×T target matrix has rank 4; with rho = 0 each task has its own
    def rank(rho: float) -> int:
        s = mc.low_rank_regression(n_tasks=12, n_train=500, n_val=1, n_test=1, rho=rho, noise=0.0, device=device)
        # in float64 on the CPU: MPS has no float64
        targets = torch.stack([s.train.y[t] for t in s.train.tasks], 1).cpu().double()
        return int(torch.linalg.matrix_rank(targets, rtol=1e-6))
    assert rank(1.0) == 4 and rank(0.0) == 12
    with pytest.raises(ValueError, match="rho"):
        mc.low_rank_regression(rho=1.5)


def test_minibatches_cover_every_row_once(device):
    data = mc.MultiTaskData(torch.arange(10.0, device=device).unsqueeze(1), {"a": torch.arange(10, device=device)})
    batches = list(mc.minibatches(data, 3, generator=torch.Generator().manual_seed(0)))
    assert all(b.x.device.type == device.type for b in batches)
    seen = torch.cat([b.y["a"] for b in batches])
    assert sorted(seen.tolist()) == list(range(10))
    with pytest.raises(ValueError, match="targets for 10 inputs"):
        mc.MultiTaskData(torch.zeros(10, 2), {"a": torch.zeros(9)})
    with pytest.raises(KeyError, match="No targets"):
        data.only(["b"])


def test_adult_tasks_splits_and_leaks(device):
    s = mc.adult(("income", "hours", "never_married"), device=device)
    assert [len(p) for p in s] == [22_792, 4_884, 4_885]
    assert set(s.train.y) == {"income", "hours", "never_married"}
    assert 0.2 < float(s.train.y["income"].float().mean()) < 0.3  # about 24 % earn more than 50K
    assert abs(float(s.train.y["hours"].mean())) < 1e-4 and abs(float(s.train.y["hours"].std()) - 1) < 1e-3
    # never_married removes marital status and relationship (13 categories); hours removes one column
    assert mc.adult(("income",)).train.x.shape[1] - s.train.x.shape[1] == 7 + 6 + 1
    raw = mc.adult(("hours",), standardize_hours=False)
    assert 35 < float(raw.train.y["hours"].mean()) < 45
    with pytest.raises(ValueError, match=r"Unknown Adult task\(s\) \['salary'\]"):
        mc.adult(("salary",))
