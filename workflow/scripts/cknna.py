"""Adapter of the `cknna` rule: CKNNA of encoder latents vs FlowBind's anchors (Table 5)."""

from pathlib import Path

from bench.evaluate import anchor_cknna
from bench.job import job
from bench.latents import read_latents
from bench.methods import load_method
from flowbind.files import write_json

sm = snakemake  # noqa: F821 (injected by Snakemake)
latent_dir = Path(sm.input.latents[0]).parent
with job(sm.log[0], sm.threads):
    model = load_method(sm.input.run).model
    pairs = {
        "T-A": ("text", "audio", read_latents(latent_dir / "test_ta.npz")),
        "A-I": ("audio", "image", read_latents(latent_dir / "test_ia.npz")),
    }
    scores = anchor_cknna(model, pairs, sm.params.resamples)
    write_json(Path(sm.output[0]), scores)
    print(scores)
