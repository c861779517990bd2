"""Adapter of the `budget_curve` rule: scores against training steps and FLOPs."""

import json
from pathlib import Path

from bench.curves import budget_fraction_rows, budget_rows, plot_curves
from bench.flops import sized_pairs, training_flops
from bench.job import job
from bench.methods import load_method
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    # Snakemake may hand the mappings' step keys over as strings.
    runs = {m: {int(n): p for n, p in points.items()} for m, points in sm.params.runs.items()}
    flops, cache = {}, {}
    for method, folders in sm.params.fits.items():
        flops[method] = {}
        for steps, folder in ((int(n), f) for n, f in folders.items()):
            fit = json.loads((Path(folder) / "fit.json").read_text())
            flops[method][steps] = training_flops(
                load_method(folder), sized_pairs(fit["pairs"]), cache
            )
            print(f"{method} {steps} steps: {flops[method][steps] / 1e12:.4g} TFLOP")
    rows, by_steps, by_flops = budget_rows(runs, flops, sm.params.resamples)
    write_csv(sm.output.table, rows)
    write_csv(sm.output.fraction, budget_fraction_rows(by_steps, int(sm.params.table_steps)))
    plot_curves(
        sm.output.figure,
        by_steps,
        "training steps",
        "Scores against the training budget (dotted: the main tables')",
        mark=int(sm.params.table_steps),
    )
    plot_curves(
        sm.output.flops_figure,
        by_flops,
        "training TFLOP",
        "Scores against training compute (FLOPs counted from each recipe)",
    )
