"""What was run and where: config digest, git commit, versions, device, wall time per stage.

The config digest is the sha256 of the validated config as canonical JSON (sorted keys, no
whitespace), so two runs with the same digest ran the same experiment whatever the YAML looked
like. Wall times are the ``wall time: X s`` lines every job writes at the end of its log
(bench.job), summed per stage: results/logs/<stage>/... or results/logs/<stage>_*.log.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

WALL_TIME = re.compile(r"^wall time: ([0-9.]+) s", re.MULTILINE)
# The workflow's stages in the order they run; others follow alphabetically.
STAGE_ORDER = (
    "data",
    "codec",
    "evaluator",
    "quality",
    "encode",
    "tiny_inputs",
    "text_decoder",
    "audio_autoencoder",
    "extract",
    "reference",
    "train",
    "generate",
    "evaluate",
    "tables",
    "ablations",
    "report",
)
PACKAGES = ("torch", "numpy", "snakemake")


def config_digest(config: Mapping[str, Any]) -> str:
    """sha256 (hex) of the config as canonical JSON."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit(folder: str | Path) -> str:
    """``git rev-parse HEAD`` in ``folder``; "unknown" without git or outside a repository."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else "unknown"


def versions() -> dict[str, str]:
    """Python and package versions, read from the installed metadata (nothing imported)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def device() -> str:
    """The machine the report was built on: its CUDA device, else the CPU and its cores."""
    import os

    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    return f"CPU {cpu}, {os.cpu_count()} cores"


def stage_of(log: Path, logs: Path) -> str:
    parts = log.relative_to(logs).parts
    if len(parts) > 1:
        return parts[0]
    # one-job stages are named by their log (the paper's text_decoder.log); the embedded
    # codec_<modality>.log and evaluator_<name>.log by their prefix
    return log.stem if log.stem in STAGE_ORDER else log.stem.split("_", 1)[0]


def stage_wall_times(logs: str | Path) -> dict[str, tuple[float, int]]:
    """stage -> (summed wall time in seconds, jobs), over every finished job's log."""
    logs = Path(logs)
    totals: dict[str, tuple[float, int]] = {}
    for log in sorted(logs.rglob("*.log")):
        found = WALL_TIME.findall(log.read_text(errors="replace"))
        if not found:  # still running (the report's own log) or failed
            continue
        stage = stage_of(log, logs)
        seconds, jobs = totals.get(stage, (0.0, 0))
        totals[stage] = (seconds + float(found[-1]), jobs + 1)
    rank = {s: i for i, s in enumerate(STAGE_ORDER)}
    return dict(sorted(totals.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


@dataclass
class Provenance:
    """The report's header: what was run, with which code, where and for how long."""

    benchmark: str
    size: str
    digest: str
    seeds: list[int]
    methods: list[str]
    commit: str
    versions: dict[str, str]
    device: str
    date: str
    wall_times: dict[str, tuple[float, int]] = field(default_factory=dict)
    stand_ins: bool = False  # tiny random weights and noise data (the paper_tiny config)

    @property
    def total_seconds(self) -> float:
        return sum(seconds for seconds, _ in self.wall_times.values())


def collect(config: Mapping[str, Any], basedir: str | Path, logs: str | Path) -> Provenance:
    """The provenance of a run from its validated config, the workflow's folder and its logs."""
    now = datetime.datetime.now(datetime.UTC)
    paper = config.get("benchmark") == "paper"
    return Provenance(
        benchmark=str(config.get("benchmark", "")),
        size="paper" if paper else str(config.get("size", "")),
        digest=config_digest(config),
        seeds=list(config.get("seeds", [])),
        methods=list(config.get("methods", [])),
        commit=git_commit(basedir),
        versions=versions(),
        device=device(),
        date=now.strftime("%Y-%m-%d %H:%M UTC"),
        wall_times=stage_wall_times(logs),
        stand_ins=paper and config.get("paper", {}).get("weights") == "tiny",
    )
