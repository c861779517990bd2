"""Image view: 64x64 RGB drawings of ``count`` objects of one kind, colour and size.

Objects sit in distinct cells of a 2x2 grid with jittered centres, so they never overlap; all
objects of a scene share one rotation. Edges are anti-aliased from signed distances. Nuisance:
positions, rotation, colour shade, background level and gradient, pixel noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported by render_images, so reading IMAGE_SIZE stays light
    import torch

IMAGE_SIZE = 64
COLOURS_RGB = {
    "red": (0.90, 0.15, 0.10),
    "green": (0.10, 0.80, 0.20),
    "blue": (0.15, 0.30, 0.95),
    "yellow": (0.95, 0.85, 0.10),
    "magenta": (0.90, 0.20, 0.80),
    "cyan": (0.10, 0.85, 0.90),
}
RADIUS = {"small": 7.0, "large": 11.5}
_CELLS = ((16.0, 16.0), (48.0, 16.0), (16.0, 48.0), (48.0, 48.0))
_SHAPES = ("disc", "bar", "pillar", "slash")
_SIZES = ("small", "large")


def _bar(x: torch.Tensor, y: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """A horizontal rectangle, half-length 1.1 r, half-height 0.35 r."""
    return (x.abs() - 1.1 * r).maximum(y.abs() - 0.35 * r)


def _signed_distance(shape: int, x: torch.Tensor, y: torch.Tensor, r: torch.Tensor):
    """Approximate signed distance in pixels to one shape; inputs broadcast to (N, H, W).

    The four shapes differ in their second moments (round, wide, tall, diagonal), the part of
    a shape that survives blurring, so they stay recognisable in imperfect reconstructions.
    """
    if shape == 0:  # disc
        return (x**2 + y**2).sqrt() - r
    if shape == 1:  # bar: horizontal
        return _bar(x, y, r)
    if shape == 2:  # pillar: vertical
        return _bar(y, x, r)
    # slash: a bar rising to the right (image y grows downwards)
    c = 0.7071
    return _bar(c * (x - y), c * (x + y), r)


def render_images(attributes: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Render every scene as uint8 (N, 64, 64, 3); ``rng`` draws the image nuisance only."""
    import torch

    n = len(attributes["kind"])
    radius = np.array([RADIUS[s] for s in _SIZES])[attributes["size"]]
    radius = radius * rng.uniform(0.94, 1.06, n)
    rotation = np.deg2rad(rng.uniform(-10.0, 10.0, n))
    rgb = np.array([COLOURS_RGB[c] for c in COLOURS_RGB])[attributes["colour"]]
    rgb = np.clip(rgb + rng.uniform(-0.06, 0.06, (n, 3)), 0.0, 1.0)
    background = rng.uniform(0.05, 0.35, n)
    gradient = rng.uniform(-0.1, 0.1, (n, 2))
    noise_level = rng.uniform(0.01, 0.04, n)
    cells = np.stack([rng.permutation(4) for _ in range(n)]) if n else np.zeros((0, 4), int)
    jitter = rng.uniform(-2.0, 2.0, (n, 4, 2))
    # Pixel noise: a random window of one Gaussian bank per call (cheaper than fresh noise).
    bank = rng.standard_normal(1 << 18, dtype=np.float32)
    pixels = IMAGE_SIZE * IMAGE_SIZE * 3
    starts = rng.integers(0, len(bank) - pixels, n)
    noise = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    for i, o in enumerate(starts):
        noise[i] = bank[o : o + pixels].reshape(IMAGE_SIZE, IMAGE_SIZE, 3)
    f32 = torch.float32

    def col(values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(values, dtype=f32).view(-1, 1, 1)

    coords = torch.arange(IMAGE_SIZE, dtype=f32) + 0.5
    gy, gx = torch.meshgrid(coords, coords, indexing="ij")
    unit = (coords - IMAGE_SIZE / 2) / IMAGE_SIZE
    uy, ux = torch.meshgrid(unit, unit, indexing="ij")
    canvas = col(background) + col(gradient[:, 0]) * ux + col(gradient[:, 1]) * uy
    cover = torch.zeros(n, IMAGE_SIZE, IMAGE_SIZE, dtype=f32)
    count = attributes["count"] + 1
    for kind in range(len(_SHAPES)):
        rows = np.flatnonzero(attributes["kind"] == kind)
        cos, sin, r = col(np.cos(rotation[rows])), col(np.sin(rotation[rows])), col(radius[rows])
        for slot in range(3):
            centre = np.array(_CELLS)[cells[rows, slot]] + jitter[rows, slot]
            dx, dy = gx - col(centre[:, 0]), gy - col(centre[:, 1])
            x, y = cos * dx + sin * dy, -sin * dx + cos * dy
            c = (0.5 - _signed_distance(kind, x, y, r)).clamp(0.0, 1.0)
            cover[rows] += c * col((slot < count[rows]).astype(np.float32))
    cover = cover.clamp(max=1.0).unsqueeze(-1)
    colour = torch.as_tensor(rgb, dtype=f32).view(n, 1, 1, 3)
    image = canvas.unsqueeze(-1) * (1 - cover) + colour * cover
    image += torch.as_tensor(noise) * torch.as_tensor(noise_level, dtype=f32).view(n, 1, 1, 1)
    return (image.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).numpy()
