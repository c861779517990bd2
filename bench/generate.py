"""Generation: translate test latents with a method, decode them, write them with a manifest.

    results/generate/<method>/<task>/
        latents.npz      generated target latents (one (N, D) array per target) and ids;
                         absent for methods that decode themselves (baselines/official/)
        image/<id>.png   decoded images        (image targets)
        audio/<id>.wav   decoded 16 kHz audio  (audio targets)
        text.json        id -> decoded caption (text targets)
        manifest.csv     one row per item: its id, test split, source modalities and outputs

The ``codec ceiling`` is generated the same way from the true target latents, so it shows
what the frozen codecs alone reach: decode(encode(x)).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.embedded.codecs import Codec
from bench.embedded.storage import read_png, read_wav, write_png, write_wav
from bench.tasks import Task
from flowbind.files import atomic_folder, write_npz
from flowbind.method import Method


def translate_task(
    method: Method, task: Task, test: Mapping[str, np.ndarray], /, batch_size: int = 500, **solver
) -> dict[str, np.ndarray]:
    """Generated raw target latents, target -> (N, D), in batches of test items."""
    n = len(test["ids"])
    out: dict[str, list[np.ndarray]] = {m: [] for m in task.targets}
    for start in range(0, n, batch_size):
        sources = {m: torch.from_numpy(test[m][start : start + batch_size]) for m in task.sources}
        for m, z in method.translate(sources, list(task.targets), **solver).items():
            out[m].append(z.numpy())
    return {m: np.concatenate(parts).astype(np.float32) for m, parts in out.items()}


def decode_latents(
    task: Task, latents: Mapping[str, np.ndarray], codecs: Mapping[str, Codec]
) -> dict[str, Any]:
    """Decoded targets, target -> batch: captions, uint8 (N, 64, 64, 3) images, int16 audio."""
    return {t: codecs[t].decode(torch.from_numpy(latents[t])) for t in task.targets}


def write_outputs(
    folder: str | Path,
    task: Task,
    ids: np.ndarray,
    latents: Mapping[str, np.ndarray],
    codecs: Mapping[str, Codec],
) -> Path:
    """Decode target latents and write the generation folder atomically."""
    return write_decoded(folder, task, ids, decode_latents(task, latents, codecs), latents)


def write_decoded(
    folder: str | Path,
    task: Task,
    ids: Sequence[Any],
    decoded: Mapping[str, Sequence[Any]],
    latents: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write already-decoded outputs and their manifest as one generation folder, atomically.

    Args:
        folder: results/generate/<method>/<task>/.
        task: the task; its targets are the folder's outputs.
        ids: the source item of each row.
        decoded: target -> one output per id: captions (str), uint8 (H, W, 3) images or int16
            16 kHz waveforms.
        latents: target -> (N, D) latents, written to latents.npz when given.
    """
    ids = [str(i) for i in ids]
    with atomic_folder(folder) as tmp:
        if latents is not None:
            write_npz(tmp / "latents.npz", {"ids": np.array(ids), **latents})
        columns: dict[str, list[str]] = {}
        for target in task.targets:
            outputs = decoded[target]
            if target == "text":
                (tmp / "text.json").write_text(
                    json.dumps(dict(zip(ids, outputs, strict=True)), indent=1)
                )
                columns["text"] = list(outputs)
                continue
            sub = tmp / target
            sub.mkdir()
            suffix, write = (".png", write_png) if target == "image" else (".wav", write_wav)
            for item, x in zip(ids, outputs, strict=True):
                write(sub / f"{item}{suffix}", x)
            columns[target] = [f"{target}/{item}{suffix}" for item in ids]
        with (tmp / "manifest.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "split", "task", "sources", *task.targets])
            for row, item in enumerate(ids):
                writer.writerow(
                    [item, task.split, task.name, "+".join(task.sources)]
                    + [columns[t][row] for t in task.targets]
                )
    return Path(folder)


def read_outputs(folder: str | Path, task: Task) -> dict[str, Any]:
    """The decoded outputs of a generation folder, target -> batch, in manifest order, + ids."""
    folder = Path(folder)
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} is missing; run the generate step for {folder}")
    with manifest.open(newline="") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, Any] = {"ids": [r["id"] for r in rows]}
    for target in task.targets:
        if target == "text":
            out["text"] = [r["text"] for r in rows]
        elif target == "image":
            out["image"] = np.stack([read_png(folder / r["image"]) for r in rows])
        else:
            out["audio"] = np.stack([read_wav(folder / r["audio"]) for r in rows])
    return out
