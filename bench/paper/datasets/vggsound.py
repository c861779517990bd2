"""VGGSound: image-audio training pairs (train) and the I->A / A->I test clips (test).

``<root>/vggsound.csv`` has no header; its columns are youtube_id, start_seconds, label, split
(train or test). A clip is named ``<youtube_id>_<start_seconds:06d>`` (the download's mp4 names).
No video decoder is assumed (torchvision 0.26 has none, and neither PyAV nor ffmpeg is a
dependency), so each mp4 must first be split into its audio track and one frame, e.g. the
middle one of the 10 s clip:

    mkdir -p audio frames
    for f in video/*.mp4; do c=$(basename "$f" .mp4)
      ffmpeg -nostdin -loglevel error -i "$f" -vn -acodec pcm_s16le "audio/$c.wav"
      ffmpeg -nostdin -loglevel error -ss 5 -i "$f" -frames:v 1 -q:v 2 "frames/$c.jpg"
    done

``audio_pattern`` and ``frame_pattern`` name those files relative to ``root``, with the fields
``{clip}``, ``{youtube_id}``, ``{start_seconds}`` (an integer) and ``{split}``. Items are
``vgg_<clip>`` with the audio file, the frame as the image, and the class label in ``meta``
(VGGSound has no captions).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bench.paper.datasets.base import DataLayoutError, Item, PaperDataset, make_id, read_csv
from bench.paper.datasets.patterns import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    check_pattern,
    no_file_matches,
    pattern_folder,
)

CSV = "vggsound.csv"
COLUMNS = ("youtube_id", "start_seconds", "label", "split")
FIELDS = {"clip": "abc_000030", "youtube_id": "abc", "start_seconds": 30, "split": "test"}


class VGGSound(PaperDataset):
    """VGGSound clips as pre-extracted audio files and one frame each.

    Args:
        root: the folder holding ``vggsound.csv``.
        audio_pattern: each clip's audio file, relative to ``root``.
        frame_pattern: each clip's frame (JPEG or PNG), relative to ``root``.
    """

    name = "vggsound"
    modalities = ("image", "audio")
    splits = ("train", "test")
    paper_splits = ("train", "test")
    layout = """
  <root>/
    vggsound.csv          youtube_id,start_seconds,label,split (no header)
    audio/<clip>.wav      <clip> = <youtube_id>_<start_seconds:06d> (audio_pattern)
    frames/<clip>.jpg     one frame of the clip (frame_pattern)
  mp4 clips must be split into audio/ and frames/ first (ffmpeg; see bench.paper.datasets
  .vggsound)
"""

    def __init__(
        self,
        root: str | Path,
        audio_pattern: str = "audio/{clip}.wav",
        frame_pattern: str = "frames/{clip}.jpg",
    ) -> None:
        super().__init__(root)
        self.audio_pattern = check_pattern(
            audio_pattern, FIELDS, "clip", AUDIO_SUFFIXES, "audio_pattern"
        )
        self.frame_pattern = check_pattern(
            frame_pattern, FIELDS, "clip", IMAGE_SUFFIXES, "frame_pattern"
        )

    def required(self, split: str) -> list[Path]:
        return [
            self.root / CSV,
            pattern_folder(self.root, self.audio_pattern, split=split),
            pattern_folder(self.root, self.frame_pattern, split=split),
        ]

    def check(self, splits: Iterable[str] | None = None) -> None:
        """As ``PaperDataset.check``; also refuses patterns that match no file of a split."""
        super().check(splits)
        for split in self.paper_splits if splits is None else splits:
            clips = self._items(split)
            try:
                no_file_matches(clips, "audio", self.audio_pattern, "audio_pattern")
                no_file_matches(clips, "image", self.frame_pattern, "frame_pattern")
            except DataLayoutError as error:
                raise self.layout_error(f"split {split}: {error}") from None

    def _items(self, split: str) -> list[Item]:
        rows = self._cached(CSV, self._read_rows)
        items = []
        for youtube_id, start, label, row_split in rows:
            if row_split != split:
                continue
            clip = f"{youtube_id}_{start:06d}"
            fields = {
                "clip": clip,
                "youtube_id": youtube_id,
                "start_seconds": start,
                "split": split,
            }
            items.append(
                Item(
                    id=make_id("vgg", clip),
                    image=self.root / self.frame_pattern.format(**fields),
                    audio=self.root / self.audio_pattern.format(**fields),
                    meta={
                        "label": label,
                        "start_seconds": start,
                        "split": split,
                        "source": str(self.root / CSV),
                    },
                )
            )
        return items

    def _read_rows(self) -> list[tuple[str, int, str, str]]:
        path = self.root / CSV
        rows = []
        for line, row in enumerate(read_csv(path, COLUMNS, header=False), start=1):
            split = row["split"].strip()
            try:
                seconds = float(row["start_seconds"])
            except ValueError:
                seconds = -1.0
            start = int(seconds) if seconds.is_integer() else -1
            if start < 0 or split not in self.splits or not row["youtube_id"]:
                raise DataLayoutError(
                    f"{path}: line {line}: expected youtube_id,start_seconds,label,split with a "
                    f"whole start_seconds and split train or test, got {list(row.values())}"
                )
            rows.append((row["youtube_id"], start, row["label"], split))
        return rows
