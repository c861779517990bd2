"""Frechet distance (FID's core) between Gaussian fits of two feature sets.

    d^2 = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))

Means and covariances (unbiased, divided by N - 1, as pytorch-fid's ``np.cov``) are computed in
float64 from streaming sufficient statistics (count, sum, sum of outer products), so memory does
not grow with the number of samples. The trace of the matrix square root is computed as the sum
of square roots of the eigenvalues of S_a^(1/2) S_b S_a^(1/2), a symmetric positive semi-definite
matrix with the same eigenvalues as S_a S_b (negative round-off is clipped to zero); with fewer
samples than dimensions (a few hundred Inception features, and every bootstrap resample of
them) the same trace comes exactly from the singular values of an N_a x N_b matrix instead.

FID is this distance on Inception-v3 pool features in the paper benchmark (pytorch-fid convention)
and on the image evaluator's features in the embedded benchmark. Not scaled (no x100).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from metrics.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    DELETE_HALF,
    Score,
    delete_half_interval,
    half_sample_indices,
)
from metrics.validation import MetricInputError, as_features


class RankWarning(UserWarning):
    """Fewer samples than feature dimensions: the covariance is rank-deficient."""


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_from_stats(
    mu_a: np.ndarray, sigma_a: np.ndarray, mu_b: np.ndarray, sigma_b: np.ndarray
) -> float:
    """Frechet distance between N(mu_a, sigma_a) and N(mu_b, sigma_b), in float64."""
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    sigma_a, sigma_b = np.asarray(sigma_a, np.float64), np.asarray(sigma_b, np.float64)
    if mu_a.shape != mu_b.shape or sigma_a.shape != sigma_b.shape:
        raise MetricInputError(
            f"feature dimensions differ: {mu_a.shape} vs {mu_b.shape}; both sets must come from "
            "the same backbone"
        )
    root_a = _sqrt_psd(sigma_a)
    product = root_a @ sigma_b @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0.0, None)).sum()
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def _warn_rank(n: int, dim: int, name: str) -> None:
    if n <= dim:
        warnings.warn(
            f"{name}: {n} samples in {dim} feature dimensions; the covariance has rank at most "
            f"{n - 1} < {dim}, so the Frechet distance is biased and unstable. Use more samples "
            "than feature dimensions (or lower-dimensional features).",
            RankWarning,
            stacklevel=3,
        )


def frechet_distance(feats_a: Any, feats_b: Any) -> float:
    """Frechet distance between the Gaussian fits of two (N, D) feature sets (float64)."""
    a = as_features(feats_a, "feats_a", min_samples=2)
    b = as_features(feats_b, "feats_b", min_samples=2)
    if a.shape[1] != b.shape[1]:
        raise MetricInputError(f"feats_a has {a.shape[1]} dimensions, feats_b {b.shape[1]}")
    _warn_rank(len(a), a.shape[1], "feats_a")
    _warn_rank(len(b), b.shape[1], "feats_b")
    return _frechet_rows(a, b)


def frechet_score(
    feats_a: Any,
    feats_b: Any,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """Frechet distance with its delete-half jackknife interval (metrics.bootstrap).

    The sets are unpaired (generated vs real): each subsample keeps half of a's items and half
    of b's, drawn independently without replacement. The distance is biased upwards at finite
    N, so the subsamples' values sit above the full-set value; only their spread is used, and
    the interval is centred on the full-set value (cut at 0).
    """
    a = as_features(feats_a, "feats_a", min_samples=2)
    value, values = frechet_halves(a, feats_b, resamples, seed)
    low, high = delete_half_interval(value, values, level, floor=0.0)
    return Score(value, low, high, len(a), resamples, level, DELETE_HALF)


def frechet_halves(
    feats_a: Any, feats_b: Any, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, np.ndarray]:
    """The Frechet distance of two feature sets and its ``resamples`` delete-half subsample
    values (half of a's items and half of b's, drawn by ``seed`` and ``seed + 1``).

    The subsamples depend only on the set sizes and the seed, so sets of the same sizes share
    them: the mean of several distances has the mean of their subsample values as its own
    (``metrics.bootstrap.delete_half_interval`` turns either into an interval).
    """
    a = as_features(feats_a, "feats_a", min_samples=2)
    b = as_features(feats_b, "feats_b", min_samples=2)
    if min(len(a), len(b)) < 4:
        raise MetricInputError(
            f"a Frechet interval needs at least 4 items per set (a subsample keeps half, and a "
            f"covariance needs 2), got {len(a)} and {len(b)}; score more items, or use "
            "frechet_distance for the value alone"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankWarning)
        value = frechet_distance(a, b)
    values = _frechet_subsamples(
        a,
        b,
        half_sample_indices(len(a), resamples, seed),
        half_sample_indices(len(b), resamples, seed + 1),
    )
    return value, values


def frechet_seed_mean(
    generated: Sequence[Any],
    real: Any,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """The mean Frechet distance of several generated sets against one real set, with the
    delete-half interval of that mean.

    Args:
        generated: one (N, D) feature set per training seed, rows paired across the sets (the
            same test items in the same order).
        real: the (M, D) features of the real items.
        resamples: as for ``frechet_score``.
        seed: as for ``frechet_score``.
        level: as for ``frechet_score``.

    Every subsample keeps the same half of the items in every generated set (and one half of
    the real items), so the interval reflects the items, not the seeds; with one set this is
    ``frechet_score`` exactly.
    """
    sets = [as_features(g, f"generated[{i}]", min_samples=2) for i, g in enumerate(generated)]
    if not sets:
        raise MetricInputError("no generated feature sets to average")
    if any(s.shape != sets[0].shape for s in sets):
        shapes = sorted({s.shape for s in sets})
        raise MetricInputError(
            f"the generated sets must score the same items with one backbone, got shapes {shapes}"
        )
    halves = [frechet_halves(a, real, resamples, seed) for a in sets]
    value = float(np.mean([v for v, _ in halves]))
    values = np.mean([h for _, h in halves], axis=0)
    low, high = delete_half_interval(value, values, level, floor=0.0)
    return Score(value, low, high, len(sets[0]), resamples, level, DELETE_HALF)


# Subsamples whose D x D covariances are computed together as stacked float64 tensors (the
# same formulas as frechet_from_stats, batched; at D = 64 about 3x faster than one by one).
BATCHED_MAX_DIM = 256
BATCH = 250


def _frechet_subsamples(
    a: np.ndarray, b: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray
) -> np.ndarray:
    """The distance between a[rows_a[s]] and b[rows_b[s]] for every subsample s."""
    dim = a.shape[1]
    if dim > BATCHED_MAX_DIM or rows_a.shape[1] + rows_b.shape[1] < dim:
        pairs = zip(rows_a, rows_b, strict=True)
        return np.array([_frechet_rows(a[ra], b[rb]) for ra, rb in pairs])
    a64, b64 = (
        torch.from_numpy(np.asarray(a, np.float64)),
        torch.from_numpy(np.asarray(b, np.float64)),
    )
    out = []
    for start in range(0, len(rows_a), BATCH):
        mu_a, sigma_a = _stacked_stats(a64, rows_a[start : start + BATCH])
        mu_b, sigma_b = _stacked_stats(b64, rows_b[start : start + BATCH])
        values, vectors = torch.linalg.eigh((sigma_a + sigma_a.mT) / 2)
        root_a = (vectors * values.clamp(min=0.0).sqrt()[:, None, :]) @ vectors.mT
        product = root_a @ sigma_b @ root_a
        trace_sqrt = torch.linalg.eigvalsh((product + product.mT) / 2).clamp(min=0.0).sqrt().sum(1)
        diff = mu_a - mu_b
        traces = sigma_a.diagonal(dim1=1, dim2=2).sum(1) + sigma_b.diagonal(dim1=1, dim2=2).sum(1)
        out.append(((diff * diff).sum(1) + traces - 2.0 * trace_sqrt).clamp(min=0.0).numpy())
    return np.concatenate(out)


def _stacked_stats(x: torch.Tensor, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Means (S, D) and unbiased covariances (S, D, D) of x[rows[s]]."""
    sub = x[torch.from_numpy(rows)]
    mu = sub.mean(dim=1)
    centred = sub - mu[:, None, :]
    return mu, centred.mT @ centred / (rows.shape[1] - 1)


def _frechet_rows(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) + len(b) < a.shape[1]:
        return frechet_from_rows_low_rank(a, b)
    return frechet_from_stats(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )


def frechet_from_rows_low_rank(a: np.ndarray, b: np.ndarray) -> float:
    """The same distance from the rows, exactly, when there are fewer rows than dimensions.

    With centred rows X_a, X_b and S = X^T X / (n - 1), the non-zero eigenvalues of S_a S_b are
    those of C C^T with C = X_a X_b^T / sqrt((n_a - 1)(n_b - 1)), so tr (S_a S_b)^(1/2) is the
    sum of C's singular values: an n_a x n_b problem instead of two D x D ones (FID's D = 2048
    with a few hundred samples, and every bootstrap resample of them).

    Args:
        a: (n_a, D) features of one set, n_a >= 2.
        b: (n_b, D) features of the other set, n_b >= 2.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    xa, xb = a - a.mean(0), b - b.mean(0)
    scale = np.sqrt((len(a) - 1) * (len(b) - 1))
    trace_sqrt = np.linalg.svd(xa @ xb.T / scale, compute_uv=False).sum()
    diff = a.mean(0) - b.mean(0)
    traces = (xa * xa).sum() / (len(a) - 1) + (xb * xb).sum() / (len(b) - 1)
    return float(max(diff @ diff + traces - 2.0 * trace_sqrt, 0.0))


class FrechetStats:
    """Streaming float64 sufficient statistics of a feature set: count, sum, outer products."""

    def __init__(self, dim: int | None = None) -> None:
        self.n = 0
        self.total = None if dim is None else np.zeros(dim)
        self.outer = None if dim is None else np.zeros((dim, dim))

    def update(self, feats: Any) -> None:
        """Add (n, D) features; D must match the earlier ones."""
        x = as_features(feats, "features")
        if self.total is None:
            self.total = np.zeros(x.shape[1])
            self.outer = np.zeros((x.shape[1], x.shape[1]))
        if x.shape[1] != len(self.total):
            raise MetricInputError(
                f"features have {x.shape[1]} dimensions, earlier ones {len(self.total)}"
            )
        self.n += len(x)
        self.total += x.sum(0)
        self.outer += x.T @ x

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """The (D,) mean and the unbiased (D, D) covariance; needs at least 2 samples."""
        if self.n < 2:
            raise MetricInputError(f"need at least 2 samples for a covariance, have {self.n}")
        mean = self.total / self.n
        cov = (self.outer - self.n * np.outer(mean, mean)) / (self.n - 1)
        return mean, cov


FeatureFn = nn.Module | Callable[[Any], Any]


class FrechetDistance:
    """torchmetrics-style FID/FAD: ``update(batch, real=...)`` then ``compute()``.

    ``backbone`` maps a batch to (N, D) features (an nn.Module or any callable); None means the
    batches are features already. Only sufficient statistics are kept.
    """

    def __init__(self, backbone: FeatureFn | None = None, name: str = "FID") -> None:
        self.backbone = backbone
        self.name = name
        self.reset()

    def reset(self) -> None:
        """Forget both sets."""
        self.real = FrechetStats()
        self.fake = FrechetStats()

    def _features(self, batch: Any) -> Any:
        if self.backbone is None:
            return batch
        with torch.no_grad():
            return self.backbone(batch)

    def update(self, batch: Any, real: bool) -> None:
        """Add a batch's (n, D) features to the real or the generated set."""
        (self.real if real else self.fake).update(self._features(batch))

    def compute(self) -> float:
        """The Frechet distance between the real and the generated set."""
        mu_r, cov_r = self.real.mean_cov()
        mu_f, cov_f = self.fake.mean_cov()
        _warn_rank(self.real.n, len(mu_r), f"{self.name} real set")
        _warn_rank(self.fake.n, len(mu_f), f"{self.name} generated set")
        return frechet_from_stats(mu_r, cov_r, mu_f, cov_f)


FID = FrechetDistance
