"""Adapter of the `evaluate` rule: score every task of one method.

A task the method cannot run (a released baseline without a call for it) gets a record with
no scores and the reason, which the tables show as blank cells.
"""

from pathlib import Path

import numpy as np

from bench.benchmark import open_benchmark
from bench.evaluate import evaluate_task
from bench.generate import read_outputs, unsupported_reason
from bench.job import job
from flowbind.files import write_json, write_npz

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    benchmark = open_benchmark(sm.config)
    backbones = benchmark.backbones()
    outputs = zip(sm.output.records, sm.output.per_item, strict=True)
    for key, manifest, (out, per_item) in zip(
        sm.params.tasks, sm.input.generated, outputs, strict=True
    ):
        task = benchmark.task(key)
        reason = unsupported_reason(Path(manifest).parent)
        if reason is not None:
            write_json(
                Path(out), {"task": key, "name": task.name, "records": [], "unsupported": reason}
            )
            write_npz(Path(per_item), {})
            print(f"{task.name}: not run ({reason})")
            continue
        split = benchmark.test_split(task.split)
        # Checked against SHA256SUMS and the split's ids; errors name the generate command.
        outputs = read_outputs(
            Path(manifest).parent, task, split.ids, fixed_size=benchmark.fixed_size
        )
        records, items = evaluate_task(task, outputs, split, backbones, sm.params.resamples)
        write_json(Path(out), {"task": key, "name": task.name, "records": records})
        write_npz(Path(per_item), {k: np.asarray(v) for k, v in items.items()})
        print(task.name, *(f"{r['metric']} {r['value']:.2f}" for r in records[:3]))
