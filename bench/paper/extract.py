"""Feature extraction: a split's items through the frozen codecs, batched, sharded, resumable.

    extract_split("test_ta", datasets, codecs, latents="results/latents/test_ta.npz",
                  record="results/paper/splits/test_ta.json",
                  work="results/paper/shards/test_ta")

The public code encodes one item at a time and writes one .npz per item; here each modality is
encoded in batches on the codecs' device, ``shard_size`` items to a shard file:

    <work>/<modality>/shard_<k>.npz    ids and latents of shard k's good items
    <work>/<modality>/shard_<k>.json   the shard's ids digest and its bad items

A rerun skips every shard whose file is complete and of the same items, so a killed job resumes
where it stopped. When every shard is done, the latent store (the embedded benchmark's format:
one (N, D) float32 array per modality plus ids) is written atomically with the items good in
every modality, and the split record (``bench.paper.splits``) beside it. An item that cannot be
read is skipped, counted and listed (``bench.paper.datasets.read_batches``); past
``max_bad_fraction`` of the split's items the job stops. Items per second go to the log.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from bench.paper.datasets import (
    BadItem,
    BadItems,
    Item,
    PaperDataset,
    load_audio,
    load_image,
    load_text,
    read_batches,
)
from bench.paper.splits import SPLITS, write_split
from flowbind.files import atomic_file, read_npz, write_npz


def split_items(split: str, datasets: Mapping[str, PaperDataset]) -> list[Item]:
    """The items of a suite split, its data sets' splits in order (ids are unique across)."""
    items: list[Item] = []
    for name, part in SPLITS[split][0]:
        items += datasets[name].items(part)
    seen: set[str] = set()
    twice = [i.id for i in items if i.id in seen or seen.add(i.id)]
    if twice:
        raise ValueError(f"split {split}: ids occur twice across its data sets: {twice[:5]}")
    return items


def loader(modality: str, codec: Any) -> Callable[[Item], Any]:
    """Item -> the codec's input: caption, uint8 image, or float32 audio at the codec's rate."""
    if modality == "text":
        return load_text
    if modality == "image":
        return load_image
    rate = int(codec.sample_rate)
    return lambda item: load_audio(item, rate)


def _digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def _done(npz: Path, meta: Path, ids: Sequence[str]) -> list[BadItem] | None:
    """The bad items of a finished shard of these ids, or None if it must be (re)computed."""
    if not (npz.is_file() and meta.is_file()):
        return None
    try:
        record = json.loads(meta.read_text())
    except json.JSONDecodeError:
        return None
    if record.get("ids_sha256") != _digest(ids):
        return None
    return [BadItem(**b) for b in record["bad_items"]]


def encode_shard(
    items: Sequence[Item],
    modality: str,
    codec: Any,
    bad: BadItems,
    batch_size: int,
    workers: int = 4,
    progress: Any = None,
) -> tuple[list[str], np.ndarray]:
    """Encode one shard's items with one codec: (good ids, (n_good, D) float32 latents)."""
    ids, parts = [], []
    for batch in read_batches(items, loader(modality, codec), batch_size, bad, workers):
        with torch.no_grad():
            parts.append(codec.encode(batch.values).float().cpu().numpy())
        ids += batch.ids
        if progress is not None:
            progress.update(len(batch))
    dim = codec.latent_dim
    return ids, np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)


def extract_split(
    split: str,
    datasets: Mapping[str, PaperDataset],
    codecs: Mapping[str, Any],
    latents: str | Path,
    record: str | Path,
    work: str | Path,
    shard_size: int = 4096,
    batch_size: int = 64,
    max_bad_fraction: float = 0.01,
    log: Callable[[str], Any] = print,
    progress: bool = True,
) -> dict[str, Any]:
    """Extract every modality of ``split`` into its latent store and split record.

    Args:
        split: a suite split of ``bench.paper.splits.SPLITS``.
        datasets: data set name -> adapter over its local copy.
        codecs: modality -> codec (``bench.paper.codec``), already on their device.
        latents: the latent store to write (results/latents/<split>.npz).
        record: the split record to write (results/paper/splits/<split>.json).
        work: the shard folder, kept between runs until the store is written.
        shard_size: items per shard file.
        batch_size: items per codec call.
        max_bad_fraction: the largest tolerated fraction of bad items per modality.
        log: one line at a time to the job log.
        progress: show a progress bar per modality.

    Returns:
        Counts and speeds: items, kept, bad per modality, items per second per modality.
    """
    items = split_items(split, datasets)
    modalities = SPLITS[split][1]
    work = Path(work)
    shards = [items[i : i + shard_size] for i in range(0, len(items), shard_size)]
    log(f"{split}: {len(items)} items in {len(shards)} shard(s) of up to {shard_size}")
    bad_ids: dict[str, set[str]] = {}
    all_bad: dict[str, BadItem] = {}
    speed: dict[str, float] = {}
    for modality in modalities:
        folder = work / modality
        folder.mkdir(parents=True, exist_ok=True)
        bad = BadItems(len(items), max_bad_fraction, log)
        bar = tqdm(total=len(items), desc=f"{split} {modality}", disable=not progress)
        encoded, seconds = 0, 0.0
        for k, shard in enumerate(shards):
            npz, meta = folder / f"shard_{k:05d}.npz", folder / f"shard_{k:05d}.json"
            shard_ids = [i.id for i in shard]
            previous = _done(npz, meta, shard_ids)
            if previous is not None:  # finished by an earlier run: count its bad items again
                for b in previous:
                    bad.items.append(b)
                bar.update(len(shard))
                continue
            before = len(bad.items)
            start = time.perf_counter()
            ids, z = encode_shard(shard, modality, codecs[modality], bad, batch_size, progress=bar)
            seconds += time.perf_counter() - start
            encoded += len(shard)
            write_npz(npz, {"ids": np.array(ids), "latents": z})
            with atomic_file(meta) as tmp:
                shard_bad = [b.__dict__ for b in bad.items[before:]]
                tmp.write_text(
                    json.dumps({"ids_sha256": _digest(shard_ids), "bad_items": shard_bad})
                )
        bar.close()
        if encoded:
            speed[modality] = round(encoded / max(seconds, 1e-9), 1)
            rate = f"{speed[modality]} items/s"
            log(f"{split} {modality}: {encoded} items in {seconds:.1f} s ({rate})")
        bad_ids[modality] = {b.id for b in bad.items}
        for b in bad.items:
            all_bad.setdefault(b.id, b)
    arrays: dict[str, Any] = {}
    good = [i for i in items if not any(i.id in bad_ids[m] for m in modalities)]
    keep = {i.id for i in good}
    for modality in modalities:
        rows: dict[str, np.ndarray] = {}
        for k in range(len(shards)):
            shard = read_npz(work / modality / f"shard_{k:05d}.npz")
            rows.update(zip(shard["ids"].tolist(), shard["latents"], strict=True))
        arrays[modality] = np.stack([rows[i.id] for i in good]).astype(np.float32)
    write_npz(Path(latents), {"ids": np.array([i.id for i in good]), **arrays})
    write_split(record, split, good, list(all_bad.values()))
    dropped = len(items) - len(keep)
    log(f"{split}: {len(good)} items written to {latents}; {dropped} left out as bad")
    return {
        "split": split,
        "items": len(items),
        "kept": len(good),
        "bad": {m: len(bad_ids[m]) for m in modalities},
        "items_per_second": speed,
    }
