"""Adapter of the `table4` rule: text anchoring vs FlowBind without image-audio pairs."""

from bench.ablations import TABLE4, pooled_row
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    rows = []
    for label, runs in (
        ("Text-anchoring", sm.input.text_anchor),
        ("FlowBind without I-A pairs", sm.input.without_ia),
        ("FlowBind (all pairs)", sm.input.flowbind),
    ):
        row, _ = pooled_row(runs, TABLE4, sm.params.resamples)
        rows.append({"Method": label, **row})
    write_csv(sm.output[0], rows)
