"""Adapter of the `ablation_eval` rule: generate and score the one-to-one tasks of one run."""

from pathlib import Path

import numpy as np

from bench.ablations import evaluate_run
from bench.benchmark import open_benchmark
from bench.job import job
from bench.methods import load_method
from flowbind.files import write_json, write_npz

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    records, items, _ = evaluate_run(
        load_method(sm.input.run),
        sm.params.tasks,
        Path(sm.input.latents[0]).parent,
        open_benchmark(sm.config),
        sm.output.generated,
        sm.params.solver,
        sm.params.resamples,
    )
    write_json(Path(sm.output.records), {"records": records})
    write_npz(sm.output.per_item, {k: np.asarray(v) for k, v in items.items()})
