"""Adapter of the `data` rule: build the embedded benchmark's splits."""

from pathlib import Path

from bench.embedded.prepare import prepare_data
from bench.job import job

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    prepare_data(Path(sm.output.manifest).parents[1], sm.params.size, sm.params.seed, False)
