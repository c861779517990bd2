"""Adapter of the `attributes` rule: ground-truth attribute accuracy of every output."""

from pathlib import Path

from bench.job import job
from bench.tables import attribute_table, read_evaluations, write_csv
from bench.tasks import TASKS

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    folder = Path(sm.input[0]).parents[1]
    records = read_evaluations(folder, sm.params.methods, list(TASKS))
    names = {key: task.name for key, task in TASKS.items()}
    write_csv(sm.output[0], attribute_table(records, names))
