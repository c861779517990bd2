"""95 % bootstrap confidence intervals over test items, shared by every metric.

A metric's interval resamples its test items with replacement (``resamples`` times, from a
generator seeded by ``seed``) and recomputes the metric on each resample; the interval is the
percentile interval of those values. Metrics whose value is a mean of per-item scores pass the
scores; the others (FID, FAD, CKNNA) pass a function of the resampled item indices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from metrics.validation import MetricInputError

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Score:
    """A metric value with its bootstrap percentile interval."""

    value: float
    low: float
    high: float
    n: int
    resamples: int
    level: float = DEFAULT_LEVEL

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n) item indices drawn with replacement."""
    if n < 1:
        raise ValueError("cannot bootstrap an empty set of items")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, got {resamples}")
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
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
    """Interval of ``statistic(indices)`` over resampled item indices; value on all items."""
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
