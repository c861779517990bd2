"""Adapter of the `download_weights` rule: fetch and verify every file this config loads."""

import sys

from bench.job import job
from metrics.backbones.registry import main

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    if not sm.params.entries:
        print("nothing to download: this config loads no pretrained file")
    elif main(["download", *sm.params.entries]) != 0:
        sys.exit("some downloads failed; see the messages above")
    elif main(["verify", *sm.params.entries]) != 0:
        sys.exit("some files failed verification; see the messages above")
