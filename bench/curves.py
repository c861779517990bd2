"""Each method's scores against its training budget and against the training pairs it saw.

    results/budget_curve.csv     method x training steps: steps, training FLOPs, scores
    results/budget_fraction.csv  per method and score: the main tables' budget against the best
                                 score of its budget curve (the budget criterion)
    results/data_curve.csv       method x share of every pair table kept: pairs, scores

Every point is a training run of its own (``steps<n>`` and ``data<percent>`` variants of
bench.train_run) scored on the one-to-one tasks by the ablation_eval rule, the seeds pooled as
in bench.ablations. Training FLOPs are counted from each recipe's layer shapes, stage by stage
(bench.flops.training_flops), so "at equal compute" compares methods whose steps cost
differently.

The budget criterion: the main tables' budget is past the knee of a method's curve on a score
when the score there reaches at least ``KNEE`` (95 %) of the best score the curve reaches
(for a Frechet distance, where lower is better: best / score), or when its 95 % interval
overlaps the best point's (the best of noisy points is biased upwards, and a difference inside
the intervals is not one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.ablations import OBJECTIVE_COLUMNS, read_run
from bench.pooling import attribute_cell, pooled, pooled_columns
from bench.tables import fmt, label
from metrics.bootstrap import DEFAULT_RESAMPLES

# column -> (task, metric, source, target, attribute), as bench.ablations' tables
CURVE_COLUMNS = {
    **OBJECTIVE_COLUMNS,
    "T->I FID": ("t2i", "FID", "", "image", ""),
    "A->I FID": ("a2i", "FID", "", "image", ""),
    "T->A FAD": ("t2a", "FAD", "", "audio", ""),
    "I->A FAD": ("i2a", "FAD", "", "audio", ""),
}
# The accuracy (%) of every attribute a task's source conveys, per output item averaged over
# those attributes, then over the one-to-one tasks (each task's items resampled apart).
ATTRIBUTES = "Attributes (%)"
LOWER_IS_BETTER = frozenset({"T->I FID", "A->I FID", "T->A FAD", "I->A FAD"})
PLOTTED = ("T->I CLIP", "I->T CLIP", "T->A CLAP", "I->A AIS", "A->I AIS", "T->I FID",
           "T->A FAD", ATTRIBUTES)  # fmt: skip
KNEE = 0.95


def present_columns(run: Mapping[str, Any]) -> dict[str, tuple]:
    """The CURVE_COLUMNS a run (bench.ablations.read_run) has records for."""
    return {
        name: spec
        for name, spec in CURVE_COLUMNS.items()
        if spec[0] in run
        and any(
            (r["metric"], r["source"], r["target"], r["attribute"]) == spec[1:]
            for r in run[spec[0]][0]
        )
    }


def curve_point(
    paths: Sequence[str | Path], resamples: int = DEFAULT_RESAMPLES
) -> tuple[dict[str, str], dict[str, dict]]:
    """One point of a curve pooled over its seeds' runs: (formatted columns, raw cells)."""
    runs = [read_run(p) for p in paths]
    row, cells = {"Seeds": str(len(runs))}, {}
    for name, (task, metric, source, target, attribute) in present_columns(runs[0]).items():
        cells[name] = pooled(
            [run[task] for run in runs], metric, source, target, attribute, resamples
        )
    attributes = attribute_cell(runs, resamples)
    if attributes is not None:
        cells[ATTRIBUTES] = attributes
    for name, cell in cells.items():
        row.update(pooled_columns(name, cell))
    return row, cells


Curve = dict[str, list[tuple[float, dict[str, dict]]]]  # method -> [(x, cells)], x ascending


def budget_rows(
    runs: Mapping[str, Mapping[int, Sequence[str | Path]]],
    flops: Mapping[str, Mapping[int, int]],
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[list[dict[str, str]], Curve, Curve]:
    """The budget curve: (rows, method -> [(steps, cells)], method -> [(TFLOP, cells)]).

    Args:
        runs: method -> training steps -> the seeds' ablation_eval records.
        flops: method -> training steps -> FLOPs of the whole training (training_flops).
    """
    rows, by_steps, by_flops = [], {}, {}
    for method, points in runs.items():
        for steps in sorted(points):
            row, cells = curve_point(points[steps], resamples)
            tflop = flops[method][steps] / 1e12
            rows.append(
                {
                    "Method": label(method),
                    "Steps": str(steps),
                    "Training TFLOP": f"{tflop:.4g}",
                    **row,
                }
            )
            by_steps.setdefault(label(method), []).append((steps, cells))
            by_flops.setdefault(label(method), []).append((tflop, cells))
    return rows, by_steps, by_flops


def data_rows(
    runs: Mapping[str, Mapping[int, Sequence[str | Path]]],
    fits: Mapping[str, Mapping[int, str | Path]],
    resamples: int = DEFAULT_RESAMPLES,
) -> tuple[list[dict[str, str]], Curve]:
    """The data curve: (rows, method -> [(percent kept, cells)]).

    Args:
        runs: method -> percent of every pair table kept -> the seeds' ablation_eval records.
        fits: method -> percent -> the first seed's training folder (fit.json: pairs used).
    """
    rows, curve = [], {}
    for method, points in runs.items():
        for percent in sorted(points):
            fit = json.loads((Path(fits[method][percent]) / "fit.json").read_text())
            row, cells = curve_point(points[percent], resamples)
            rows.append(
                {
                    "Method": label(method),
                    "Pairs kept (%)": str(percent),
                    "Training pairs": str(sum(fit["pairs"].values())),
                    **row,
                }
            )
            curve.setdefault(label(method), []).append((percent, cells))
    return rows, curve


def reached(value: float, best: float, name: str) -> float:
    """The share (%) of the best score that ``value`` reaches (best / value where lower is
    better)."""
    if name in LOWER_IS_BETTER:
        return 100.0 * best / value if value > 0 else 100.0
    return 100.0 * value / best if best > 0 else 100.0


def budget_fraction_rows(by_steps: Curve, table_steps: int) -> list[dict[str, str]]:
    """Per method and score: the best score of the budget curve and at which budget, the score
    at the main tables' budget, the share of the best it reaches and whether that passes the
    knee criterion (KNEE)."""
    rows = []
    for method, points in by_steps.items():
        at_steps = dict(points)
        at_table = at_steps.get(table_steps)
        for name in points[0][1]:
            values = [(steps, cells[name]["value"]) for steps, cells in points]
            pick = min if name in LOWER_IS_BETTER else max
            best_steps, best = pick(values, key=lambda sv: sv[1])
            best_cell = at_steps[best_steps][name]
            row = {
                "Method": method,
                "Score": name,
                "Best steps": str(best_steps),
                "Best": fmt(best),
                "Table steps": str(table_steps),
            }
            if at_table is None:
                row.update(
                    dict.fromkeys(
                        ("Table", "Reached (%)", "Intervals overlap", "Past the knee"), ""
                    )
                )
            else:
                cell = at_table[name]
                share = reached(cell["value"], best, name)
                overlap = cell["low"] <= best_cell["high"] and best_cell["low"] <= cell["high"]
                row.update(
                    {
                        "Table": fmt(cell["value"]),
                        "Reached (%)": fmt(share, 1),
                        "Intervals overlap": "yes" if overlap else "no",
                        "Past the knee": "yes" if share >= 100 * KNEE or overlap else "no",
                    }
                )
            rows.append(row)
    return rows


def plot_curves(
    path: str | Path,
    curve: Curve,
    xlabel: str,
    title: str,
    log_x: bool = True,
    mark: float | None = None,
) -> None:
    """One panel per plotted score, a line with its interval band per method, a dotted line at
    ``mark`` (the main tables' setting); no timestamps."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in PLOTTED if any(n in cells for pts in curve.values() for _, cells in pts)]
    cols = 4
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.7 * rows), dpi=110, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        for method, points in curve.items():
            x = [p[0] for p in points]
            cells = [p[1][name] for p in points]
            ax.plot(x, [c["value"] for c in cells], marker="o", markersize=3, label=method)
            ax.fill_between(x, [c["low"] for c in cells], [c["high"] for c in cells], alpha=0.15)
        if log_x:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if mark is not None:
            ax.axvline(mark, color="grey", linestyle=":", linewidth=1)
        ax.set_title(name + (" (lower is better)" if name in LOWER_IS_BETTER else ""), fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
