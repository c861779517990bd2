"""The straight path between the shared anchor and a modality's latent.

    z_t = t * z + (1 - t) * z*,   dz_t/dt = z - z*,

with t = 0 at the anchor and t = 1 at the data. Drift networks regress dz_t/dt.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class PathSample:
    """A point on the path and its target velocity.

    Attributes:
        x_t: points, shape (N, D).
        dx_t: target velocities z - z*, shape (N, D).
        t: times, shape (N,).
    """

    x_t: Tensor
    dx_t: Tensor
    t: Tensor


def sample_path(z: Tensor, z_star: Tensor, t: Tensor) -> PathSample:
    """Points on the anchor-to-data path.

    Args:
        z: data latents (t = 1), shape (N, D).
        z_star: anchors (t = 0), shape (N, D).
        t: times, shape (N,).

    Returns:
        The PathSample at t.
    """
    assert z.shape == z_star.shape, f"z {tuple(z.shape)} and z* {tuple(z_star.shape)} differ"
    assert t.shape == (z.shape[0],), f"t must have shape ({z.shape[0]},), got {tuple(t.shape)}"
    tt = t[:, None].to(z.dtype)
    return PathSample(x_t=tt * z + (1 - tt) * z_star, dx_t=z - z_star, t=t)
