"""Scores pooled over training seeds: the seed mean, its spread and its item interval.

A cell reports the mean over seeds, the spread (``sd``, the standard deviation across seeds;
empty for one seed) and a 95 % interval of the seed mean over the test items:

* per-item scores (CLIP, CLAP, AIS, CIDEr-D, attribute accuracy) are averaged over seeds item
  by item, then the items are resampled (percentile bootstrap, as for one seed);
* a Frechet distance has no per-item scores; every seed's evaluation keeps its delete-half
  subsample values, drawn on the same item halves for every seed (metrics.fid.frechet_halves),
  so the mean of those values is the subsample value of the seed mean, and the interval is the
  delete-half interval around the mean.

With one seed both give that seed's own interval exactly. Records without either (an older
evaluation) fall back to the envelope of the seeds' intervals.

``attribute_cell`` pools the ground-truth attribute accuracy that the sources convey, the one
score the curves and Table 9 average over attributes and tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from metrics.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    bootstrap_mean,
    delete_half_interval,
    stratified_bootstrap_mean,
)

# The npz key of a Frechet record's delete-half subsample values: item_key(record) + HALVES.
HALVES = "/halves"


def item_key(record: Mapping[str, Any]) -> str:
    """The npz key of a record's per-item values."""
    return "/".join(str(record[k]) for k in ("kind", "metric", "source", "target", "attribute"))


def fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def find(records: Iterable[Mapping[str, Any]], metric: str, source: str, target: str, attribute=""):
    """The one record of (metric, source, target, attribute)."""
    found = [
        r
        for r in records
        if (r["metric"], r["source"], r["target"], r["attribute"])
        == (metric, source, target, attribute)
    ]
    if len(found) != 1:
        raise KeyError(f"expected one {metric} record {source}->{target}, found {len(found)}")
    return found[0]


# One seed's evaluation of one task: (records, per-item values keyed by item_key).
Run = tuple[Sequence[Mapping[str, Any]], Mapping[str, np.ndarray]]


def pooled(
    runs: Sequence[Run],
    metric: str,
    source: str,
    target: str,
    attribute: str = "",
    resamples: int = DEFAULT_RESAMPLES,
) -> dict[str, float | None]:
    """Mean, sd and 95 % interval of one metric over the runs (one per seed) of a setting.

    Args:
        runs: one (records, per-item values) per seed, all of the same test items.
        metric, source, target, attribute: which record (find).
        resamples: bootstrap resamples of the per-item metrics; the evaluations' own count.

    Returns:
        {"value", "sd" (None for one seed), "low", "high"}.
    """
    if not runs:
        raise ValueError(f"no runs to pool for {metric} {source}->{target}")
    recs = [find(records, metric, source, target, attribute) for records, _ in runs]
    values = np.array([r["value"] for r in recs])
    value = float(values.mean())
    sd = float(values.std(ddof=1)) if len(values) > 1 else None
    key = item_key(recs[0])
    if all(key in items for _, items in runs):
        per_item = np.mean([items[key] for _, items in runs], axis=0)
        score = bootstrap_mean(per_item, resamples, seed=0)
        low, high = score.low, score.high
    elif all(key + HALVES in items for _, items in runs):
        halves = np.mean([items[key + HALVES] for _, items in runs], axis=0)
        low, high = delete_half_interval(value, halves, DEFAULT_LEVEL, floor=0.0)
    else:
        low, high = min(r["low"] for r in recs), max(r["high"] for r in recs)
    return {"value": value, "sd": sd, "low": float(low), "high": float(high)}


def pooled_columns(name: str, cell: Mapping[str, float | None], digits: int = 2) -> dict[str, str]:
    """A pooled cell as CSV columns: ``name``, ``name sd``, ``name low``, ``name high``."""
    return {
        name: fmt(cell["value"], digits),
        f"{name} sd": fmt(cell["sd"], digits),
        f"{name} low": fmt(cell["low"], digits),
        f"{name} high": fmt(cell["high"], digits),
    }


def conveyed_accuracy(run: Mapping[str, Any]) -> list[np.ndarray]:
    """Per task of a run, the per-item accuracy averaged over the attributes its source
    conveys; empty where the benchmark has no ground truth (the paper's)."""
    out = []
    for task in sorted(run):
        records, items = run[task]
        keys = [item_key(r) for r in records if r["kind"] == "attribute" and r.get("conveyed")]
        keys = [k for k in keys if k in items]
        if keys:
            out.append(np.mean([items[k] for k in keys], axis=0))
    return out


def attribute_cell(runs: Sequence[Mapping[str, Any]], resamples: int) -> dict | None:
    """The accuracy (%) of the attributes each task's sources convey, per item averaged over
    those attributes, then over the tasks of a run ({task: (records, per-item values)}),
    pooled over the seeds' runs: mean, sd over seeds and the interval of the mean, each task's
    items resampled apart (stratified). None where the benchmark has no ground truth."""
    per_seed = [conveyed_accuracy(run) for run in runs]
    if not per_seed[0]:
        return None
    values = np.array([np.mean([g.mean() for g in groups]) for groups in per_seed])
    pooled_groups = [np.mean(list(g), axis=0) for g in zip(*per_seed, strict=True)]
    score = stratified_bootstrap_mean(pooled_groups, resamples, seed=0)
    sd = float(values.std(ddof=1)) if len(values) > 1 else None
    return {"value": float(values.mean()), "sd": sd, "low": score.low, "high": score.high}
