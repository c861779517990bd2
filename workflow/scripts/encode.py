"""Adapter of the `encode` rule: latents of every split under the frozen codecs."""

from pathlib import Path

from bench.job import job
from bench.latents import encode_split
from flowbind.files import write_npz

sm = snakemake  # noqa: F821 (injected by Snakemake)
root = Path(sm.input.manifest).parents[1]
with job(sm.log[0], sm.threads):
    for path in sm.output:
        split = Path(path).stem
        latents = encode_split(root, split)
        write_npz(path, latents)
        print(f"{split}: {len(latents['ids'])} items, {sorted(set(latents) - {'ids'})}")
