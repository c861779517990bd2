"""Karpathy's split files (``dataset_coco.json``, ``dataset_flickr30k.json``), read as items.

    {"dataset": "coco", "images": [{"filepath": "val2014", "filename": "COCO_val2014_...jpg",
      "split": "train|val|test|restval", "cocoid": 391895, "sentences": [{"raw": "..."}]}]}

Flickr30k's file has no ``filepath`` and no ``cocoid``; its images sit in one folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.paper.datasets.base import DataLayoutError, Item, read_json


def read_karpathy(path: Path) -> list[dict[str, Any]]:
    """The ``images`` entries of a Karpathy split file, each checked for the fields used."""
    entries = read_json(path, keys=("images",))["images"]
    for i, entry in enumerate(entries):
        lacking = [k for k in ("filename", "split", "sentences") if k not in entry]
        if lacking or not all("raw" in s for s in entry.get("sentences", ())):
            raise DataLayoutError(
                f"{path}: images[{i}] lacks {lacking or ['sentences[].raw']}; a Karpathy split "
                "entry has filename, split and sentences[].raw"
            )
    return entries


def karpathy_items(
    path: Path,
    entries: list[dict[str, Any]],
    split: str | None,
    item_id: Callable[[dict[str, Any]], str],
    image_path: Callable[[dict[str, Any]], Path],
) -> list[Item]:
    """The items of one split (None: every entry), in the file's order.

    Args:
        path: the split file (recorded as each item's source).
        entries: its ``images`` entries (``read_karpathy``).
        split: "train", "val", "test", "restval", or None for all.
        item_id: entry -> the item's id.
        image_path: entry -> the image file.
    """
    return [
        Item(
            id=item_id(entry),
            captions=tuple(s["raw"].strip() for s in entry["sentences"]),
            image=image_path(entry),
            meta={"split": entry["split"], "source": str(path)},
        )
        for entry in entries
        if split is None or entry["split"] == split
    ]
