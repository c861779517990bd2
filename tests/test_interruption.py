"""A killed workflow: the next run names the command that recovers, and trainings resume."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from workflow_run import ROOT, SNAKEMAKE

from bench.recovery import stale_lock_message
from bench.train_run import prepare_work, publish

TINY = ROOT / "workflow" / "config" / "tiny.yaml"
RUN = "results/train/flowbind/main/seed0"
WORK = "results/checkpoints/train/flowbind/main/seed0"
# Long enough (about 10 s on a 2-core machine) that the kill lands while the training runs.
LONGER = ["--config", "train={steps: 600, checkpoint_every: 100}"]


def command(*extra: str) -> list[str]:
    return [*SNAKEMAKE, "--cores", "1", RUN, "--configfile", str(TINY), *extra]


def loss_steps(run: Path) -> list[int]:
    with (run / "loss.csv").open(newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def kill_during_training(workdir: Path) -> int:
    """Start the training, SIGKILL Snakemake's process group once a checkpoint past step 100
    exists; returns the newest checkpoint's step at the kill."""
    proc = subprocess.Popen(
        command(*LONGER), cwd=workdir, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    checkpoints = workdir / WORK / "checkpoints"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            done = sorted(checkpoints.glob("step_*/state.json"))
            if len(done) >= 1 and int(done[-1].parent.name.split("_")[1]) >= 200:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return int(sorted(checkpoints.glob("step_*/state.json"))[-1].parent.name[5:])
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    pytest.fail("the training finished or never checkpointed before the kill")


def test_a_killed_training_resumes_and_ends_bit_identical(tiny_run, tmp_path):
    workdir = tmp_path / "run"
    # The tiny run's data, codecs and latents, with Snakemake's records of them (mtimes kept).
    shutil.copytree(tiny_run, workdir, symlinks=True)
    at_kill = kill_during_training(workdir)
    assert 200 <= at_kill < 600
    assert not (workdir / RUN / "model").exists(), "the output appeared before training ended"

    # The next run's first message is the one command that recovers.
    again = subprocess.run(command(*LONGER), cwd=workdir, capture_output=True, text=True)
    assert again.returncode != 0
    first = again.stderr.find("recover with:")
    assert first != -1, again.stderr[-3000:]
    assert "LockException" not in again.stderr[:first]
    recovery = again.stderr[first:].split("\n\n")[1].strip()
    assert recovery.startswith("snakemake --unlock -s ")

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    recovered = subprocess.run(
        recovery, shell=True, cwd=workdir, env=env, capture_output=True, text=True
    )
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    log = (workdir / "results/logs/train/flowbind/main/seed0.log").read_text()
    assert "resuming the interrupted run" in log
    assert loss_steps(workdir / RUN) == list(range(10, 601, 10)), "repeated or missing steps"
    assert not (workdir / WORK).exists(), "the finished run's checkpoints were left behind"
    resumed = (workdir / RUN / "model" / "model.safetensors").read_bytes()

    fresh = subprocess.run(
        command(*LONGER, "--forcerun", "train"), cwd=workdir, capture_output=True, text=True
    )
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    log = (workdir / "results/logs/train/flowbind/main/seed0.log").read_text()
    assert "resuming" not in log
    assert (workdir / RUN / "model" / "model.safetensors").read_bytes() == resumed


def test_no_recovery_message_while_another_snakemake_runs_here(tmp_path):
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    (tmp_path / ".snakemake" / "locks" / "0.output.lock").write_text("results/x\n")
    message = stale_lock_message(tmp_path, ["snakemake", "results/table2.csv"])
    assert "snakemake --unlock results/table2.csv && snakemake results/table2.csv" in message
    assert stale_lock_message(tmp_path, ["snakemake", "--unlock"]) is None
    # A process whose command line names snakemake, working in the same folder.
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "snakemake"], cwd=tmp_path
    )
    try:
        time.sleep(0.2)
        assert stale_lock_message(tmp_path, ["snakemake", "results/table2.csv"]) is None
    finally:
        other.kill()
        other.wait()
    shutil.rmtree(tmp_path / ".snakemake" / "locks")
    (tmp_path / ".snakemake" / "locks").mkdir()
    assert stale_lock_message(tmp_path, ["snakemake"]) is None


def test_a_work_folder_of_other_settings_or_latents_is_discarded(tmp_path):
    latents = tmp_path / "train_ti.npz"
    latents.write_bytes(b"first")
    work = tmp_path / "work"
    assert prepare_work(work, {"lr": 0.1}, [latents]).startswith("starting")
    (work / "checkpoints" / "step_00000010").mkdir(parents=True)
    (work / "checkpoints" / "step_00000010" / "state.json").write_text("{}")
    assert prepare_work(work, {"lr": 0.1}, [latents]).startswith("resuming")
    assert "discarded" in prepare_work(work, {"lr": 0.2}, [latents])
    assert not (work / "checkpoints").exists()
    (work / "checkpoints" / "step_00000010").mkdir(parents=True)
    (work / "checkpoints" / "step_00000010" / "state.json").write_text("{}")
    latents.write_bytes(b"changed")
    assert "discarded" in prepare_work(work, {"lr": 0.2}, [latents])

    (work / "model").mkdir()
    (work / "model" / "config.json").write_text("{}")
    publish(work, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model"]
    assert not work.exists()


def test_publishing_removes_the_empty_folders_above_the_work_folder(tmp_path):
    work = tmp_path / "results" / "checkpoints" / "train" / "flowbind" / "main" / "seed0"
    (work / "model").mkdir(parents=True)
    (tmp_path / "results" / "checkpoints" / "train" / "codi").mkdir()
    publish(work, tmp_path / "results" / "train" / "flowbind" / "main" / "seed0",
            keep=tmp_path / "results")  # fmt: skip
    assert not (tmp_path / "results" / "checkpoints" / "train" / "flowbind").exists()
    assert (tmp_path / "results" / "checkpoints" / "train" / "codi").is_dir()


def test_publishing_passes_over_a_folder_a_parallel_job_already_removed(tmp_path, monkeypatch):
    import bench.train_run

    work = tmp_path / "results" / "checkpoints" / "train" / "flowbind" / "ia0" / "seed0"
    (work / "model").mkdir(parents=True)
    rmtree = shutil.rmtree

    def rmtree_then_a_sibling_job_cleans_up(path, *args, **kwargs):
        rmtree(path, *args, **kwargs)
        if Path(path) == work:  # the sibling job removes ia0 and flowbind first
            work.parent.rmdir()
            work.parent.parent.rmdir()

    monkeypatch.setattr(bench.train_run.shutil, "rmtree", rmtree_then_a_sibling_job_cleans_up)
    publish(work, tmp_path / "results" / "train" / "flowbind" / "ia0" / "seed0",
            keep=tmp_path / "results")  # fmt: skip
    assert (tmp_path / "results" / "train" / "flowbind" / "ia0" / "seed0" / "model").is_dir()
    assert not (tmp_path / "results" / "checkpoints").exists()
