"""Adapter of the `table1` rule: each method's budget from its fit.json."""

import json
from pathlib import Path

from bench.job import job
from bench.tables import table1, write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    reports = {
        m: json.loads((Path(run) / "fit.json").read_text())
        for m, run in zip(sm.params.methods, sm.input.runs, strict=True)
    }
    write_csv(sm.output[0], table1(reports))
