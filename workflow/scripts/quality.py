"""Adapter of the `codecs_ready` rule: measure the codecs and evaluators (quality.json)."""

from pathlib import Path

from flowbind.bench.job import job
from flowbind.embedded.prepare import format_quality, measure_quality

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    p = sm.params
    quality = measure_quality(Path(sm.output[0]).parent, p.size, p.seed, p.latent_dim, {})
    print(format_quality(quality))
