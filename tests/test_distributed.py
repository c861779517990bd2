"""Data-parallel training (flowbind.distributed): two gloo ranks under torchrun take the steps
one process takes on the same global batch, each on its own rows, and resume exactly."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from tiny_pairs import tiny_pairs

from flowbind import distributed
from flowbind.distributed import Shard

WORKER = Path(__file__).parent / "ddp_worker.py"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]


def run(
    out: Path, steps: int, ranks: int = 1, batching: str = "proportional", path: str = "plain"
) -> Path:
    """tests/ddp_worker.py alone (ranks=1) or under torchrun with ``ranks`` gloo processes;
    ``path``: "plain" or "fast" (TrainConfig.fast)."""
    launcher = [sys.executable] if ranks == 1 else [*TORCHRUN, str(ranks)]
    result = subprocess.run(
        [*launcher, str(WORKER), str(out), str(steps), batching, path],
        capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, failure(result.stderr)
    return out


def failure(stderr: str) -> str:
    """A failed torchrun's stderr, the first failing rank's traceback first: the launcher's
    own report, which comes last, names only the rank, and a peer's "connection closed" would
    otherwise hide the cause."""
    ranks = [line for line in stderr.splitlines() if line.startswith("[rank")]
    return "\n".join(ranks)[:3000] + "\n...\n" + stderr[-1500:]


def weights(out: Path) -> dict[str, np.ndarray]:
    return load_file(out / "model" / "model.safetensors")


def losses(out: Path) -> np.ndarray:
    with (out / "loss.csv").open() as f:
        return np.array([[float(v) for v in row.values()] for row in csv.DictReader(f)])


def test_shards_split_every_group_into_contiguous_rows_of_near_equal_size():
    for n in (0, 1, 7, 64):
        parts = [Shard(r, 3).rows(n) for r in range(3)]
        sizes = [p.stop - p.start for p in parts]
        assert parts[0].start == 0 and parts[-1].stop == n and max(sizes) - min(sizes) <= 1
        assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    with pytest.raises(ValueError, match="rank must be in"):
        Shard(2, 2)


@pytest.mark.parametrize("path", ["plain", "fast"])
def test_two_gloo_ranks_take_the_steps_of_one_process_each_on_its_own_rows(tmp_path, path):
    one = run(tmp_path / "one", steps=8, path=path)
    two = run(tmp_path / "two", steps=8, ranks=2, path=path)
    a, b = weights(one), weights(two)
    assert set(a) == set(b)
    for name in a:  # float tolerance: the ranks' sums are added in another order
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(losses(one), losses(two), rtol=1e-5)
    alone = json.loads((one / "rows.0.json").read_text())
    rank0, rank1 = (json.loads((two / f"rows.{r}.json").read_text()) for r in (0, 1))
    assert len(alone) == len(rank0) == len(rank1) == 8  # one text-drift call per step
    for step, (rows, r0, r1) in enumerate(zip(alone, rank0, rank1, strict=True)):
        # each rank its own part (pairs are drawn with replacement, so a row may recur)
        assert r0 and r1 and sorted(r0) != sorted(r1), f"step {step + 1}: the same rows"
        # together they are the rows one process drew (to float tolerance past step 1)
        np.testing.assert_allclose(sorted(r0 + r1), sorted(rows), atol=1e-4, err_msg=str(step))
    # rank 0 alone writes: one loss log, the checkpoints and the model
    kept = sorted(p.name for p in (two / "checkpoints").iterdir())
    assert kept == ["step_00000004", "step_00000008"]


def test_a_data_parallel_run_resumes_exactly(tmp_path):
    whole = run(tmp_path / "whole", steps=8, ranks=2)
    run(tmp_path / "split", steps=4, ranks=2)  # stopped after its step-4 checkpoint
    split = run(tmp_path / "split", steps=8, ranks=2)  # resumed by both ranks
    a, b = weights(whole), weights(split)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    np.testing.assert_array_equal(losses(whole), losses(split))


def test_a_model_whose_loss_takes_no_shard_is_refused_before_training(tmp_path, monkeypatch):
    from baselines.omniflow import OmniFlowMethod
    from flowbind import TrainConfig, train

    monkeypatch.setattr(distributed, "setup", lambda device_type: Shard(0, 2))
    latents, pairs = tiny_pairs(dim=8)
    model = OmniFlowMethod(model={"latent_dim": 8, "hidden_dim": 16, "depth": 1}).build()
    with pytest.raises(ValueError, match="does not support data-parallel training"):
        train(model, latents, pairs, TrainConfig(steps=2, device="cpu"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_torchrun_launches_a_workflow_training_run_that_rank_0_publishes(tmp_path):
    from flowbind.files import write_npz

    rng = np.random.default_rng(0)
    latents = tmp_path / "results" / "latents"
    latents.mkdir(parents=True)
    for split, modalities in (("ti", "text image"), ("ta", "text audio"), ("ia", "image audio")):
        arrays = {m: rng.standard_normal((12, 16), dtype=np.float32) for m in modalities.split()}
        ids = np.array([f"{split}{i}" for i in range(12)])
        write_npz(latents / f"train_{split}.npz", {"ids": ids, **arrays})
    override = tmp_path / "short.yaml"
    override.write_text("latent_dim: 16\ntrain: {steps: 4, log_every: 2, checkpoint_every: 2}\n")
    tiny = Path(__file__).parents[1] / "workflow" / "config" / "tiny.yaml"
    command = [*TORCHRUN, "2", "-m", "bench.train_run", "--configfile", str(tiny), str(override)]
    result = subprocess.run(
        [*command, "--method", "flowbind", "--results", str(tmp_path / "results")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, failure(result.stderr)
    run = tmp_path / "results" / "train" / "flowbind" / "main" / "seed0"
    assert (run / "model" / "model.safetensors").is_file() and (run / "fit.json").is_file()
    assert json.loads((run / "fit.json").read_text())["steps"] == 4
    assert not (tmp_path / "results" / "checkpoints").exists()  # published, work folder gone


def test_only_rank_0_writes_a_methods_files(tmp_path, monkeypatch):
    """Another rank writing method.json after rank 0 published the run raced the folder's move."""
    from flowbind.method import FlowBindMethod

    method = FlowBindMethod(model={"latent_dim": 8, "hidden_dim": 8, "depth": 1}, train={})
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert not distributed.writes_files()
    method.write_meta(tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("RANK", "0")
    method.write_meta(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["method.json"]
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "1")  # no launcher: the only process writes
    assert distributed.writes_files()
