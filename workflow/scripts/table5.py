"""Adapter of the `table5` rule: CKNNA of encoder latents vs shared anchors."""

import json
from pathlib import Path

from bench.job import job
from bench.tables import table5, write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    write_csv(sm.output[0], table5(json.loads(Path(sm.input[0]).read_text())))
