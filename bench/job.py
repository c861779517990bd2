"""What every workflow script does around its work: log to a file, fix threads, time itself."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def job(log: str | Path, threads: int = 1) -> Iterator[None]:
    """Send stdout and stderr to ``log``, run torch on ``threads`` threads, log the wall time.

    A fixed thread count keeps CPU training bit-reproducible from run to run. Scripts that
    never touch torch (the tables, the report) do not import it: starting torch costs about
    2 s of CPU, more than such a job's work. ``OMP_NUM_THREADS`` covers a torch imported later.
    """
    threads = max(1, int(threads))
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    start = time.perf_counter()
    with log.open("w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        try:
            yield
        finally:
            print(f"wall time: {time.perf_counter() - start:.1f} s on {threads} thread(s)")
