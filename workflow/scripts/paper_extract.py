"""Adapter of the `extract` rule: one split's latents through the paper's frozen codecs."""

import json

from bench.job import job
from bench.paper.codecs import load_codec
from bench.paper.datasets import open_dataset
from bench.paper.extract import extract_split
from bench.paper.splits import SPLITS

sm = snakemake  # noqa: F821 (injected by Snakemake)
split = sm.wildcards.split
paper = sm.config["paper"]
with job(sm.log[0], sm.threads):
    sources, modalities = SPLITS[split]
    data = paper["data"]
    datasets = {
        name: open_dataset(name, data[name]["root"], **data[name]["options"]) for name, _ in sources
    }
    codecs = {m: load_codec(m, paper, sm.params.codecs) for m in modalities}
    stats = extract_split(
        split,
        datasets,
        codecs,
        latents=sm.output.latents,
        record=sm.output.record,
        work=sm.params.work,
        shard_size=paper["shard_size"],
        batch_size=paper["extract_batch_size"],
        max_bad_fraction=paper["max_bad_fraction"],
        progress=False,
    )
    print(json.dumps(stats))
