"""Files of the embedded benchmark: PNG, 16-bit WAV, caption JSON and an attribute CSV per split.

    <root>/dataset.json               version, seed, size, splits and their modalities
    <root>/<split>/attributes.csv     id and every attribute value (text and image-audio ones)
    <root>/<split>/captions.json      id -> reference captions (the first is the text view)
    <root>/<split>/image/<id>.png     64x64 RGB
    <root>/<split>/audio/<id>.wav     16 kHz mono, 16-bit PCM

Readers check every file and raise DatasetError naming the file and how to fix it.
"""

from __future__ import annotations

import csv
import json
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from bench.embedded.audio import N_SAMPLES, SAMPLE_RATE
from bench.embedded.images import IMAGE_SIZE
from bench.embedded.world import ATTRIBUTE_NAMES, BY_NAME

REBUILD = "rebuild it with `python -m bench.embedded --out <root>`"


class DatasetError(RuntimeError):
    """A dataset file is missing, unreadable or not what the benchmark wrote."""


@dataclass
class Split:
    """One split in memory; modalities the split does not have are None."""

    name: str
    ids: list[str]
    attributes: dict[str, np.ndarray]
    image: np.ndarray | None = None  # uint8 (N, 64, 64, 3)
    audio: np.ndarray | None = None  # int16 (N, 16000)
    references: list[list[str]] | None = None
    modalities: tuple[str, ...] = field(default=())

    @property
    def captions(self) -> list[str] | None:
        """The text view: each scene's first reference caption."""
        return None if self.references is None else [r[0] for r in self.references]

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows: np.ndarray) -> Split:
        rows = np.asarray(rows, dtype=np.int64)
        return Split(
            name=self.name,
            ids=[self.ids[i] for i in rows],
            attributes={k: v[rows] for k, v in self.attributes.items()},
            image=None if self.image is None else self.image[rows],
            audio=None if self.audio is None else self.audio[rows],
            references=None if self.references is None else [self.references[i] for i in rows],
            modalities=self.modalities,
        )


# -- writing -------------------------------------------------------------------------------


def write_png(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image, mode="RGB").save(path, format="PNG", compress_level=1)


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes(np.ascontiguousarray(audio, dtype="<i2").tobytes())


def write_split(folder: Path, split: Split) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "attributes.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", *ATTRIBUTE_NAMES])
        for i, sid in enumerate(split.ids):
            row = [BY_NAME[a].values[split.attributes[a][i]] for a in ATTRIBUTE_NAMES]
            writer.writerow([sid, *row])
    if split.references is not None:
        captions = dict(zip(split.ids, split.references, strict=True))
        (folder / "captions.json").write_text(json.dumps(captions, indent=1) + "\n")
    # Thousands of small files: file creation and PNG compression release the GIL, so threads
    # overlap them.
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = []
        if split.image is not None:
            (folder / "image").mkdir(exist_ok=True)
            for sid, image in zip(split.ids, split.image, strict=True):
                jobs.append(pool.submit(write_png, folder / "image" / f"{sid}.png", image))
        if split.audio is not None:
            (folder / "audio").mkdir(exist_ok=True)
            for sid, audio in zip(split.ids, split.audio, strict=True):
                jobs.append(pool.submit(write_wav, folder / "audio" / f"{sid}.wav", audio))
        for job in jobs:
            job.result()


# -- reading -------------------------------------------------------------------------------


def read_png(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; {REBUILD}")
    try:
        with Image.open(path) as im:
            image = np.asarray(im.convert("RGB") if im.mode != "RGB" else im)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise DatasetError(f"{path} is not a readable PNG ({err}); {REBUILD}") from err
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise DatasetError(
            f"{path} is {image.shape[1]}x{image.shape[0]}, expected {IMAGE_SIZE}x{IMAGE_SIZE} RGB; "
            f"{REBUILD}"
        )
    return image


def read_wav(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; {REBUILD}")
    try:
        with wave.open(str(path), "rb") as f:
            params = (f.getnchannels(), f.getsampwidth(), f.getframerate())
            data = f.readframes(f.getnframes())
    except (wave.Error, EOFError, OSError) as err:
        raise DatasetError(f"{path} is not a readable WAV file ({err}); {REBUILD}") from err
    if params != (1, 2, SAMPLE_RATE):
        raise DatasetError(
            f"{path} has (channels, bytes per sample, rate) {params}, expected "
            f"(1, 2, {SAMPLE_RATE}); {REBUILD}"
        )
    audio = np.frombuffer(data, dtype="<i2")
    if audio.shape != (N_SAMPLES,):
        raise DatasetError(f"{path} has {audio.size} samples, expected {N_SAMPLES}; {REBUILD}")
    return audio.astype(np.int16)


def read_attributes(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; {REBUILD}")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header = ["id", *ATTRIBUTE_NAMES]
    if not rows or rows[0] != header:
        found = rows[0] if rows else "nothing"
        raise DatasetError(f"{path} has header {found}, expected {header}; {REBUILD}")
    ids, codes = [], {a: [] for a in ATTRIBUTE_NAMES}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DatasetError(f"{path} line {line} has {len(row)} fields, expected {len(header)}")
        ids.append(row[0])
        for a, value in zip(ATTRIBUTE_NAMES, row[1:], strict=True):
            if value not in BY_NAME[a].values:
                raise DatasetError(
                    f"{path} line {line}: {a}={value!r} is not one of {BY_NAME[a].values}"
                )
            codes[a].append(BY_NAME[a].values.index(value))
    return ids, {a: np.array(v, dtype=np.int64) for a, v in codes.items()}


def read_references(path: Path, ids: list[str]) -> list[list[str]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing; {REBUILD}")
    try:
        captions = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path} is not valid JSON ({err}); {REBUILD}") from err
    missing = [i for i in ids if i not in captions]
    if missing:
        raise DatasetError(f"{path} has no captions for {missing[:3]} ({len(missing)} ids)")
    refs = [captions[i] for i in ids]
    empty = [i for i, r in zip(ids, refs, strict=True) if not r or not all(c.strip() for c in r)]
    if empty:
        raise DatasetError(f"{path} has empty captions for {empty[:3]}; {REBUILD}")
    return refs


def read_manifest(root: Path) -> dict:
    path = Path(root) / "dataset.json"
    if not path.is_file():
        raise DatasetError(
            f"{path} is missing: {root} is not an embedded-benchmark data folder; {REBUILD}"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path} is not valid JSON ({err}); {REBUILD}") from err


def load_split(root: str | Path, name: str) -> Split:
    """Read one split written by ``build_dataset`` (every file checked)."""
    root = Path(root)
    manifest = read_manifest(root)
    if name not in manifest["splits"]:
        raise DatasetError(f"{root} has no split {name!r}; it has {sorted(manifest['splits'])}")
    modalities = tuple(manifest["splits"][name]["modalities"])
    folder = root / name
    ids, attributes = read_attributes(folder / "attributes.csv")
    expected = manifest["splits"][name]["size"]
    if len(ids) != expected:
        raise DatasetError(
            f"{folder / 'attributes.csv'} lists {len(ids)} scenes, dataset.json says {expected}; "
            f"{REBUILD}"
        )
    split = Split(name=name, ids=ids, attributes=attributes, modalities=modalities)
    if "text" in modalities:
        split.references = read_references(folder / "captions.json", ids)
    if "image" in modalities:
        split.image = (
            np.stack([read_png(folder / "image" / f"{i}.png") for i in ids])
            if ids
            else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
        )
    if "audio" in modalities:
        split.audio = (
            np.stack([read_wav(folder / "audio" / f"{i}.wav") for i in ids])
            if ids
            else np.zeros((0, N_SAMPLES), np.int16)
        )
    return split
