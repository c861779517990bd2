"""Adapter of the `train` rule: fit one method on the training pairs and write fit.json."""

from pathlib import Path

from bench.job import job
from bench.latents import training_data
from bench.methods import build_method
from flowbind.files import write_json

sm = snakemake  # noqa: F821 (injected by Snakemake)
s = sm.params.settings
out = Path(sm.output.run)
with job(sm.log[0], sm.threads):
    latents, pairs = training_data(Path(sm.input.latents[0]).parent, s["ia_fraction"])
    method = build_method(
        s["method"],
        model=s["model"],
        train=s["train"],
        objective=s["objective"],
        options=s["options"],
    )
    report = method.fit(latents, pairs, out, progress=False)
    write_json(out / "fit.json", {**report.to_dict(), "ia_fraction": s["ia_fraction"]})
    print(report)
