"""Frechet Audio Distance: the Frechet distance of ``metrics.fid`` on audio embeddings.

Paper benchmark: VGGish embeddings of 16 kHz audio, one 128-d embedding per 0.96 s frame, no PCA
and no post-processing (the frechet_audio_distance / audioldm_eval convention); every frame of
every clip is one sample. Embedded benchmark: the audio evaluator's 64-d log-mel features, one per
clip. Not scaled (no x100).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Score
from metrics.fid import FrechetDistance, frechet_distance, frechet_score
from metrics.validation import MetricInputError, as_features


def _frames(clips: Any, name: str) -> np.ndarray:
    """(N, D) embeddings, or a sequence of per-clip (frames, D) arrays stacked into frames."""
    if isinstance(clips, Sequence) and not isinstance(clips, np.ndarray) and clips:
        parts = [as_features(c, f"{name}[{i}]") for i, c in enumerate(clips)]
        widths = {p.shape[1] for p in parts}
        if len(widths) != 1:
            raise MetricInputError(
                f"{name}: clips have different embedding widths {sorted(widths)}"
            )
        return np.concatenate(parts)
    return as_features(clips, name)


def fad(emb_a: Any, emb_b: Any) -> float:
    """FAD between two sets of audio embeddings ((N, D) or lists of per-clip frame arrays)."""
    return frechet_distance(_frames(emb_a, "emb_a"), _frames(emb_b, "emb_b"))


def fad_score(
    emb_a: Any,
    emb_b: Any,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> Score:
    """FAD with its delete-half jackknife interval (``frechet_score``), on (N, D) embeddings
    or a list of per-clip (frames, D) arrays, every frame a sample."""
    return frechet_score(_frames(emb_a, "emb_a"), _frames(emb_b, "emb_b"), resamples, seed, level)


class FAD(FrechetDistance):
    """torchmetrics-style FAD: ``update(audio_batch, real=...)``, ``compute()``."""

    def __init__(self, backbone=None) -> None:
        super().__init__(backbone, name="FAD")

    def update(self, batch: Any, real: bool) -> None:
        """Add a batch to the real or the generated set: audio for the backbone, or, without
        one, (N, D) embeddings or a list of per-clip (frames, D) arrays."""
        feats = self._features(batch)
        (self.real if real else self.fake).update(_frames(feats, "embeddings"))
