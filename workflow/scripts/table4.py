"""Adapter of the `table4` rule: text anchoring vs FlowBind without image-audio pairs."""

from bench.ablations import table4_rows
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    settings = [
        ("Text-anchoring", sm.input.text_anchor),
        ("FlowBind without I-A pairs", sm.input.without_ia),
        ("FlowBind (all pairs)", sm.input.flowbind),
    ]
    write_csv(sm.output[0], table4_rows(settings, sm.params.resamples))
