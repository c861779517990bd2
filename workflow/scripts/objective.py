"""Adapter of the `objective` rule: official vs paper objective, with and without stop-gradient."""

from bench.ablations import OBJECTIVE_COLUMNS, pooled_row
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    rows = []
    for name, runs in sm.params.runs.items():
        setting = sm.params.objectives[name]
        row, _ = pooled_row(runs, OBJECTIVE_COLUMNS, sm.params.resamples)
        rows.append(
            {
                "Objective": name,
                "Scheme": setting["scheme"],
                "Stop-gradient": "no" if setting["no_stop_grad"] else "yes",
                **row,
            }
        )
    write_csv(sm.output[0], rows)
