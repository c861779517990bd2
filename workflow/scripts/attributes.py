"""Adapter of the `attributes` rule: ground-truth attribute accuracy of every output, pooled
over each method's training seeds."""

from pathlib import Path

from bench.job import job
from bench.tables import attribute_table, read_seed_runs, write_csv
from bench.tasks import TASKS

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    # results/evaluate/<method>/seed<seed>/<task>.json -> results/evaluate
    folder = Path(sm.input[0]).parents[2]
    runs = read_seed_runs(folder, sm.params.seeds, list(TASKS))
    names = {key: task.name for key, task in TASKS.items()}
    write_csv(sm.output[0], attribute_table(runs, names, sm.params.resamples))
