"""Adapter of the `cost_scaling` rule: the cost table against the number of modalities and its
figure (bench.scaling)."""

from bench.job import job
from bench.scaling import cost_rows, plot_costs, write_table

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    p = sm.params
    rows = cost_rows(list(p.settings), p.settings, p.base, p.counts, p.timed)
    write_table(rows, sm.output.table)
    plot_costs(rows, sm.output.figure)
    for row in rows:
        print(row)
