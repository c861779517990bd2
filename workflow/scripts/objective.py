"""Adapter of the `objective` rule: official vs paper objective, with and without stop-gradient."""

from bench.ablations import objective_rows
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    write_csv(
        sm.output[0], objective_rows(sm.params.runs, sm.params.objectives, sm.params.resamples)
    )
