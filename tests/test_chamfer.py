"""Chamfer distance against an independent nearest-neighbour search (scipy's k-d tree)."""

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from metrics.chamfer import (
    ChamferDistance,
    chamfer_distance,
    chamfer_per_item,
    chamfer_score,
    chamfer_tensor,
)
from metrics.validation import MetricInputError


def kd_tree_chamfer(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared nearest-neighbour distance a -> b plus b -> a, by k-d tree queries."""
    ab, _ = cKDTree(b).query(a)
    ba, _ = cKDTree(a).query(b)
    return float(np.mean(ab**2) + np.mean(ba**2))


def test_chamfer_matches_a_kd_tree_search_for_clouds_of_different_sizes():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(70, 100, 3)), rng.normal(size=(70, 37, 3))  # more than one chunk
    expected = [kd_tree_chamfer(x, y) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(chamfer_per_item(a, b), expected, rtol=1e-10)
    assert chamfer_distance(a, b) == pytest.approx(1000 * np.mean(expected), rel=1e-10)


def test_chamfer_is_zero_on_itself_symmetric_and_blind_to_point_order():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 50, 3)), rng.normal(size=(4, 50, 3))
    assert np.all(chamfer_per_item(a, a) == 0)
    np.testing.assert_allclose(chamfer_per_item(a, b), chamfer_per_item(b, a))
    shuffled = a[:, rng.permutation(50)]
    np.testing.assert_allclose(chamfer_per_item(shuffled, b), chamfer_per_item(a, b))


def test_a_shifted_cloud_costs_twice_the_squared_shift_and_the_loss_has_gradients():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(1, 64, 3)) * 10  # points far apart: each one's neighbour is its copy
    shift = np.array([0.01, 0.0, 0.0])
    assert chamfer_per_item(a + shift, a)[0] == pytest.approx(2 * 0.01**2, rel=1e-6)
    x = torch.tensor(a + shift, requires_grad=True)
    chamfer_tensor(x, torch.tensor(a)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_the_matrix_product_form_for_training_agrees_with_the_exact_one():
    g = torch.Generator().manual_seed(4)
    a, b = torch.rand(8, 256, 3, generator=g) * 2 - 1, torch.rand(8, 256, 3, generator=g) * 2 - 1
    fast, exact = chamfer_tensor(a, b, exact=False), chamfer_tensor(a.double(), b.double())
    torch.testing.assert_close(fast.double(), exact, rtol=1e-4, atol=1e-6)


def test_chamfer_interval_class_form_and_bad_input():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(40, 32, 3)), rng.normal(size=(40, 32, 3))
    score = chamfer_score(a, b, resamples=200)
    assert score.low <= score.value <= score.high and score.n == 40
    metric = ChamferDistance()
    metric.update(torch.tensor(a[:25]), b[:25])
    metric.update(a[25:], torch.tensor(b[25:]))
    assert metric.compute() == pytest.approx(chamfer_distance(a, b))
    with pytest.raises(MetricInputError, match="paired by row"):
        chamfer_per_item(a, b[:3])
    with pytest.raises(MetricInputError, match=r"\(clouds, points, 3\)"):
        chamfer_per_item(a[..., :2], b[..., :2])
    bad = a.copy()
    bad[5, 0, 0] = np.nan
    with pytest.raises(MetricInputError, match="NaN or inf in 1 of 40 clouds"):
        chamfer_per_item(bad, b)
    with pytest.raises(MetricInputError, match="before any update"):
        ChamferDistance().compute()
