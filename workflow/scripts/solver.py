"""Adapter of the `solver` rule: quality against drift evaluations, per ODE solver."""

from pathlib import Path

from bench.ablations import plot_lines, solver_sweep
from bench.benchmark import open_benchmark
from bench.job import job
from bench.methods import load_method
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    rows, x, series = solver_sweep(
        load_method(sm.input.run),
        sm.params.solvers,
        sm.params.tasks,
        Path(sm.input.latents[0]).parent,
        open_benchmark(sm.config),
        sm.output.generated,
        sm.params.resamples,
    )
    write_csv(sm.output.table, rows)
    plot_lines(
        sm.output.figure,
        x,
        series,
        "drift evaluations per item (T->I)",
        "score",
        "Quality against function evaluations",
        log_x=True,
    )
