"""Adapter of the `train` rule: fit one method on the training pairs and write fit.json.

The run trains in its work folder (results/checkpoints/train/...) and resumes there after an
interruption; the finished run is copied to the rule's output (bench.train_run).
"""

from pathlib import Path

from bench.job import job
from bench.latents import training_data
from bench.methods import build_method
from bench.train_run import prepare_work, publish
from flowbind.files import write_json

sm = snakemake  # noqa: F821 (injected by Snakemake)
s = sm.params.settings
work = Path(sm.params.work)
latent_dir = Path(sm.input.latents[0]).parent
with job(sm.log[0], sm.threads):
    latents, pairs = training_data(latent_dir, s["ia_fraction"])
    print(prepare_work(work, s, sorted(latent_dir.glob("train_*.npz"))))
    method = build_method(
        s["method"],
        model=s["model"],
        train=s["train"],
        objective=s["objective"],
        options=s["options"],
    )
    report = method.fit(latents, pairs, work, progress=False)
    write_json(work / "fit.json", {**report.to_dict(), "ia_fraction": s["ia_fraction"]})
    publish(work, sm.output.run, keep="results")
    print(report)
