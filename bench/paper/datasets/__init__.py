"""The paper benchmark's data sets, read from local copies (nothing is downloaded).

    dataset = open_dataset("audiocaps", "/data/audiocaps")
    dataset.check()                                 # every missing file at once, before work
    items = dataset.items("test")                   # lazy Items: ids, captions, media paths
    bad = BadItems(len(items), max_bad_fraction=0.01)
    for batch in read_batches(items, lambda it: load_audio(it, 48000), 32, bad=bad):
        ...                                         # batch.ids, batch.values
    bad.write(out / "bad_items.tsv")

Which split feeds which role of the paper (``PAPER_SPLITS``; FACTS section 2):

    training pairs
      text-image    laion_coco train (242k, LAION-COCO aesthetic subset) + flickr30k all (30k)
      text-audio    audiocaps train (91k)
      image-audio   vggsound train (184k)
    tests
      T->I          coco mscoco30k (30k val2014 prompts; FID reference: coco val2014)
      I->T          coco test (Karpathy test, 5000 images, 5+ references each)
      T->A, A->T    audiocaps test (5 references per clip)
      I->A, A->I    vggsound test
      many-to-one, one-to-many   triplets test (AudioCaps test + FLUX.1-schnell images)

Modules: ``base`` (Item, errors, the layout check), ``media`` (load_text, load_image,
load_audio), ``reading`` (read_batches, BadItems), ``patterns`` (media file-name patterns), and
one module per data set.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from bench.paper.datasets.audiocaps import AudioCaps
from bench.paper.datasets.base import (
    BadItemError,
    CorruptItemError,
    DataLayoutError,
    Item,
    MissingItemError,
    PaperDataError,
    PaperDataset,
    ParquetCell,
    TarMember,
)
from bench.paper.datasets.coco import Coco
from bench.paper.datasets.flickr30k import Flickr30k
from bench.paper.datasets.laion_coco import LaionCoco
from bench.paper.datasets.media import load_audio, load_image, load_text
from bench.paper.datasets.reading import (
    DEFAULT_MAX_BAD_FRACTION,
    BadItem,
    BadItems,
    Batch,
    TooManyBadItemsError,
    read_batches,
)
from bench.paper.datasets.triplets import Triplets
from bench.paper.datasets.vggsound import VGGSound

DATASETS: dict[str, type[PaperDataset]] = {
    "coco": Coco,
    "flickr30k": Flickr30k,
    "laion_coco": LaionCoco,
    "audiocaps": AudioCaps,
    "vggsound": VGGSound,
    "triplets": Triplets,
}

# role -> the (data set, split) pairs that feed it in the paper
PAPER_SPLITS: dict[str, tuple[tuple[str, str], ...]] = {
    "train_text_image": (("laion_coco", "train"), ("flickr30k", "all")),
    "train_text_audio": (("audiocaps", "train"),),
    "train_image_audio": (("vggsound", "train"),),
    "test_t2i": (("coco", "mscoco30k"),),
    "reference_t2i": (("coco", "val2014"),),
    "test_i2t": (("coco", "test"),),
    "test_text_audio": (("audiocaps", "test"),),
    "test_image_audio": (("vggsound", "test"),),
    "test_triplets": (("triplets", "test"),),
}


def open_dataset(name: str, root: str | Path, **options: object) -> PaperDataset:
    """The adapter ``name`` over the local copy at ``root``.

    Args:
        name: one of ``DATASETS``.
        root: the data set's folder.
        **options: the adapter's options (e.g. ``audio_pattern`` for audiocaps).

    Raises:
        ValueError: an unknown name or option (the message lists the known ones).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    cls = DATASETS[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "root")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"data set {name!r}: unknown option(s) {unknown}; its options: "
            f"{', '.join(accepted) or 'none'}"
        )
    return cls(root, **options)


__all__ = [
    "DATASETS",
    "DEFAULT_MAX_BAD_FRACTION",
    "PAPER_SPLITS",
    "AudioCaps",
    "BadItem",
    "BadItemError",
    "BadItems",
    "Batch",
    "Coco",
    "CorruptItemError",
    "DataLayoutError",
    "Flickr30k",
    "Item",
    "LaionCoco",
    "MissingItemError",
    "PaperDataError",
    "PaperDataset",
    "ParquetCell",
    "TarMember",
    "TooManyBadItemsError",
    "Triplets",
    "VGGSound",
    "load_audio",
    "load_image",
    "load_text",
    "open_dataset",
    "read_batches",
]
