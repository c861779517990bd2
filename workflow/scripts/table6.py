"""Adapter of the `table6` rule: the data summary from the data manifest."""

import json
from pathlib import Path

from bench.job import job
from bench.tables import table6, write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    write_csv(sm.output[0], table6(json.loads(Path(sm.input[0]).read_text())))
