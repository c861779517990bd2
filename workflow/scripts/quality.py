"""Adapter of the `codecs_ready` rule: measure the codecs and evaluators (quality.json)."""

from pathlib import Path

from bench.embedded.prepare import format_quality, measure_quality
from bench.job import job

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    p = sm.params
    quality = measure_quality(Path(sm.output[0]).parent, p.size, p.seed, p.latent_dim, {})
    print(format_quality(quality))
