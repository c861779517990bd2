"""Adapter of the `tiny_inputs` rule: tiny data sets and tiny random codecs (paper_tiny)."""

import json
from pathlib import Path

from bench.job import job
from bench.paper.codecs import build_tiny_codecs
from bench.paper.tiny_data import write_tiny_data
from flowbind.files import atomic_file

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    roots = write_tiny_data(sm.params.data, n=sm.params.n_items)
    folders = build_tiny_codecs(sm.params.codecs)
    with atomic_file(Path(sm.output[0])) as tmp:
        record = {"data": {k: str(v) for k, v in roots.items()}}
        record["codecs"] = {k: str(v) for k, v in folders.items()}
        record["note"] = "random weights, noise data: no score measured on them means anything"
        tmp.write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))
