"""Tiny partial-pair training data shared by the method tests (imported, not a test module)."""

import numpy as np

from flowbind.data import PairTable


def tiny_pairs(dim: int = 8, points: bool = False) -> tuple[dict[str, np.ndarray], list[PairTable]]:
    """30 random latents per modality; 10 text-image, 10 text-audio, 10 image-audio pairs, and
    with ``points`` 10 image-point-cloud pairs (the fourth modality is paired with images only)."""
    rng = np.random.default_rng(0)
    modalities = ("text", "image", "audio", *(("points",) if points else ()))
    latents = {m: rng.normal(size=(30, dim)).astype(np.float32) for m in modalities}
    rows = np.arange(10)
    pairs = [
        PairTable(("text", "image"), np.stack([rows, rows], 1)),
        PairTable(("text", "audio"), np.stack([rows + 10, rows + 10], 1)),
        PairTable(("image", "audio"), np.stack([rows + 20, rows + 20], 1)),
    ]
    if points:
        pairs.append(PairTable(("image", "points"), np.stack([rows + 10, rows], 1)))
    return latents, pairs
