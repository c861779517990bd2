"""AIS, the audio-image similarity of SonicDiffusion, for A->I and (symmetrically) I->A.

For generated item i with conditioning item c_i, s_i = cos(g_i, c_i). Item i's score is the
fraction of reference items r_j with s_i > cos(g_i, r_j), strictly (ties do not count);
AIS = 100 * mean_i. A->I: g = generated images (CLIP image side), c and r = audios (wav2clip).
I->A, the symmetric form: g = generated audios (wav2clip), c and r = images (CLIP).

The reference set is the test set's conditions unless given. With that default, item i's own
condition is left out of its reference set (comparing it with itself could never count under
">"), so a generator whose every output is closest to its own condition scores 100 and one whose
output is farthest from it scores 0. (SonicDiffusion's own evaluation compares with a separate
validation set, where the question does not arise; keeping item i's condition in its reference
set would only scale the score by (N - 1) / N.) Scale: x100.

s_i and every cos(g_i, r_j) are read from one similarity matrix between the generated items and
the distinct rows of conditions and references together, so a reference that is an exact copy of
c_i (the conditions given as references, or two items sharing a condition) gives a value exactly
equal to s_i and is not counted. Two separate computations of the same cosine can differ in the
last bit, and the strict ">" would then count about half of those copies as beaten.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Score, bootstrap_mean
from metrics.validation import MetricInputError, as_features, check_paired


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _beaten(g: np.ndarray, c: np.ndarray, r: np.ndarray | None) -> np.ndarray:
    """(N,) count of references r_j with cos(g_i, c_i) > cos(g_i, r_j); r None means r = c.

    One (N, K) similarity matrix over the K distinct rows of c and r gives both sides of every
    comparison; each distinct reference row counts as many times as it occurs in r.
    """
    sides = c if r is None else np.concatenate([c, r])
    rows, inverse = np.unique(sides, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    sims = _unit(g) @ _unit(rows).T
    pair = sims[np.arange(len(g)), inverse[: len(c)]]
    multiplicity = np.bincount(inverse if r is None else inverse[len(c) :], minlength=len(rows))
    return (pair[:, None] > sims).astype(np.float64) @ multiplicity


def ais_per_item(generated_emb: Any, condition_emb: Any, reference_emb: Any = None) -> np.ndarray:
    """Per-item fraction (0..1) of references less similar to g_i than its own condition.

    Args:
        generated_emb: (N, D) embeddings of the generated items.
        condition_emb: (N, D) embeddings of their conditions; row i conditioned item i.
        reference_emb: (M, D) reference embeddings; None uses the conditions with each item's
            own row left out (N - 1 references per item).

    Returns:
        (N,) float64 fractions.
    """
    g = as_features(generated_emb, "generated_emb")
    c = as_features(condition_emb, "condition_emb")
    check_paired(g, c, ("generated_emb", "condition_emb"))
    if reference_emb is None:
        if len(c) < 2:
            raise MetricInputError(
                "AIS needs at least 2 items when the conditions are the references"
            )
        # Item i's own row is a tie with itself, so it is never counted: only the divisor
        # has to leave it out.
        return _beaten(g, c, None) / (len(c) - 1)
    r = as_features(reference_emb, "reference_emb")
    if r.shape[1] != g.shape[1]:
        raise MetricInputError(f"reference_emb has {r.shape[1]} dimensions, generated {g.shape[1]}")
    return _beaten(g, c, r) / len(r)


def ais(generated_emb: Any, condition_emb: Any, reference_emb: Any = None) -> float:
    """AIS in 0..100 (see the module docstring)."""
    return float(100.0 * ais_per_item(generated_emb, condition_emb, reference_emb).mean())


def ais_score(
    generated_emb: Any,
    condition_emb: Any,
    reference_emb: Any = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """AIS with a bootstrap interval over generated items (reference set held fixed)."""
    per_item = ais_per_item(generated_emb, condition_emb, reference_emb)
    return bootstrap_mean(per_item, resamples, seed, level, scale=100.0)


class AIS:
    """torchmetrics-style AIS; the reference set (conditions by default) is known only at the end,
    so the embeddings are kept until ``compute()``."""

    def __init__(self, embed_generated=None, embed_condition=None) -> None:
        self.embed_generated, self.embed_condition = embed_generated, embed_condition
        self.reset()

    def reset(self) -> None:
        """Forget every batch so far."""
        self.generated: list[np.ndarray] = []
        self.conditions: list[np.ndarray] = []

    def update(self, generated: Any, conditions: Any) -> None:
        """Keep a batch's (n, D) embeddings of generated items and of their conditions.

        ``generated`` and ``conditions`` are embeddings, or the raw items the ``embed_generated``
        and ``embed_condition`` callables given at construction embed.
        """
        g = generated if self.embed_generated is None else self.embed_generated(generated)
        c = conditions if self.embed_condition is None else self.embed_condition(conditions)
        self.generated.append(as_features(g, "generated"))
        self.conditions.append(as_features(c, "conditions"))

    def compute(self, reference_emb: Any = None) -> float:
        """AIS in 0..100 over every batch so far; ``reference_emb``: (M, D), as in ``ais``."""
        if not self.generated:
            raise MetricInputError("AIS.compute() before any update()")
        return ais(np.concatenate(self.generated), np.concatenate(self.conditions), reference_emb)
