"""Adapter of the `ablation_main` rule: a main run's one-to-one scores in the ablation layout."""

from pathlib import Path

from bench.job import job
from bench.tables import read_seed_runs
from flowbind.files import write_json, write_npz

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    # results/evaluate/<method>/seed<seed>/<task>.json -> results/evaluate
    folder = Path(sm.input.records[0]).parents[2]
    method, seed = sm.wildcards.method, int(sm.wildcards.seed)
    (run,) = read_seed_runs(folder, {method: [seed]}, sm.params.tasks)[method]
    records = {task: recs for task, (recs, _) in run.items()}
    items = {
        f"{task}|{name}": v for task, (_, per_item) in run.items() for name, v in per_item.items()
    }
    write_json(Path(sm.output.records), {"records": records})
    write_npz(sm.output.per_item, items)
