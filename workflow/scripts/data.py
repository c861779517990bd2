"""Adapter of the `data` and `data_points` rules: build one of the embedded benchmark's data
folders (the three modalities' splits, or the point-cloud splits)."""

from pathlib import Path

from bench.embedded.prepare import ensure_data
from bench.job import job

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    folder = Path(sm.output.manifest).parent
    points = getattr(sm.params, "points", False)
    ensure_data(folder, sm.params.size, sm.params.seed, progress=False, points=points)
