"""Adapter of the `ablation_main` rule: a main run's one-to-one scores in the ablation layout."""

import json
from pathlib import Path

import numpy as np

from flowbind.bench.job import job
from flowbind.bench.latents import write_npz
from flowbind.checkpoint import write_json

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    records, items = {}, {}
    for key, path in zip(sm.params.tasks, sm.input.records, strict=True):
        path = Path(path)
        records[key] = json.loads(path.read_text())["records"]
        with np.load(path.with_suffix(".npz")) as per_item:
            items.update({f"{key}|{name}": per_item[name] for name in per_item.files})
    write_json(Path(sm.output.records), {"records": records})
    write_npz(sm.output.per_item, items)
