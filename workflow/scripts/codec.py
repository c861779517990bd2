"""Adapter of the `codec` rule: train one modality's frozen codec."""

from pathlib import Path

from bench.embedded.prepare import train_codec
from bench.job import job

sm = snakemake  # noqa: F821 (injected by Snakemake)
root = Path(sm.input.manifest).parents[1]
with job(sm.log[0], sm.threads):
    p = sm.params
    train_codec(root, sm.wildcards.modality, p.size, p.seed, p.latent_dim, progress=False)
