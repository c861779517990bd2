"""The workflow's Snakefile run from a test, in any folder, with this interpreter (imported, not a
test module)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """``snakemake -s <repository>/Snakefile <args>`` in ``workdir``, its output captured."""
    return subprocess.run(
        [*SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True, check=False
    )
