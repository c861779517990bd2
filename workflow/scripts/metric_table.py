"""Adapter of the `metric_table` rule: Tables 2, 3, 7, 8 or 9 from the evaluation records, each
cell pooled over the method's training seeds (bench.pooling)."""

from pathlib import Path

from bench.job import job
from bench.tables import (
    ALL_METRIC_TABLES,
    metric_table,
    read_seed_runs,
    read_unsupported,
    table_tasks,
    write_csv,
)

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    # results/evaluate/<method>/seed<seed>/<task>.json -> results/evaluate
    folder = Path(sm.input[0]).parents[2]
    columns = ALL_METRIC_TABLES[sm.wildcards.table]
    tasks = table_tasks(columns)
    runs = read_seed_runs(folder, sm.params.seeds, tasks)
    unsupported = read_unsupported(folder, list(sm.params.seeds), tasks)
    write_csv(sm.output[0], metric_table(columns, runs, unsupported, sm.params.resamples))
