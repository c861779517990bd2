"""Adapter of the `data_curve` rule: scores against the share of training pairs kept."""

from bench.curves import data_rows, plot_curves
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    # Snakemake may hand the mappings' percent keys over as strings.
    runs = {m: {int(p): r for p, r in pts.items()} for m, pts in sm.params.runs.items()}
    fits = {m: {int(p): f for p, f in pts.items()} for m, pts in sm.params.fits.items()}
    rows, curve = data_rows(runs, fits, sm.params.resamples)
    write_csv(sm.output.table, rows)
    plot_curves(
        sm.output.figure, curve, "pairs kept (% of every table)", "Scores against training data"
    )
