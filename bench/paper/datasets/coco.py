"""MS-COCO: the Karpathy test split (I->T) and the zero-shot MSCOCO-30k prompts (T->I).

Splits:
    test, val, train, restval   Karpathy's splits of ``dataset_coco.json``; an item holds every
                                reference caption of its image (5 to 7; the first is its text).
                                The paper scores I->T on ``test`` (5000 images).
    val2014                     every val2014 image with its official captions: the FID
                                reference set of T->I.
    mscoco30k                   the zero-shot T->I prompts: ``sample_size`` val2014 images drawn
                                without replacement with numpy's ``default_rng(seed)``, one of
                                each image's captions drawn with the same generator; the item's
                                one caption is the prompt, its image the matching reference.
Ids are ``coco_<image id>`` in every split (Karpathy's cocoid is the COCO image id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.paper.datasets.base import DataLayoutError, Item, PaperDataset, make_id, read_json
from bench.paper.datasets.karpathy import karpathy_items, read_karpathy

KARPATHY = "dataset_coco.json"
VAL2014 = "annotations/captions_val2014.json"


class Coco(PaperDataset):
    """MS-COCO 2014 with Karpathy's split file and the official val2014 captions.

    Args:
        root: the folder holding ``dataset_coco.json``, ``annotations/``, ``val2014/``.
        sample_size: how many val2014 images (one caption each) ``mscoco30k`` draws; None
            takes every image.
        seed: the draw's seed.
    """

    name = "coco"
    modalities = ("text", "image")
    splits = ("test", "val", "train", "restval", "val2014", "mscoco30k")
    paper_splits = ("test", "mscoco30k")
    layout = """
  <root>/
    dataset_coco.json                   Karpathy split: images[] with split, filepath,
                                        filename, cocoid, sentences[].raw
    annotations/captions_val2014.json   official captions: images[] {id, file_name},
                                        annotations[] {image_id, caption}
    val2014/COCO_val2014_<id:012d>.jpg  Karpathy val/test/restval images, the T->I reference
    train2014/COCO_train2014_<id:012d>.jpg   Karpathy train images (split "train" only)
"""

    def __init__(self, root: str | Path, sample_size: int | None = 30000, seed: int = 0) -> None:
        super().__init__(root)
        if sample_size is not None and (isinstance(sample_size, bool) or sample_size < 1):
            raise ValueError(
                f"coco: sample_size must be a positive integer or None, got {sample_size!r}"
            )
        self.sample_size = sample_size
        self.seed = int(seed)

    def required(self, split: str) -> list[Path]:
        if split in ("val2014", "mscoco30k"):
            return [self.root / VAL2014, self.root / "val2014"]
        folder = "train2014" if split == "train" else "val2014"
        return [self.root / KARPATHY, self.root / folder]

    def _items(self, split: str) -> list[Item]:
        if split == "val2014":
            return self._val2014()
        if split == "mscoco30k":
            return self._mscoco30k()
        path = self.root / KARPATHY
        entries = self._cached(KARPATHY, lambda: read_karpathy(path))
        return karpathy_items(
            path,
            entries,
            split,
            item_id=lambda e: make_id("coco", e.get("cocoid", Path(e["filename"]).stem)),
            image_path=lambda e: self.root / e.get("filepath", "") / e["filename"],
        )

    def _val2014(self) -> list[Item]:
        path = self.root / VAL2014
        images = self._cached(VAL2014, lambda: read_captions(path))
        return [
            Item(
                id=make_id("coco", image_id),
                captions=captions,
                image=self.root / "val2014" / file_name,
                meta={"split": "val2014", "source": str(path)},
            )
            for image_id, file_name, captions in images
        ]

    def _mscoco30k(self) -> list[Item]:
        images = self._val2014()
        size = len(images) if self.sample_size is None else self.sample_size
        if size > len(images):
            raise DataLayoutError(
                f"coco: mscoco30k draws {size} images but {self.root / VAL2014} lists "
                f"{len(images)} with captions; give the full val2014 captions or a smaller "
                "sample_size"
            )
        rng = np.random.default_rng(self.seed)
        rows = np.sort(rng.choice(len(images), size=size, replace=False))
        drawn = []
        for row in rows:
            item = images[row]
            caption = item.captions[int(rng.integers(len(item.captions)))]
            meta = {**item.meta, "split": "mscoco30k", "seed": self.seed}
            drawn.append(Item(id=item.id, captions=(caption,), image=item.image, meta=meta))
        return drawn


def read_captions(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(image id, file name, captions) of every captioned image of a COCO captions file.

    Images are sorted by id, each image's captions by annotation id: the order, and so the
    seeded draw, does not depend on how the file was written.
    """
    data: dict[str, Any] = read_json(path, keys=("images", "annotations"))
    try:
        names = {int(im["id"]): im["file_name"] for im in data["images"]}
        notes = sorted(
            (int(a["image_id"]), int(a.get("id", i)), a["caption"].strip())
            for i, a in enumerate(data["annotations"])
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise DataLayoutError(
            f"{path}: malformed entry ({error!r}); expected images[] with id and file_name, "
            "annotations[] with image_id and caption"
        ) from None
    captions: dict[int, list[str]] = {}
    for image_id, _, caption in notes:
        captions.setdefault(image_id, []).append(caption)
    unknown = sorted(set(captions) - set(names))
    if unknown:
        raise DataLayoutError(f"{path}: captions of unlisted image ids {unknown[:5]}")
    return [(i, names[i], tuple(captions[i])) for i in sorted(captions)]
