"""After a killed workflow: the one command that recovers, printed before Snakemake's own error.

A Snakemake process killed with SIGKILL (or by a lost machine) leaves its lock in
``.snakemake/locks/``; the next run stops with a LockException and, once unlocked, finds the
killed jobs' outputs incomplete. The default profile sets ``rerun-incomplete``, so after
``snakemake --unlock`` the same command reruns those jobs, and trainings resume from their
checkpoints (bench.train_run). When a lock is left and no Snakemake process is running in the
folder, the Snakefile prints that command first.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path


def running_snakemakes(workdir: Path) -> list[int] | None:
    """Process ids of the other Snakemake processes working in ``workdir`` (None: unknown)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    here = os.path.realpath(workdir)
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if any(b"snakemake" in part for part in cmdline) and cwd == here:
            found.append(int(entry.name))
    return found


def stale_lock_message(workdir: str | Path, argv: Sequence[str]) -> str | None:
    """What to run after an interrupted workflow, or None when nothing was left locked."""
    workdir = Path(workdir)
    locks = list((workdir / ".snakemake" / "locks").glob("*.lock"))
    # Not for `--unlock` itself, nor for the job processes a cluster executor starts (they
    # run while the main process holds the lock, on machines that cannot see it).
    if not locks or "--unlock" in argv or "--target-jobs" in argv:
        return None
    others = running_snakemakes(workdir)
    if others:
        return None
    command = shlex.join(["snakemake", *argv[1:]])
    unlock = shlex.join(["snakemake", "--unlock", *argv[1:]])
    certainty = (
        "No other Snakemake process is running here"
        if others is not None
        else "If no other Snakemake process is running in this folder"
    )
    return (
        f"A previous Snakemake run in {workdir.resolve()} was interrupted and left its lock "
        f"(.snakemake/locks). {certainty}, so recover with:\n\n"
        f"    {unlock} && {command}\n\n"
        "The rerun redoes the interrupted jobs; trainings resume from their newest checkpoint "
        "in results/checkpoints/."
    )
