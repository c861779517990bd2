"""Adapter of the `resolved_config` rule: write the run's checked configuration as YAML."""

import yaml

from bench.job import job
from flowbind.files import atomic_file

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]), atomic_file(sm.output[0]) as tmp:
    tmp.write_text(yaml.safe_dump(dict(sm.params.config), sort_keys=False))
