"""Adapter of the `evaluator` rule: train one evaluator network."""

from pathlib import Path

from bench.embedded.prepare import train_evaluator
from bench.job import job

sm = snakemake  # noqa: F821 (injected by Snakemake)
root = Path(sm.input.manifest).parents[1]
with job(sm.log[0], sm.threads):
    train_evaluator(root, sm.wildcards.name, sm.params.size, sm.params.seed, progress=False)
