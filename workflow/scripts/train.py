"""Adapter of the `train` rule: fit one method on the training pairs and write fit.json.

The run trains in its work folder (results/checkpoints/train/...) and resumes there after an
interruption; the finished run is copied to the rule's output (bench.train_run). The same run
is `python -m bench.train_run`, which torchrun can launch on several GPUs.
"""

from pathlib import Path

from bench.job import job
from bench.train_run import train_run

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    report = train_run(
        sm.params.settings,
        Path(sm.input.latents[0]).parent,
        sm.params.work,
        sm.output.run,
        keep="results",
        start=getattr(sm.input, "start", None),
    )
    print(report)
