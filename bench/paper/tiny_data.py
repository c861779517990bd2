"""Tiny copies of the paper's six data sets, each in its real on-disk layout (paper_tiny).

    roots = write_tiny_data("results/tiny_data", n=16)

Every data set gets ``n`` items per split the paper reads (random-noise images of 32 x 32, one
second of noise at 16 kHz, captions built from a few words), written in the layout its adapter
in ``bench.paper.datasets`` reads: Karpathy JSON and val2014 captions for COCO, Karpathy JSON
for Flickr30k, an img2dataset webdataset shard for LAION-COCO, AudioCaps CSVs, the VGGSound
CSV with pre-extracted audio and frames, and the triplets' images beside AudioCaps. The
paper_tiny config runs the whole workflow on them; nothing measured on them means anything.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

IMAGE_SIZE = 32
RATE = 16000
WORDS = ("dog", "cat", "car", "bird", "piano", "rain", "red", "blue", "small", "loud")


def _image(path: Path, rng: np.random.Generator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = rng.integers(0, 256, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    Image.fromarray(pixels, mode="RGB").save(path)


def _audio(path: Path, rng: np.random.Generator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, (rng.random(RATE) - 0.5).astype(np.float32) * 0.5, RATE)


def _caption(rng: np.random.Generator) -> str:
    return "a " + " ".join(rng.choice(WORDS, size=4))


def _youtube_id(i: int) -> str:
    return f"yt{i:09d}"


def write_coco(root: Path, n: int, rng: np.random.Generator) -> None:
    """Karpathy test split of ``n`` val2014 images, and 2n val2014 images with 5 captions."""
    images, official, annotations = [], [], []
    for i in range(2 * n):
        cocoid = 100000 + i
        name = f"COCO_val2014_{cocoid:012d}.jpg"
        _image(root / "val2014" / name, rng)
        captions = [_caption(rng) for _ in range(5)]
        official.append({"id": cocoid, "file_name": name})
        annotations += [
            {"image_id": cocoid, "id": 5 * i + j, "caption": c} for j, c in enumerate(captions)
        ]
        if i < n:
            sentences = [{"raw": c} for c in captions]
            images.append(
                {"filepath": "val2014", "filename": name, "split": "test", "cocoid": cocoid,
                 "sentences": sentences}
            )  # fmt: skip
    (root / "train2014").mkdir(parents=True, exist_ok=True)
    (root / "dataset_coco.json").write_text(json.dumps({"images": images, "dataset": "coco"}))
    (root / "annotations").mkdir(exist_ok=True)
    (root / "annotations" / "captions_val2014.json").write_text(
        json.dumps({"images": official, "annotations": annotations})
    )


def write_flickr30k(root: Path, n: int, rng: np.random.Generator) -> None:
    images = []
    for i in range(n):
        name = f"{1000000 + i}.jpg"
        _image(root / "flickr30k-images" / name, rng)
        sentences = [{"raw": _caption(rng)} for _ in range(5)]
        images.append({"filename": name, "split": "train", "imgid": i, "sentences": sentences})
    (root / "dataset_flickr30k.json").write_text(json.dumps({"images": images}))


def write_laion_coco(root: Path, n: int, rng: np.random.Generator) -> None:
    """One webdataset shard as img2dataset writes it: <key>.jpg, <key>.txt, <key>.json."""
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(root / "00000.tar", "w") as tar:
        for i in range(n):
            key = f"{i:09d}"
            buffer = io.BytesIO()
            pixels = rng.integers(0, 256, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
            Image.fromarray(pixels, mode="RGB").save(buffer, format="JPEG")
            members = {
                f"{key}.jpg": buffer.getvalue(),
                f"{key}.txt": _caption(rng).encode(),
                f"{key}.json": json.dumps({"key": key, "status": "success"}).encode(),
            }
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def write_audiocaps(root: Path, n: int, rng: np.random.Generator) -> None:
    """train (1 caption a clip), val and test (5 captions a clip) CSVs, and the clips under
    audio/<split>/<youtube_id>.wav; plus the triplets' images in triplet_images/."""
    root.mkdir(parents=True, exist_ok=True)
    offsets = {"train": 0, "val": n, "test": 2 * n}
    row_id = 1
    for split, offset in offsets.items():
        per_clip = 1 if split == "train" else 5
        rows = []
        for i in range(n):
            youtube_id = _youtube_id(offset + i)
            _audio(root / "audio" / split / f"{youtube_id}.wav", rng)
            for _ in range(per_clip):
                rows.append([row_id, youtube_id, 30, _caption(rng)])
                row_id += 1
            if split == "test":
                _image(root / "triplet_images" / f"{youtube_id}.png", rng)
        with (root / f"{split}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["audiocap_id", "youtube_id", "start_time", "caption"])
            writer.writerows(rows)


def write_vggsound(root: Path, n: int, rng: np.random.Generator) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for split, offset in (("train", 3 * n), ("test", 4 * n)):
        for i in range(n):
            youtube_id, start = _youtube_id(offset + i), 10
            clip = f"{youtube_id}_{start:06d}"
            _audio(root / "audio" / f"{clip}.wav", rng)
            _image(root / "frames" / f"{clip}.jpg", rng)
            rows.append([youtube_id, start, str(rng.choice(WORDS)), split])
    with (root / "vggsound.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)


def write_tiny_data(root: str | Path, n: int = 16, seed: int = 0) -> dict[str, Path]:
    """Write the six tiny data sets under ``root``; returns data set name -> its folder."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    roots = {
        "coco": root / "coco",
        "flickr30k": root / "flickr30k",
        "laion_coco": root / "laion-coco",
        "audiocaps": root / "audiocaps",
        "vggsound": root / "vggsound",
    }
    write_coco(roots["coco"], n, rng)
    write_flickr30k(roots["flickr30k"], n, rng)
    write_laion_coco(roots["laion_coco"], n, rng)
    write_audiocaps(roots["audiocaps"], n, rng)
    write_vggsound(roots["vggsound"], n, rng)
    return {**roots, "triplets": roots["audiocaps"]}
