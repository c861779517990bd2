"""Files of the embedded benchmark: PNG, 16-bit WAV, NPY point clouds, caption JSON and an
attribute CSV per split.

    <root>/dataset.json               version, seed, size, splits: their modalities, sizes and
                                      the sha256 of their SHA256SUMS
    <root>/<split>/attributes.csv     id and every attribute value (text and image-audio ones)
    <root>/<split>/captions.json      id -> reference captions (the first is the text view)
    <root>/<split>/image/<id>.png     64x64 RGB
    <root>/<split>/audio/<id>.wav     16 kHz mono, 16-bit PCM
    <root>/<split>/points/<id>.npy    float32 (256, 3) point cloud (NumPy's .npy format)
    <root>/<split>/SHA256SUMS         sha256 of every other file of the split (`sha256sum -c`)

Readers check every file and raise DatasetError naming the file and how to fix it. ``load_split``
hashes the bytes it decodes, so a file changed after the build is refused before it is used.
Ids become file names, so every id read or written passes ``check_id`` first.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import wave
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from bench.embedded.audio import N_SAMPLES, SAMPLE_RATE
from bench.embedded.images import IMAGE_SIZE
from bench.embedded.points import N_POINTS
from bench.embedded.world import ATTRIBUTE_NAMES, BY_NAME

# Version 2 added the per-split SHA256SUMS that dataset.json pins.
DATA_VERSION = "embedded-data/2"
REBUILD = "rebuild it with `python -m bench.embedded --out <root>`"
SUMS = "SHA256SUMS"
PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SUMS_LINE = re.compile(r"([0-9a-f]{64})  (\S.*)")


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
    points: np.ndarray | None = None  # float32 (N, 256, 3)

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
            points=None if self.points is None else self.points[rows],
        )


# -- ids -----------------------------------------------------------------------------------


def check_id(
    item: object, where: str, fix: str | None = REBUILD, seen: set[str] | None = None
) -> str:
    """``item`` if it is a plain file name (and not in ``seen``); else DatasetError at ``where``.

    A plain name is letters, digits, "_", "." and "-", starting with a letter or digit: no path
    separator, no "." or "..", nothing hidden, so ``<folder>/<id>.png`` stays in ``<folder>``.
    When ``seen`` is given, a repeated id is refused too and a new one is added to it.
    """
    end = f"; {fix}" if fix else ""
    if not (isinstance(item, str) and PLAIN_ID.fullmatch(item)):
        raise DatasetError(
            f"{where}: id {item!r} is not a plain name (letters, digits, '_', '.', '-', "
            f"starting with a letter or digit), and ids become file names{end}"
        )
    if seen is not None:
        if item in seen:
            raise DatasetError(f"{where}: id {item!r} is listed twice{end}")
        seen.add(item)
    return item


# -- writing -------------------------------------------------------------------------------


def digest(data: bytes) -> str:
    """The sha256 of ``data``, as hex."""
    return hashlib.sha256(data).hexdigest()


def write_bytes(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path``; returns its sha256."""
    path.write_bytes(data)
    return digest(data)


def write_png(path: Path, image: np.ndarray) -> str:
    """Write a uint8 (H, W, 3) image as PNG; returns the file's sha256."""
    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="PNG", compress_level=1)
    return write_bytes(path, buffer.getvalue())


def write_wav(path: Path, audio: np.ndarray) -> str:
    """Write int16 (T,) audio as 16 kHz mono 16-bit WAV; returns the file's sha256."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes(np.ascontiguousarray(audio, dtype="<i2").tobytes())
    return write_bytes(path, buffer.getvalue())


def write_npy(path: Path, points: np.ndarray) -> str:
    """Write a float32 (P, 3) point cloud in NumPy's .npy format; returns the file's sha256."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(points, dtype="<f4"), allow_pickle=False)
    return write_bytes(path, buffer.getvalue())


def write_sums(folder: Path, sums: Mapping[str, str]) -> str:
    """Write ``folder/SHA256SUMS`` (relative path -> sha256, sorted); returns its own sha256."""
    text = "".join(f"{sha}  {name}\n" for name, sha in sorted(sums.items()))
    return write_bytes(folder / SUMS, text.encode())


def write_split(folder: Path, split: Split) -> str:
    """Write one split and its SHA256SUMS; returns the sha256 of that SHA256SUMS."""
    folder.mkdir(parents=True, exist_ok=True)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["id", *ATTRIBUTE_NAMES])
    for i, sid in enumerate(split.ids):
        row = [BY_NAME[a].values[split.attributes[a][i]] for a in ATTRIBUTE_NAMES]
        writer.writerow([sid, *row])
    sums = {"attributes.csv": write_bytes(folder / "attributes.csv", table.getvalue().encode())}
    if split.references is not None:
        captions = dict(zip(split.ids, split.references, strict=True))
        text = json.dumps(captions, indent=1) + "\n"
        sums["captions.json"] = write_bytes(folder / "captions.json", text.encode())
    # Thousands of small files: file creation, PNG compression and hashing release the GIL,
    # so threads overlap them.
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {}
        if split.image is not None:
            (folder / "image").mkdir(exist_ok=True)
            for sid, image in zip(split.ids, split.image, strict=True):
                name = f"image/{sid}.png"
                jobs[name] = pool.submit(write_png, folder / name, image)
        if split.audio is not None:
            (folder / "audio").mkdir(exist_ok=True)
            for sid, audio in zip(split.ids, split.audio, strict=True):
                name = f"audio/{sid}.wav"
                jobs[name] = pool.submit(write_wav, folder / name, audio)
        if split.points is not None:
            (folder / "points").mkdir(exist_ok=True)
            for sid, cloud in zip(split.ids, split.points, strict=True):
                name = f"points/{sid}.npy"
                jobs[name] = pool.submit(write_npy, folder / name, cloud)
        sums.update({name: job.result() for name, job in jobs.items()})
    return write_sums(folder, sums)


# -- reading -------------------------------------------------------------------------------


def read_bytes(
    path: Path, fix: str = REBUILD, sha256: str | None = None, listed_in: str = SUMS
) -> bytes:
    """The bytes of ``path``, refused unless their sha256 is ``sha256`` (when given)."""
    if not path.is_file():
        raise DatasetError(f"{path} is missing; {fix}")
    data = path.read_bytes()
    if sha256 is not None:
        found = digest(data)
        if found != sha256:
            raise DatasetError(
                f"{path} has changed since it was written: its sha256 is {found[:16]}..., "
                f"{listed_in} says {sha256[:16]}...; {fix}"
            )
    return data


def read_text(
    path: Path, fix: str = REBUILD, sha256: str | None = None, listed_in: str = SUMS
) -> str:
    """The UTF-8 text of ``path`` (checked as ``read_bytes`` checks it)."""
    data = read_bytes(path, fix, sha256, listed_in)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path} is not UTF-8 text ({err}); {fix}") from err


def read_png(
    path: Path, fix: str = REBUILD, sha256: str | None = None, size: int | None = IMAGE_SIZE
) -> np.ndarray:
    """A uint8 (size, size, 3) image (any size when ``size`` is None); ``fix`` ends every error
    message."""
    data = read_bytes(path, fix, sha256)
    try:
        with Image.open(io.BytesIO(data)) as im:
            image = np.asarray(im.convert("RGB") if im.mode != "RGB" else im)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise DatasetError(f"{path} is not a readable PNG ({err}); {fix}") from err
    if size is not None and image.shape != (size, size, 3):
        raise DatasetError(
            f"{path} is {image.shape[1]}x{image.shape[0]}, expected {size}x{size} RGB; {fix}"
        )
    return image


def read_wav(
    path: Path, fix: str = REBUILD, sha256: str | None = None, samples: int | None = N_SAMPLES
) -> np.ndarray:
    """int16 (samples,) audio at 16 kHz (any length when ``samples`` is None); ``fix`` ends
    every error message."""
    data = read_bytes(path, fix, sha256)
    try:
        with wave.open(io.BytesIO(data), "rb") as f:
            params = (f.getnchannels(), f.getsampwidth(), f.getframerate())
            frames = f.readframes(f.getnframes())
    except (wave.Error, EOFError, OSError) as err:
        raise DatasetError(f"{path} is not a readable WAV file ({err}); {fix}") from err
    if params != (1, 2, SAMPLE_RATE):
        raise DatasetError(
            f"{path} has (channels, bytes per sample, rate) {params}, expected "
            f"(1, 2, {SAMPLE_RATE}); {fix}"
        )
    audio = np.frombuffer(frames, dtype="<i2")
    if samples is not None and audio.shape != (samples,):
        raise DatasetError(f"{path} has {audio.size} samples, expected {samples}; {fix}")
    return audio.astype(np.int16)


def read_npy(
    path: Path, fix: str = REBUILD, sha256: str | None = None, points: int | None = N_POINTS
) -> np.ndarray:
    """A float32 (points, 3) point cloud of finite coordinates (any number of points when
    ``points`` is None); ``fix`` ends every error message."""
    data = read_bytes(path, fix, sha256)
    try:
        cloud = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DatasetError(f"{path} is not a readable .npy array ({err}); {fix}") from err
    want = (points if points is not None else "P", 3)
    if cloud.dtype != np.float32 or cloud.ndim != 2 or cloud.shape[1] != 3:
        raise DatasetError(
            f"{path} is a {cloud.dtype} array of shape {cloud.shape}, expected float32 "
            f"{want}; {fix}"
        )
    if points is not None and cloud.shape[0] != points:
        raise DatasetError(f"{path} has {cloud.shape[0]} points, expected {points}; {fix}")
    if not np.isfinite(cloud).all():
        raise DatasetError(f"{path} holds non-finite coordinates; {fix}")
    return cloud


def read_attributes(
    path: Path, sha256: str | None = None
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Ids and attribute codes, name -> int64 (N,), of an attributes.csv."""
    with io.StringIO(read_text(path, REBUILD, sha256), newline="") as f:
        rows = list(csv.reader(f))
    header = ["id", *ATTRIBUTE_NAMES]
    if not rows or rows[0] != header:
        found = rows[0] if rows else "nothing"
        raise DatasetError(f"{path} has header {found}, expected {header}; {REBUILD}")
    ids, codes, seen = [], {a: [] for a in ATTRIBUTE_NAMES}, set()
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DatasetError(
                f"{path} line {line} has {len(row)} fields, expected {len(header)}; {REBUILD}"
            )
        ids.append(check_id(row[0], f"{path} line {line}", REBUILD, seen))
        for a, value in zip(ATTRIBUTE_NAMES, row[1:], strict=True):
            if value not in BY_NAME[a].values:
                raise DatasetError(
                    f"{path} line {line}: {a}={value!r} is not one of {BY_NAME[a].values}"
                )
            codes[a].append(BY_NAME[a].values.index(value))
    return ids, {a: np.array(v, dtype=np.int64) for a, v in codes.items()}


def read_references(path: Path, ids: list[str], sha256: str | None = None) -> list[list[str]]:
    """Each id's reference captions (non-empty strings), in the order of ``ids``."""
    try:
        captions = json.loads(read_text(path, REBUILD, sha256))
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path} is not valid JSON ({err}); {REBUILD}") from err
    if not isinstance(captions, dict):
        raise DatasetError(
            f"{path} holds a {type(captions).__name__}, not an object of id -> captions; {REBUILD}"
        )
    missing = [i for i in ids if i not in captions]
    if missing:
        raise DatasetError(f"{path} has no captions for {missing[:3]} ({len(missing)} ids)")
    refs = [captions[i] for i in ids]
    for item, entry in zip(ids, refs, strict=True):
        if not isinstance(entry, list):
            raise DatasetError(
                f"{path}: {item}: its entry is {entry!r}, not a list of caption strings; {REBUILD}"
            )
        for k, caption in enumerate(entry):
            if not isinstance(caption, str):
                raise DatasetError(
                    f"{path}: {item}: caption {k} is {caption!r}, not a string; {REBUILD}"
                )
    empty = [i for i, r in zip(ids, refs, strict=True) if not r or not all(c.strip() for c in r)]
    if empty:
        raise DatasetError(f"{path} has empty captions for {empty[:3]}; {REBUILD}")
    return refs


def read_manifest(root: Path) -> dict:
    """dataset.json of a data folder written by this version of the benchmark."""
    path = Path(root) / "dataset.json"
    if not path.is_file():
        raise DatasetError(
            f"{path} is missing: {root} is not an embedded-benchmark data folder; {REBUILD}"
        )
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path} is not valid JSON ({err}); {REBUILD}") from err
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if version != DATA_VERSION:
        raise DatasetError(
            f"{path} is data format {version!r}; this code reads {DATA_VERSION!r} (checksums "
            f"per split); {REBUILD}"
        )
    return manifest


def read_sums(
    folder: Path, fix: str = REBUILD, sha256: str | None = None, listed_in: str = SUMS
) -> dict[str, str]:
    """``folder/SHA256SUMS`` as relative path -> sha256; itself checked against ``sha256``."""
    path = folder / SUMS
    sums = {}
    for line, entry in enumerate(read_text(path, fix, sha256, listed_in).splitlines(), start=1):
        match = _SUMS_LINE.fullmatch(entry)
        if not match or match[2].startswith("/") or ".." in match[2].split("/"):
            raise DatasetError(f"{path} line {line} is not '<sha256>  <relative path>'; {fix}")
        sums[match[2]] = match[1]
    return sums


def split_entry(root: Path, manifest: dict, name: str) -> dict:
    """dataset.json's entry of split ``name``: its size, modalities and SHA256SUMS digest."""
    if name not in manifest["splits"]:
        raise DatasetError(f"{root} has no split {name!r}; it has {sorted(manifest['splits'])}")
    entry = manifest["splits"][name]
    missing = {"size", "modalities", "sha256sums"} - entry.keys()
    if missing:
        raise DatasetError(
            f"{root / 'dataset.json'}: split {name} lacks {sorted(missing)}; {REBUILD}"
        )
    return entry


def split_sums(root: Path, name: str, entry: Mapping) -> dict[str, str]:
    """The checked SHA256SUMS of split ``name``, once the split holds exactly the files it lists."""
    folder = root / name
    sums = read_sums(folder, REBUILD, entry["sha256sums"], str(root / "dataset.json"))
    found = set()
    for parent, _, files in os.walk(folder):
        here = Path(parent).relative_to(folder).as_posix()
        found.update(f if here == "." else f"{here}/{f}" for f in files)
    found.discard(SUMS)
    extra, missing = sorted(found - sums.keys()), sorted(sums.keys() - found)
    if extra:
        raise DatasetError(
            f"{folder / extra[0]} is not listed in {folder / SUMS} ({len(extra)} such files): "
            f"the split was changed after the build; {REBUILD}"
        )
    if missing:
        raise DatasetError(
            f"{folder / missing[0]} is missing, though {SUMS} lists it ({len(missing)} listed "
            f"files are missing); {REBUILD}"
        )
    return sums


def load_split(root: str | Path, name: str, verify: bool = True) -> Split:
    """Read one split written by ``build_dataset`` (every file checked).

    Args:
        root: the data folder (holding dataset.json).
        name: the split.
        verify: check each file's bytes against the split's SHA256SUMS before decoding them.
    """
    root = Path(root)
    manifest = read_manifest(root)
    entry = split_entry(root, manifest, name)
    modalities = tuple(entry["modalities"])
    folder = root / name
    sums = split_sums(root, name, entry) if verify else {}
    ids, attributes = read_attributes(folder / "attributes.csv", sums.get("attributes.csv"))
    if len(ids) != entry["size"]:
        raise DatasetError(
            f"{folder / 'attributes.csv'} lists {len(ids)} scenes, dataset.json says "
            f"{entry['size']}; {REBUILD}"
        )
    split = Split(name=name, ids=ids, attributes=attributes, modalities=modalities)
    if "text" in modalities:
        split.references = read_references(folder / "captions.json", ids, sums.get("captions.json"))
    if "image" in modalities:
        names = [f"image/{i}.png" for i in ids]
        split.image = (
            np.stack([read_png(folder / n, REBUILD, sums.get(n)) for n in names])
            if ids
            else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
        )
    if "audio" in modalities:
        names = [f"audio/{i}.wav" for i in ids]
        split.audio = (
            np.stack([read_wav(folder / n, REBUILD, sums.get(n)) for n in names])
            if ids
            else np.zeros((0, N_SAMPLES), np.int16)
        )
    if "points" in modalities:
        names = [f"points/{i}.npy" for i in ids]
        split.points = (
            np.stack([read_npy(folder / n, REBUILD, sums.get(n)) for n in names])
            if ids
            else np.zeros((0, N_POINTS, 3), np.float32)
        )
    return split


def verify_dataset(root: str | Path) -> None:
    """Check every file of every split against its SHA256SUMS; DatasetError names the first."""
    root = Path(root)
    manifest = read_manifest(root)
    for name in sorted(manifest["splits"]):
        for file, sha256 in split_sums(root, name, split_entry(root, manifest, name)).items():
            read_bytes(root / name / file, REBUILD, sha256)
