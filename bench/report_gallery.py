"""Galleries of outputs: for the first test items of each task, the condition and every method's
output side by side, with the scene's ground-truth attributes and which ones each output got.

Outputs are read from results/generate/<method>/<task>/manifest.csv; whether an output shows an
attribute right comes from the per-item arrays of results/evaluate/<method>/<task>.npz, keyed
``attribute/accuracy/<sources joined by +>/<target>/<attribute>`` (100 right, 0 wrong) in
manifest order (evaluate_task checks that the outputs list the split's items in order).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.embedded.storage import read_attributes
from bench.embedded.world import ATTRIBUTE_NAMES, BY_NAME, attributes_shown_by
from bench.report_html import audio, esc, file_uri, img, png_uri
from bench.tables import label
from bench.tasks import TASKS, Task

FAMILIES = {
    "one-to-one": ("One-to-one", (1, 1)),
    "one-to-many": ("One-to-many", (1, 2)),
    "many-to-one": ("Many-to-one", (2, 1)),
}


def family_tasks(family: str) -> list[Task]:
    """The tasks of a family (one-to-one, one-to-many, many-to-one), in the paper's order."""
    _, shape = FAMILIES[family]
    return [t for t in TASKS.values() if (len(t.sources), len(t.targets)) == shape]


def read_manifest(folder: Path) -> list[dict[str, str]]:
    path = folder / "manifest.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run the generate step")
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def read_correct(path: Path, task: Task, n: int) -> dict[tuple[str, str], np.ndarray]:
    """(target, attribute) -> per-item bool array (True: the output shows the true value)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run the evaluate step")
    source = "+".join(task.sources)
    out = {}
    with np.load(path) as f:
        for target in task.targets:
            for name in attributes_shown_by(target):
                values = f[f"attribute/accuracy/{source}/{target}/{name}"]
                assert values.shape == (n,), f"{path}: {name} has {values.shape}, manifest {n} rows"
                out[target, name] = values > 50
    return out


def view(modality: str, value: str | Path, alt: str) -> str:
    """One modality's output: a caption, a thumbnail or an audio player."""
    if modality == "text":
        return f'<p class="caption">{esc(value)}</p>'
    if modality == "image":
        return img(png_uri(value), alt, "thumb")
    return audio(file_uri(value), alt)


def chips(correct: dict[tuple[str, str], np.ndarray], row: int, task: Task) -> str:
    shown = {a for s in task.sources for a in attributes_shown_by(s)}
    out = []
    for (target, name), values in correct.items():
        ok = bool(values[row])
        klass = "chip " + ("ok" if ok else "bad") + ("" if name in shown else " nc")
        mark = "✓" if ok else "✗"
        prefix = f"{target[0].upper()}: " if len(task.targets) > 1 else ""
        out.append(f'<span class="{klass}">{mark} {esc(prefix + name)}</span>')
    return f'<div class="chips">{"".join(out)}</div>'


def condition_card(task: Task, data: Path, item: str, captions: dict[str, list[str]]) -> str:
    views = []
    for source in task.sources:
        if source == "text":
            views.append(view("text", captions[item][0], ""))
        else:
            suffix = ".png" if source == "image" else ".wav"
            path = data / task.split / source / f"{item}{suffix}"
            views.append(view(source, path, f"condition {source} of {item}"))
    return f'<div class="card cond"><h5>Condition</h5>{"".join(views)}</div>'


def truth(attributes: dict[str, str]) -> str:
    values = " · ".join(f"{esc(a)} <b>{esc(attributes[a])}</b>" for a in ATTRIBUTE_NAMES)
    return f'<p class="truth">ground truth: {values}</p>'


def task_gallery(
    task: Task, results: Path, data: Path, methods: Sequence[str], n_items: int
) -> str:
    """The first ``n_items`` test items of ``task``: condition, then each method's output."""
    folders = {m: results / "generate" / m / task.key for m in methods}
    manifests = {m: read_manifest(folders[m]) for m in methods}
    rows = {m: {r["id"]: i for i, r in enumerate(manifests[m])} for m in methods}
    correct = {
        m: read_correct(results / "evaluate" / m / f"{task.key}.npz", task, len(manifests[m]))
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
            cards.append(
                f'<div class="{klass}"><h5>{esc(label(m))}</h5>{"".join(outputs)}'
                f"{chips(correct[m], k, task)}</div>"
            )
        blocks.append(
            f'<div class="item"><h4>{esc(task.name.replace("->", "→"))} · {esc(item)}</h4>'
            f'{truth(truths[item])}<div class="cards">{"".join(cards)}</div></div>'
        )
    return "".join(blocks)


def gallery_body(
    family: str, results: str | Path, data: str | Path, methods: Sequence[str], n_items: int = 3
) -> str:
    """Every task of one family, ``n_items`` test items each."""
    results, data = Path(results), Path(data)
    return "".join(
        task_gallery(t, results, data, list(methods), n_items) for t in family_tasks(family)
    )
