"""profiles/slurm, without a cluster: stand-ins of SLURM's commands (tests/standins/slurm) on
PATH record every submission and run it here, and `snakemake --profile profiles/slurm` runs the
tiny config from nothing to Table 2 through snakemake-executor-plugin-slurm (data, codecs,
evaluators, latents, trainings, generation, scoring). The plugin's fixed 40 s between status
checks is shortened to a second there (tests/standins/slurm/fast_poll.py), since the stand-ins
answer at once; the whole tiny DAG, report included, runs the same way (docs/performance.md)."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_run import ROOT, snakemake

PROFILE = ROOT / "profiles" / "slurm"
STANDIN = ROOT / "tests" / "standins" / "slurm" / "standin.py"
FAST_POLL = STANDIN.with_name("fast_poll.py")
COMMANDS = ("sbatch", "sacct", "squeue", "scancel", "srun", "sshare", "sinfo")


def test_the_profile_asks_for_gpus_one_way_and_names_real_rules(tmp_path):
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["slurm-requeue"] is True
    rules = set(profile["set-resources"])
    paper = str(ROOT / "workflow" / "config" / "paper_tiny.yaml")  # the paper benchmark's rules
    listed = (
        snakemake(tmp_path, "--list-rules").stdout
        + snakemake(tmp_path, "--list-rules", "--configfile", paper).stdout
    )
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    assert rules <= names, f"entries that match no rule: {sorted(rules - names)}"
    for rule, resources in profile["set-resources"].items():
        assert "gres" not in resources, rule  # the plugin refuses gpu and gres together
        assert (resources.get("gpu") == 1) == (resources.get("slurm_partition") == "gpu"), rule
        # GPU jobs must not take turns on the default profile's one local GPU
        assert (resources.get("local_gpu") == 0) == (resources.get("gpu") == 1), rule
    assert profile["set-resources"]["train"]["runtime"] >= 24 * 60


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """A bin folder of stand-in SLURM commands first on PATH, and their state folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in COMMANDS:
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {STANDIN} {name} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    python_bin = Path(sys.executable).parent  # the inner jobs' snakemake and python
    monkeypatch.setenv("PATH", f"{bin_dir}:{python_bin}:{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_STANDIN_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    return tmp_path / "state"


@pytest.mark.slow
def test_the_slurm_profile_runs_the_tiny_config_to_table_2(tmp_path, cluster):
    work = tmp_path / "work"
    work.mkdir()
    tiny = str(ROOT / "workflow" / "config" / "tiny.yaml")
    command = [sys.executable, str(FAST_POLL), "-s", str(ROOT / "Snakefile"), "results/table2.csv"]
    command += ["--profile", str(PROFILE), "--configfile", tiny]
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert (work / "results" / "table2.csv").is_file()
    submissions = [json.loads(line) for line in (cluster / "submissions.jsonl").open()]
    by_rule: dict[str, list[dict]] = {}
    for s in submissions:
        by_rule.setdefault(s["rule"], []).append(s["options"])
    assert {"data", "codec", "train", "generate_one_to_one", "evaluate_one_to_one"} <= set(by_rule)
    expected = {  # rule -> (partition, GPUs, minutes, MB), as profiles/slurm sets them
        "train": ("gpu", "1", "2880", "64000"),
        "generate_one_to_one": ("gpu", "1", "720", "32000"),
        "evaluate_one_to_one": ("cpu", None, "480", "32000"),
        "codec": ("cpu", None, "120", "8000"),
        "data": ("cpu", None, "60", "8000"),
    }
    for rule, (partition, gpus, minutes, mb) in expected.items():
        for options in by_rule[rule]:
            got = (options["p"], options.get("gpus"), options["t"], options["mem"])
            assert got == (partition, gpus, minutes, mb), rule
    for s in submissions:
        assert s["options"]["A"] == "my_account", s["rule"]
        assert "requeue" in s["options"] and "gres" not in s["options"], s["rule"]
