"""CKNNA: centered kernel nearest-neighbour alignment (Huh et al. 2024, platonic-rep).

Exactly the reference algorithm (``cknna`` with topk=10, unbiased HSIC, not distance-agnostic):

1. Outlier clamp: q = mean over samples of each sample's 0.95-quantile of |x| (torch.quantile,
   linear interpolation); features clamped to [-q, q]. (The reference's ``--precise`` mode uses
   one global quantile instead; not done here.)
2. L2-normalise each sample; K = A A^T, L = B B^T.
3. For each kernel, the top-k neighbours of each row with the diagonal excluded; mask = the
   row-wise intersection of the two kNN sets (mask_ij = 1 when j is among i's k nearest
   neighbours under both kernels).
4. sim(K, L) = HSIC_unbiased(mask * K, mask * L), the mask computed from K and L; likewise
   sim(K, K) and sim(L, L) with their own masks;
   CKNNA = sim(K, L) / (sqrt(sim(K, K) sim(L, L)) + 1e-6).

HSIC_unbiased(K, L) with zeroed diagonals, n samples:
    [sum(K * L^T) + sum(K) sum(L) / ((n-1)(n-2)) - 2 sum(K L) / (n-2)] / (n (n-3)).

At most ``max_samples`` = 1024 samples (a seeded random subset above that). Scale: 0..1.
The paper compares encoder latents with shared anchors of the same items (rows paired).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from metrics.bootstrap import DEFAULT_LEVEL, Score, delete_half
from metrics.validation import MetricInputError, as_features

MAX_SAMPLES = 1024


def remove_outliers(feats: torch.Tensor, q: float = 0.95) -> torch.Tensor:
    """Clamp to +-(mean over samples of each sample's q-quantile of |x|); q = 1 disables it.

    Args:
        feats: (N, D) features, one sample per row.
        q: the quantile.

    Returns:
        The clamped features, shape (N, D).
    """
    if q == 1:
        return feats
    threshold = torch.quantile(feats.abs().flatten(start_dim=1), q, dim=1).mean()
    return feats.clamp(-threshold, threshold)


def hsic_unbiased(k_mat: torch.Tensor, l_mat: torch.Tensor) -> torch.Tensor:
    """Unbiased HSIC of two kernel matrices (diagonals zeroed), as in the module docstring.

    Args:
        k_mat: (n, n) kernel matrix, n >= 4.
        l_mat: (n, n) kernel matrix of the same samples.

    Returns:
        A 0-d tensor.
    """
    n = k_mat.shape[0]
    k0 = k_mat.clone().fill_diagonal_(0)
    l0 = l_mat.clone().fill_diagonal_(0)
    value = (
        torch.sum(k0 * l0.T)
        + torch.sum(k0) * torch.sum(l0) / ((n - 1) * (n - 2))
        - 2 * torch.sum(k0 @ l0) / (n - 2)
    )
    return value / (n * (n - 3))


def _knn_mask(kernel: torch.Tensor, k: int) -> torch.Tensor:
    masked = kernel.clone().fill_diagonal_(float("-inf"))
    idx = torch.topk(masked, k, dim=1).indices
    return torch.zeros_like(kernel).scatter_(1, idx, 1.0)


def _similarity(k_mat: torch.Tensor, l_mat: torch.Tensor, k: int) -> torch.Tensor:
    mask = _knn_mask(k_mat, k) * _knn_mask(l_mat, k)
    return hsic_unbiased(mask * k_mat, mask * l_mat)


def _prepare(x: np.ndarray, q: float) -> torch.Tensor:
    return F.normalize(remove_outliers(torch.as_tensor(x, dtype=torch.float64), q), dim=-1)


def _cknna(a: np.ndarray, b: np.ndarray, k: int, q: float = 0.95) -> float:
    fa, fb = _prepare(a, q), _prepare(b, q)
    k_mat, l_mat = fa @ fa.T, fb @ fb.T
    sim_kl = _similarity(k_mat, l_mat, k)
    sim_kk = _similarity(k_mat, k_mat, k)
    sim_ll = _similarity(l_mat, l_mat, k)
    return float(sim_kl / (torch.sqrt(sim_kk * sim_ll) + 1e-6))


def _checked(feats_a: Any, feats_b: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    a = as_features(feats_a, "feats_a")
    b = as_features(feats_b, "feats_b")
    if len(a) != len(b):
        raise MetricInputError(
            f"feats_a has {len(a)} rows and feats_b {len(b)}; row i of each must be one item"
        )
    if len(a) < max(k + 2, 4):
        raise MetricInputError(
            f"CKNNA with k={k} needs at least {max(k + 2, 4)} items, got {len(a)}"
        )
    return a, b


def _subset(n: int, max_samples: int, seed: int) -> np.ndarray:
    if n <= max_samples:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))


def cknna(
    feats_a: Any,
    feats_b: Any,
    k: int = 10,
    max_samples: int = MAX_SAMPLES,
    seed: int = 0,
    q: float = 0.95,
) -> float:
    """CKNNA of paired feature sets (N, D_a) and (N, D_b); see the module docstring.

    ``q`` is the outlier-clamp quantile (1 disables the clamp, as in the reference).
    """
    a, b = _checked(feats_a, feats_b, k)
    rows = _subset(len(a), max_samples, seed)
    return _cknna(a[rows], b[rows], k, q)


def cknna_score(
    feats_a: Any,
    feats_b: Any,
    k: int = 10,
    resamples: int = 200,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    max_samples: int = MAX_SAMPLES,
) -> Score:
    """CKNNA with its delete-half jackknife interval (metrics.bootstrap).

    Each subsample keeps half of the items, without replacement: duplicated rows would be each
    other's nearest neighbours and distort the kNN masks, and CKNNA moves with the number of
    items, so only the subsamples' spread is used, around the full-set value (cut at 1).
    Default 200 subsamples (each is an n/2 x n/2 computation), fewer than the 1,000
    (``DEFAULT_RESAMPLES``) of the other metrics' intervals.
    """
    a, b = _checked(feats_a, feats_b, k)
    if len(a) < 2 * (k + 2):
        raise MetricInputError(
            f"a CKNNA interval with k={k} needs at least {2 * (k + 2)} items, got {len(a)}: a "
            f"subsample keeps half of them, and its kNN sets need more than {k + 1} items"
        )
    rows = _subset(len(a), max_samples, seed)
    a, b = a[rows], b[rows]
    return delete_half(
        lambda idx: _cknna(a[idx], b[idx], k), len(a), resamples, seed, level, ceiling=1.0
    )


class CKNNA:
    """torchmetrics-style CKNNA: ``update(feats_a, feats_b)`` with paired rows, ``compute()``.

    CKNNA needs every pair of items at once (kNN sets over the whole set), so the features are
    kept; at most ``max_samples`` of them are used.
    """

    def __init__(self, k: int = 10, max_samples: int = MAX_SAMPLES, seed: int = 0) -> None:
        self.k, self.max_samples, self.seed = k, max_samples, seed
        self.reset()

    def reset(self) -> None:
        """Forget every batch so far."""
        self.a: list[np.ndarray] = []
        self.b: list[np.ndarray] = []

    def update(self, feats_a: Any, feats_b: Any) -> None:
        """Keep a batch of paired features, (n, D_a) and (n, D_b)."""
        a, b = as_features(feats_a, "feats_a"), as_features(feats_b, "feats_b")
        if len(a) != len(b):
            raise MetricInputError(f"feats_a has {len(a)} rows and feats_b {len(b)}")
        self.a.append(a)
        self.b.append(b)

    def compute(self) -> float:
        """CKNNA of every pair kept so far (a seeded subset of ``max_samples`` above that)."""
        if not self.a:
            raise MetricInputError("CKNNA.compute() before any update()")
        a, b = np.concatenate(self.a), np.concatenate(self.b)
        return cknna(a, b, self.k, self.max_samples, self.seed)
