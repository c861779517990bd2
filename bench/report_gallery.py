"""Galleries of outputs: for the first test items of each task, the condition and every method's
output side by side, with the scene's ground-truth attributes and which ones each output got.

Outputs are those of one training seed (the main one): results/generate/<method>/seed<seed>/
<task>/manifest.csv. Whether an output shows an attribute right comes from the per-item arrays
of results/evaluate/<method>/seed<seed>/<task>.npz, keyed
``attribute/accuracy/<sources joined by +>/<target>/<attribute>`` (100 right, 0 wrong), in
manifest order (evaluate_task checks that the outputs list the split's items in order).

The functions here build plain-text models; bench/templates/gallery.html.j2 escapes and lays
them out.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.embedded.storage import read_attributes
from bench.embedded.world import ATTRIBUTE_NAMES, BY_NAME, attributes_shown_by
from bench.generate import unsupported_reason
from bench.report_html import file_uri, png_uri, render_macro
from bench.tables import label, read_rows
from bench.tasks import TASKS, Task
from flowbind.files import read_npz


def _paper_task(key: str) -> Task:
    from bench.paper.splits import paper_tasks

    return paper_tasks()[key]


FAMILIES = {
    "one-to-one": ("One-to-one", (1, 1)),
    "one-to-many": ("One-to-many", (1, 2)),
    "many-to-one": ("Many-to-one", (2, 1)),
}


@dataclass(frozen=True)
class View:
    """One modality's output: a caption (``value`` is its text), or an image or audio clip
    (``value`` is its data URI, ``alt`` its label)."""

    modality: str
    value: str
    alt: str = ""


@dataclass(frozen=True)
class Chip:
    """Whether an output shows an attribute right; ``conveyed``: some source shows it."""

    ok: bool
    conveyed: bool
    text: str


@dataclass(frozen=True)
class Card:
    """The condition (``chips`` None) or one method's outputs and chips."""

    classes: str
    title: str
    views: list[View]
    chips: list[Chip] | None = None


@dataclass(frozen=True)
class Item:
    """One test item: its task, id, ground-truth (attribute, value) pairs and cards."""

    task: str
    id: str
    truth: list[tuple[str, str]]
    cards: list[Card]


def family_tasks(family: str) -> list[Task]:
    """The tasks of a family (one-to-one, one-to-many, many-to-one), in the paper's order."""
    _, shape = FAMILIES[family]
    return [t for t in TASKS.values() if (len(t.sources), len(t.targets)) == shape]


def read_manifest(folder: Path) -> list[dict[str, str]]:
    return read_rows(folder / "manifest.csv", "run the generate step")[1]


def read_correct(path: Path, task: Task, n: int) -> dict[tuple[str, str], np.ndarray]:
    """(target, attribute) -> per-item bool array (True: the output shows the true value)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run the evaluate step")
    source = "+".join(task.sources)
    out = {}
    arrays = read_npz(path)
    for target in task.targets:
        for name in attributes_shown_by(target):
            values = arrays[f"attribute/accuracy/{source}/{target}/{name}"]
            assert values.shape == (n,), f"{path}: {name} has {values.shape}, manifest {n} rows"
            out[target, name] = values > 50
    return out


def view(modality: str, value: str | Path, alt: str) -> View:
    """One modality's output: a caption, a thumbnail or an audio player."""
    if modality == "text":
        return View("text", str(value))
    if modality == "image":
        return View("image", png_uri(value), alt)
    return View("audio", file_uri(value), alt)


def chips(correct: dict[tuple[str, str], np.ndarray], row: int, task: Task) -> list[Chip]:
    shown = {a for s in task.sources for a in attributes_shown_by(s)}
    out = []
    for (target, name), values in correct.items():
        prefix = f"{target[0].upper()}: " if len(task.targets) > 1 else ""
        out.append(Chip(bool(values[row]), name in shown, prefix + name))
    return out


def condition_card(task: Task, data: Path, item: str, captions: dict[str, list[str]]) -> Card:
    views = []
    for source in task.sources:
        if source == "text":
            views.append(view("text", captions[item][0], ""))
        else:
            suffix = ".png" if source == "image" else ".wav"
            path = data / task.split / source / f"{item}{suffix}"
            views.append(view(source, path, f"condition {source} of {item}"))
    return Card("card cond", "Condition", views)


def paper_condition_card(task: Task, split, row: int) -> Card:
    """The condition of a paper-benchmark item, read from its data set (no file of our own)."""
    from bench.embedded.storage import write_png, write_wav
    from bench.report_html import data_uri

    item = split.items[row]
    views = []
    for source in task.sources:
        if source == "text":
            views.append(view("text", item.captions[0], ""))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"x{'.png' if source == 'image' else '.wav'}"
            (write_png if source == "image" else write_wav)(path, split.view(source)[row])
            mime = "image/png" if source == "image" else "audio/wav"
            views.append(View(source, data_uri(path.read_bytes(), mime), f"condition {source}"))
    return Card("card cond", "Condition", views)


def task_items(
    task: Task, results: Path, data: Path, methods: Sequence[str], n_items: int, seed: int = 0
) -> list[Item]:
    """The first ``n_items`` test items of ``task``: condition, then each method's output.

    ``data`` is the embedded benchmark's data folder, or for the paper benchmark the folder of
    its split records (results/splits: no ground-truth attributes, the conditions come from the
    data sets' own files).
    """
    # a released baseline model without a call for the task has no card
    methods = [
        m
        for m in methods
        if unsupported_reason(results / "generate" / m / f"seed{seed}" / task.key) is None
    ]
    paper_task = _paper_task(task.key)
    if (data / f"{paper_task.split}.json").is_file():  # the paper benchmark's split records
        return paper_task_items(paper_task, results, data, methods, n_items, seed)
    folders = {m: results / "generate" / m / f"seed{seed}" / task.key for m in methods}
    manifests = {m: read_manifest(folders[m]) for m in methods}
    rows = {m: {r["id"]: i for i, r in enumerate(manifests[m])} for m in methods}
    correct = {
        m: read_correct(
            results / "evaluate" / m / f"seed{seed}" / f"{task.key}.npz", task, len(manifests[m])
        )
        for m in methods
    }
    ids, codes = read_attributes(data / task.split / "attributes.csv")
    truths = {
        i: {a: BY_NAME[a].values[codes[a][k]] for a in ATTRIBUTE_NAMES} for k, i in enumerate(ids)
    }
    captions_path = data / task.split / "captions.json"
    captions = json.loads(captions_path.read_text()) if "text" in task.sources else {}
    items = [r["id"] for r in manifests[methods[0]][:n_items]]
    blocks = []
    for item in items:
        cards = [condition_card(task, data, item, captions)]
        for m in methods:
            if item not in rows[m]:
                raise KeyError(f"{folders[m]}/manifest.csv has no row for {item}")
            k = rows[m][item]
            row = manifests[m][k]
            outputs = [
                view(t, row[t] if t == "text" else folders[m] / row[t], f"{label(m)} {t}")
                for t in task.targets
            ]
            klass = "card ceiling" if m == "codec_ceiling" else "card"
            cards.append(Card(klass, label(m), outputs, chips(correct[m], k, task)))
        truth = [(a, truths[item][a]) for a in ATTRIBUTE_NAMES]
        blocks.append(Item(task.name.replace("->", "→"), item, truth, cards))
    return blocks


def paper_task_items(
    task: Task, results: Path, data: Path, methods: Sequence[str], n_items: int, seed: int = 0
) -> list[Item]:
    """``task_items`` of the paper benchmark: conditions and outputs, no attribute chips."""
    from bench.paper.splits import PaperSplit

    split = PaperSplit(data / f"{task.split}.json")
    folders = {m: results / "generate" / m / f"seed{seed}" / task.key for m in methods}
    manifests = {m: read_manifest(folders[m]) for m in methods}
    blocks = []
    for row in range(min(n_items, len(split))):
        cards = [paper_condition_card(task, split, row)]
        for m in methods:
            r = manifests[m][row]
            outputs = [
                view(t, r[t] if t == "text" else folders[m] / r[t], f"{label(m)} {t}")
                for t in task.targets
            ]
            klass = "card ceiling" if m == "codec_ceiling" else "card"
            cards.append(Card(klass, label(m), outputs, []))
        blocks.append(Item(task.name.replace("->", "→"), split.ids[row], [], cards))
    return blocks


def task_gallery(
    task: Task, results: Path, data: Path, methods: Sequence[str], n_items: int, seed: int = 0
) -> str:
    """The HTML of ``task_items``: the first ``n_items`` test items of ``task``."""
    return render_macro(
        "gallery.html.j2", "items", task_items(task, results, data, methods, n_items, seed)
    )


def gallery_items(
    family: str,
    results: str | Path,
    data: str | Path,
    methods: Sequence[str],
    n_items: int = 3,
    seed: int = 0,
) -> list[Item]:
    """Every task of one family, ``n_items`` test items each."""
    results, data = Path(results), Path(data)
    return [
        i
        for t in family_tasks(family)
        for i in task_items(t, results, data, list(methods), n_items, seed)
    ]


def gallery_body(
    family: str,
    results: str | Path,
    data: str | Path,
    methods: Sequence[str],
    n_items: int = 3,
    seed: int = 0,
) -> str:
    """The HTML of ``gallery_items``."""
    return render_macro(
        "gallery.html.j2", "items", gallery_items(family, results, data, methods, n_items, seed)
    )
