"""Chamfer distance between paired point clouds, x1000.

    CD(a, b) = mean_i min_j |a_i - b_j|^2 + mean_j min_i |a_i - b_j|^2

per pair of clouds a (P, 3) and b (Q, 3): squared Euclidean distances, averaged over each cloud's
points and summed over the two directions, which is PyTorch3D's ``chamfer_distance`` with its
defaults (point_reduction="mean", norm=2, single_directional=False); the score is the mean over
pairs. The per-pair values are what the bootstrap interval resamples, so their mean is the score.
Reported x1000 (the usual "CD x 10^-3" of point-cloud papers), lower is better.

Embedded benchmark: the generated cloud of a scene against that scene's real cloud, both in the
world's coordinates (about [-1, 1]^3). Nearest neighbours are found exactly, by all pairwise
distances in chunks of pairs (256-point clouds: 64k distances a pair).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Score, bootstrap_mean
from metrics.validation import MetricInputError

SCALE = 1000.0
_CHUNK = 64  # pairs of clouds per distance matrix


def _clouds(x: Any, name: str) -> torch.Tensor:
    """A finite float64 (N, P, 3) tensor, or MetricInputError naming ``name``."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
    else:
        t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    if t.ndim != 3 or t.shape[-1] != 3:
        raise MetricInputError(f"{name} must be (clouds, points, 3), got shape {tuple(t.shape)}")
    if t.shape[1] == 0:
        raise MetricInputError(f"{name} has clouds of 0 points; a Chamfer distance needs points")
    t = t.to(torch.float64)
    bad = ~torch.isfinite(t).flatten(1).all(1)
    if bad.any():
        rows = torch.nonzero(bad).flatten()
        raise MetricInputError(
            f"{name} has NaN or inf in {len(rows)} of {len(t)} clouds (first: "
            f"{rows[:5].tolist()}); check the model or decoder that produced them"
        )
    return t


def chamfer_tensor(a: torch.Tensor, b: torch.Tensor, exact: bool = True) -> torch.Tensor:
    """(N,) Chamfer distances of paired clouds (N, P, 3) and (N, Q, 3), differentiable (a
    training loss as well as the metric's core); no input checks.

    ``exact`` computes each distance from the coordinate differences; otherwise from
    |a|^2 + |b|^2 - 2 a.b, a matrix product, about 1.4x faster for training but with float32
    round-off near zero (clamped at 0).
    """
    if exact:
        d = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist") ** 2  # (N, P, Q)
    else:
        d = a.pow(2).sum(-1, keepdim=True) - 2 * a @ b.transpose(1, 2) + b.pow(2).sum(-1)[:, None]
        d = d.clamp_min(0.0)
    return d.min(2).values.mean(1) + d.min(1).values.mean(1)


def chamfer_per_item(generated: Any, reference: Any) -> np.ndarray:
    """(N,) Chamfer distance of each pair of clouds (N, P, 3) and (N, Q, 3) (not yet x1000).

    P and Q may differ; the clouds are paired by row.
    """
    a, b = _clouds(generated, "generated"), _clouds(reference, "reference")
    if len(a) != len(b):
        raise MetricInputError(
            f"generated has {len(a)} clouds and reference {len(b)}; they are paired by row"
        )
    with torch.no_grad():
        out = [
            chamfer_tensor(a[start : start + _CHUNK], b[start : start + _CHUNK])
            for start in range(0, len(a), _CHUNK)
        ]
    return torch.cat(out).numpy() if out else np.zeros(0)


def chamfer_distance(generated: Any, reference: Any) -> float:
    """1000 * the mean Chamfer distance over paired clouds."""
    per_item = chamfer_per_item(generated, reference)
    if per_item.size == 0:
        raise MetricInputError("no clouds to score: generated and reference are empty")
    return float(SCALE * per_item.mean())


def chamfer_score(
    generated: Any,
    reference: Any,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """Chamfer distance x1000 with a bootstrap interval over pairs."""
    per_item = chamfer_per_item(generated, reference)
    if per_item.size == 0:
        raise MetricInputError("no clouds to score: generated and reference are empty")
    return bootstrap_mean(per_item, resamples, seed, level, scale=SCALE)


class ChamferDistance:
    """torchmetrics-style Chamfer distance: ``update(generated, reference)`` keeps the per-pair
    values of a batch, ``compute()`` gives the score (x1000) over every batch so far."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every batch so far."""
        self.items: list[np.ndarray] = []

    def update(self, generated: Any, reference: Any) -> None:
        """Keep the per-pair distances of a batch of clouds (n, P, 3) and (n, Q, 3)."""
        self.items.append(chamfer_per_item(generated, reference))

    def per_item(self) -> np.ndarray:
        """(N,) per-pair distances of every batch so far (not yet x1000)."""
        return np.concatenate(self.items) if self.items else np.zeros(0)

    def compute(self) -> float:
        """1000 * the mean distance over every pair so far."""
        values = self.per_item()
        if values.size == 0:
            raise MetricInputError("ChamferDistance.compute() before any update()")
        return float(SCALE * values.mean())
