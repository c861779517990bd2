"""Adapter of the `report_figures` rule: loss curves, FlowBind's anchors and an interpolation."""

from pathlib import Path

from bench.benchmark import open_benchmark
from bench.job import job
from bench.report_figures import flowbind_figures, plot_loss
from bench.tables import label

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0], sm.threads):
    for method, run, path in zip(sm.params.methods, sm.input.runs, sm.output.loss, strict=True):
        plot_loss(run, path, f"{label(method)} training loss")
        print(f"{method}: {path}")
    flowbind_figures(
        sm.input.flowbind,
        Path(sm.input.latents[0]).parent,
        open_benchmark(sm.config),
        sm.output.anchors,
        sm.output.interpolation,
        sm.output.anchor_map,
        sm.output.purity,
        sm.output.purity_figure,
        **sm.params.solver,
    )
