"""AudioCaps v2: text-audio training pairs (train) and the T->A / A->T test clips (test).

``<root>/{train,val,test}.csv`` have the columns audiocap_id, youtube_id, start_time, caption,
one row per caption; a clip has one caption in train and five in val and test. Audio files are
found with ``audio_pattern``, a file name relative to ``root`` with the fields ``{youtube_id}``
(required), ``{start_time}`` and ``{audiocap_id}`` (integers, so ``{start_time:06d}`` works)
and ``{split}``. Common layouts:

    audio/{split}/{youtube_id}.wav     the default
    audio/{split}/Y{youtube_id}.wav    AudioSet-style names
    {youtube_id}_{start_time}.wav      the public code's (CSV and audio in one folder)

Items are clips (``ac_<youtube_id>``) holding every caption of the clip in CSV order: the first
is the text view (the public code's ``only_first_caption=True``) and all of them are the CIDEr
references. ``only_first_caption=False`` gives one item per (caption, clip) row instead,
``ac_<youtube_id>_<audiocap_id>``, for training on every caption; score tests with the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bench.paper.datasets.base import DataLayoutError, Item, PaperDataset, make_id, read_csv
from bench.paper.datasets.patterns import (
    AUDIO_SUFFIXES,
    check_pattern,
    no_file_matches,
    pattern_folder,
)

COLUMNS = ("audiocap_id", "youtube_id", "start_time", "caption")
FIELDS = {"youtube_id": "abc", "start_time": 30, "audiocap_id": 1, "split": "test"}
DEFAULT_PATTERN = "audio/{split}/{youtube_id}.wav"


class AudioCaps(PaperDataset):
    """AudioCaps v2 captions and audio clips.

    Args:
        root: the folder holding ``train.csv``, ``val.csv``, ``test.csv``.
        audio_pattern: where each clip's audio is, relative to ``root`` (see the module).
        only_first_caption: one item per clip (True) or per caption row (False).
    """

    name = "audiocaps"
    modalities = ("text", "audio")
    splits = ("train", "val", "test")
    paper_splits = ("train", "test")
    layout = """
  <root>/
    train.csv, val.csv, test.csv   audiocap_id,youtube_id,start_time,caption (one row per
                                   caption; 5 per clip in val and test)
    audio/{split}/{youtube_id}.wav   one file per clip (audio_pattern sets the names)
"""

    def __init__(
        self,
        root: str | Path,
        audio_pattern: str = DEFAULT_PATTERN,
        only_first_caption: bool = True,
    ) -> None:
        super().__init__(root)
        self.audio_pattern = check_pattern(
            audio_pattern, FIELDS, "youtube_id", AUDIO_SUFFIXES, "audio_pattern"
        )
        self.only_first_caption = bool(only_first_caption)

    def required(self, split: str) -> list[Path]:
        return [
            self.root / f"{split}.csv",
            pattern_folder(self.root, self.audio_pattern, split=split),
        ]

    def check(self, splits: Iterable[str] | None = None) -> None:
        """As ``PaperDataset.check``; also refuses a pattern that matches no file of a split."""
        super().check(splits)
        for split in self.paper_splits if splits is None else splits:
            try:
                no_file_matches(self._clips(split), "audio", self.audio_pattern, "audio_pattern")
            except DataLayoutError as error:
                raise self.layout_error(f"split {split}: {error}") from None

    def _items(self, split: str) -> list[Item]:
        clips = self._clips(split)
        if self.only_first_caption:
            return clips
        return [
            Item(
                id=f"{clip.id}_{audiocap_id}",
                captions=(caption,),
                audio=clip.audio,
                meta={**clip.meta, "audiocap_id": audiocap_id},
            )
            for clip in clips
            for audiocap_id, caption in zip(clip.meta["audiocap_ids"], clip.captions, strict=True)
        ]

    def _clips(self, split: str) -> list[Item]:
        return self._cached(split, lambda: self._read_clips(split))

    def _read_clips(self, split: str) -> list[Item]:
        path = self.root / f"{split}.csv"
        rows: dict[str, list[tuple[int, int, str]]] = {}
        for line, row in enumerate(read_csv(path, COLUMNS), start=2):
            try:
                entry = (int(row["audiocap_id"]), int(float(row["start_time"])), row["caption"])
            except (TypeError, ValueError):
                raise DataLayoutError(
                    f"{path}: line {line}: audiocap_id and start_time must be numbers, got "
                    f"{row['audiocap_id']!r}, {row['start_time']!r}"
                ) from None
            if not row["youtube_id"]:
                raise DataLayoutError(f"{path}: line {line}: empty youtube_id")
            rows.setdefault(row["youtube_id"], []).append(entry)
        clips = []
        for youtube_id, entries in rows.items():
            start = entries[0][1]
            name = self.audio_pattern.format(
                youtube_id=youtube_id, start_time=start, audiocap_id=entries[0][0], split=split
            )
            clips.append(
                Item(
                    id=make_id("ac", youtube_id),
                    captions=tuple(caption.strip() for _, _, caption in entries),
                    audio=self.root / name,
                    meta={
                        "youtube_id": youtube_id,
                        "start_time": start,
                        "audiocap_ids": [a for a, _, _ in entries],
                        "split": split,
                        "source": str(path),
                    },
                )
            )
        return clips
