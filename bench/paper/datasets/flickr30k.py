"""Flickr30k: text-image training pairs, from either of its two common annotation files.

    karpathy  ``dataset_flickr30k.json``, Karpathy's split file (COCO's schema, no filepath)
    hf        ``flickr_annotations_30k.csv`` of the Hugging Face copy nlphuji/flickr30k (the one
              the public code reads): columns raw (a JSON list of 5 captions), sentids, split,
              filename, img_id

Splits: ``all`` (every image: the public code trains on the whole set, 31,014 images, the
paper's "30k"), ``train``, ``val``, ``test``. An item holds the 5 captions; the first is its
text view, as in the public code. Ids are ``flickr_<file name stem>`` in both formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from bench.paper.datasets.base import DataLayoutError, Item, PaperDataset, make_id, read_csv
from bench.paper.datasets.karpathy import karpathy_items, read_karpathy

FORMATS = {"karpathy": "dataset_flickr30k.json", "hf": "flickr_annotations_30k.csv"}
IMAGES = "flickr30k-images"
HF_COLUMNS = ("raw", "split", "filename")


class Flickr30k(PaperDataset):
    """Flickr30k images with Karpathy's or the Hugging Face copy's annotations.

    Args:
        root: the folder holding the annotation file and ``flickr30k-images/``.
        annotations: "karpathy", "hf", or "auto" (whichever file is there, Karpathy's first).
    """

    name = "flickr30k"
    modalities = ("text", "image")
    splits = ("all", "train", "val", "test")
    paper_splits = ("all",)
    layout = """
  <root>/
    dataset_flickr30k.json         Karpathy split (images[] with split, filename,
                                   sentences[].raw)
      or flickr_annotations_30k.csv  nlphuji/flickr30k: raw, sentids, split, filename, img_id
    flickr30k-images/<filename>    the 31,014 JPEG images
"""

    def __init__(self, root: str | Path, annotations: str = "auto") -> None:
        super().__init__(root)
        if annotations not in ("auto", *FORMATS):
            raise ValueError(
                f"flickr30k: annotations must be 'auto', 'karpathy' or 'hf', got {annotations!r}"
            )
        self.annotations = annotations

    @property
    def format(self) -> str | None:
        """The annotation format in use, or None when no annotation file is there."""
        if self.annotations != "auto":
            return self.annotations
        return next((f for f, name in FORMATS.items() if (self.root / name).is_file()), None)

    def required(self, split: str) -> list[Path]:
        files = [FORMATS[self.format]] if self.format else list(FORMATS.values())
        return [*(self.root / f for f in files), self.root / IMAGES]

    def check(self, splits: Iterable[str] | None = None) -> None:
        """As ``PaperDataset.check``; with no annotation file, both alternatives are named."""
        if self.format is None:
            missing = [p for p in self.required("all") if not p.exists()]
            self.raise_missing(missing, note="Either annotation file will do.\n")
        super().check(splits)

    def _items(self, split: str) -> list[Item]:
        path = self.root / FORMATS[self.format]
        if self.format == "karpathy":
            entries = self._cached("karpathy", lambda: read_karpathy(path))
        else:
            entries = self._cached("hf", lambda: read_hf(path))
        return karpathy_items(
            path,
            entries,
            None if split == "all" else split,
            item_id=lambda e: make_id("flickr", Path(e["filename"]).stem),
            image_path=lambda e: self.root / IMAGES / e["filename"],
        )


def read_hf(path: Path) -> list[dict]:
    """The rows of ``flickr_annotations_30k.csv`` as Karpathy-style entries."""
    entries = []
    for i, row in enumerate(read_csv(path, HF_COLUMNS)):
        try:
            captions = json.loads(row["raw"])
        except json.JSONDecodeError:
            captions = None
        if not (isinstance(captions, list) and all(isinstance(c, str) for c in captions)):
            raise DataLayoutError(
                f"{path}: row {i + 2}: column raw is not a JSON list of captions: "
                f"{row['raw'][:80]!r}"
            )
        sentences = [{"raw": c} for c in captions]
        entries.append({"filename": row["filename"], "split": row["split"], "sentences": sentences})
    return entries
