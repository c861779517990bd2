"""The per-modality drift network v_i(z_t, t): an MLP of adaLN-zero residual blocks (DiT style).

Input projection D -> H, L blocks, output projection H -> D. Each block is
    x + gate * MLP(LN(x) * (1 + scale) + shift),   (shift, scale, gate) = Linear(SiLU(temb)),
with a LayerNorm without affine parameters and the modulation Linear zero-initialised, so every
block starts as the identity. The time embedding is sinusoidal with max_period 10 (t in [0, 1]),
followed by Linear -> SiLU -> Linear.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from flowbind.config import FlowBindConfig


def timestep_features(t: Tensor, dim: int, max_period: float = 10.0) -> Tensor:
    """Sinusoidal features of continuous times.

    Args:
        t: times, shape (N,).
        dim: number of features.
        max_period: the slowest period; frequencies are max_period ** (-k / (dim // 2)).

    Returns:
        Features, shape (N, dim): [cos(t f_k), sin(t f_k)], zero-padded when dim is odd.
    """
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-math.log(max_period) * k / half)
    args = t.float()[:, None] * freqs[None]
    features = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        features = torch.cat([features, torch.zeros_like(features[:, :1])], dim=-1)
    return features


class TimeEmbedding(nn.Module):
    """Sinusoidal features followed by Linear -> SiLU -> Linear, giving a (N, H) embedding."""

    def __init__(self, features: int, width: int, max_period: float) -> None:
        super().__init__()
        self.features = features
        self.max_period = max_period
        self.mlp = nn.Sequential(nn.Linear(features, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t: Tensor) -> Tensor:
        """Embed t, of shape (N,) (N = 1: one time for every row); returns (N, width)."""
        return self.mlp(timestep_features(t, self.features, self.max_period))


class AdaLNBlock(nn.Module):
    """x + gate * MLP(LN(x) * (1 + scale) + shift), modulation zero-initialised (adaLN-zero)."""

    def __init__(self, width: int, mlp_ratio: float = 4.0, dropout: float = 0.0) -> None:
        super().__init__()
        inner = int(width * mlp_ratio)
        self.norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(width, inner), nn.GELU(), nn.Dropout(dropout), nn.Linear(inner, width)
        )
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 3 * width))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        """Apply the block.

        Args:
            x: hidden states, shape (N, width).
            temb: time embeddings, shape (N, width), or (1, width) broadcast over the rows.

        Returns:
            Hidden states, shape (N, width).
        """
        shift, scale, gate = self.modulation(temb).chunk(3, dim=-1)
        return x + gate * self.mlp(self.norm(x) * (1 + scale) + shift)


class DriftNet(nn.Module):
    """The drift v_i(x_t, t) of one modality, mapping (N, D) latents and times to (N, D)."""

    def __init__(self, config: FlowBindConfig) -> None:
        super().__init__()
        width = config.hidden_dim
        self.time_embed = TimeEmbedding(config.time_embed_dim, width, config.time_max_period)
        self.input_proj = nn.Linear(config.latent_dim, width)
        self.blocks = nn.ModuleList(
            AdaLNBlock(width, config.mlp_ratio, config.dropout) for _ in range(config.depth)
        )
        self.output_proj = nn.Linear(width, config.latent_dim)

    def forward(self, x_t: Tensor, t: Tensor | float) -> Tensor:
        """Evaluate the drift.

        Args:
            x_t: points on the path, shape (N, D).
            t: times in [0, 1]: a float, a 0-d tensor or shape (1,), one time for every row,
                or shape (N,) or (N, 1).

        Returns:
            Velocities, shape (N, D).

        One time for every row (an ODE step) embeds it once: the time embedding and every
        block's modulation run on one row and broadcast, instead of on N equal rows (about a
        third of a drift evaluation's FLOPs at the paper's sizes).
        """
        assert x_t.ndim == 2, f"x_t must have shape (N, D), got {tuple(x_t.shape)}"
        t = torch.as_tensor(t, dtype=x_t.dtype, device=x_t.device).reshape(-1)
        if t.numel() != 1:
            assert t.shape == (x_t.shape[0],), f"t must give one time per row, got {tuple(t.shape)}"
        temb = self.time_embed(t)  # (1, H) broadcasts over the rows
        h = self.input_proj(x_t)
        for block in self.blocks:
            h = block(h, temb)
        return self.output_proj(h)
