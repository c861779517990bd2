"""Adapter of the `metric_table` rule: Tables 2, 3, 7 or 8 from the evaluation records."""

from pathlib import Path

from bench.job import job
from bench.tables import (
    METRIC_TABLES,
    metric_table,
    read_evaluations,
    read_unsupported,
    table_tasks,
    write_csv,
)

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    folder = Path(sm.input[0]).parents[1]
    columns = METRIC_TABLES[sm.wildcards.table]
    tasks = table_tasks(columns)
    records = read_evaluations(folder, sm.params.methods, tasks)
    unsupported = read_unsupported(folder, sm.params.methods, tasks)
    write_csv(sm.output[0], metric_table(columns, records, unsupported))
