"""Adapter of the `table6` rule: the data summary, from the embedded data manifest or from the
paper benchmark's split records."""

import json
from pathlib import Path

from bench.job import job
from bench.tables import paper_table6, table6, write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    files = [Path(f) for f in sm.input]
    if sm.config["benchmark"] == "paper":
        rows = paper_table6({f.stem: json.loads(f.read_text()) for f in files})
    else:
        rows = table6(json.loads(files[0].read_text()))
    write_csv(sm.output[0], rows)
