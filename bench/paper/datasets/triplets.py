"""The paper's triplet test set: AudioCaps test clips, each with an image made from its caption.

The images are generated beforehand by FLUX.1-schnell from each clip's caption (the workflow's
``triplet_images`` rule, bench.paper.triplet_images) into ``<image_dir>/<youtube_id>.png``;
this adapter pairs them with the AudioCaps test split. Items keep the AudioCaps ids
(``ac_<youtube_id>``), all five captions and the audio, and add the image: the many-to-one and
one-to-many tasks are scored on them. A clip whose image is missing is a bad item like any
missing media file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from bench.paper.datasets.audiocaps import DEFAULT_PATTERN, AudioCaps
from bench.paper.datasets.base import DataLayoutError, Item, PaperDataset
from bench.paper.datasets.patterns import IMAGE_SUFFIXES, check_pattern, no_file_matches

FIELDS = {"youtube_id": "abc", "id": "ac_abc"}


class Triplets(PaperDataset):
    """AudioCaps test clips with their generated images.

    Args:
        root: the AudioCaps root (as for ``AudioCaps``).
        image_dir: the folder of generated images, relative to ``root`` or absolute.
        image_pattern: each image's name in ``image_dir`` (fields ``{youtube_id}``, ``{id}``).
        audio_pattern: as for ``AudioCaps``.
    """

    name = "triplets"
    modalities = ("text", "image", "audio")
    splits = ("test",)
    paper_splits = ("test",)
    layout = """
  <root>/                             the AudioCaps root
    test.csv, audio/...               as for the audiocaps data set
  <image_dir>/<youtube_id>.png        one FLUX.1-schnell image per test clip, generated from
                                      its caption beforehand
"""

    def __init__(
        self,
        root: str | Path,
        image_dir: str | Path = "triplet_images",
        image_pattern: str = "{youtube_id}.png",
        audio_pattern: str = DEFAULT_PATTERN,
    ) -> None:
        super().__init__(root)
        self.audiocaps = AudioCaps(root, audio_pattern=audio_pattern, only_first_caption=True)
        self.image_dir = self.root / image_dir
        self.image_pattern = check_pattern(
            image_pattern, FIELDS, "youtube_id", IMAGE_SUFFIXES, "image_pattern"
        )

    def required(self, split: str) -> list[Path]:
        return [*self.audiocaps.required(split), self.image_dir]

    def check(self, splits: Iterable[str] | None = None) -> None:
        """As ``PaperDataset.check``; also refuses an image folder without one test image."""
        super().check(splits)
        self.audiocaps.check(["test"])
        try:
            no_file_matches(self._items("test"), "image", self.image_pattern, "image_pattern")
        except DataLayoutError as error:
            raise self.layout_error(f"{error} (were the images generated?)") from None

    def _items(self, split: str) -> list[Item]:
        return [
            dataclasses.replace(
                clip,
                image=self.image_dir
                / self.image_pattern.format(youtube_id=clip.meta["youtube_id"], id=clip.id),
            )
            for clip in self.audiocaps.items("test")
        ]

    def image_targets(self) -> list[tuple[str, Path]]:
        """(caption, image path) of every test clip, the images not checked: what the
        generation step makes (bench.paper.triplet_images)."""
        return [(item.captions[0], Path(item.image)) for item in self._items("test")]

    def describe(self) -> dict:
        """Name, root and options, for provenance records."""
        found = super().describe()
        found.pop("audiocaps")
        return {**found, "audio_pattern": self.audiocaps.audio_pattern}
