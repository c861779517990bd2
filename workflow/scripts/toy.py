"""Adapter of the `toy` rule: runs flowbind.demo with its output folder and log."""

import contextlib
from pathlib import Path

from flowbind.demo import main

log = Path(snakemake.log[0])  # noqa: F821 (injected by Snakemake)
log.parent.mkdir(parents=True, exist_ok=True)
with log.open("w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
    main(["--out", str(Path(snakemake.output.table).parent), "--no-progress"])  # noqa: F821
