"""Adapter of the `conflict` rule: (T+A)->I with caption and audio from different scenes."""

from pathlib import Path

import numpy as np

from bench.benchmark import open_benchmark
from bench.conflict import conflict_rows
from bench.job import job
from bench.methods import load_method
from bench.tables import write_csv
from flowbind.files import write_npz

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    rows, items = conflict_rows(
        load_method(sm.input.run),
        Path(sm.input.latents[0]).parent,
        open_benchmark(sm.config),
        sm.params.solver,
        sm.params.resamples,
    )
    write_csv(sm.output.table, rows)
    write_npz(sm.output.per_item, {k: np.asarray(v) for k, v in items.items()})
