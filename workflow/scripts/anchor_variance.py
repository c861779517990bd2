"""Adapter of the `anchor_variance` rule: FlowBind at each fixed anchor variance."""

from bench.ablations import anchor_variance_rows, plot_lines
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    rows, x, series = anchor_variance_rows(sm.params.runs, sm.params.main, sm.params.resamples)
    write_csv(sm.output.table, rows)
    plot_lines(
        sm.output.figure,
        x,
        series,
        "fixed anchor variance (log scale)",
        "CLIP / AIS",
        "FlowBind against its anchor variance",
        log_x=True,
    )
