"""Adapter of the `solver` rule: quality against drift evaluations, per ODE solver."""

from pathlib import Path

from bench.ablations import evaluate_run, plot_lines, solver_label
from bench.embedded.prepare import profile_root
from bench.job import job
from bench.methods import load_method
from bench.tables import find, fmt, interval_columns, write_csv

COLUMNS = {
    "T->I FID": ("t2i", "FID", "", "image"),
    "T->I CLIP": ("t2i", "CLIP", "text", "image"),
    "A->T CIDEr": ("a2t", "CIDEr", "", "text"),
    "I->A AIS": ("i2a", "AIS", "image", "audio"),
}
PLOTTED = ("T->I CLIP", "I->A AIS")

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    method = load_method(sm.input.run)
    latent_dir, root = Path(sm.input.latents[0]).parent, profile_root(sm.input.codecs[0])
    rows, points = [], []
    for setting in sm.params.solvers:
        label = solver_label(setting)
        out = Path(sm.output.generated) / label.replace(" ", "-")
        records, _, nfe = evaluate_run(
            method, sm.params.tasks, latent_dir, root, out, setting, sm.params.resamples
        )
        row = {"Solver": label, "Drift evaluations (T->I)": fmt(nfe["t2i"], 0)}
        found = {name: find(records[spec[0]], *spec[1:]) for name, spec in COLUMNS.items()}
        for name, r in found.items():
            row.update(interval_columns(name, r["value"], r["low"], r["high"]))
        rows.append(row)
        points.append((nfe["t2i"], found))
        print(row)
    write_csv(sm.output.table, rows)
    points.sort(key=lambda p: p[0])
    series = {
        name: tuple([p[1][name][k] for p in points] for k in ("value", "low", "high"))
        for name in PLOTTED
    }
    x = [p[0] for p in points]
    plot_lines(
        sm.output.figure,
        x,
        series,
        "drift evaluations per item (T->I)",
        "score",
        "Quality against function evaluations",
        log_x=True,
    )
