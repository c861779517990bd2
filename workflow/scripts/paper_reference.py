"""Adapter of the `reference` rule: a test split's real-item features, cached once."""

import json
from pathlib import Path

from bench.benchmark import PaperBenchmark
from bench.job import job
from bench.paper.backbones import reference_kinds
from flowbind.files import atomic_file

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    benchmark = PaperBenchmark(sm.config["paper"])
    split = benchmark.test_split(sm.wildcards.split)
    backbones = benchmark.backbones()
    kinds = reference_kinds(split.modalities)
    for kind in kinds:
        features = backbones.real(split, kind)
        print(f"{split.name} {kind}: {tuple(features.shape)}")
    with atomic_file(Path(sm.output[0])) as tmp:
        tmp.write_text(json.dumps({"split": split.name, "items": len(split), "kinds": kinds}))
