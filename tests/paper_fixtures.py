"""Writers of tiny copies of the paper's data sets, each in its real on-disk format.

Every writer fills a folder with 3-8 items (tiny JPEG/PNG images, short WAV/FLAC clips, tar
shards, CSV/JSON annotations) and returns what a reader should find: the ids and captions in
order. Media can be broken afterwards with ``truncate`` and ``garble``.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

IMAGE_SIZE = (10, 14)  # (H, W) of every fixture image
AUDIO_RATE = 16000
AUDIO_SECONDS = 0.1
# YouTube ids may start with "-" or "_"; the item ids must still be plain file names.
YOUTUBE_IDS = ("-0DLPzsiXXE", "_xY9aBcDeFg", "abcdefghijk", "K0l1m2n3o4p", "zz-__-zz-99")


def image_bytes(seed: int, fmt: str = "JPEG") -> bytes:
    """A tiny RGB image (IMAGE_SIZE) encoded as ``fmt``."""
    pixels = np.random.default_rng(seed).integers(0, 256, (*IMAGE_SIZE, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format=fmt)
    return buffer.getvalue()


def write_image(path: Path, seed: int) -> Path:
    """A tiny image at ``path``, JPEG or PNG by its suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(seed, "PNG" if path.suffix == ".png" else "JPEG"))
    return path


def tone(seed: int, channels: int = 1, rate: int = AUDIO_RATE) -> np.ndarray:
    """A short float32 (T, channels) waveform in [-0.5, 0.5]."""
    n = int(AUDIO_SECONDS * rate)
    return (np.random.default_rng(seed).random((n, channels)) - 0.5).astype(np.float32)


def write_audio(path: Path, seed: int, channels: int = 1, subtype: str | None = None) -> Path:
    """A short clip at ``path`` (WAV or FLAC by its suffix) at AUDIO_RATE."""
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, tone(seed, channels), AUDIO_RATE, subtype=subtype)
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut ``path`` to ``keep`` of its bytes (a download that stopped early)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def garble(path: Path) -> Path:
    """Replace ``path``'s bytes with garbage of the same length."""
    path.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, path.stat().st_size)))
    return path


def _captions(tag: str, n: int) -> list[str]:
    return [f"{tag} caption {j}" for j in range(n)]


# -- COCO --------------------------------------------------------------------------------


def write_coco(root: Path) -> dict:
    """Karpathy's ``dataset_coco.json`` (3 test, 1 val, 1 restval, 1 train images), the
    official ``annotations/captions_val2014.json`` (6 val2014 images, 5 captions each) and the
    images under ``val2014/`` and ``train2014/``.
    """
    val_ids = [391895, 522418, 184613, 318219, 554625, 397133]
    karpathy_splits = ["test", "test", "test", "val", "restval"]
    images, val_images, annotations = [], [], []
    for i, (cocoid, split) in enumerate(zip(val_ids, karpathy_splits + [None], strict=True)):
        name = f"COCO_val2014_{cocoid:012d}.jpg"
        write_image(root / "val2014" / name, seed=i)
        val_images.append({"id": cocoid, "file_name": name, "height": 10, "width": 14})
        # annotation ids in reverse so that the reader's sort by id matters
        for j, caption in enumerate(_captions(f"coco {cocoid}", 5)):
            annotations.append({"image_id": cocoid, "id": 1000 * (i + 1) - j, "caption": caption})
        if split:
            sentences = [{"raw": c + " ", "tokens": c.split()} for c in _captions(f"k{cocoid}", 5)]
            images.append(
                {
                    "filepath": "val2014",
                    "filename": name,
                    "split": split,
                    "cocoid": cocoid,
                    "sentences": sentences,
                }
            )
    train_name = "COCO_train2014_000000057870.jpg"
    write_image(root / "train2014" / train_name, seed=9)
    images.append(
        {
            "filepath": "train2014",
            "filename": train_name,
            "split": "train",
            "cocoid": 57870,
            "sentences": [{"raw": c} for c in _captions("k57870", 5)],
        }
    )
    (root / "dataset_coco.json").write_text(json.dumps({"images": images, "dataset": "coco"}))
    (root / "annotations").mkdir()
    official = {"images": val_images, "annotations": annotations}
    (root / "annotations" / "captions_val2014.json").write_text(json.dumps(official))
    by_image: dict[int, list[str]] = {}
    for a in sorted(annotations, key=lambda a: a["id"]):
        by_image.setdefault(a["image_id"], []).append(a["caption"])
    return {
        "test_ids": [f"coco_{c}" for c in val_ids[:3]],
        "test_captions": [tuple(_captions(f"k{c}", 5)) for c in val_ids[:3]],
        "val2014": {f"coco_{c}": tuple(by_image[c]) for c in sorted(val_ids)},
    }


# -- Flickr30k ---------------------------------------------------------------------------


def write_flickr30k(root: Path, fmt: str) -> dict:
    """5 images in ``flickr30k-images/`` and Karpathy's JSON (fmt "karpathy") or the
    nlphuji/flickr30k CSV (fmt "hf"); one file name has a space, which ids must not keep."""
    names = ["1000092795.jpg", "10002456.jpg", "1000268201.jpg", "1000344755.jpg", "10010 52.jpg"]
    splits = ["train", "train", "val", "test", "train"]
    rows = []
    for i, name in enumerate(names):
        write_image(root / "flickr30k-images" / name, seed=20 + i)
        rows.append((name, splits[i], _captions(f"flickr {i}", 5)))
    if fmt == "karpathy":
        images = [
            {"filename": n, "split": s, "imgid": i, "sentences": [{"raw": c} for c in caps]}
            for i, (n, s, caps) in enumerate(rows)
        ]
        (root / "dataset_flickr30k.json").write_text(json.dumps({"images": images}))
    else:
        import csv

        with (root / "flickr_annotations_30k.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["raw", "sentids", "split", "filename", "img_id"])
            for i, (n, s, caps) in enumerate(rows):
                sentids = json.dumps(list(range(5 * i, 5 * i + 5)))
                writer.writerow([json.dumps(caps), sentids, s, n, i])
    return {
        "ids": [
            "flickr_1000092795",
            "flickr_10002456",
            "flickr_1000268201",
            "flickr_1000344755",
            "flickr_10010_52",
        ],
        "captions": [tuple(caps) for _, _, caps in rows],
        "splits": splits,
    }


# -- LAION-COCO (img2dataset) ------------------------------------------------------------


def write_laion_tars(root: Path, shards: int = 2, per_shard: int = 3) -> dict:
    """img2dataset webdataset shards ``00000.tar, ...``: <key>.jpg, <key>.txt, <key>.json,
    plus the ``<shard>.parquet`` / ``_stats.json`` files img2dataset leaves beside them."""
    root.mkdir(parents=True, exist_ok=True)
    keys, captions, images = [], [], {}
    for s in range(shards):
        with tarfile.open(root / f"{s:05d}.tar", "w") as tar:
            for i in range(per_shard):
                key = f"{s:05d}{i:04d}"
                caption = f"laion shard {s} sample {i}"
                jpg = image_bytes(100 * s + i)
                meta = {"key": key, "caption": caption, "status": "success", "width": 14}
                for ext, data in (
                    ("jpg", jpg),
                    ("txt", caption.encode()),
                    ("json", json.dumps(meta).encode()),
                ):
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                keys.append(f"laion_{key}")
                captions.append((caption,))
                images[f"laion_{key}"] = jpg
        (root / f"{s:05d}.parquet").write_bytes(b"stats, not read")
        (root / f"{s:05d}_stats.json").write_text("{}")
    return {"ids": keys, "captions": captions, "jpg": images}


def add_tar_sample(shard: Path, key: str, members: dict[str, bytes]) -> None:
    """Append a sample with only ``members`` (ext -> bytes) to an uncompressed tar shard."""
    with tarfile.open(shard, "a") as tar:
        for ext, data in members.items():
            info = tarfile.TarInfo(f"{key}.{ext}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def write_laion_parquet(root: Path, rows: int = 4) -> dict:
    """img2dataset parquet output ``00000.parquet`` (needs pyarrow): key, txt, caption, jpg,
    status; the last row is a failed download with no image."""
    import pandas as pd

    root.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(
        {
            "key": [f"0000{i:04d}" for i in range(rows)],
            "txt": [f"parquet sample {i}" for i in range(rows)],
            "caption": [f"parquet sample {i}" for i in range(rows)],
            "jpg": [image_bytes(200 + i) for i in range(rows - 1)] + [None],
            "status": ["success"] * (rows - 1) + ["failed_to_download"],
        }
    )
    table.to_parquet(root / "00000.parquet", engine="pyarrow")
    return {
        "ids": [f"laion_0000{i:04d}" for i in range(rows - 1)],
        "captions": [(f"parquet sample {i}",) for i in range(rows - 1)],
    }


# -- AudioCaps, VGGSound, triplets -------------------------------------------------------


def write_audiocaps(root: Path, pattern: str = "audio/{split}/{youtube_id}.wav") -> dict:
    """``train.csv`` (4 clips, 1 caption each), ``val.csv`` (1 clip) and ``test.csv`` (3
    clips, 5 captions each, rows interleaved) and one audio file per clip under ``pattern``."""
    import csv

    root.mkdir(parents=True, exist_ok=True)
    clips = {
        "train": [(y, 30 + 10 * i) for i, y in enumerate(YOUTUBE_IDS[:4])],
        "val": [(YOUTUBE_IDS[4], 0)],
        "test": [(y, 10 * i) for i, y in enumerate(YOUTUBE_IDS[:3])],
    }
    expected: dict = {}
    audiocap_id = 1
    for split, entries in clips.items():
        per_clip = 1 if split == "train" else 5
        rows = []
        for j in range(per_clip):  # AudioCaps lists a clip's captions apart from each other
            for i, (youtube_id, start) in enumerate(entries):
                rows.append([audiocap_id, youtube_id, start, f"{split} clip {i} says {j}"])
                audiocap_id += 1
        with (root / f"{split}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["audiocap_id", "youtube_id", "start_time", "caption"])
            writer.writerows(rows)
        for i, (youtube_id, start) in enumerate(entries):
            name = pattern.format(
                youtube_id=youtube_id, start_time=start, split=split, audiocap_id=0
            )
            write_audio(root / name, seed=i, channels=2 if i == 0 else 1)
        expected[split] = {
            "ids": [f"ac_{y}" for y, _ in entries],
            "captions": [
                tuple(f"{split} clip {i} says {j}" for j in range(per_clip))
                for i in range(len(entries))
            ],
        }
    return expected


def write_vggsound(root: Path) -> dict:
    """``vggsound.csv`` (no header; 4 train and 3 test clips, one label with a comma) and
    pre-extracted ``audio/<clip>.wav`` and ``frames/<clip>.jpg``."""
    import csv

    root.mkdir(parents=True, exist_ok=True)
    rows = [(y, 10 * i, f"label {i}", "train") for i, y in enumerate(YOUTUBE_IDS[:4])]
    rows += [
        (y, 100 + i, f"dog barking, growling {i}", "test") for i, y in enumerate(YOUTUBE_IDS[:3])
    ]
    with (root / "vggsound.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    expected: dict = {"train": {"ids": [], "labels": []}, "test": {"ids": [], "labels": []}}
    for i, (youtube_id, start, label, split) in enumerate(rows):
        clip = f"{youtube_id}_{start:06d}"
        write_audio(root / "audio" / f"{clip}.wav", seed=40 + i)
        write_image(root / "frames" / f"{clip}.jpg", seed=40 + i)
        expected[split]["ids"].append(f"vgg_{clip}")
        expected[split]["labels"].append(label)
    return expected


def write_triplets(audiocaps_root: Path, image_dir: str = "triplet_images") -> dict:
    """AudioCaps (``write_audiocaps``) plus one PNG per test clip in ``image_dir``."""
    expected = write_audiocaps(audiocaps_root)
    for i, youtube_id in enumerate(YOUTUBE_IDS[:3]):
        write_image(audiocaps_root / image_dir / f"{youtube_id}.png", seed=60 + i)
    return expected["test"]
