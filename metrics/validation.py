"""Input checks shared by every metric: clear errors instead of silently wrong numbers."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


class MetricInputError(ValueError):
    """A metric was given input it cannot score: NaN/inf, mismatched ids, too few samples, ..."""


def as_features(x: Any, name: str, min_samples: int = 1) -> np.ndarray:
    """A finite float64 (N, D) array from a tensor or array, or MetricInputError naming ``name``."""
    torch = sys.modules.get("torch")  # a tensor exists only once torch is imported
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != 2:
        raise MetricInputError(f"{name} must be 2-D (samples, features), got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise MetricInputError(
            f"{name} has NaN or inf in {len(rows)} of {len(array)} rows (first: "
            f"{rows[:5].tolist()}); check the model or backbone that produced them"
        )
    if len(array) < min_samples:
        raise MetricInputError(
            f"{name} has {len(array)} samples; this metric needs at least {min_samples}"
        )
    return array


def check_paired(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    """Paired features: same number of rows, same width.

    Args:
        a: (N, D) features.
        b: (N, D) features, row i paired with row i of ``a``.
        names: the two arrays' names, for the error.
    """
    if a.shape != b.shape:
        raise MetricInputError(
            f"{names[0]} {a.shape} and {names[1]} {b.shape} must have the same shape: row i of "
            "each is one test item"
        )


def check_same_ids(first: Mapping, second: Mapping, names: tuple[str, str]) -> list:
    """The sorted shared ids of two id-keyed mappings, which must hold exactly the same ids."""
    a, b = set(first), set(second)
    if a != b:
        only_a, only_b = sorted(a - b, key=str)[:5], sorted(b - a, key=str)[:5]
        raise MetricInputError(
            f"{names[0]} and {names[1]} must have the same ids: {len(a - b)} only in {names[0]} "
            f"(e.g. {only_a}), {len(b - a)} only in {names[1]} (e.g. {only_b})"
        )
    if not a:
        raise MetricInputError(f"{names[0]} and {names[1]} are empty")
    return sorted(a, key=str)


def check_texts(texts: Sequence[str], name: str) -> None:
    """Non-empty strings."""
    empty = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if empty:
        raise MetricInputError(
            f"{name} has {len(empty)} empty or non-string entries (e.g. {empty[:5]})"
        )
