"""Adapter of the `report` rule: results/report.html, one self-contained page."""

from pathlib import Path

from bench.job import job
from bench.report import ReportFiles, build_report, write_report
from bench.report_provenance import collect

sm = snakemake  # noqa: F821 (injected by Snakemake)
basedir = Path(sm.scriptdir).parents[1]  # the workflow's base dir: its git commit is the code's
with job(sm.log[0]):
    files = ReportFiles(
        results=Path(sm.output.html).parent,
        data=Path(sm.input.data[0]).parent,
        paper=Path(sm.input.paper[0]).parent,
        seed=sm.params.config["seeds"][0],
        losses=dict(zip(sm.params.trained, map(Path, sm.input.losses), strict=True)),
        figures={
            "ia_fraction": Path(sm.input.ia_fraction),
            "anchor_variance": Path(sm.input.anchor_variance),
            "solver": Path(sm.input.solver),
            "anchors": Path(sm.input.anchors),
            "interpolation": Path(sm.input.interpolation),
            "anchor_map": Path(sm.input.anchor_map),
            "anchor_purity": Path(sm.input.purity_figure),
            **{
                name: Path(path)
                for name, path in zip(sm.params.curve_figures, sm.input.curves, strict=True)
            },
            **{name: Path(path) for name, path in sm.params.point_figures.items()},
        },
    )
    provenance = collect(sm.params.config, basedir, sm.params.logs)
    html = build_report(provenance, files, sm.params.methods)
    path = write_report(sm.output.html, html)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
