"""CLIP score: 100 * mean over paired items of max(cos(a_i, b_i), 0).

Each pair is clamped at 0 before the mean: the CLIP-S convention of Hessel et al. 2021
(CLIP-S = w * max(cos, 0) per pair, averaged over the corpus) with weight w = 1 instead of their
2.5, as CrossFlow, reported x100. torchmetrics' CLIPScore clamps the mean instead,
max(mean(100 * cos), 0). The two agree when no cosine is negative; otherwise this score is the
larger one (strictly, once some cosines are positive and some negative). The suite clamps per
pair because the per-item values are what the bootstrap intervals and the pooling over seeds
resample: their mean must be the score.

Paper benchmark: OpenAI CLIP ViT-B/32 image and text embeddings, no prompt prefix (as CrossFlow
reports it). CLAP score is the same function on LAION-CLAP audio and text embeddings
(``metrics.clap_score``). Embedded benchmark: the text_image (CLIP) and text_audio (CLAP)
contrastive pairs. Scale: x100.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Score, bootstrap_mean
from metrics.validation import MetricInputError, as_features, check_paired


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (N, D) arrays; zero vectors are refused upstream.

    Args:
        a: (N, D) embeddings.
        b: (N, D) embeddings, row i paired with row i of ``a``.

    Returns:
        (N,) cosines.
    """
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return np.einsum("nd,nd->n", a, b) / np.maximum(na * nb, 1e-12)


def clip_score_per_item(a_emb: Any, b_emb: Any) -> np.ndarray:
    """(N,) per-item max(cos(a_i, b_i), 0) of (N, D) paired embeddings (not yet x100)."""
    a = as_features(a_emb, "a_emb")
    b = as_features(b_emb, "b_emb")
    check_paired(a, b, ("a_emb", "b_emb"))
    return np.maximum(cosine_rows(a, b), 0.0)


def clip_score(a_emb: Any, b_emb: Any) -> float:
    """100 * mean_i max(cos(a_i, b_i), 0) over paired (N, D) rows, each pair clamped."""
    return float(100.0 * clip_score_per_item(a_emb, b_emb).mean())


def clip_score_ci(
    a_emb: Any,
    b_emb: Any,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """CLIP score with a bootstrap interval over items."""
    return bootstrap_mean(clip_score_per_item(a_emb, b_emb), resamples, seed, level, scale=100.0)


class ClipScore:
    """torchmetrics-style CLIP/CLAP score with injected embedders for the two sides.

    ``update(a_batch, b_batch)`` embeds both sides (identity when an embedder is None) and keeps
    the per-item scores (needed for the bootstrap interval); ``compute()`` gives the score.
    """

    def __init__(
        self,
        embed_a: Callable[[Any], Any] | None = None,
        embed_b: Callable[[Any], Any] | None = None,
    ) -> None:
        self.embed_a, self.embed_b = embed_a, embed_b
        self.reset()

    def reset(self) -> None:
        """Forget every batch so far."""
        self.items: list[np.ndarray] = []

    def update(self, a_batch: Any, b_batch: Any) -> None:
        """Embed a batch of paired items and keep their (n,) per-item scores."""
        with torch.no_grad():
            a = a_batch if self.embed_a is None else self.embed_a(a_batch)
            b = b_batch if self.embed_b is None else self.embed_b(b_batch)
        self.items.append(clip_score_per_item(a, b))

    def compute(self) -> float:
        """100 * the mean per-item score over every batch so far."""
        return float(100.0 * self._values().mean())

    def score(self, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Score:
        """The score (x100) with a bootstrap interval over every item so far."""
        return bootstrap_mean(self._values(), resamples, seed, scale=100.0)

    def _values(self) -> np.ndarray:
        if not self.items:
            raise MetricInputError(f"{type(self).__name__}.compute() before any update()")
        return np.concatenate(self.items)
