"""Decoding an item's media on demand: its caption, its image, its audio.

    load_text(item)                -> str, the text view (first caption)
    load_image(item)               -> uint8 (H, W, 3) RGB array
    load_audio(item, sample_rate)  -> float32 (T,) mono waveform in [-1, 1] at sample_rate

A file that is absent raises MissingItemError, one that is there but cannot be decoded
(truncated, garbage bytes, no samples, NaN samples) raises CorruptItemError; both name the item
and the file, and ``read_batches`` skips and lists such items. Images are decoded in full at
once, so a truncated JPEG fails here rather than later. Audio is read with soundfile (WAV, FLAC,
OGG, MP3), channels are averaged and the waveform resampled with
``torchaudio.functional.resample``. (A truncated JPEG is caught only while PIL's
``ImageFile.LOAD_TRUNCATED_IMAGES`` stays False, its default.)
"""

from __future__ import annotations

import contextlib
import functools
import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from bench.paper.datasets.base import (
    CorruptItemError,
    Item,
    Media,
    MissingItemError,
    ParquetCell,
    TarMember,
)

PYARROW_FIX = (
    "reading parquet shards needs pyarrow: `pip install pyarrow`, or let img2dataset write "
    "webdataset tars (--output_format webdataset)"
)


def load_text(item: Item) -> str:
    """The item's text view (its first caption); MissingItemError if it has none."""
    if not item.captions or not item.captions[0].strip():
        raise MissingItemError(item.id, item.meta.get("source", "?"), "no caption")
    return item.captions[0]


def load_image(item: Item) -> np.ndarray:
    """The item's image as uint8 (H, W, 3) RGB.

    Raises:
        ValueError: the item has no image view.
        MissingItemError, CorruptItemError: the file is absent or cannot be decoded.
    """
    source = _open(item, _media(item, "image"))
    try:
        with Image.open(source) as image:
            image.load()  # decode now: a truncated file fails here, not in a later resize
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise CorruptItemError(item.id, item.image, f"unreadable image ({error})") from None
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise CorruptItemError(item.id, item.image, f"empty image of shape {rgb.shape}")
    return rgb


def load_audio(item: Item, sample_rate: int) -> np.ndarray:
    """The item's audio as a float32 (T,) mono waveform in [-1, 1] at ``sample_rate``.

    Args:
        item: an item with an audio view.
        sample_rate: the rate wanted (CLAP: 48000; AudioLDM and FAD: 16000).

    Raises:
        ValueError: the item has no audio view.
        MissingItemError, CorruptItemError: the file is absent, truncated, undecodable,
            holds no samples or holds NaN / inf samples.
    """
    import soundfile

    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, int | np.integer)
        or sample_rate < 1
    ):
        raise ValueError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")

    source = _open(item, _media(item, "audio"))
    try:
        with _binary(source) as f:
            truncated = _wav_truncation(f)
            if truncated:
                raise CorruptItemError(item.id, item.audio, f"truncated WAV ({truncated})")
            data, rate = soundfile.read(f, dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError, OSError, ValueError, EOFError) as error:
        raise CorruptItemError(item.id, item.audio, f"unreadable audio ({error})") from None
    if data.shape[0] == 0:
        raise CorruptItemError(item.id, item.audio, "audio file holds no samples")
    if not np.isfinite(data).all():
        raise CorruptItemError(item.id, item.audio, "audio has NaN or inf samples")
    wave = data.mean(axis=1)
    if rate != sample_rate:
        import torch
        from torchaudio.functional import resample

        wave = resample(torch.from_numpy(wave), int(rate), int(sample_rate)).numpy()
    # Float files and resampling ringing can leave [-1, 1] by a little; the codecs expect it.
    return np.ascontiguousarray(np.clip(wave, -1.0, 1.0), dtype=np.float32)


def _media(item: Item, view: str) -> Media:
    media = getattr(item, view)
    if media is None:
        raise ValueError(f"item {item.id} has no {view} view (its data set has no {view}s)")
    return media


def _open(item: Item, media: Media) -> Path | io.BytesIO:
    """A path or in-memory file for ``media``; MissingItemError if it is absent."""
    if isinstance(media, Path):
        if not media.is_file():
            raise MissingItemError(item.id, media, "file not found")
        return media
    if isinstance(media, TarMember):
        if media.offset is None:
            raise MissingItemError(item.id, media, "the shard has no such member")
        try:
            with media.shard.open("rb") as f:
                f.seek(media.offset)
                data = f.read(media.size)
        except OSError as error:
            raise MissingItemError(item.id, media, f"shard unreadable ({error})") from None
        if len(data) != media.size:
            raise CorruptItemError(
                item.id, media, f"truncated shard: {len(data)} of {media.size} bytes"
            )
        return io.BytesIO(data)
    if isinstance(media, ParquetCell):
        try:
            column = _parquet_column(media.shard, media.column, media.row_group)
        except (OSError, ValueError) as error:
            raise CorruptItemError(item.id, media, f"shard unreadable ({error})") from None
        data = column[media.row] if media.row < len(column) else None
        if not data:
            raise MissingItemError(item.id, media, "no image bytes in this cell")
        return io.BytesIO(data)
    raise TypeError(f"item {item.id}: unknown media reference {media!r}")


def pyarrow_parquet() -> Any:
    """``pyarrow.parquet``, or ImportError saying how to get it."""
    try:
        import pyarrow.parquet
    except ImportError:
        raise ImportError(PYARROW_FIX) from None
    return pyarrow.parquet


@functools.lru_cache(maxsize=2)
def _parquet_column(shard: Path, column: str, row_group: int) -> list[bytes | None]:
    # Items come in shard order, so one decoded row group serves thousands of reads in a row.
    table = pyarrow_parquet().ParquetFile(shard).read_row_group(row_group, columns=[column])
    return table.column(column).to_pylist()


@contextlib.contextmanager
def _binary(source: Path | io.BytesIO) -> Iterator[IO[bytes]]:
    """A binary file for a path or an in-memory file (closing only what it opened)."""
    if isinstance(source, Path):
        with source.open("rb") as f:
            yield f
    else:
        yield source


def _wav_truncation(f: IO[bytes]) -> str | None:
    """Why a RIFF WAV file is cut short, or None (other formats: None; soundfile judges).

    libsndfile reads a WAV whose data ends early without complaint, so its data chunk's
    declared size is compared with the bytes present.
    """
    f.seek(0, io.SEEK_END)
    end = f.tell()
    f.seek(0)
    head = f.read(12)
    position = 12
    found = None
    if len(head) == 12 and head[:4] == b"RIFF" and head[8:] == b"WAVE":
        while position + 8 <= end:
            f.seek(position)
            chunk, size = struct.unpack("<4sI", f.read(8))
            if chunk == b"data":
                held = end - position - 8
                if size != 0xFFFFFFFF and size > held:  # 0xFFFFFFFF: written as a stream
                    found = f"data chunk declares {size} bytes, the file holds {held}"
                break
            position += 8 + size + (size & 1)
    f.seek(0)
    return found
