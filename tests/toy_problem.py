"""A toy any-to-any problem in latent space, for the tests (no codecs, seconds to train).

Each scene has k shared factors s ~ N(0, I_k). Every modality m renders its latent as
    z^m = W2_m tanh(W1_m [s ; nuisance * n_m]) + noise * eps,
with its own random weights and its own nuisance n_m, so the modalities share exactly the
information in s. Training pairs follow the paper's partial pairing: text-image, text-audio
and image-audio pairs come from disjoint scenes, never as triplets; the test set holds
triplets from further disjoint scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowbind.data import PairTable

MODALITIES = ("text", "image", "audio")
GROUPS = (("text", "image"), ("text", "audio"), ("image", "audio"))


@dataclass(frozen=True)
class ToyProblem:
    """Training latents with their pair tables, and test triplets with their factors.

    Attributes:
        latents: modality -> training latents, shape (N_m, D).
        pairs: one PairTable per group in GROUPS.
        test: modality -> test latents, shape (N_test, D), rows paired across modalities.
        test_factors: the test scenes' shared factors, shape (N_test, k).
    """

    latents: dict[str, np.ndarray]
    pairs: list[PairTable]
    test: dict[str, np.ndarray]
    test_factors: np.ndarray


def make_toy_problem(
    dim: int = 16,
    pairs_per_group: int = 2000,
    n_test: int = 500,
    n_factors: int = 4,
    nuisance: float = 0.3,
    noise: float = 0.05,
    seed: int = 0,
) -> ToyProblem:
    """Generate a ToyProblem deterministically from ``seed``."""
    rng = np.random.default_rng(seed)
    n_scenes = len(GROUPS) * pairs_per_group + n_test
    factors = rng.standard_normal((n_scenes, n_factors))
    width = 4 * dim
    rendered = {}
    for m in MODALITIES:
        w1 = rng.standard_normal((2 * n_factors, width)) / np.sqrt(2 * n_factors)
        w2 = rng.standard_normal((width, dim)) / np.sqrt(width)
        private = nuisance * rng.standard_normal((n_scenes, n_factors))
        z = np.tanh(np.concatenate([factors, private], axis=1) @ w1 * 1.5) @ w2
        rendered[m] = (z + noise * rng.standard_normal(z.shape)).astype(np.float32)

    latents: dict[str, list[np.ndarray]] = {m: [] for m in MODALITIES}
    pairs = []
    for g, group in enumerate(GROUPS):
        scenes = np.arange(g * pairs_per_group, (g + 1) * pairs_per_group)
        columns = []
        for m in group:
            offset = sum(len(block) for block in latents[m])
            latents[m].append(rendered[m][scenes])
            columns.append(offset + np.arange(len(scenes)))
        pairs.append(PairTable(group, np.stack(columns, axis=1)))
    test_scenes = np.arange(n_scenes - n_test, n_scenes)
    return ToyProblem(
        latents={m: np.concatenate(blocks) for m, blocks in latents.items()},
        pairs=pairs,
        test={m: rendered[m][test_scenes] for m in MODALITIES},
        test_factors=factors[test_scenes],
    )


def r_squared(pred: np.ndarray, true: np.ndarray) -> float:
    """Pooled coefficient of determination 1 - SSE / SST over all rows and dimensions."""
    sse = float(((pred - true) ** 2).sum())
    sst = float(((true - true.mean(axis=0)) ** 2).sum())
    return 1.0 - sse / sst


def retrieval_top1(pred: np.ndarray, true: np.ndarray) -> float:
    """Fraction of rows whose nearest (cosine) row of ``true`` is their own partner."""
    a = pred / np.linalg.norm(pred, axis=1, keepdims=True)
    b = true / np.linalg.norm(true, axis=1, keepdims=True)
    return float(((a @ b.T).argmax(axis=1) == np.arange(len(a))).mean())
