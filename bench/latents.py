"""Latents of every split under the frozen codecs, and the training pairs built from them.

results/latents/<split>.npz     one (N, D) float32 array per modality of the split, plus ids
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from bench.embedded.build import PAIR_SPLITS, data_folder, ia_subset, nested_subset
from bench.embedded.prepare import load_codec, views
from bench.embedded.storage import load_split
from flowbind.data import PairTable
from flowbind.files import read_npz


def encode_split(root: str | Path, split: str) -> dict[str, np.ndarray]:
    """Encode every view of ``split`` of a prepared embedded benchmark folder with its codec
    (the point-cloud splits' with the point-cloud codec)."""
    data = load_split(data_folder(root, split), split)
    view = views(data)
    out = {"ids": np.array(data.ids)}
    for modality in data.modalities:
        out[modality] = load_codec(root, modality).encode(view[modality]).numpy()
    return out


def read_latents(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a latents file; NonFiniteError names a latent that is NaN or inf."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run the workflow's encode step first")
    return read_npz(path)


def training_data(
    latent_dir: str | Path,
    ia_fraction: float = 1.0,
    seed: int = 0,
    data_fraction: float = 1.0,
    pair_splits: Mapping[str, tuple[str, ...]] = PAIR_SPLITS,
) -> tuple[dict[str, np.ndarray], list[PairTable]]:
    """Per-modality latent stores and pair tables from the training pair splits (the three of
    the paper by default; with the fourth modality, ``{**PAIR_SPLITS, **POINT_PAIR_SPLITS}``).

    Args:
        latent_dir: folder with train_ti.npz, train_ta.npz and train_ia.npz.
        ia_fraction: fraction of image-audio pairs kept (nested across fractions, fixed by the
            data, not the training seed); 0 drops the image-audio table.
        seed: the seed of the nested subsets.
        data_fraction: fraction of every pair table kept (nested across fractions, one
            permutation per table), applied before ``ia_fraction``.
        pair_splits: split name -> its modalities, in table order (a table's subsets depend on
            its place, so tables added after the three leave theirs as they were).
    """
    parts: dict[str, list[np.ndarray]] = {}
    pairs = []
    for index, (split, modalities) in enumerate(pair_splits.items()):
        z = read_latents(Path(latent_dir) / f"{split}.npz")
        rows = np.arange(len(z["ids"]))
        if data_fraction != 1.0:
            rows = nested_subset(len(rows), data_fraction, seed, 0xDA7A + index)
            if len(rows) == 0:
                raise ValueError(
                    f"data_fraction {data_fraction} keeps none of the {len(z['ids'])} pairs of "
                    f"{split}; raise curves.data_percent"
                )
        if modalities == ("image", "audio"):
            rows = rows[ia_subset(len(rows), ia_fraction, seed)]
            if len(rows) == 0:
                continue
        columns = []
        for m in modalities:
            start = sum(len(p) for p in parts.get(m, []))
            parts.setdefault(m, []).append(z[m][rows])
            columns.append(start + np.arange(len(rows)))
        pairs.append(PairTable(modalities, np.stack(columns, axis=1)))
    return {m: np.concatenate(p) for m, p in parts.items()}, pairs
