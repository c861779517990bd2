"""Adapter of the `ia_fraction` rule: alignment against the I-A fraction (the paper's Figure 11)."""

from bench.ablations import ia_fraction_rows, plot_lines
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    rows, x, series = ia_fraction_rows(sm.params.runs, sm.params.fits, sm.params.resamples)
    write_csv(sm.output.table, rows)
    plot_lines(
        sm.output.figure,
        x,
        series,
        "image-audio pairs kept (%)",
        "AIS",
        "Image-audio alignment against the I-A fraction",
        log_x=True,
    )
