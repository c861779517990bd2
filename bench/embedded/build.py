"""Splits of the embedded benchmark, generated deterministically from one seed.

Training pairs mirror the paper's partial pairing: text-image, text-audio and image-audio pairs
come from disjoint scenes and no scene is seen in all three views. Their sizes keep the paper's
ratio 310 : 96 : 180 (COCO + LAION-COCO : AudioCaps : VGGSound, in thousands). Each pair type has
its own test set, triplets test one-to-many and many-to-one, and the codecs and evaluators are
trained on splits of their own, disjoint from all of these.

Every split draws from its own random stream (seed and split name), and each view's nuisance
from its own child stream, so resizing one split changes no other split and rendering one view
changes no other view.

The point-cloud modality has splits of its own, in a data folder of their own beside the
three-modality one (``build_dataset(..., points=True)``; ``data_folder`` says which folder holds
a split), so adding it changes no other file: image-point-cloud training pairs sized like the
image-audio ones (the paper pairs point clouds with images only), a test set per pair with a
point cloud (image, and the unseen text and audio), one with text, image and point cloud for
(T+I)->P, and codec and evaluator splits.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from bench.embedded.audio import synthesize_audio
from bench.embedded.captions import make_captions
from bench.embedded.images import render_images
from bench.embedded.points import sample_points
from bench.embedded.storage import DATA_VERSION, Split, write_split
from bench.embedded.world import sample_attributes
from flowbind.files import atomic_folder, write_json

TRIPLET = ("text", "image", "audio")
SPLIT_MODALITIES: dict[str, tuple[str, ...]] = {
    "train_ti": ("text", "image"),
    "train_ta": ("text", "audio"),
    "train_ia": ("image", "audio"),
    "test_ti": ("text", "image"),
    "test_ta": ("text", "audio"),
    "test_ia": ("image", "audio"),
    "test_triplet": TRIPLET,
    "codec": TRIPLET,
    "codec_val": TRIPLET,
    "evaluator": TRIPLET,
    "evaluator_val": TRIPLET,
}
POINT_SPLITS: dict[str, tuple[str, ...]] = {
    "train_ip": ("image", "points"),
    "test_ip": ("image", "points"),
    "test_tp": ("text", "points"),
    "test_ap": ("audio", "points"),
    "test_tip": ("text", "image", "points"),
    "codec_points": ("points",),
    "codec_points_val": ("points",),
    "evaluator_points": ("image", "points"),  # images too: the contrastive image-point pair
    "evaluator_points_val": ("image", "points"),
}
ALL_SPLITS = {**SPLIT_MODALITIES, **POINT_SPLITS}
# The data folders of a prepared benchmark: <root>/data (the three modalities) and, beside it,
# <root>/data_points (the point-cloud splits).
DATA, POINT_DATA = "data", "data_points"
# The fourth modality's training pair tables (bench.latents.training_data's pair_splits).
POINT_PAIR_SPLITS = {s: m for s, m in POINT_SPLITS.items() if s.startswith("train_")}
PAIR_SPLITS = {
    "train_ti": ("text", "image"),
    "train_ta": ("text", "audio"),
    "train_ia": ("image", "audio"),
}
IA_FRACTIONS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class DataSize:
    """Scenes per split. Training pairs keep the paper's 310 : 96 : 180 ratio; the
    image-point-cloud pairs (``train_ip``, 0: as many as ``train_ia``) are sized like them."""

    train_ti: int
    train_ta: int
    train_ia: int
    test: int
    codec: int
    codec_val: int
    evaluator: int
    evaluator_val: int
    train_ip: int = 0

    def pair_rows(self) -> dict[str, int]:
        """Rows of the three training pair tables, by pair table name (flowbind.data.PairTable)."""
        return {
            "text-image": self.train_ti,
            "text-audio": self.train_ta,
            "image-audio": self.train_ia,
        }

    def split_sizes(self, points: bool = False) -> dict[str, int]:
        """Split name -> scenes of the three-modality splits, or with ``points`` of the
        point-cloud splits (a data folder of their own)."""
        if points:
            return {
                "train_ip": self.train_ip or self.train_ia,
                "test_ip": self.test,
                "test_tp": self.test,
                "test_ap": self.test,
                "test_tip": self.test,
                "codec_points": self.codec,
                "codec_points_val": self.codec_val,
                "evaluator_points": self.evaluator,
                "evaluator_points_val": self.evaluator_val,
            }
        return {
            "train_ti": self.train_ti,
            "train_ta": self.train_ta,
            "train_ia": self.train_ia,
            "test_ti": self.test,
            "test_ta": self.test,
            "test_ia": self.test,
            "test_triplet": self.test,
            "codec": self.codec,
            "codec_val": self.codec_val,
            "evaluator": self.evaluator,
            "evaluator_val": self.evaluator_val,
        }


SIZES = {
    "default": DataSize(3100, 960, 1800, 500, 3000, 500, 3000, 500),
    "tiny": DataSize(310, 96, 180, 100, 600, 100, 600, 100),
}


def split_streams(seed: int, split: str) -> dict[str, np.random.Generator]:
    """Independent generators for a split's attributes and for each view's nuisance.

    A SeedSequence's i-th child depends on i alone, not on how many are spawned, so the point
    clouds' fifth stream left the first four as they were."""
    root = np.random.SeedSequence(entropy=seed, spawn_key=(zlib.crc32(split.encode()),))
    names = ("attributes", "image", "audio", "text", "points")
    children = root.spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}


def generate_split(name: str, n: int, seed: int) -> Split:
    """Generate one split in memory (uint8 images, int16 audio, reference captions)."""
    if name not in ALL_SPLITS:
        raise ValueError(f"unknown split {name!r}; expected one of {sorted(ALL_SPLITS)}")
    modalities = ALL_SPLITS[name]
    streams = split_streams(seed, name)
    attributes = sample_attributes(streams["attributes"], n)
    prefix = name.replace("_", "-")
    split = Split(
        name=name,
        ids=[f"{prefix}-{i:05d}" for i in range(n)],
        attributes=attributes,
        modalities=modalities,
    )
    if "text" in modalities:
        split.references = make_captions(streams["text"], attributes)
    if "image" in modalities:
        split.image = render_images(attributes, streams["image"])
    if "audio" in modalities:
        split.audio = synthesize_audio(attributes, streams["audio"])
    if "points" in modalities:
        split.points = sample_points(attributes, streams["points"])
    return split


def data_folder(root: str | Path, split: str) -> Path:
    """The data folder of a prepared benchmark ``root`` that holds ``split``: ``root/data``,
    or ``root/data_points`` for a point-cloud split."""
    if split not in ALL_SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(ALL_SPLITS)}")
    return Path(root) / (POINT_DATA if split in POINT_SPLITS else DATA)


def resolve_size(size: str | DataSize) -> DataSize:
    if isinstance(size, DataSize):
        return size
    if size not in SIZES:
        raise ValueError(f"unknown data size {size!r}; expected one of {sorted(SIZES)}")
    return SIZES[size]


def build_dataset(
    root: str | Path,
    size: str | DataSize = "default",
    seed: int = 0,
    progress: bool = True,
    points: bool = False,
) -> dict[str, Split]:
    """Generate every split, write it under ``root`` (atomically) and return it in memory.

    dataset.json pins each split's SHA256SUMS by its sha256, so ``load_split`` can tell any
    file changed after the build. ``points``: the point-cloud splits instead of the three
    modalities' (each split is the same file for file whichever folder it is built with).
    """
    size_name = size if isinstance(size, str) else "custom"
    sizes = resolve_size(size).split_sizes(points)
    splits: dict[str, Split] = {}
    sums: dict[str, str] = {}  # split -> sha256 of its SHA256SUMS
    with atomic_folder(root) as tmp:
        for name in tqdm(sizes, desc="data", unit="split", disable=not progress):
            splits[name] = generate_split(name, sizes[name], seed)
            sums[name] = write_split(tmp / name, splits[name])
        write_json(
            tmp / "dataset.json",
            {
                "version": DATA_VERSION,
                "seed": seed,
                "size": size_name,
                "splits": {
                    name: {
                        "size": sizes[name],
                        "modalities": list(ALL_SPLITS[name]),
                        "sha256sums": sums[name],
                    }
                    for name in sizes
                },
            },
        )
    return splits


def nested_subset(n_pairs: int, fraction: float, seed: int = 0, stream: int = 0x1A) -> np.ndarray:
    """Sorted rows of ``n_pairs`` kept at ``fraction``: the first ``round(fraction * n_pairs)``
    of a fixed permutation, so a smaller fraction keeps a subset of a larger one's rows.
    ``stream`` separates the permutations of different tables drawn from one ``seed``."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    order = np.random.default_rng(np.random.SeedSequence([seed, stream])).permutation(n_pairs)
    return np.sort(order[: int(round(fraction * n_pairs))])


def ia_subset(n_pairs: int, fraction: float, seed: int = 0) -> np.ndarray:
    """Rows of the image-audio training pairs kept at ``fraction`` (nested across fractions)."""
    return nested_subset(n_pairs, fraction, seed, 0x1A)
