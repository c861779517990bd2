"""The demo job end to end, and the Snakemake workflow's wiring."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from flowbind.demo import TASKS, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_trains_and_scores_every_task(tmp_path, capsys):
    main(["--out", str(tmp_path), "--steps", "200", "--no-progress"])
    with (tmp_path / "translation.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(len(targets) for _, targets in TASKS)
    chance = 1 / 500
    for row in rows:
        assert 0.3 < float(row["r2"]) <= 1.0, row
        assert float(row["top1"]) > 10 * chance, row
    assert (tmp_path / "model" / "model.safetensors").is_file()
    assert "T+A->I" in capsys.readouterr().out


def test_snakemake_finds_the_default_profile_and_plans_the_toy_run():
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "toy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "profiles/default" in result.stdout + result.stderr
    assert "rule toy" in result.stdout + result.stderr
