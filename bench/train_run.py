"""A workflow training run that survives being killed: checkpoints outside the rule's output.

    results/checkpoints/train/<method>/<variant>/seed<seed>/   the run while it trains
        settings.json       the run's settings and the digest of its training latents
        ...                 what Method.fit writes (checkpoints/, loss.csv, model/, method.json)
    results/train/<method>/<variant>/seed<seed>/                the `train` rule's output

Snakemake deletes a job's ``directory()`` output before it runs the job again, so checkpoints
kept there would not survive a retry. The run trains in its work folder instead and resumes
there from its newest checkpoint; only once it has finished is everything but the checkpoints
copied to the output, atomically, and the work folder removed. A work folder left by a run with
other settings or other latents is discarded, never resumed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flowbind.files import atomic_folder, write_json

SETTINGS = "settings.json"


def file_digest(paths: Sequence[str | Path]) -> str:
    """sha256 over the bytes of ``paths``, in the given order."""
    h = hashlib.sha256()
    for path in paths:
        with Path(path).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def has_checkpoints(folder: Path) -> bool:
    return any(folder.glob("**/checkpoints/step_*/state.json"))


def prepare_work(work: str | Path, settings: Mapping[str, Any], inputs: Sequence[Path]) -> str:
    """Make ``work`` ready for ``settings``; says whether the run resumes or starts afresh."""
    work = Path(work)
    record = {"settings": settings, "inputs": file_digest(inputs)}
    saved = work / SETTINGS
    if work.exists():
        previous = json.loads(saved.read_text()) if saved.is_file() else None
        if previous != json.loads(json.dumps(record)):
            shutil.rmtree(work)
            if work.exists():
                raise RuntimeError(f"could not remove {work}")
            note = f"{work} held a run with other settings or latents: discarded, starting afresh"
        elif has_checkpoints(work):
            return f"resuming the interrupted run in {work} from its newest checkpoint"
        else:
            note = f"starting in {work}"
    else:
        note = f"starting in {work}"
    work.mkdir(parents=True, exist_ok=True)
    write_json(saved, record)
    return note


def publish(work: str | Path, out: str | Path, keep: str | Path | None = None) -> None:
    """Copy the finished run in ``work``, all but its checkpoints, to ``out`` atomically, then
    remove ``work`` and the folders above it that it leaves empty, up to ``keep``."""
    work, out = Path(work), Path(out)
    with atomic_folder(out) as tmp:
        shutil.copytree(
            work, tmp, ignore=shutil.ignore_patterns("checkpoints", SETTINGS), dirs_exist_ok=True
        )
    shutil.rmtree(work)
    if keep is None:
        return
    keep = Path(keep).resolve()
    for parent in work.resolve().parents:
        if parent == keep or keep not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()
