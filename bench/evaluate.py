"""Every metric of one task's decoded outputs, with 95 % bootstrap intervals.

For each target modality:
    fidelity     image: FID, audio: FAD (against the real test items), text: CIDEr-D
                 (against the five reference captions), point cloud: FPD (the Frechet PointNet
                 Distance, on the point-cloud evaluator's features) and the Chamfer distance
                 x1000 to the scene's real cloud
    alignment    with each source: CLIP score (text-image), CLAP score (text-audio), AIS
                 (image-audio; the reference set is the test set's conditions), CLIP-P
                 (image-point cloud: the CLIP score's formula on the image_points pair); a
                 pair of modalities without such a pair (text or audio with a point cloud) has
                 no alignment score, its attributes say what the output keeps
    attributes   accuracy (%) of every attribute the target shows, recovered by the
                 evaluators and compared with the scene's ground truth; ``conveyed`` says
                 whether any source shows the attribute (if none does, chance is the ceiling);
                 for a caption, also the share (%) the grammar's parser reads ("Parsed"),
                 since an unreadable caption gets every attribute wrong

Records are flat dicts (kind, metric, source, target, attribute, value, low, high, n); per-item
values of the per-item metrics, and the delete-half subsample values of the Frechet distances,
go to a companion npz so that seeds can be pooled later (bench.pooling). Every
backbone feature and embedding is checked for NaN and inf before it enters a metric
(NonFiniteError naming the task, the modality and the first bad item).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bench.embedded.captions import parse_caption
from bench.embedded.storage import Split
from bench.embedded.world import BY_NAME, attributes_shown_by
from bench.pooling import HALVES, item_key
from bench.tasks import Task
from flowbind.files import check_finite
from metrics.ais import ais_per_item
from metrics.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    DELETE_HALF,
    Score,
    bootstrap_mean,
    delete_half_interval,
)
from metrics.chamfer import SCALE as CHAMFER_SCALE
from metrics.chamfer import chamfer_per_item
from metrics.cider import cider_per_item
from metrics.clip_score import clip_score_per_item
from metrics.fid import frechet_halves

ALIGNMENT = {
    frozenset({"text", "image"}): ("CLIP", "clip"),
    frozenset({"text", "audio"}): ("CLAP", "clap"),
    frozenset({"image", "audio"}): ("AIS", "ais"),
    frozenset({"image", "points"}): ("CLIP-P", "image_points"),
}
FIDELITY = {"image": "FID", "audio": "FAD", "text": "CIDEr", "points": "FPD"}
# The Frechet distances' feature extractors, by target (a backbones method name).
FEATURES = {"image": "fid_features", "audio": "fad_features", "points": "fpd_features"}


def _view(split: Split, modality: str) -> Any:
    """The split's real items of one modality (only that one is read)."""
    return split.captions if modality == "text" else getattr(split, modality)


def _real(backbones: Any, split: Split, kind: str, compute, *args) -> Any:
    """Backbone outputs of the split's real items: cached by the backbones when they cache
    (``real(split, kind)``, the paper benchmark's), else ``compute(*args)``."""
    if hasattr(backbones, "real"):
        return backbones.real(split, kind)
    return compute(*args)


def _finite(x: Any, task: Task, modality: str, what: str, ids: list[str]) -> np.ndarray:
    """``x`` (a tensor or an array, one row per item) as float64, or NonFiniteError."""
    if hasattr(x, "detach"):  # a torch tensor, possibly on the GPU
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=np.float64)
    check_finite(
        x,
        f"{task.name}, {modality}: {what}",
        ids,
        "no score is computed from it; regenerate the outputs if they are damaged, or check "
        "the backbone",
    )
    return x


def _record(kind, metric, source, target, attribute, score: Score) -> dict[str, Any]:
    return {
        "kind": kind,
        "metric": metric,
        "source": source,
        "target": target,
        "attribute": attribute,
        "value": float(score.value),
        "low": float(score.low),
        "high": float(score.high),
        "n": int(score.n),
    }


def evaluate_task(
    task: Task,
    outputs: Mapping[str, Any],
    split: Split,
    backbones: Any,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Score one task's outputs.

    Args:
        task: the task.
        outputs: target -> decoded batch (uint8 images, int16 audio, captions, float32 point
            clouds), plus "ids".
        split: the real test split, in the same item order as the outputs.
        backbones: the metric backbones (e.g. bench.embedded.backbones.EmbeddedBackbones).
        resamples: bootstrap resamples.
        seed: bootstrap seed.

    Returns:
        (records, per-item values keyed by ``item_key``).
    """
    if list(outputs["ids"]) != list(split.ids):
        raise ValueError(
            f"outputs of {task.name} do not list the items of {split.name} in order; "
            "regenerate them from the same test latents"
        )
    records, items = [], {}
    ids = list(split.ids)

    def add(kind, metric, source, target, attribute, per_item=None, score=None, scale=1.0):
        if per_item is not None:
            per_item = np.asarray(per_item, dtype=np.float64) * scale
            score = bootstrap_mean(per_item, resamples, seed)
        record = _record(kind, metric, source, target, attribute, score)
        records.append(record)
        if per_item is not None:
            items[item_key(record)] = per_item

    for target in task.targets:
        generated = outputs[target]
        if target == "text":
            refs = dict(zip(split.ids, split.references, strict=True))
            hyps = dict(zip(split.ids, generated, strict=True))
            _, per_id = cider_per_item(hyps, refs)
            add("fidelity", "CIDEr", "", target, "", [per_id[i] for i in sorted(per_id)])
        else:
            features = getattr(backbones, FEATURES[target])
            what = f"{FIDELITY[target]} feature matrix of the"
            kind = FIDELITY[target].lower()
            real = _real(backbones, split, kind, features, _view(split, target))
            value, halves = frechet_halves(
                _finite(features(generated), task, target, f"{what} generated outputs", ids),
                _finite(real, task, target, f"{what} real items", ids),
                resamples,
                seed,
            )
            low, high = delete_half_interval(value, halves, DEFAULT_LEVEL, floor=0.0)
            score = Score(value, low, high, len(ids), resamples, DEFAULT_LEVEL, DELETE_HALF)
            add("fidelity", FIDELITY[target], "", target, "", score=score)
            # the subsample values: seeds pool into the interval of their mean (bench.pooling)
            items[item_key(records[-1]) + HALVES] = halves
        if target == "points":
            per_item = chamfer_per_item(generated, split.points)
            add("fidelity", "Chamfer", "", target, "", per_item, scale=CHAMFER_SCALE)
        for source in task.sources:
            if (pair := ALIGNMENT.get(frozenset({source, target}))) is None:
                continue  # no contrastive pair of these two modalities
            metric, embedder = pair
            embed = getattr(backbones, embedder)
            what = f"{metric} embedding matrix of the"
            gen_emb = _finite(embed(target, generated), task, target, f"{what} outputs", ids)
            real = _real(
                backbones, split, f"{embedder}-{source}", embed, source, _view(split, source)
            )
            src_emb = _finite(real, task, source, f"{what} sources", ids)
            if metric == "AIS":
                add(
                    "alignment",
                    metric,
                    source,
                    target,
                    "",
                    ais_per_item(gen_emb, src_emb),
                    scale=100,
                )
            else:
                per_item = clip_score_per_item(src_emb, gen_emb)
                add("alignment", metric, source, target, "", per_item, scale=100)
        if not split.attributes or not hasattr(backbones, "attributes"):
            continue  # ground truth exists only in the embedded world
        if target == "text":  # the captions the grammar's parser reads: the others count as wrong
            parsed = [parse_caption(c) is not None for c in generated]
            add("fidelity", "Parsed", "", target, "", parsed, scale=100)
        predicted = backbones.attributes(target, generated)
        conveyed = {a for s in task.sources for a in attributes_shown_by(s)}
        for name in attributes_shown_by(target):
            correct = predicted[name] == split.attributes[name]
            add("attribute", "accuracy", "+".join(task.sources), target, name, correct, scale=100)
            records[-1]["conveyed"] = name in conveyed
            records[-1]["chance"] = round(100.0 / BY_NAME[name].n, 2)
    return records, items


def anchor_cknna(
    model: Any,
    pairs: Mapping[str, tuple[str, str, Mapping[str, np.ndarray]]],
    resamples: int = 200,
) -> dict[str, dict[str, dict[str, float]]]:
    """CKNNA of paired encoder latents and of the anchors a model maps them to (Table 5).

    Args:
        model: a FlowBind model (``encode(modality, z)`` gives anchors).
        pairs: name (e.g. "T-A") -> (first modality, second modality, test latents).
        resamples: bootstrap resamples (each is an n x n computation).

    Returns:
        name -> {"encoder": score, "shared": score}, each {value, low, high}.
    """
    import torch

    from metrics.cknna import cknna_score

    out = {}
    for name, (first, second, latents) in pairs.items():
        a, b = latents[first], latents[second]
        anchors = [
            model.encode(m, torch.from_numpy(z)).numpy() for m, z in ((first, a), (second, b))
        ]
        out[name] = {}
        for kind, (x, y) in (("encoder", (a, b)), ("shared", anchors)):
            s = cknna_score(x, y, resamples=resamples)
            out[name][kind] = {"value": s.value, "low": s.low, "high": s.high}
    return out
