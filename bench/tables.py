"""The paper's tables from the evaluation records, as CSV rows with 95 % intervals.

Every metric column ``X`` of Tables 2, 3, 7, 8 and 9 is the mean over the training seeds (column
``Seeds``) with companion columns ``X sd`` (the spread across seeds) and ``X low``, ``X high``
(the 95 % interval of the seed mean over the test items; bench.pooling). Rows are methods,
named as in the paper; the ``Codec ceiling`` row scores decode(encode(x)) of the real targets,
the most any method can reach through the frozen codecs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.embedded.build import PAIR_SPLITS
from bench.pooling import attribute_cell, fmt, pooled, pooled_columns
from flowbind.files import atomic_file

LABELS = {
    "flowbind": "FlowBind",
    "text_anchor": "Text-anchoring",
    "codi": "CoDi (latent)",
    "omniflow": "OmniFlow (latent)",
    "crossflow": "CrossFlow (latent)",
    "flowbind_released": "FlowBind (released)",
    "codi_official": "CoDi (released)",
    "omniflow_official": "OmniFlow (released)",
    "codec_ceiling": "Codec ceiling",
}

# column -> (task key, metric, source, target); fidelity metrics have no source.
TABLE2 = {
    "T->I FID": ("t2i", "FID", "", "image"),
    "I->T CIDEr": ("i2t", "CIDEr", "", "text"),
    "T->A FAD": ("t2a", "FAD", "", "audio"),
    "A->T CIDEr": ("a2t", "CIDEr", "", "text"),
    "I->A FAD": ("i2a", "FAD", "", "audio"),
    "A->I FID": ("a2i", "FID", "", "image"),
}
TABLE3 = {
    "T->I CLIP": ("t2i", "CLIP", "text", "image"),
    "I->T CLIP": ("i2t", "CLIP", "image", "text"),
    "T->A CLAP": ("t2a", "CLAP", "text", "audio"),
    "A->T CLAP": ("a2t", "CLAP", "audio", "text"),
    "I->A AIS": ("i2a", "AIS", "image", "audio"),
    "A->I AIS": ("a2i", "AIS", "audio", "image"),
}
TABLE7 = {
    "(T+A)->I CLIP": ("ta2i", "CLIP", "text", "image"),
    "(T+A)->I AIS": ("ta2i", "AIS", "audio", "image"),
    "(T+I)->A CLAP": ("ti2a", "CLAP", "text", "audio"),
    "(T+I)->A AIS": ("ti2a", "AIS", "image", "audio"),
    "(I+A)->T CLIP": ("ia2t", "CLIP", "image", "text"),
    "(I+A)->T CLAP": ("ia2t", "CLAP", "audio", "text"),
}
TABLE8 = {
    "T->(I+A) CLIP": ("t2ia", "CLIP", "text", "image"),
    "T->(I+A) CLAP": ("t2ia", "CLAP", "text", "audio"),
    "I->(T+A) CLIP": ("i2ta", "CLIP", "image", "text"),
    "I->(T+A) AIS": ("i2ta", "AIS", "image", "audio"),
    "A->(T+I) CLAP": ("a2ti", "CLAP", "audio", "text"),
    "A->(T+I) AIS": ("a2ti", "AIS", "audio", "image"),
}
# The metric of a column that pools the ground-truth attributes its task's sources convey to
# the target: per item the accuracy (%) averaged over them (bench.pooling.attribute_cell).
CONVEYED = "Attributes"
# Table 9, the fourth modality (the paper's Appendix J): I<->P on the one pair type trained,
# the never-paired T<->P and A<->P, and (T+I)->P. FPD (Frechet PointNet Distance) and the
# Chamfer distance x1000 to the real cloud for point-cloud targets, the main tables' fidelity
# metric for the others; CLIP-P aligns an image with a point cloud (no such pair exists for
# text or audio, so their alignment is what the attributes show). Parsed: the share of captions
# the caption grammar's parser reads (an unreadable one counts as wrong in Attr).
TABLE9 = {
    "I->P FPD": ("i2p", "FPD", "", "points"),
    "I->P Chamfer": ("i2p", "Chamfer", "", "points"),
    "I->P CLIP-P": ("i2p", "CLIP-P", "image", "points"),
    "I->P Attr (%)": ("i2p", CONVEYED, "", "points"),
    "P->I FID": ("p2i", "FID", "", "image"),
    "P->I CLIP-P": ("p2i", "CLIP-P", "points", "image"),
    "P->I Attr (%)": ("p2i", CONVEYED, "", "image"),
    "T->P FPD": ("t2p", "FPD", "", "points"),
    "T->P Chamfer": ("t2p", "Chamfer", "", "points"),
    "T->P Attr (%)": ("t2p", CONVEYED, "", "points"),
    "P->T CIDEr": ("p2t", "CIDEr", "", "text"),
    "P->T Parsed (%)": ("p2t", "Parsed", "", "text"),
    "P->T Attr (%)": ("p2t", CONVEYED, "", "text"),
    "A->P FPD": ("a2p", "FPD", "", "points"),
    "A->P Chamfer": ("a2p", "Chamfer", "", "points"),
    "A->P Attr (%)": ("a2p", CONVEYED, "", "points"),
    "P->A FAD": ("p2a", "FAD", "", "audio"),
    "P->A Attr (%)": ("p2a", CONVEYED, "", "audio"),
    "(T+I)->P FPD": ("ti2p", "FPD", "", "points"),
    "(T+I)->P Chamfer": ("ti2p", "Chamfer", "", "points"),
    "(T+I)->P CLIP-P": ("ti2p", "CLIP-P", "image", "points"),
    "(T+I)->P Attr (%)": ("ti2p", CONVEYED, "", "points"),
}
# The paper's metric tables; then every metric table, the fourth modality's included.
METRIC_TABLES = {"table2": TABLE2, "table3": TABLE3, "table7": TABLE7, "table8": TABLE8}
ALL_METRIC_TABLES = {**METRIC_TABLES, "table9": TABLE9}


def table_tasks(columns: Mapping[str, tuple[str, str, str, str]]) -> list[str]:
    """The task keys a metric table's columns are scored on, in column order."""
    return list(dict.fromkeys(task for task, *_ in columns.values()))


PAIR_TYPES = {"train_ti": "Text-Image", "train_ta": "Text-Audio", "train_ia": "Audio-Image"}


def label(method: str) -> str:
    return LABELS.get(method, method)


def interval_columns(name: str, value, low, high, digits: int = 2) -> dict[str, str]:
    return {
        name: fmt(value, digits),
        f"{name} low": fmt(low, digits),
        f"{name} high": fmt(high, digits),
    }


def metric_table(
    columns: Mapping[str, tuple[str, str, str, str]],
    runs: Mapping[str, Sequence[Mapping[str, Any]]],
    unsupported: Mapping[tuple[str, str], str] | None = None,
    resamples: int = 1000,
) -> list[dict[str, str]]:
    """One row per method, every cell pooled over its seeds (bench.pooling).

    Args:
        columns: column -> (task key, metric, source, target).
        runs: method -> one {task key: (records, per-item values)} per training seed
            (``read_seed_runs``).
        unsupported: (method, task) -> why the method cannot run it; those cells are blank.
        resamples: bootstrap resamples, the evaluations' own count.

    Returns:
        rows of Method, Seeds and, per column, the seed mean with ``sd``, ``low`` and ``high``.
    """
    rows = []
    for method, seeds in runs.items():
        row = {"Method": label(method), "Seeds": str(len(seeds))}
        for name, (task, metric, source, target) in columns.items():
            blank = dict.fromkeys(("value", "sd", "low", "high"))
            if (method, task) in (unsupported or {}):
                row.update(pooled_columns(name, blank))
                continue
            if metric == CONVEYED:
                cell = attribute_cell([{task: run[task]} for run in seeds], resamples) or blank
            else:
                cell = pooled([run[task] for run in seeds], metric, source, target, "", resamples)
            row.update(pooled_columns(name, cell))
        rows.append(row)
    return rows


def table1(reports: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Budget: parameters, training time and device, pairs per combination, joint training."""
    rows = []
    for method, r in reports.items():
        pairs = r["pairs"]
        rows.append(
            {
                "Method": label(method),
                "Params": str(r["parameters"]),
                "Training time (s)": fmt(r["wall_time_s"], 0),
                "Device": r["device"],
                "Steps": str(r["steps"]),
                "Batch size": str(r["batch_size"]),
                "T-I pairs": str(pairs.get("text-image", 0)),
                "T-A pairs": str(pairs.get("text-audio", 0)),
                "I-A pairs": str(pairs.get("image-audio", 0)),
                "T-A-I triplets": "0",
                "Joint training": "yes" if r["joint"] else "no",
                "Training stages": str(r["stages"]),
            }
        )
    return rows


def table5(scores: Mapping[str, Mapping[str, Mapping[str, float]]]) -> list[dict[str, str]]:
    """CKNNA of the encoder latents and of FlowBind's shared anchors, per modality pair.

    scores[pair][latent] -> {value, low, high}; pair in ("T-A", "A-I"), latent in
    ("encoder", "shared").
    """
    rows = []
    for latent, name in (("encoder", "Encoder latents"), ("shared", "Shared latent")):
        row = {"Latent": name}
        for pair in ("T-A", "A-I"):
            s = scores[pair][latent]
            row.update(interval_columns(f"{pair} CKNNA", s["value"], s["low"], s["high"], 4))
        rows.append(row)
    return rows


def table6(manifest: Mapping[str, Any]) -> list[dict[str, str]]:
    """Training pairs per pair type, and the test sets."""
    splits = manifest["splits"]
    rows = [
        {
            "Pair type": PAIR_TYPES[name],
            "Dataset": f"embedded world, split {name}",
            "Size": str(splits[name]["size"]),
            "Use": "training",
        }
        for name in PAIR_SPLITS
    ]
    for name in ("test_ti", "test_ta", "test_ia", "test_triplet"):
        modalities = "-".join(m.capitalize() for m in splits[name]["modalities"])
        rows.append(
            {
                "Pair type": modalities,
                "Dataset": f"embedded world, split {name}",
                "Size": str(splits[name]["size"]),
                "Use": "test",
            }
        )
    return rows


def paper_table6(records: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Table 6 of the paper benchmark from its split records (bench.paper.splits): the data
    sets behind each split, the items read and those left out as unreadable."""
    from bench.paper.splits import SPLITS

    rows = []
    for name, record in records.items():
        sources, modalities = SPLITS[name]
        rows.append(
            {
                "Pair type": "-".join(m.capitalize() for m in modalities),
                "Dataset": " + ".join(f"{d} {part}" for d, part in sources),
                "Size": str(len(record["items"])),
                "Left out (unreadable)": str(len(record["bad_items"])),
                "Use": "training" if name.startswith("train_") else "test",
            }
        )
    return rows


def attribute_table(
    runs: Mapping[str, Sequence[Mapping[str, Any]]],
    task_names: Mapping[str, str],
    resamples: int = 1000,
) -> list[dict[str, str]]:
    """Ground-truth attribute accuracy (%) per method, task, target and attribute, pooled over
    the seeds as ``metric_table`` (runs: as there)."""
    rows = []
    for method, seeds in runs.items():
        for task in seeds[0]:
            for r in seeds[0][task][0]:
                if r["kind"] != "attribute":
                    continue
                which = (r["metric"], r["source"], r["target"], r["attribute"])
                cell = pooled([run[task] for run in seeds], *which, resamples)
                rows.append(
                    {
                        "Method": label(method),
                        "Task": task_names[task],
                        "Seeds": str(len(seeds)),
                        "Target": r["target"],
                        "Attribute": r["attribute"],
                        "Conveyed by source": "yes" if r["conveyed"] else "no",
                        **pooled_columns("Accuracy (%)", cell, 1),
                        "Chance (%)": fmt(r["chance"], 1),
                    }
                )
    return rows


def write_csv(path: str | Path, rows: Sequence[Mapping[str, str]]) -> Path:
    """Write rows (same keys each) atomically, through a pandas DataFrame.

    The header is the first row's keys; a row may leave a key out (an empty cell) but not add
    one. Cells are written as given, minimally quoted, one ``\n`` per line: the same bytes as
    ``csv.DictWriter(..., lineterminator="\n")``.
    """
    path = Path(path)
    if not rows:
        raise ValueError(f"no rows to write to {path}")
    columns = list(rows[0])
    for i, row in enumerate(rows):
        extra = [k for k in row if k not in columns]
        if extra:
            raise ValueError(f"row {i} of {path} has columns {extra} that row 0 lacks")
    import pandas as pd  # on use: the Snakefile imports this module to plan, and writes nothing

    # dtype=object keeps every cell as given (no float or string dtype inference).
    frame = pd.DataFrame([dict(r) for r in rows], columns=columns, dtype=object)
    with atomic_file(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        frame.to_csv(f, index=False, lineterminator="\n")
    return path


def read_rows(
    path: str | Path, missing: str = "run the workflow target that writes it"
) -> tuple[list[str], list[dict[str, str]]]:
    """A result CSV's header and rows, every cell the string it was written as.

    Read with pandas as text (``dtype=str``) with no NA conversion, so "NA", "nan" and empty
    cells stay as written; a short row's missing cells read as "". An empty file has no header
    and no rows.

    Args:
        path: the CSV.
        missing: what to do when it is missing, for the error message.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; {missing}")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, index_col=False, encoding="utf-8"
        )
    except pd.errors.EmptyDataError:
        return [], []
    header = [str(c) for c in frame.columns]
    return header, [
        dict(zip(header, r, strict=True)) for r in frame.itertuples(index=False, name=None)
    ]


def evaluation_folder(folder: str | Path, method: str, seed: int) -> Path:
    """Where one training seed of a method is scored: ``folder/<method>/seed<seed>/``."""
    return Path(folder) / method / f"seed{seed}"


def seeds_in(folder: str | Path, method: str) -> list[int]:
    """The seeds with an evaluation (or generation) folder under ``folder/<method>/``."""
    root = Path(folder) / method
    found = [p.name.removeprefix("seed") for p in root.glob("seed*") if p.is_dir()]
    return sorted(int(s) for s in found if s.isdigit())


def read_evaluations(
    folder: str | Path, methods: Sequence[str], tasks: Sequence[str], seed: int
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """records[method][task] of one seed, from ``folder/<method>/seed<seed>/<task>.json``
    (none for a task the method cannot run: ``read_unsupported``)."""
    return {
        method: {
            task: _evaluation(evaluation_folder(folder, method, seed) / f"{task}.json")["records"]
            for task in tasks
        }
        for method in methods
    }


def read_seed_runs(
    folder: str | Path, seeds: Mapping[str, Sequence[int]], tasks: Sequence[str]
) -> dict[str, list[dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]]]:
    """runs[method]: one {task: (records, per-item values)} per seed of ``seeds[method]``, from
    ``folder/<method>/seed<seed>/<task>.json`` and its ``.npz`` (bench.evaluate)."""
    from flowbind.files import read_npz

    out: dict[str, list[dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]]] = {}
    for method, method_seeds in seeds.items():
        out[method] = []
        for seed in method_seeds:
            base = evaluation_folder(folder, method, seed)
            run = {}
            for task in tasks:
                records = _evaluation(base / f"{task}.json")["records"]
                npz = base / f"{task}.npz"
                run[task] = (records, read_npz(npz) if npz.is_file() else {})
            out[method].append(run)
    return out


def read_unsupported(
    folder: str | Path, methods: Sequence[str], tasks: Sequence[str]
) -> dict[tuple[str, str], str]:
    """(method, task) -> why the method cannot run the task, for those it cannot run (read
    from the method's first seed: a released model's only one)."""
    out = {}
    for method in methods:
        seeds = seeds_in(folder, method)
        if not seeds:
            raise FileNotFoundError(
                f"{Path(folder) / method} has no seed<n>/ folder; run the evaluate step for "
                f"{method}"
            )
        for task in tasks:
            path = evaluation_folder(folder, method, seeds[0]) / f"{task}.json"
            reason = _evaluation(path).get("unsupported")
            if reason is not None:
                out[method, task] = reason
    return out


def _evaluation(path: Path) -> dict[str, Any]:
    import json

    if not path.is_file():
        method, seed = path.parent.parent.name, path.parent.name
        raise FileNotFoundError(f"{path} is missing; run the evaluate step for {method} ({seed})")
    return json.loads(path.read_text())
