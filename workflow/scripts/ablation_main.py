"""Adapter of the `ablation_main` rule: a main run's one-to-one scores in the ablation layout."""

from pathlib import Path

import numpy as np

from bench.job import job
from bench.tables import read_evaluations
from flowbind.files import write_json, write_npz

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    method, folder = sm.wildcards.method, Path(sm.input.records[0]).parents[1]
    records = read_evaluations(folder, [method], sm.params.tasks)[method]
    items = {}
    for key in sm.params.tasks:
        with np.load(folder / method / f"{key}.npz") as per_item:
            items.update({f"{key}|{name}": per_item[name] for name in per_item.files})
    write_json(Path(sm.output.records), {"records": records})
    write_npz(sm.output.per_item, items)
