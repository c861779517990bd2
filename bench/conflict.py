"""Conflicting conditions (the paper's Appendix H): (T+A)->I where caption and audio disagree.

On the test triplets, each caption is paired with the audio of another scene (a fixed
derangement), and the generated image's attributes are read by the image evaluator. An
attribute the caption alone conveys to an image (colour, size) is scored against the caption's
scene, one the audio alone conveys (count) against the audio's scene, and one both convey
(kind) against each. The same columns for single-source T->I and A->I and for the matched
(T+A)->I show what averaging the anchors keeps: both conditions, or one of them.

    results/conflict.csv    one row per condition; accuracy (%) with a 95 % bootstrap interval
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bench.embedded.world import BY_NAME, attributes_shown_by
from bench.tables import fmt, interval_columns
from metrics.bootstrap import DEFAULT_RESAMPLES, bootstrap_mean

TARGET = "image"
SOURCES = ("text", "audio")
SCENE = {"text": "caption's scene", "audio": "audio's scene"}
CONFLICT_TASK = "ta2i"


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A permutation of ``n`` items (n >= 2) that moves every item: ``order`` shifted by one
    along a random cycle."""
    if n < 2:
        raise ValueError(f"conflicting pairs need two or more test scenes, got {n}")
    order = np.random.default_rng(np.random.SeedSequence([seed, 0xC0])).permutation(n)
    perm = np.empty(n, dtype=np.int64)
    perm[order] = np.roll(order, -1)
    return perm


def scored_columns() -> list[tuple[str, str]]:
    """(attribute, source whose scene it is scored against): every attribute of the target
    that one source shows, against that source; those both show, against each."""
    shown = {s: set(attributes_shown_by(s)) for s in SOURCES}
    columns = []
    for name in attributes_shown_by(TARGET):
        columns += [(name, s) for s in SOURCES if name in shown[s]]
    return columns


def column_name(attribute: str, source: str) -> str:
    return f"{attribute}: {SCENE[source]} (%)"


CONDITIONS: dict[str, tuple[tuple[str, ...], bool]] = {  # label -> (sources, conflicting)
    "T->I": (("text",), False),
    "A->I": (("audio",), False),
    "(T+A)->I, same scene": (SOURCES, False),
    "(T+A)->I, conflicting": (SOURCES, True),
}


def conflict_rows(
    method: Any,
    latent_dir: str | Path,
    benchmark: Any,
    solver: Mapping[str, Any],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[list[dict[str, str]], dict[str, np.ndarray]]:
    """The conflict table of ``method`` on the test triplets: (rows, per-item correctness
    keyed "<condition>|<column>")."""
    import torch

    from bench.latents import read_latents

    task = benchmark.task(CONFLICT_TASK)
    test = read_latents(Path(latent_dir) / f"{task.split}.npz")
    split = benchmark.test_split(task.split)
    truth = split.attributes
    if list(split.ids) != list(test["ids"]):
        raise ValueError(
            f"the latents of {task.split} do not list its scenes in order; re-encode it"
        )
    if not truth:
        raise ValueError(
            f"{task.split} has no ground-truth attributes; only the embedded benchmark has"
        )
    codec, backbones = benchmark.codecs()[TARGET], benchmark.backbones()
    n = len(test["ids"])
    perm = derangement(n, seed)
    rows, items = [], {}
    for condition, (sources, conflicting) in CONDITIONS.items():
        # the rows of the test scenes each source is taken from: the audio's are moved
        scene = {s: perm if (conflicting and s == "audio") else np.arange(n) for s in SOURCES}
        inputs = {s: torch.from_numpy(test[s][scene[s]]) for s in sources}
        latents = method.translate(inputs, [TARGET], **solver)[TARGET]
        predicted = backbones.attributes(TARGET, codec.decode(latents))
        row = {"Condition": condition, "Sources": "+".join(sources), "Scenes": str(n)}
        for attribute, source in scored_columns():
            correct = 100.0 * (predicted[attribute] == truth[attribute][scene[source]])
            score = bootstrap_mean(correct, resamples, seed=0)
            name = column_name(attribute, source)
            row.update(interval_columns(name, score.value, score.low, score.high))
            items[f"{condition}|{name}"] = correct
        rows.append(row)
        print(row)
    chance = {"Condition": "chance", "Sources": "", "Scenes": str(n)}
    for attribute, source in scored_columns():
        name = column_name(attribute, source)
        chance.update(
            {name: fmt(100.0 / BY_NAME[attribute].n), f"{name} low": "", f"{name} high": ""}
        )
    rows.append(chance)
    return rows, items
