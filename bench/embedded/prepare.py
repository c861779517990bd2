"""Prepare the embedded benchmark: data, codecs, evaluators, and a report of their quality.

    python -m bench.embedded --out results/embedded            # the default size
    python -m bench.embedded --out /tmp/tiny --size tiny       # seconds, for tests

Writes under ``--out``:

    data/                   the splits (see bench.embedded.storage)
    codecs/<modality>/      image, audio, text codecs (safetensors + config.json)
    evaluators/<name>/      image, audio classifiers; text_image, text_audio, audio_image pairs
    quality.json            evaluator accuracies, codec round-trip accuracies, retrieval, timings

With ``--points`` (the fourth modality) data_points/ holds the point-cloud splits (data/ stays
as it is without them), codecs/points the point-cloud codec, evaluators/ the ``points``
classifier and the ``image_points`` pair, and quality.json a ``points`` entry.

Everything is trained from ``--seed`` and is deterministic on a given machine and thread count.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.embedded.build import (
    DATA,
    DATA_VERSION,
    POINT_DATA,
    POINT_SPLITS,
    SIZES,
    SPLIT_MODALITIES,
    build_dataset,
    data_folder,
)
from bench.embedded.catalog import (
    ALL_CONTRASTIVE_PAIRS,
    ALL_EVALUATORS,
    CONTRASTIVE_PAIRS,
    POINT_CODEC_MODALITIES,
    POINT_CONTRASTIVE_PAIRS,
    POINT_EVALUATORS,
    TRAINED_EVALUATORS,
)
from bench.embedded.codecs import ALL_CODECS, CODECS, DEFAULT_LATENT_DIM, AudioCodec, Codec
from bench.embedded.evaluators import (
    AudioEvaluator,
    ContrastivePair,
    ImageEvaluator,
    PointEvaluator,
    TextEvaluator,
    candidate_groups,
    retrieval_top1,
)
from bench.embedded.nets import load_frozen
from bench.embedded.storage import (
    DatasetError,
    Split,
    load_split,
    read_manifest,
    verify_dataset,
)
from bench.embedded.world import BY_NAME, shared_attributes
from flowbind.checkpoint import CheckpointError
from flowbind.files import atomic_file, write_json


@dataclass(frozen=True)
class Budget:
    """Optimizer steps of each network of the embedded benchmark; the audio decoder's iterations."""

    image_codec: int = 800
    audio_codec: int = 600
    text_codec: int = 600
    image_evaluator: int = 400
    audio_evaluator: int = 300
    pair: int = 600
    griffin_lim_iters: int = 32
    points_codec: int = 2400  # the slot decoder is still improving at 800 (docs/embedded.md)
    points_evaluator: int = 500


BUDGETS = {
    "default": Budget(),
    # For the tests' plumbing: a fifth to a quarter of the default's steps, and a quarter of the
    # Griffin-Lim iterations, which dominate the tiny run's generation time.
    "tiny": Budget(
        image_codec=150,
        audio_codec=120,
        text_codec=150,
        image_evaluator=100,
        audio_evaluator=80,
        pair=120,
        griffin_lim_iters=8,
        points_codec=300,
        points_evaluator=300,  # 100 left kind and count at 0.82 and 0.85
    ),
}


@dataclass
class Timer:
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, fn, *args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        self.seconds[name] = round(time.perf_counter() - start, 2)
        return out


# -- loading by name -----------------------------------------------------------------------


def benchmark_root(network_file: str | Path) -> Path:
    """The embedded benchmark folder <root> of a network file <root>/<codecs|evaluators>/<name>/."""
    return Path(network_file).parents[2]


def load_codec(root: str | Path, modality: str) -> Codec:
    """The frozen codec of ``modality`` from a prepared embedded benchmark folder."""
    if modality not in ALL_CODECS:
        raise ValueError(f"no codec for {modality!r}; expected one of {sorted(ALL_CODECS)}")
    folder = Path(root) / "codecs" / modality
    if not folder.is_dir():
        raise CheckpointError(
            f"{folder} is missing; prepare the embedded benchmark with "
            f"`python -m bench.embedded --out {root}`"
        )
    return load_frozen(folder, ALL_CODECS[modality].NAME)


def load_evaluator(root: str | Path, name: str):
    """An evaluator by name: image, audio, text, text_image, text_audio or audio_image, and
    for the fourth modality points or image_points."""
    if name not in ALL_EVALUATORS:
        raise ValueError(f"no evaluator {name!r}; expected one of {ALL_EVALUATORS}")
    if name == "text":
        return TextEvaluator()
    folder = Path(root) / "evaluators" / name
    if not folder.is_dir():
        raise CheckpointError(
            f"{folder} is missing; prepare the embedded benchmark with "
            f"`python -m bench.embedded --out {root}`"
        )
    expected = {
        "image": ImageEvaluator.NAME,
        "audio": AudioEvaluator.NAME,
        "points": PointEvaluator.NAME,
    }
    return load_frozen(folder, expected.get(name, ContrastivePair.NAME))


# -- quality -------------------------------------------------------------------------------


def attribute_accuracy(predicted: dict[str, np.ndarray], split: Split) -> dict[str, float]:
    return {a: round(float(np.mean(predicted[a] == split.attributes[a])), 4) for a in predicted}


def retrieval_report(pair: ContrastivePair, split: Split, candidates: int = 100) -> dict:
    """Top-1 retrieval among ``candidates`` items, both directions, with chance and ceiling.

    Scenes that agree on every attribute the two modalities share cannot be told apart by any
    model, so besides exact-item top-1 the report gives the attribute-level top-1 (the retrieved
    item agrees on every shared attribute) and the exact-item ceiling a perfect model would
    reach by breaking such ties at random.
    """
    first, second = pair.modalities
    view = views(split)
    a, b = pair.embed(first, view[first]), pair.embed(second, view[second])
    shared = shared_attributes(first, second)
    key = np.zeros(len(split), dtype=np.int64)
    for name in shared:
        key = key * BY_NAME[name].n + split.attributes[name]
    groups = candidate_groups(len(split), candidates)
    n = groups.size
    attr = ceiling = 0.0
    for group in groups:
        best = (a[group] @ b[group].T).argmax(1).numpy()
        attr += float(np.sum(key[group][best] == key[group]))
        same = key[group][:, None] == key[group][None, :]
        ceiling += float(np.sum(1.0 / same.sum(1)))
    return {
        "pair": f"{first}-{second}",
        "shared_attributes": list(shared),
        "candidates": candidates,
        "items": n,
        "top1": round(retrieval_top1(a, b, candidates), 4),
        "top1_reverse": round(retrieval_top1(b, a, candidates), 4),
        "top1_attributes": round(attr / n, 4),
        "top1_ceiling": round(ceiling / n, 4),
        "chance": round(1 / candidates, 4),
    }


def views(split: Split) -> dict[str, Any]:
    """The split's data by modality (None where the split lacks one)."""
    return {
        "text": split.captions,
        "image": split.image,
        "audio": split.audio,
        "points": split.points,
    }


def codec_roundtrip(root: Path, split: Split) -> dict[str, Any]:
    """Attributes recovered by the evaluators from decode(encode(x)), per modality."""
    out: dict[str, Any] = {}
    view = views(split)
    for modality in CODECS:
        codec = load_codec(root, modality)
        decoded = codec.decode(codec.encode(view[modality]))
        evaluator = load_evaluator(root, modality)
        out[modality] = attribute_accuracy(evaluator.predict(decoded), split)
        if modality == "text":
            out["text_parse_rate"] = round(TextEvaluator.parse_rate(decoded), 4)
            out["text_exact_match"] = round(
                float(np.mean([d == c for d, c in zip(decoded, split.captions, strict=True)])), 4
            )
    return out


# -- the whole preparation -----------------------------------------------------------------


def ensure_data(
    folder: str | Path, size: str, seed: int, progress: bool = True, points: bool = False
) -> None:
    """Build one data folder (the three modalities' splits, or with ``points`` the point-cloud
    splits) unless it already holds this size, seed and data version, with every file as the
    build wrote it (a damaged folder is rebuilt)."""
    folder = Path(folder)
    try:
        manifest = read_manifest(folder)
    except DatasetError:
        manifest = {}
    found = (manifest.get("size"), manifest.get("seed"), manifest.get("version"))
    expected = set(POINT_SPLITS if points else SPLIT_MODALITIES)
    if found == (size, seed, DATA_VERSION) and set(manifest.get("splits", {})) == expected:
        try:
            verify_dataset(folder)
            return
        except DatasetError as err:
            print(f"rebuilding {folder}: {err}")
    build_dataset(folder, size, seed, progress, points)


def prepare_data(
    out: str | Path, size: str, seed: int, progress: bool = True, points: bool = False
) -> None:
    """The data folders of ``out``: ``out/data`` and, with ``points``, ``out/data_points``
    (``ensure_data`` each)."""
    ensure_data(Path(out) / DATA, size, seed, progress)
    if points:
        ensure_data(Path(out) / POINT_DATA, size, seed, progress, points=True)


def train_codec(
    out: str | Path,
    modality: str,
    size: str = "default",
    seed: int = 0,
    latent_dim: int = DEFAULT_LATENT_DIM,
    progress: bool = True,
) -> Path:
    """Train the codec of ``modality`` on the codec split of ``out`` (the point-cloud codec on
    codec_points); returns its folder."""
    out, budget = Path(out), BUDGETS[size]
    name = "codec_points" if modality == "points" else "codec"
    split = load_split(data_folder(out, name), name)
    view = views(split)
    steps = getattr(budget, f"{modality}_codec")
    if modality == "audio":
        net = AudioCodec.train_on(
            view[modality], latent_dim, steps, seed, progress, budget.griffin_lim_iters
        )
    else:
        net = ALL_CODECS[modality].train_on(view[modality], latent_dim, steps, seed, progress)
    return net.save(out / "codecs" / modality, {"trained_on": "codec", "seed": seed})


def train_evaluator(
    out: str | Path, name: str, size: str = "default", seed: int = 0, progress: bool = True
) -> Path:
    """Train evaluator ``name`` on the evaluator split of ``out`` (the point-cloud ones on
    evaluator_points); returns its folder."""
    out, budget = Path(out), BUDGETS[size]
    split = "evaluator_points" if name in POINT_EVALUATORS else "evaluator"
    ev = load_split(data_folder(out, split), split)
    view = views(ev)
    if name == "image":
        net = ImageEvaluator.train_on(
            ev.image, ev.attributes, budget.image_evaluator, seed, progress
        )
    elif name == "audio":
        net = AudioEvaluator.train_on(
            ev.audio, ev.attributes, budget.audio_evaluator, seed, progress
        )
    elif name == "points":
        net = PointEvaluator.train_on(
            ev.points, ev.attributes, budget.points_evaluator, seed, progress
        )
    elif name in ALL_CONTRASTIVE_PAIRS:
        f, s = ALL_CONTRASTIVE_PAIRS[name]
        net = ContrastivePair.train_on(f, s, {f: view[f], s: view[s]}, budget.pair, seed, progress)
    else:
        raise ValueError(
            f"no trainable evaluator {name!r}; expected image, audio, points or "
            f"{list(ALL_CONTRASTIVE_PAIRS)}"
        )
    return net.save(out / "evaluators" / name, {"trained_on": "evaluator", "seed": seed})


def point_quality(out: str | Path) -> dict[str, Any]:
    """The fourth modality's networks on their held-out splits: the classifier's accuracy,
    image-point-cloud retrieval, and the codec's round trip (attributes the classifier
    recovers from decode(encode(x)), and its Chamfer distance x1000 to x)."""
    out = Path(out)
    return measure_point_networks(
        load_codec(out, "points"),
        load_evaluator(out, "points"),
        [load_evaluator(out, n) for n in POINT_CONTRASTIVE_PAIRS],
        load_split(out / POINT_DATA, "codec_points_val"),
        load_split(out / POINT_DATA, "evaluator_points_val"),
    )


def measure_point_networks(
    codec: Codec,
    classifier: PointEvaluator,
    pairs: list[ContrastivePair],
    codec_val: Split,
    held_out: Split,
) -> dict[str, Any]:
    """``point_quality`` on given networks and held-out splits."""
    from metrics.chamfer import chamfer_score

    decoded = codec.decode(codec.encode(codec_val.points))
    chamfer = chamfer_score(decoded, codec_val.points, resamples=200)
    return {
        "evaluator_accuracy": attribute_accuracy(classifier.predict(held_out.points), held_out),
        "retrieval": [retrieval_report(pair, held_out) for pair in pairs],
        "codec_roundtrip": attribute_accuracy(classifier.predict(decoded), codec_val),
        "codec_chamfer": {
            "value": round(chamfer.value, 3),
            "interval": [round(chamfer.low, 3), round(chamfer.high, 3)],
        },
    }


def measure_quality(
    out: str | Path,
    size: str,
    seed: int,
    latent_dim: int,
    seconds: dict[str, float],
    points: bool = False,
) -> dict[str, Any]:
    """Measure the trained codecs and evaluators on held-out splits (with ``points``, the
    point-cloud ones too); writes quality.json."""
    out = Path(out)
    data = out / DATA
    held_out = load_split(data, "evaluator_val")
    quality = {
        "size": size,
        "seed": seed,
        "latent_dim": latent_dim,
        "budget": asdict(BUDGETS[size]),
        "threads": torch.get_num_threads(),
        "evaluator_accuracy": {
            "image": attribute_accuracy(
                load_evaluator(out, "image").predict(held_out.image), held_out
            ),
            "audio": attribute_accuracy(
                load_evaluator(out, "audio").predict(held_out.audio), held_out
            ),
            "text": attribute_accuracy(TextEvaluator().predict(held_out.captions), held_out),
        },
        "retrieval": [
            retrieval_report(load_evaluator(out, n), held_out) for n in CONTRASTIVE_PAIRS
        ],
        "codec_roundtrip": codec_roundtrip(out, load_split(data, "codec_val")),
        "seconds": dict(seconds),
    }
    if points:
        quality["points"] = point_quality(out)
    with atomic_file(out / "quality.json") as tmp:
        write_json(tmp, quality)
    return quality


def prepare(
    out: str | Path,
    size: str = "default",
    seed: int = 0,
    latent_dim: int = DEFAULT_LATENT_DIM,
    progress: bool = True,
    points: bool = False,
) -> dict[str, Any]:
    """Build data, train codecs and evaluators, measure their quality; returns quality.json.
    ``points`` adds the fourth modality's data and networks."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {sorted(SIZES)}")
    out = Path(out)
    timer = Timer()
    start = time.perf_counter()
    timer.run("data", prepare_data, out, size, seed, progress, points)
    for modality in (*CODECS, *(POINT_CODEC_MODALITIES if points else ())):
        timer.run(f"{modality}_codec", train_codec, out, modality, size, seed, latent_dim, progress)
    for name in (*TRAINED_EVALUATORS, *(POINT_EVALUATORS if points else ())):
        timer.run(f"{name}_evaluator", train_evaluator, out, name, size, seed, progress)
    seconds = {**timer.seconds, "data_and_training": round(time.perf_counter() - start, 2)}
    quality = measure_quality(out, size, seed, latent_dim, seconds, points)
    quality["seconds"]["total"] = round(time.perf_counter() - start, 2)
    with atomic_file(out / "quality.json") as tmp:
        write_json(tmp, quality)
    return quality


def format_quality(q: dict[str, Any]) -> str:
    """The quality report as plain text for the terminal."""
    lines = [f"embedded benchmark, size {q['size']}, seed {q['seed']}, D = {q['latent_dim']}"]
    lines.append("attribute accuracy of the evaluators on held-out real samples:")
    for modality, acc in q["evaluator_accuracy"].items():
        lines.append(f"  {modality:6s} " + ", ".join(f"{a} {v:.3f}" for a, v in acc.items()))
    lines.append("codec round trip, attributes recovered from decode(encode(x)):")
    for modality in ("image", "audio", "text"):
        acc = q["codec_roundtrip"][modality]
        lines.append(f"  {modality:6s} " + ", ".join(f"{a} {v:.3f}" for a, v in acc.items()))
    if "points" in q:
        p = q["points"]
        acc = ", ".join(f"{a} {v:.3f}" for a, v in p["evaluator_accuracy"].items())
        lines.append(f"point-cloud evaluator on held-out real clouds: {acc}")
        acc = ", ".join(f"{a} {v:.3f}" for a, v in p["codec_roundtrip"].items())
        low, high = p["codec_chamfer"]["interval"]
        lines.append(
            f"point-cloud codec round trip: {acc}; Chamfer x1000 "
            f"{p['codec_chamfer']['value']:.2f} [{low:.2f}, {high:.2f}]"
        )
    lines.append("contrastive retrieval, top-1 among 100 (chance 0.01):")
    for r in (*q["retrieval"], *q.get("points", {}).get("retrieval", [])):
        lines.append(
            f"  {r['pair']:12s} {r['top1']:.3f} (reverse {r['top1_reverse']:.3f}; ceiling "
            f"{r['top1_ceiling']:.3f} given ties on {'+'.join(r['shared_attributes'])}; "
            f"attribute-level {r['top1_attributes']:.3f})"
        )
    s = q["seconds"]
    if "total" in s:  # the one-command preparation times itself; workflow rules log their own
        lines.append(
            f"time: {s['data_and_training']:.0f} s for data and training, {s['total']:.0f} s in "
            "all ("
            + ", ".join(
                f"{k} {v:.0f}" for k, v in s.items() if k not in ("total", "data_and_training")
            )
            + ")"
        )
    return "\n".join(lines)
