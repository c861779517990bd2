"""Networks the baselines share: FlowBind's adaLN-zero drift with a condition and other widths.

The baselines are sized and shaped like FlowBind's drifts so that the comparison isolates the
recipe, not the architecture. ``ConditionalDrift`` is ``flowbind.drift.DriftNet`` with two
additions: input and output sizes of its own, and an optional condition vector c that is
projected and added to the time embedding before the adaLN modulation (DiT's class
conditioning), giving v(x_t, t, c).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from flowbind.config import FlowBindConfig
from flowbind.drift import AdaLNBlock, TimeEmbedding


def per_row_times(t: Tensor | float, x: Tensor) -> Tensor:
    """Times as shape (N,) for a batch x of shape (N, ...), from a float, 0-d, (N,) or (N, 1)."""
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device).reshape(-1)
    if t.numel() == 1:
        t = t.expand(x.shape[0])
    assert t.shape == (x.shape[0],), f"t must give one time per row, got {tuple(t.shape)}"
    return t


class ConditionalDrift(nn.Module):
    """v(x_t, t, c): (N, in_dim) points, (N,) times and (N, cond_dim) conditions -> (N, out_dim).

    Args:
        config: FlowBind's sizes (time embedding, MLP ratio, dropout, depth).
        width: the hidden width H of this network (chosen to match a parameter budget).
        in_dim: size of x_t; defaults to config.latent_dim.
        out_dim: size of the velocity; defaults to in_dim.
        cond_dim: size of the condition c; 0 for an unconditional drift.
        depth: adaLN-zero blocks; defaults to config.depth.
    """

    def __init__(
        self,
        config: FlowBindConfig,
        width: int,
        in_dim: int | None = None,
        out_dim: int | None = None,
        cond_dim: int = 0,
        depth: int | None = None,
    ) -> None:
        super().__init__()
        in_dim = in_dim or config.latent_dim
        out_dim = out_dim or in_dim
        self.cond_dim = cond_dim
        self.time_embed = TimeEmbedding(config.time_embed_dim, width, config.time_max_period)
        self.cond_proj = nn.Linear(cond_dim, width) if cond_dim else None
        self.input_proj = nn.Linear(in_dim, width)
        self.blocks = nn.ModuleList(
            AdaLNBlock(width, config.mlp_ratio, config.dropout)
            for _ in range(config.depth if depth is None else depth)
        )
        self.output_proj = nn.Linear(width, out_dim)

    def forward(self, x_t: Tensor, t: Tensor | float, c: Tensor | None = None) -> Tensor:
        assert x_t.ndim == 2, f"x_t must have shape (N, D), got {tuple(x_t.shape)}"
        emb = self.time_embed(per_row_times(t, x_t))
        if self.cond_proj is not None:
            assert c is not None and c.shape == (x_t.shape[0], self.cond_dim), (
                f"c must have shape ({x_t.shape[0]}, {self.cond_dim}), "
                f"got {None if c is None else tuple(c.shape)}"
            )
            emb = emb + self.cond_proj(c)
        h = self.input_proj(x_t)
        for block in self.blocks:
            h = block(h, emb)
        return self.output_proj(h)
