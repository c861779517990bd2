"""Ground-truth attribute accuracy: the embedded benchmark's own addition to the paper's metrics.

An output counts as correct for an attribute when the evaluator of its modality (image or audio
classifier, caption parser) recovers the scene's true value. Values are integer class indices
(whole-number floats are accepted); NaN, fractional and string values are refused with an
error. Unparseable captions get code -1 and count as wrong. Accuracy is a fraction in [0, 1],
per attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Score, bootstrap_mean
from metrics.validation import MetricInputError


def _codes(values: Any, name: str) -> np.ndarray:
    """(N,) int64 class indices, or MetricInputError saying what is wrong and how to fix it.

    Integer arrays pass; float arrays pass when every value is a whole number (codes that went
    through a float array). NaN, fractions, infinities, strings and other dtypes are refused:
    compared with the truth they would silently count as wrong.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise MetricInputError(f"{name} must be 1-D (one code per item), got shape {array.shape}")
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        nan = np.flatnonzero(np.isnan(array))
        if nan.size:
            raise MetricInputError(
                f"{name} holds NaN at rows {nan[:10].tolist()} ({nan.size} of {array.size}); "
                "give an item the evaluator could not score the code -1 (counted as wrong)"
            )
        fractional = np.flatnonzero(~np.isfinite(array) | (array != np.round(array)))
        if fractional.size:
            raise MetricInputError(
                f"{name} holds non-integer values at rows {fractional[:10].tolist()} (e.g. "
                f"{array[fractional[0]]}); pass class indices, e.g. the argmax of the logits"
            )
        return array.astype(np.int64)
    raise MetricInputError(
        f"{name} must hold integer class indices, got dtype {array.dtype}; map names to indices "
        "first, e.g. with the attribute's list of values (values.index(name)) or "
        "np.unique(names, return_inverse=True)"
    )


def _pairs(predicted: Mapping[str, Any], truth: Mapping[str, Any]):
    missing = sorted(set(predicted) - set(truth))
    if missing:
        raise MetricInputError(f"no ground truth for predicted attributes {missing}")
    if not predicted:
        raise MetricInputError("no attributes predicted")
    for name in predicted:
        p, t = (
            _codes(predicted[name], f"predicted[{name!r}]"),
            _codes(truth[name], f"truth[{name!r}]"),
        )
        if p.shape != t.shape:
            raise MetricInputError(f"{name}: {len(p)} predictions for {len(t)} items")
        if len(p) == 0:
            raise MetricInputError(f"{name}: no items")
        yield name, p == t


def attribute_accuracy(predicted: Mapping[str, Any], truth: Mapping[str, Any]) -> dict[str, float]:
    """Fraction of items whose predicted value equals the truth, per predicted attribute."""
    return {name: float(correct.mean()) for name, correct in _pairs(predicted, truth)}


def attribute_accuracy_scores(
    predicted: Mapping[str, Any],
    truth: Mapping[str, Any],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Score]:
    """Accuracy per attribute with a bootstrap interval over items."""
    return {
        name: bootstrap_mean(correct.astype(np.float64), resamples, seed, level)
        for name, correct in _pairs(predicted, truth)
    }


class AttributeAccuracy:
    """torchmetrics-style accuracy per attribute; keeps only correct and total counts."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every batch so far."""
        self.correct: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def update(self, predicted: Mapping[str, Any], truth: Mapping[str, Any]) -> None:
        """Count a batch: attribute -> (n,) predicted and true class indices."""
        for name, correct in _pairs(predicted, truth):
            self.correct[name] = self.correct.get(name, 0) + int(correct.sum())
            self.total[name] = self.total.get(name, 0) + len(correct)

    def compute(self) -> dict[str, float]:
        """Accuracy per attribute over every batch so far."""
        if not self.total:
            raise MetricInputError("AttributeAccuracy.compute() before any update()")
        return {name: self.correct[name] / self.total[name] for name in self.total}
