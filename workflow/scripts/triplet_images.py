"""Adapter of the `triplet_images` rule: FLUX.1-schnell images of the AudioCaps test captions."""

import json
from pathlib import Path

from bench.job import job
from bench.paper.datasets import open_dataset
from bench.paper.triplet_images import generate_triplet_images, load_flux, triplet_targets
from flowbind.files import atomic_file
from metrics.backbones.hub import snapshot_path

sm = snakemake  # noqa: F821 (injected by Snakemake)
data = sm.config["paper"]["data"]["triplets"]
with job(sm.log[0], sm.threads):
    targets = triplet_targets(open_dataset("triplets", data["root"], **data["options"]))
    pipeline = load_flux(snapshot_path("flux-1-schnell"))
    made = generate_triplet_images(targets, pipeline, sm.params.seed)
    record = {"images": len(targets), "made": made, "model": "FLUX.1-schnell"}
    with atomic_file(Path(sm.output[0])) as tmp:
        tmp.write_text(json.dumps(record))
