"""Adapter of the `claims` rule: results/claims.csv from the run's tables (bench.claims)."""

from pathlib import Path

from bench.claims import claim_rows, evaluate_claims
from bench.job import job
from bench.tables import write_csv

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job(sm.log[0]):
    claims = evaluate_claims(Path(sm.output[0]).parent)
    write_csv(sm.output[0], claim_rows(claims))
    for claim in claims:
        print(claim.sentence())
