"""Adapter of the `snapshot_run` rule: a budget run from a longer run's snapshot."""

from bench.job import job
from bench.train_run import publish_snapshot

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    publish_snapshot(sm.input.run, int(sm.wildcards.steps), sm.output.run)
