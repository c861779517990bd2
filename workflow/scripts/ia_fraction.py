"""Adapter of the `ia_fraction` rule: alignment against the I-A fraction (the paper's Figure 11)."""

import json
from pathlib import Path

from bench.ablations import IA_COLUMNS, plot_lines, pooled_row
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    rows, cells = [], []
    for percent in sorted(sm.params.runs, key=int):
        fit = json.loads((Path(sm.params.fits[percent]) / "fit.json").read_text())
        row, cell = pooled_row(sm.params.runs[percent], IA_COLUMNS, sm.params.resamples)
        pairs = str(fit["pairs"].get("image-audio", 0))
        rows.append({"I-A pairs (%)": str(percent), "I-A pairs": pairs, **row})
        cells.append(cell)
    write_csv(sm.output.table, rows)
    series = {
        name: tuple([c[name][k] for c in cells] for k in ("value", "low", "high"))
        for name in ("I->A AIS", "A->I AIS")
    }
    x = [int(r["I-A pairs (%)"]) for r in rows]
    plot_lines(
        sm.output.figure,
        x,
        series,
        "image-audio pairs kept (%)",
        "AIS",
        "Image-audio alignment against the I-A fraction",
        log_x=True,
    )
