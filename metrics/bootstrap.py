"""95 % confidence intervals over test items, shared by every metric.

Means of per-item scores (CLIP, CLAP, AIS, CIDEr, attribute accuracy): the percentile bootstrap.
The items are resampled with replacement (``resamples`` times, from a generator seeded by
``seed``), the mean is recomputed on each resample, and the interval is the percentiles of
those values. Sound for a mean, and it contains the mean.

Set statistics that are biased at finite N (the Frechet distances, CKNNA): the delete-half
jackknife (Shao & Wu 1989, "A general theory for jackknife variance estimation", with d = n/2).
A resample with replacement holds about 63 % distinct items, and these statistics move with the
number of distinct items (a Frechet distance grows as N shrinks), so percentile intervals sat
wholly above the value they were meant to bracket. Instead each subsample draws half of the
items without replacement (no duplicates), and the variance of the statistic over subsamples is
the delete-d jackknife's estimate of its variance on all n items: for d = n/2 its factor
(n - d) / d is 1. The interval is value +- z * that standard deviation, cut at the statistic's
range: it always contains the value. Its centre is the full-set value, not the subsamples'
mean, which carries their larger finite-sample bias.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from metrics.validation import MetricInputError

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95


PERCENTILE = "percentile bootstrap"
DELETE_HALF = "delete-half jackknife"


@dataclass(frozen=True)
class Score:
    """A metric value with its interval.

    Attributes:
        value: the metric on every item.
        low, high: the interval's ends (low <= value <= high).
        n: items.
        resamples: resamples (percentile bootstrap) or subsamples (delete-half jackknife).
        level: the interval's coverage.
        method: PERCENTILE or DELETE_HALF (the module docstring).
    """

    value: float
    low: float
    high: float
    n: int
    resamples: int
    level: float = DEFAULT_LEVEL
    method: str = PERCENTILE

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"

    @property
    def half_width(self) -> float:
        """Half the interval's width, (high - low) / 2."""
        return (self.high - self.low) / 2


def resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n) item indices drawn with replacement."""
    if n < 1:
        raise ValueError("cannot bootstrap an empty set of items")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, got {resamples}")
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def half_sample_indices(n: int, subsamples: int, seed: int) -> np.ndarray:
    """(subsamples, n // 2) item indices, each row drawn without replacement."""
    if n < 4:
        raise ValueError(f"a delete-half jackknife needs at least 4 items, got {n}")
    if subsamples < 2:
        raise ValueError(f"subsamples must be at least 2, got {subsamples}")
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((subsamples, n)), axis=1)[:, : n // 2]


def delete_half_interval(
    value: float,
    values: np.ndarray,
    level: float,
    floor: float = -np.inf,
    ceiling: float = np.inf,
) -> tuple[float, float]:
    """value +- z * sd(values) of half-sample statistics, cut at [floor, ceiling].

    Args:
        value: the statistic on every item.
        values: (S,) the statistic on each of S half-samples.
        level: the interval's coverage, in (0, 1).
        floor: the statistic's lowest possible value.
        ceiling: the statistic's highest possible value.

    Raises:
        ValueError: a subsample's statistic is NaN or inf.
    """
    from scipy.stats import norm

    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("a half-sample statistic is NaN or inf; the interval is undefined")
    half = float(norm.ppf(0.5 + level / 2)) * float(values.std(ddof=1))
    return max(value - half, floor), min(value + half, ceiling)


def delete_half(
    statistic: Callable[[np.ndarray], float],
    n: int,
    subsamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    floor: float = -np.inf,
    ceiling: float = np.inf,
) -> Score:
    """Interval of ``statistic(indices)`` by the delete-half jackknife; value on all items.

    Args:
        statistic: maps item indices, (n,) for the value and (n // 2,) for each
            subsample, to the statistic on those items.
        n: the number of items.
    """
    value = float(statistic(np.arange(n)))
    values = np.array([statistic(rows) for rows in half_sample_indices(n, subsamples, seed)])
    low, high = delete_half_interval(value, values, level, floor, ceiling)
    return Score(value, low, high, n, subsamples, level, DELETE_HALF)


def percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` interval of values, (R,) resampled statistics."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    alpha = (1 - level) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def bootstrap(
    statistic: Callable[[np.ndarray], float],
    n: int,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """Interval of ``statistic(indices)`` over resampled item indices; value on all items.

    Args:
        statistic: maps (n,) item indices (drawn with replacement, or every item once for
            the value) to the statistic on those items.
        n: the number of items.
    """
    value = float(statistic(np.arange(n)))
    draws = resample_indices(n, resamples, seed)
    values = np.array([statistic(rows) for rows in draws])
    low, high = percentile_interval(values, level)
    return Score(value, low, high, n, resamples, level)


def bootstrap_mean(
    per_item: np.ndarray,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    scale: float = 1.0,
) -> Score:
    """Interval of ``scale * mean(per_item)``, vectorised over resamples.

    Args:
        per_item: (n,) per-item scores.

    Raises:
        MetricInputError: a per-item value is NaN or inf (it would make the score NaN).
    """
    per_item = np.asarray(per_item, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(per_item))
    if bad.size:
        raise MetricInputError(
            f"per-item values hold NaN or inf at items {bad[:10].tolist()} ({bad.size} of "
            f"{per_item.size}); the metric that computed them failed on those items"
        )
    draws = resample_indices(len(per_item), resamples, seed)
    values = scale * per_item[draws].mean(axis=1)
    low, high = percentile_interval(values, level)
    return Score(float(scale * per_item.mean()), low, high, len(per_item), resamples, level)


def stratified_bootstrap_mean(
    groups: Sequence[np.ndarray],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """Interval of the mean of the groups' means, resampling items within each group
    (independent item sets, e.g. the test sets of several tasks), vectorised over resamples.

    Args:
        groups: each group's per-item scores, of shape (n_k,) for group k.

    Raises:
        MetricInputError: no group, an empty group, or a value that is NaN or inf.
    """
    groups = [np.asarray(g, dtype=np.float64) for g in groups]
    if not groups or any(g.size == 0 for g in groups):
        raise MetricInputError(
            f"need one or more non-empty groups, got sizes {[g.size for g in groups]}"
        )
    for g in groups:
        if not np.isfinite(g).all():
            raise MetricInputError(
                "per-item values hold NaN or inf; the metric that computed them failed"
            )
    values = np.zeros(resamples)
    for k, g in enumerate(groups):
        values += g[resample_indices(len(g), resamples, seed + k)].mean(axis=1)
    values /= len(groups)
    low, high = percentile_interval(values, level)
    value = float(np.mean([g.mean() for g in groups]))
    return Score(value, low, high, sum(g.size for g in groups), resamples, level)
