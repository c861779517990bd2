"""Generation: translate test latents with a method, decode them, write them with a manifest.

    results/generate/<method>/seed<seed>/<task>/
        latents.npz      generated target latents (one (N, D) array per target) and ids;
                         absent for methods that decode themselves (baselines/official/)
        image/<id>.png   decoded images        (image targets)
        audio/<id>.wav   decoded 16 kHz audio  (audio targets)
        points/<id>.npy  decoded point clouds, float32 (P, 3) (point-cloud targets)
        text.json        id -> decoded caption (text targets)
        manifest.csv     one row per item: its id, test split, source modalities and outputs
        SHA256SUMS       sha256 of every file above but latents.npz (`sha256sum -c` reads it)
        unsupported.json only for a released baseline model without a call for the task:
                         why, with an empty manifest; its table cells are blank

``read_outputs`` checks each file against SHA256SUMS and the manifest against its task before
decoding, and names the workflow command that regenerates a damaged folder.

The ``codec ceiling`` is generated the same way from the true target latents, so it shows
what the frozen codecs alone reach: decode(encode(x)).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.embedded.storage import (
    SUMS,
    DatasetError,
    check_id,
    read_npy,
    read_png,
    read_sums,
    read_text,
    read_wav,
    write_bytes,
    write_npy,
    write_png,
    write_sums,
    write_wav,
)
from bench.tasks import Task
from flowbind.files import atomic_folder, write_npz

if TYPE_CHECKING:  # torch is imported on use: the report reads generation folders without it
    from bench.embedded.codecs import Codec
    from flowbind.method import Method

SUFFIX = {"image": ".png", "audio": ".wav", "points": ".npy"}
WRITE = {"image": write_png, "audio": write_wav, "points": write_npy}
READ = {"image": read_png, "audio": read_wav, "points": read_npy}
# The keyword of each reader that fixes the size of its outputs (None: any size).
SIZE_KEYWORD = {"image": "size", "audio": "samples", "points": "points"}
UNSUPPORTED = "unsupported.json"


def translate_task(
    method: Method, task: Task, test: Mapping[str, np.ndarray], /, batch_size: int = 500, **solver
) -> dict[str, np.ndarray]:
    """Generated raw target latents, target -> (N, D), in batches of test items."""
    import torch

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
    """Decoded targets, target -> batch: captions, uint8 (N, 64, 64, 3) images, int16 audio,
    float32 (N, P, 3) point clouds."""
    import torch

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


def regenerate(folder: str | Path) -> str:
    """How to replace a damaged generation folder: rerun the workflow job that wrote it."""
    folder = Path(folder)
    return (
        "it is an output of the workflow's `generate` rule: regenerate it with "
        f"`snakemake --cores all --force {folder / 'manifest.csv'}` (plus the --configfile you "
        f"ran with), or delete {folder} and rerun your snakemake command"
    )


def write_decoded(
    folder: str | Path,
    task: Task,
    ids: Sequence[Any],
    decoded: Mapping[str, Sequence[Any]],
    latents: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write already-decoded outputs, their manifest and SHA256SUMS as one folder, atomically.

    Args:
        folder: results/generate/<method>/seed<seed>/<task>/.
        task: the task; its targets are the folder's outputs.
        ids: the source item of each row; plain names (``check_id``), as they name files.
        decoded: target -> one output per id: captions (str), uint8 (H, W, 3) images, int16
            16 kHz waveforms or float32 (P, 3) point clouds.
        latents: target -> (N, D) latents, written to latents.npz when given.
    """
    seen: set[str] = set()
    ids = [check_id(str(i), f"ids for {folder}", None, seen) for i in ids]
    with atomic_folder(folder) as tmp:
        if latents is not None:
            write_npz(tmp / "latents.npz", {"ids": np.array(ids), **latents})
        sums: dict[str, str] = {}  # every file read_outputs reads -> its sha256
        columns: dict[str, list[str]] = {}
        for target in task.targets:
            outputs = decoded[target]
            if target == "text":
                text = json.dumps(dict(zip(ids, outputs, strict=True)), indent=1)
                sums["text.json"] = write_bytes(tmp / "text.json", text.encode())
                columns["text"] = list(outputs)
                continue
            (tmp / target).mkdir()
            columns[target] = [f"{target}/{item}{SUFFIX[target]}" for item in ids]
            for name, x in zip(columns[target], outputs, strict=True):
                sums[name] = WRITE[target](tmp / name, x)
        table = io.StringIO()
        writer = csv.writer(table)
        writer.writerow(["id", "split", "task", "sources", *task.targets])
        for row, item in enumerate(ids):
            writer.writerow(
                [item, task.split, task.name, "+".join(task.sources)]
                + [columns[t][row] for t in task.targets]
            )
        sums["manifest.csv"] = write_bytes(tmp / "manifest.csv", table.getvalue().encode())
        write_sums(tmp, sums)
    return Path(folder)


def write_unsupported(folder: str | Path, task: Task, method: str, reason: str) -> Path:
    """Mark a task a method cannot run: unsupported.json (why), an empty manifest, SHA256SUMS."""
    record = {"method": method, "task": task.key, "name": task.name, "reason": reason}
    header = ",".join(["id", "split", "task", "sources", *task.targets]) + "\r\n"
    with atomic_folder(folder) as tmp:
        sums = {
            UNSUPPORTED: write_bytes(tmp / UNSUPPORTED, json.dumps(record, indent=1).encode()),
            "manifest.csv": write_bytes(tmp / "manifest.csv", header.encode()),
        }
        write_sums(tmp, sums)
    return Path(folder)


def unsupported_reason(folder: str | Path) -> str | None:
    """Why the method of a generation folder cannot run its task; None if it ran it."""
    path = Path(folder) / UNSUPPORTED
    return json.loads(path.read_text())["reason"] if path.is_file() else None


def generate_official(
    adapter: Any, task: Task, split: Any, folder: str | Path, **overrides: Any
) -> Path:
    """A released baseline model's outputs of ``task`` on its test split, written to ``folder``;
    a task it has no call for is marked with ``write_unsupported``.

    Args:
        adapter: a ``baselines.official`` adapter (``bench.methods.build_adapter``).
        task: the task as the benchmark defines it (its test split).
        split: the test split (the embedded ``Split`` or the paper benchmark's ``PaperSplit``).
        folder: results/generate/<method>/seed<seed>/<task>/.
    """
    if not adapter.supports(task.key):
        return write_unsupported(folder, task, adapter.method, adapter.why_not(task.key))
    return adapter.generate_split(task.key, split, folder=folder, task=task, **overrides)


def read_rows(folder: Path, task: Task, sums: Mapping[str, str], fix: str) -> list[dict]:
    """The rows of a generation folder's manifest.csv, each checked against ``task``."""
    path = folder / "manifest.csv"
    text = read_text(path, fix, listed(folder, sums, "manifest.csv", fix))
    with io.StringIO(text, newline="") as f:
        rows = list(csv.reader(f))
    header = ["id", "split", "task", "sources", *task.targets]
    if not rows or rows[0] != header:
        found = rows[0] if rows else "nothing"
        raise DatasetError(f"{path} has columns {found}, expected {header} for {task.name}; {fix}")
    same = {"split": task.split, "task": task.name, "sources": "+".join(task.sources)}
    out, seen = [], set()
    for line, fields in enumerate(rows[1:], start=2):
        if len(fields) != len(header):
            raise DatasetError(
                f"{path} line {line} has {len(fields)} fields, expected {len(header)}; {fix}"
            )
        row = dict(zip(header, fields, strict=True))
        item = check_id(row["id"], f"{path} line {line}", fix, seen)
        files = {t: f"{t}/{item}{SUFFIX[t]}" for t in task.targets if t != "text"}
        for column, value in {**same, **files}.items():
            if row[column] != value:
                raise DatasetError(
                    f"{path} line {line}: {column} is {row[column]!r}, expected {value!r}; {fix}"
                )
        out.append(row)
    return out


def listed(folder: Path, sums: Mapping[str, str], name: str, fix: str) -> str:
    """The sha256 SHA256SUMS gives ``folder/name``; a file it does not list is refused."""
    if name not in sums:
        raise DatasetError(f"{folder / name} is not listed in {folder / SUMS}; {fix}")
    return sums[name]


def read_outputs(
    folder: str | Path,
    task: Task,
    ids: Sequence[str] | None = None,
    fix: str | None = None,
    fixed_size: bool = True,
) -> dict[str, Any]:
    """The decoded outputs of a generation folder, target -> batch, in manifest order, + ids.

    Every file is checked against the folder's SHA256SUMS before it is decoded, and the
    manifest against ``task``; errors name the file and end with ``fix``.

    Args:
        folder: results/generate/<method>/seed<seed>/<task>/.
        task: the task the folder holds.
        ids: the items the outputs must be of, in order (the test split's ids); any when None.
        fix: how to replace a damaged folder; by default, how to rerun the `generate` rule.
        fixed_size: images, clips and point clouds must have the embedded benchmark's size
            (64 x 64, 1 s, 256 points); False for the paper benchmark's decoders, whose outputs
            are lists.
    """
    folder = Path(folder)
    fix = regenerate(folder) if fix is None else fix
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} is missing; {fix}")
    reason = unsupported_reason(folder)
    if reason is not None:
        raise DatasetError(
            f"{folder} holds no outputs: its method cannot run {task.name} ({reason})"
        )
    sums = read_sums(folder, fix)
    rows = read_rows(folder, task, sums, fix)
    out: dict[str, Any] = {"ids": [r["id"] for r in rows]}
    if ids is not None and out["ids"] != list(ids):
        first = next(
            (k for k, (a, b) in enumerate(zip(out["ids"], ids, strict=False)) if a != b),
            min(len(out["ids"]), len(ids)),
        )
        raise DatasetError(
            f"{manifest} lists {len(out['ids'])} outputs, not the items of {task.split} "
            f"({len(ids)}) in order (first difference at row {first + 1}); {fix}"
        )
    for target in task.targets:
        if target == "text":
            out["text"] = read_captions(folder, rows, sums, fix)
        else:
            size = {} if fixed_size else {SIZE_KEYWORD[target]: None}
            read_all = [
                READ[target](folder / r[target], fix, listed(folder, sums, r[target], fix), **size)
                for r in rows
            ]
            out[target] = np.stack(read_all) if fixed_size else read_all
    return out


def read_captions(folder: Path, rows: list[dict], sums: Mapping[str, str], fix: str) -> list[str]:
    """The generated captions of text.json, which must equal the manifest's text column."""
    path = folder / "text.json"
    try:
        captions = json.loads(read_text(path, fix, listed(folder, sums, "text.json", fix)))
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path} is not valid JSON ({err}); {fix}") from err
    ids = [r["id"] for r in rows]
    if not isinstance(captions, dict) or list(captions) != ids:
        raise DatasetError(
            f"{path} does not map the ids of manifest.csv, in order, to captions; {fix}"
        )
    for line, row in enumerate(rows, start=2):
        if captions[row["id"]] != row["text"]:
            raise DatasetError(
                f"{folder / 'manifest.csv'} line {line}: text {row['text']!r} disagrees with "
                f"text.json ({captions[row['id']]!r}); {fix}"
            )
    return [row["text"] for row in rows]
