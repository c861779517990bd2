"""The ablations: anchor choice (Table 4), I-A fraction (Figure 11), objective, ODE solver.

Training ablations run over the seeds of ``ablations.seeds`` (Table 4 over ``seeds``, the main
tables'); a cell is pooled over them by bench.pooling: the seed mean, its spread and the item
interval of the mean.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.pooling import Run, find, fmt, pooled, pooled_columns
from bench.tables import interval_columns
from flowbind.files import read_npz
from metrics.bootstrap import DEFAULT_RESAMPLES

if TYPE_CHECKING:
    from torch import nn


@contextlib.contextmanager
def count_evaluations(modules: Mapping[str, nn.Module]) -> Iterator[dict[str, int]]:
    """Count forward calls of each module (drift evaluations of an ODE solve)."""
    counts = dict.fromkeys(modules, 0)
    handles = []
    for name, module in modules.items():

        def hook(*_, name=name):
            counts[name] += 1

        handles.append(module.register_forward_hook(hook))
    try:
        yield counts
    finally:
        for h in handles:
            h.remove()


def solver_label(setting: Mapping[str, Any]) -> str:
    if setting["method"] == "dopri5":
        return "dopri5"
    return f"{setting['method']} {setting['steps']}"


def plot_lines(
    path, x, series: Mapping[str, tuple[list, list, list]], xlabel, ylabel, title, log_x
):
    """A PNG of lines with interval bands, series[name] = (values, lows, highs); no timestamps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=120)
    for name, (values, lows, highs) in series.items():
        ax.plot(x, values, marker="o", label=name)
        ax.fill_between(x, lows, highs, alpha=0.2)
    if log_x:
        ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def evaluate_run(
    method: Any,
    tasks: Sequence[str],
    latent_dir: str | Path,
    benchmark: Any,
    out_dir: str | Path,
    solver: Mapping[str, Any],
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, np.ndarray], dict[str, float | None]]:
    """Generate and score ``tasks`` with ``method``; outputs go to ``out_dir/<task>/``.

    Args:
        benchmark: the benchmark (``bench.benchmark.open_benchmark``): codecs, test splits
            and metric backbones.

    Returns:
        (records per task, per-item values keyed "<task>|<item key>", drift evaluations per
        item of each task, None for a model without per-modality drifts).
    """
    from bench.evaluate import evaluate_task
    from bench.generate import read_outputs, translate_task, write_outputs
    from bench.latents import read_latents

    latent_dir, out_dir = Path(latent_dir), Path(out_dir)
    codecs = benchmark.codecs()
    backbones = benchmark.backbones()
    records, items, nfe = {}, {}, {}
    for key in tasks:
        task = benchmark.task(key)
        test = read_latents(latent_dir / f"{task.split}.npz")
        n = len(test["ids"])
        # the drift networks' forward calls; a baseline's networks are not per-modality drifts
        drifts = getattr(method.model, "drifts", None)
        with count_evaluations(dict(drifts or {})) as counts:
            latents = translate_task(method, task, test, batch_size=n, **solver)
        nfe[key] = float(sum(counts.values())) if drifts is not None else None
        write_outputs(out_dir / key, task, test["ids"], latents, codecs)
        split = benchmark.test_split(task.split)
        outputs = read_outputs(out_dir / key, task, fixed_size=benchmark.fixed_size)
        records[key], task_items = evaluate_task(task, outputs, split, backbones, resamples)
        items.update({f"{key}|{k}": v for k, v in task_items.items()})
    return records, items, nfe


def read_run(path: str | Path) -> dict[str, Run]:
    """task -> (records, per-item values) of a run written by the ablation_eval rule."""
    path = Path(path)
    records = json.loads(path.read_text())["records"]
    items = read_npz(path.with_suffix(".npz"))
    return {
        task: (
            recs,
            {k.split("|", 1)[1]: v for k, v in items.items() if k.split("|", 1)[0] == task},
        )
        for task, recs in records.items()
    }


# column -> (task, metric, source, target, attribute)
TABLE4 = {
    "I->T CLIP": ("i2t", "CLIP", "image", "text", ""),
    "A->T CLAP": ("a2t", "CLAP", "audio", "text", ""),
    "I->A AIS": ("i2a", "AIS", "image", "audio", ""),
}
IA_COLUMNS = {
    "I->A AIS": ("i2a", "AIS", "image", "audio", ""),
    "A->I AIS": ("a2i", "AIS", "audio", "image", ""),
    "I->A count (%)": ("i2a", "accuracy", "image", "audio", "count"),
    "A->I count (%)": ("a2i", "accuracy", "audio", "image", "count"),
}
OBJECTIVE_COLUMNS = {
    "T->I CLIP": ("t2i", "CLIP", "text", "image", ""),
    "I->T CLIP": ("i2t", "CLIP", "image", "text", ""),
    "T->A CLAP": ("t2a", "CLAP", "text", "audio", ""),
    "A->T CLAP": ("a2t", "CLAP", "audio", "text", ""),
    "I->A AIS": ("i2a", "AIS", "image", "audio", ""),
    "A->I AIS": ("a2i", "AIS", "audio", "image", ""),
}


def pooled_row(
    runs: Sequence[str | Path], columns: Mapping[str, tuple], resamples: int = DEFAULT_RESAMPLES
) -> tuple[dict[str, str], dict[str, dict[str, float | None]]]:
    """One table row pooled over the seeds' runs: (formatted columns, raw cells)."""
    loaded = [read_run(p) for p in runs]
    row, cells = {"Seeds": str(len(loaded))}, {}
    for name, (task, metric, source, target, attribute) in columns.items():
        cell = pooled([run[task] for run in loaded], metric, source, target, attribute, resamples)
        cells[name] = cell
        row.update(pooled_columns(name, cell))
    return row, cells


# -- the ablation tables and their figures (the workflow scripts only read and write) ---------

# The solver sweep's columns: name -> (task, metric, source, target); the first two are plotted.
SOLVER_COLUMNS = {
    "T->I FID": ("t2i", "FID", "", "image"),
    "T->I CLIP": ("t2i", "CLIP", "text", "image"),
    "A->T CIDEr": ("a2t", "CIDEr", "", "text"),
    "I->A AIS": ("i2a", "AIS", "image", "audio"),
}
SOLVER_PLOTTED = ("T->I CLIP", "I->A AIS")


def series_of(
    cells: Sequence[Mapping[str, Mapping[str, float | None]]], names: Sequence[str]
) -> dict[str, tuple[list, list, list]]:
    """plot_lines' series from one cell dict per x value: name -> (values, lows, highs)."""
    return {
        name: tuple([c[name][k] for c in cells] for k in ("value", "low", "high")) for name in names
    }


def solver_sweep(
    method: Any,
    solvers: Sequence[Mapping[str, Any]],
    tasks: Sequence[str],
    latent_dir: str | Path,
    benchmark: Any,
    out_dir: str | Path,
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[list[dict[str, str]], list[float], dict[str, tuple[list, list, list]]]:
    """Score ``method`` once per solver setting: (table rows, x: T->I drift evaluations, series).

    Each setting's outputs go to ``out_dir/<label>/``; the series are sorted by x.
    """
    rows, points = [], []
    for setting in solvers:
        label = solver_label(setting)
        out = Path(out_dir) / label.replace(" ", "-")
        records, _, nfe = evaluate_run(
            method, tasks, latent_dir, benchmark, out, setting, resamples
        )
        row = {"Solver": label, "Drift evaluations (T->I)": fmt(nfe["t2i"], 0)}
        found = {name: find(records[spec[0]], *spec[1:]) for name, spec in SOLVER_COLUMNS.items()}
        for name, r in found.items():
            row.update(interval_columns(name, r["value"], r["low"], r["high"]))
        rows.append(row)
        points.append((nfe["t2i"], found))
        print(row)
    points.sort(key=lambda p: p[0])
    return rows, [p[0] for p in points], series_of([p[1] for p in points], SOLVER_PLOTTED)


def ia_fraction_rows(
    runs: Mapping[str, Sequence[str | Path]],
    fits: Mapping[str, str | Path],
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[list[dict[str, str]], list[int], dict[str, tuple[list, list, list]]]:
    """The I-A fraction curve (the paper's Figure 11): (rows, x: percent kept, AIS series).

    Args:
        runs: percent kept -> the seeds' ablation_eval records.
        fits: percent kept -> the first seed's training folder (its fit.json has the pair count).
    """
    rows, cells = [], []
    first = read_run(next(iter(runs.values()))[0])
    columns = {  # the count columns need ground truth, which only the embedded world has
        name: spec
        for name, spec in IA_COLUMNS.items()
        if any(
            (r["metric"], r["source"], r["target"], r["attribute"]) == spec[1:]
            for r in first[spec[0]][0]
        )
    }
    for percent in sorted(runs, key=int):
        fit = json.loads((Path(fits[percent]) / "fit.json").read_text())
        row, cell = pooled_row(runs[percent], columns, resamples)
        pairs = str(fit["pairs"].get("image-audio", 0))
        rows.append({"I-A pairs (%)": str(percent), "I-A pairs": pairs, **row})
        cells.append(cell)
    x = [int(r["I-A pairs (%)"]) for r in rows]
    return rows, x, series_of(cells, ("I->A AIS", "A->I AIS"))


def objective_rows(
    runs: Mapping[str, Sequence[str | Path]],
    objectives: Mapping[str, Mapping[str, Any]],
    resamples: int = DEFAULT_RESAMPLES,
) -> list[dict[str, str]]:
    """Official vs paper objective, with and without stop-gradient: one row per setting."""
    rows = []
    for name, setting_runs in runs.items():
        setting = objectives[name]
        row, _ = pooled_row(setting_runs, OBJECTIVE_COLUMNS, resamples)
        stop_grad = "no" if setting["no_stop_grad"] else "yes"
        rows.append(
            {"Objective": name, "Scheme": setting["scheme"], "Stop-gradient": stop_grad, **row}
        )
    return rows


def anchor_variance_rows(
    runs: Mapping[float, Sequence[str | Path]],
    main: float,
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[list[dict[str, str]], list[float], dict[str, tuple[list, list, list]]]:
    """FlowBind at each fixed anchor variance: (rows, x: the variances, alignment series).

    Args:
        runs: anchor variance -> the seeds' ablation records.
        main: the main runs' variance (its row says so).
    """
    rows, cells = [], []
    for variance in sorted(runs):
        row, cell = pooled_row(runs[variance], OBJECTIVE_COLUMNS, resamples)
        main_run = "yes" if variance == main else "no"
        rows.append({"Anchor variance": f"{variance:g}", "Main run": main_run, **row})
        cells.append(cell)
    series = series_of(cells, ("T->I CLIP", "I->T CLIP", "I->A AIS", "A->I AIS"))
    return rows, sorted(runs), series


def table4_rows(
    settings: Sequence[tuple[str, Sequence[str | Path]]], resamples: int = DEFAULT_RESAMPLES
) -> list[dict[str, str]]:
    """Table 4 from (row label, the seeds' runs) pairs: text anchoring against FlowBind."""
    return [{"Method": label, **pooled_row(runs, TABLE4, resamples)[0]} for label, runs in settings]
