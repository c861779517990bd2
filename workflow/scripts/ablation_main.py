"""Adapter of the `ablation_main` rule: a main run's one-to-one scores in the ablation layout."""

from pathlib import Path

from bench.job import job
from bench.tables import read_evaluations
from flowbind.files import read_npz, write_json, write_npz

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    method, folder = sm.wildcards.method, Path(sm.input.records[0]).parents[1]
    records = read_evaluations(folder, [method], sm.params.tasks)[method]
    items = {}
    for key in sm.params.tasks:
        per_item = read_npz(folder / method / f"{key}.npz")
        items.update({f"{key}|{name}": values for name, values in per_item.items()})
    write_json(Path(sm.output.records), {"records": records})
    write_npz(sm.output.per_item, items)
