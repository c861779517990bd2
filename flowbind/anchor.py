"""The auxiliary anchor encoder H_phi, used only in training.

Each modality has a head giving a Gaussian N(mu_i(z^i), sigma^2 I) whose variance is fixed
(the head's predicted log-variance is discarded, as in the public code). The anchor of a group
of paired latents is the product of the kept heads' Gaussians; with equal variances that is
N(mean_i mu_i, sigma^2 / n_kept). Modality dropout removes heads once per group; when every
head would be dropped, all are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from flowbind.config import FlowBindConfig


class ResidualMLPBlock(nn.Module):
    """x + Linear0(Dropout(SiLU(LN(Linear(SiLU(LN(x))))))), last Linear zero-initialised."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(width),
            nn.SiLU(),
            nn.Linear(width, width),
            nn.LayerNorm(width),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Linear(width, width),
        )
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block to x, of shape (N, width); returns the same shape."""
        return x + self.net(x)


class AnchorHead(nn.Module):
    """One modality's head: Linear(D -> He) -> residual blocks -> Linear(He -> 2D).

    The output holds (mean, log-variance); only the mean is used. The log-variance half is kept
    so that the parameter count matches the released model (and the paper's 568M).
    """

    def __init__(self, config: FlowBindConfig) -> None:
        super().__init__()
        width = config.encoder_width
        self.net = nn.Sequential(
            nn.Linear(config.latent_dim, width),
            *(ResidualMLPBlock(width, config.encoder_dropout) for _ in range(config.encoder_depth)),
            nn.Linear(width, 2 * config.latent_dim),
        )

    def forward(self, z: Tensor) -> Tensor:
        """Mean of the head's Gaussian, shape (N, D), for latents z of shape (N, D)."""
        mean, _discarded_logvar = self.net(z).chunk(2, dim=-1)
        return mean


@dataclass(frozen=True)
class AnchorPosterior:
    """The Gaussian over the shared anchor z* of one group.

    Attributes:
        mean: shape (N, D).
        variance: the per-dimension variance, a Python float (sigma^2 / n_kept).
        kept: the modalities whose heads formed the product.
    """

    mean: Tensor
    variance: float
    kept: tuple[str, ...]

    def sample(self) -> Tensor:
        """z* = mean + sqrt(variance) * eps, shape (N, D)."""
        return self.mean + self.variance**0.5 * torch.randn_like(self.mean)


class AnchorEncoder(nn.Module):
    """Per-modality heads and their product-of-Gaussians combination."""

    def __init__(self, config: FlowBindConfig) -> None:
        super().__init__()
        self.variance = config.anchor_variance
        self.heads = nn.ModuleDict({m: AnchorHead(config) for m in config.modalities})

    def forward(
        self, latents: Mapping[str, Tensor], modality_dropout: float = 0.0
    ) -> AnchorPosterior:
        """Combine the heads of the modalities present in one group.

        Args:
            latents: modality -> z-scored latents, each of shape (N, D), rows paired.
            modality_dropout: probability of dropping each head, decided once for the group.

        Returns:
            The anchor posterior of the group.
        """
        present = sorted(latents)
        unknown = [m for m in present if m not in self.heads]
        if unknown:
            raise KeyError(f"no encoder head for modalities {unknown}; known: {list(self.heads)}")
        kept = present
        if modality_dropout > 0:
            keep = torch.rand(len(present)) >= modality_dropout
            if keep.any():
                kept = [m for m, k in zip(present, keep.tolist(), strict=True) if k]
        means = torch.stack([self.heads[m](latents[m]) for m in kept])
        return AnchorPosterior(
            mean=means.mean(dim=0), variance=self.variance / len(kept), kept=tuple(kept)
        )
