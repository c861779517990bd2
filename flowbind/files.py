"""File writing shared by checkpoints, data sets and the benchmark's outputs; no torch here.

Folders are written under a temporary name and renamed into place, so an interrupted write
never leaves a half-written folder behind. Arrays pass through ``write_npz`` and ``read_npz``,
which refuse NaN and inf in floating-point arrays: a latent or a per-item score that is not a
number would otherwise flow silently into a benchmark score.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``path`` only once the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield ``<path>.tmp`` to write; it replaces ``path`` only once the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    yield tmp
    os.replace(tmp, path)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON with sorted keys (byte-stable for equal data)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


class NonFiniteError(ValueError):
    """An array holds NaN or inf where only finite numbers are valid."""


def nonfinite_rows(x: np.ndarray) -> np.ndarray:
    """Indices of the rows (entries along the first axis) of ``x`` that hold NaN or inf.

    Arrays that are not floating point (integers, booleans, strings) have none; a 0-d array
    counts as one row.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fc" or x.size == 0:
        return np.empty(0, dtype=np.int64)
    finite = np.isfinite(x.reshape(len(x), -1) if x.ndim else x.reshape(1, 1))
    return np.flatnonzero(~finite.all(axis=1))


def describe_nonfinite(bad: np.ndarray, n: int, ids: Sequence[object] | None = None) -> str:
    """E.g. "NaN or inf in 1 of 200 rows (first: row 17, id 'scene_00017')".

    Args:
        bad: (n_bad,) indices of the bad rows, ascending, at least one.
        n: the number of rows.
        ids: one id per row, named when given.
    """
    first = int(bad[0])
    where = f"row {first}" if ids is None else f"row {first}, id {str(ids[first])!r}"
    return f"NaN or inf in {len(bad)} of {n} rows (first: {where})"


def check_finite(
    x: np.ndarray, what: str, ids: Sequence[object] | None = None, advice: str = ""
) -> None:
    """Raise NonFiniteError "<what> has NaN or inf in ...; <advice>" if a row is not finite.

    Args:
        x: the array, shape (N, ...) (a 0-d array counts as one row); only floating-point
            arrays can fail.
        what: names the array, e.g. "results/latents/test_ti.npz: array 'image'".
        ids: one id per row of ``x``; the first bad row's id is named when they are given.
        advice: what to do about it, appended to the message.
    """
    x = np.asarray(x)
    bad = nonfinite_rows(x)
    if len(bad):
        n = len(x) if x.ndim else 1
        named = ids if ids is not None and len(ids) == n else None
        message = f"{what} has {describe_nonfinite(bad, n, named)}"
        raise NonFiniteError(f"{message}; {advice}" if advice else message)


def _check_arrays(path: Path, arrays: Mapping[str, np.ndarray], advice: str) -> None:
    ids = arrays.get("ids")
    for name, x in arrays.items():
        check_finite(x, f"{path}: array {name!r}", ids, advice)


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays atomically (a temporary file renamed into place).

    Args:
        path: the npz file to write.
        arrays: name -> array of any shape, e.g. (N, D) latents; an "ids" array of shape (N,)
            names the bad row when another array's first axis also has N rows.

    Raises:
        NonFiniteError: a floating-point array holds NaN or inf; nothing is written.
    """
    path = Path(path)
    _check_arrays(
        path,
        arrays,
        "nothing was written: the values were invalid before they reached the file "
        "(check the model, data or metric that computed them)",
    )
    with atomic_file(path) as tmp, tmp.open("wb") as f:
        np.savez(f, **arrays)


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an npz file, loaded into memory.

    Raises:
        NonFiniteError: a floating-point array holds NaN or inf (the message names the file,
            the array and its first bad row, and the row's id when the file has "ids").
    """
    path = Path(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    _check_arrays(path, arrays, "the file is damaged: delete it and rerun the step that wrote it")
    return arrays
