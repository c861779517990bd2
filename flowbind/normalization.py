"""Per-modality z-scoring of latents with stored statistics.

Flows run on z-scored latents: (z - mean) / std per dimension, as the public code does with its
stored mean/std files. The statistics are buffers of the model, so they travel with checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

MIN_STD = 1e-6


def _buffer_name(modality: str, stat: str) -> str:
    return f"{stat}_{modality}"


class LatentNormalizer(nn.Module):
    """Stored mean and std per modality; identity until fitted."""

    def __init__(self, modalities: Sequence[str], dim: int) -> None:
        super().__init__()
        self.modalities = tuple(modalities)
        for m in self.modalities:
            self.register_buffer(_buffer_name(m, "mean"), torch.zeros(dim))
            self.register_buffer(_buffer_name(m, "std"), torch.ones(dim))

    def stats(self, modality: str) -> tuple[Tensor, Tensor]:
        """The stored mean and std of ``modality``, each of shape (D,); KeyError if unknown."""
        if modality not in self.modalities:
            raise KeyError(f"unknown modality {modality!r}; known: {list(self.modalities)}")
        return getattr(self, _buffer_name(modality, "mean")), getattr(
            self, _buffer_name(modality, "std")
        )

    @torch.no_grad()
    def fit(self, latents: Mapping[str, np.ndarray | Tensor], chunk: int = 65536) -> None:
        """Set mean and std from latents (arrays of shape (N, D), memory-mapped arrays welcome).

        Sums run in float64 over chunks, so memory stays constant in N.
        """
        for modality, z in latents.items():
            mean_buf, std_buf = self.stats(modality)
            n = z.shape[0]
            if n < 2:
                raise ValueError(f"need at least 2 {modality} latents to fit a z-score, got {n}")
            total = np.zeros(z.shape[1], dtype=np.float64)
            total_sq = np.zeros(z.shape[1], dtype=np.float64)
            for start in range(0, n, chunk):
                block = np.asarray(z[start : start + chunk], dtype=np.float64)
                total += block.sum(axis=0)
                total_sq += (block**2).sum(axis=0)
            mean = total / n
            var = np.maximum(total_sq / n - mean**2, 0.0) * n / (n - 1)
            mean_buf.copy_(torch.from_numpy(mean))
            std_buf.copy_(torch.from_numpy(np.maximum(np.sqrt(var), MIN_STD)))

    def normalize(self, modality: str, z: Tensor) -> Tensor:
        """Z-score z, raw latents of ``modality`` of shape (N, D); returns the same shape."""
        mean, std = self.stats(modality)
        return (z - mean.to(z.dtype)) / std.to(z.dtype)

    def denormalize(self, modality: str, z: Tensor) -> Tensor:
        """Undo ``normalize`` on z, z-scored latents of shape (N, D); returns the same shape."""
        mean, std = self.stats(modality)
        return z * std.to(z.dtype) + mean.to(z.dtype)
