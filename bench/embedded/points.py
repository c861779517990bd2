"""Point-cloud view: 256 points sampled from the surfaces of ``count`` objects of one kind and size.

The scene is the image's, in 3-D: the objects stand in distinct cells of a 2x2 grid on the
ground plane (x, z), with y up. Each kind is a solid whose second moments tell it apart, as the
image's shapes are told apart: disc a sphere, bar a box lying along x, pillar a box standing
along y, slash a box rising at 45 degrees in the x-y plane. Size scales the solid; count is the
number of clusters. Neither colour nor anything audible is shown.

Nuisance: the scene's yaw (any angle about the vertical, so a bar may lie along any ground
direction and a slash rise towards any side) and a tilt of up to 5 degrees, cell positions
(+-0.06), a 6 % size jitter, where on the surfaces the points fall, per-point Gaussian jitter
(sd 0.005-0.02) and the order of the points, which is a random permutation.

Every object gets the same share of the points (the first ones one more when 256 does not
divide), so the point density says nothing about size. Coordinates are float32 in about
[-1, 1]; the grid spacing keeps the largest objects apart whatever the jitter.
"""

from __future__ import annotations

import numpy as np

N_POINTS = 256
RADIUS = {"small": 0.22, "large": 0.36}  # the image's 7 and 11.5 px on a 64 px half-width of 32
_SIZES = ("small", "large")
_CELLS = np.array([(-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5)])
# Half-extents of each box kind in units of the radius (the image's bar: 1.1 r by 0.35 r).
_LONG, _THIN = 1.1, 0.35
_SLASH = np.array(  # rotation by +45 degrees about z: the long axis rises in the x-y plane
    [[0.7071068, -0.7071068, 0.0], [0.7071068, 0.7071068, 0.0], [0.0, 0.0, 1.0]]
)


def _sphere(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere."""
    p = rng.standard_normal((n, 3))
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def _box(rng: np.random.Generator, n: int, half: np.ndarray) -> np.ndarray:
    """``n`` points uniform on the surface of the box with half-extents ``half`` (3,)."""
    areas = np.array([half[1] * half[2], half[0] * half[2], half[0] * half[1]])
    axis = rng.choice(3, size=n, p=areas / areas.sum())  # the axis the chosen face is normal to
    p = rng.uniform(-1.0, 1.0, (n, 3))
    p[np.arange(n), axis] = rng.choice((-1.0, 1.0), size=n)
    return p * half


def _solid(rng: np.random.Generator, kind: int, radius: float, n: int) -> np.ndarray:
    """``n`` surface points of one object of ``kind`` centred at the origin."""
    if kind == 0:  # disc: a sphere
        return _sphere(rng, n) * radius
    if kind == 1:  # bar: lying along x
        return _box(rng, n, radius * np.array([_LONG, _THIN, _THIN]))
    if kind == 2:  # pillar: standing along y
        return _box(rng, n, radius * np.array([_THIN, _LONG, _THIN]))
    return _box(rng, n, radius * np.array([_LONG, _THIN, _THIN])) @ _SLASH.T  # slash


def _rotation(yaw: float, tilt: float, tilt_direction: float) -> np.ndarray:
    """Yaw about y, then a tilt of the vertical towards ``tilt_direction`` on the ground."""
    c, s = np.cos(yaw), np.sin(yaw)
    about_y = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    axis = np.array([np.cos(tilt_direction), 0.0, np.sin(tilt_direction)])  # on the ground
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    tilted = np.eye(3) + np.sin(tilt) * k + (1.0 - np.cos(tilt)) * (k @ k)  # Rodrigues
    return tilted @ about_y


def sample_points(attributes: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Every scene as float32 (N, N_POINTS, 3); ``rng`` draws the point-cloud nuisance only."""
    n = len(attributes["kind"])
    out = np.empty((n, N_POINTS, 3), dtype=np.float32)
    for i in range(n):
        kind, count = int(attributes["kind"][i]), int(attributes["count"][i]) + 1
        radius = RADIUS[_SIZES[attributes["size"][i]]] * rng.uniform(0.94, 1.06)
        cells = rng.permutation(4)[:count]
        centres = _CELLS[cells] + rng.uniform(-0.06, 0.06, (count, 2))
        shares = np.full(count, N_POINTS // count)
        shares[: N_POINTS % count] += 1
        parts = []
        for (x, z), share in zip(centres, shares, strict=True):
            parts.append(_solid(rng, kind, radius, int(share)) + np.array([x, 0.0, z]))
        cloud = np.concatenate(parts)
        pose = _rotation(
            rng.uniform(-np.pi, np.pi), np.deg2rad(rng.uniform(0.0, 5.0)), rng.uniform(0, 2 * np.pi)
        )
        cloud = cloud @ pose.T + rng.standard_normal(cloud.shape) * rng.uniform(0.005, 0.02)
        out[i] = cloud[rng.permutation(N_POINTS)]
    return out
