"""The paper benchmark's splits: which data sets feed them, and the test splits as scored.

Split names are the embedded benchmark's, so training (``bench.latents.training_data``),
generation and scoring read both benchmarks alike; T->I has its own split, because the paper
scores it zero-shot on MSCOCO-30k and I->T on the COCO Karpathy test split:

    train_ti      laion_coco train + flickr30k all      text, image
    train_ta      audiocaps train                       text, audio
    train_ia      vggsound train                        image, audio
    test_t2i      coco mscoco30k (val2014 prompts)      text, image    T->I
    test_ti       coco test (Karpathy, 5k)              text, image    I->T
    test_ta       audiocaps test                        text, audio    T->A, A->T
    test_ia       vggsound test                         image, audio   I->A, A->I
    test_triplet  triplets test                         text, image, audio

Feature extraction (``bench.paper.extract``) writes ``results/latents/<split>.npz`` and, beside
it, ``results/paper/splits/<split>.json``: the items that were read (bad ones are left out and
listed), in the latents' order, with their references and media, which ``PaperSplit`` reads
back as the test split the metrics compare with. The T->I FID reference is the real image of
each of the 30k drawn prompts.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.paper.datasets import Item, ParquetCell, TarMember, load_audio, load_image
from bench.tasks import TASKS, Task
from flowbind.files import atomic_file

# suite split -> ((data set, its split), ...) and the modalities it holds
SPLITS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "train_ti": ((("laion_coco", "train"), ("flickr30k", "all")), ("text", "image")),
    "train_ta": ((("audiocaps", "train"),), ("text", "audio")),
    "train_ia": ((("vggsound", "train"),), ("image", "audio")),
    "test_t2i": ((("coco", "mscoco30k"),), ("text", "image")),
    "test_ti": ((("coco", "test"),), ("text", "image")),
    "test_ta": ((("audiocaps", "test"),), ("text", "audio")),
    "test_ia": ((("vggsound", "test"),), ("image", "audio")),
    "test_triplet": ((("triplets", "test"),), ("text", "image", "audio")),
}
TEST_SPLITS = tuple(s for s in SPLITS if s.startswith("test_"))
# tasks scored on another split than the embedded benchmark's
TASK_SPLITS = {"t2i": "test_t2i"}
SCORED_RATE = 16000  # real audio is compared with decoded audio at AudioLDM's rate


def paper_tasks() -> dict[str, Task]:
    """The translation tasks with the paper benchmark's test splits."""
    return {
        key: dataclasses.replace(task, split=TASK_SPLITS.get(key, task.split))
        for key, task in TASKS.items()
    }


def datasets_used(splits: Sequence[str] = tuple(SPLITS)) -> dict[str, list[str]]:
    """Data set -> its splits read by ``splits`` (for the up-front layout check)."""
    out: dict[str, list[str]] = {}
    for split in splits:
        for name, part in SPLITS[split][0]:
            out.setdefault(name, [])
            if part not in out[name]:
                out[name].append(part)
    return out


# -- items to JSON and back -----------------------------------------------------------------


def media_to_json(media: Any) -> Any:
    if media is None:
        return None
    if isinstance(media, TarMember | ParquetCell):
        fields = dataclasses.asdict(media)
        fields["shard"] = str(fields["shard"])
        return {"kind": type(media).__name__, **fields}
    return str(media)


def media_from_json(data: Any) -> Any:
    if data is None or isinstance(data, str):
        return None if data is None else Path(data)
    kind = {"TarMember": TarMember, "ParquetCell": ParquetCell}[data.pop("kind")]
    return kind(**{**data, "shard": Path(data["shard"])})


def item_to_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "captions": list(item.captions),
        "image": media_to_json(item.image),
        "audio": media_to_json(item.audio),
        "meta": {k: v for k, v in item.meta.items() if isinstance(v, str | int | float | bool)},
    }


def item_from_json(data: Mapping[str, Any]) -> Item:
    return Item(
        id=data["id"],
        captions=tuple(data["captions"]),
        image=media_from_json(data["image"]),
        audio=media_from_json(data["audio"]),
        meta=dict(data.get("meta", {})),
    )


def write_split(path: str | Path, name: str, items: Sequence[Item], bad: Sequence[Any]) -> None:
    """Write a split's record: its items in latent order and the bad items left out."""
    record = {
        "split": name,
        "modalities": list(SPLITS[name][1]),
        "items": [item_to_json(i) for i in items],
        "bad_items": [dataclasses.asdict(b) for b in bad],
    }
    with atomic_file(Path(path)) as tmp:
        tmp.write_text(json.dumps(record, indent=1))


class LazyItems(Sequence):
    """The real items of one modality, read from their files on each access (nothing kept):
    30,000 COCO images would not fit in memory, and the metrics read them in batches."""

    def __init__(self, items: Sequence[Item], load: Any) -> None:
        self._items, self._load = list(items), load

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._load(i) for i in self._items[index]]
        return self._load(self._items[index])


def _scored_audio(item: Item) -> np.ndarray:
    """An item's audio as the metrics compare it: int16 at 16 kHz."""
    return (np.clip(load_audio(item, SCORED_RATE), -1, 1) * 32767).round().astype(np.int16)


class PaperSplit:
    """A test split as the metrics read it (the embedded ``Split``'s interface, lazily).

    ``image`` and ``audio`` are the real items, loaded on first use: uint8 (H, W, 3) images and
    int16 16 kHz clips. There is no ground truth of attributes (``attributes`` is empty).
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing; it is written by the workflow's `extract` step"
            )
        record = json.loads(path.read_text())
        self.name = record["split"]
        self.modalities = tuple(record["modalities"])
        self.items = [item_from_json(i) for i in record["items"]]
        self.bad_items = record["bad_items"]
        self.ids = [i.id for i in self.items]
        self.references = [list(i.captions) for i in self.items]
        self.attributes: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.items)

    @property
    def captions(self) -> list[str]:
        return [r[0] for r in self.references]

    def view(self, modality: str) -> Sequence[Any]:
        """The items of one modality: captions, or images / audio read on access."""
        if modality == "text":
            return self.captions
        if modality not in self.modalities:
            raise ValueError(f"split {self.name} has no {modality} (it has {self.modalities})")
        return LazyItems(self.items, load_image if modality == "image" else _scored_audio)

    @property
    def image(self) -> Sequence[Any]:
        return self.view("image")

    @property
    def audio(self) -> Sequence[Any]:
        return self.view("audio")

    def digests(self, modality: str) -> list[str]:
        """Per item, what its cached features depend on: the captions for text; for media the
        file (or shard member) with its size and modification time, so that a replaced file
        makes the cached real-item features stale."""
        if modality == "text":
            return ["\0".join(r) for r in self.references]
        out = []
        for item in self.items:
            media = getattr(item, modality)
            path = media if isinstance(media, Path) else media.shard
            stat = path.stat() if path.exists() else None
            version = f"{stat.st_size}:{stat.st_mtime_ns}" if stat else "missing"
            out.append(f"{media_to_json(media)}:{version}")
        return out
