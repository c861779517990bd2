"""Checkpoints round-trip, resume is exact, and bad checkpoints fail with the mismatch named."""

import csv
import json

import numpy as np
import pytest
import torch
from toy_problem import make_toy_problem

from flowbind import CheckpointError, FlowBind, FlowBindConfig, PairTable, TrainConfig, train
from flowbind.data import GroupSampler

CONFIG = FlowBindConfig(
    latent_dim=4, hidden_dim=16, depth=1, encoder_hidden_dim=8, encoder_depth=1, time_embed_dim=8
)


@pytest.fixture(scope="module")
def problem():
    return make_toy_problem(dim=4, pairs_per_group=64, n_test=8, seed=1)


def run(out_dir, problem, steps=12, callback=None, latents=None, **overrides):
    torch.manual_seed(0)
    settings = dict(
        steps=steps,
        batch_size=16,
        lr=1e-3,
        warmup_steps=3,
        checkpoint_every=4,
        log_every=2,
        ema_decay=0.9,
        device="cpu",
        seed=3,
    )
    settings.update(overrides)
    return train(
        FlowBind(CONFIG),
        latents or problem.latents,
        problem.pairs,
        TrainConfig(**settings),
        out_dir,
        progress=False,
        callback=callback,
    )


def read_log(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_save_and_load_restore_an_identical_model(tmp_path):
    model = FlowBind(CONFIG)
    model.normalizer.fit({m: torch.randn(20, 4) * 3 for m in CONFIG.modalities})
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    loaded = FlowBind.load(tmp_path / "m")
    assert loaded.config == model.config
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    z = torch.randn(3, 4)
    torch.testing.assert_close(
        loaded.translate({"text": z}, ["audio"]), model.translate({"text": z}, ["audio"])
    )


@pytest.mark.parametrize("batching", ["per_table", "proportional"])
def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(tmp_path, problem, batching):
    straight = run(tmp_path / "straight", problem, batching=batching)

    def crash_at_step_10(step, values):
        if step == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "resumed", problem, callback=crash_at_step_10, batching=batching)
    assert (tmp_path / "resumed" / "checkpoints" / "step_00000008").is_dir()
    resumed = run(tmp_path / "resumed", problem, batching=batching)
    assert resumed.resumed_from == 8
    for (k, a), (_, b) in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), f"{k} differs after resume"
    assert read_log(straight.log_path) == read_log(resumed.log_path)
    assert [r["step"] for r in read_log(resumed.log_path)] == ["2", "4", "6", "8", "10", "12"]
    kept = sorted(p.name for p in (tmp_path / "resumed" / "checkpoints").iterdir())
    assert kept == ["step_00000008", "step_00000012"]  # keep_checkpoints = 2


def test_final_model_folder_loads_and_matches(tmp_path, problem):
    result = run(tmp_path / "r", problem, steps=4)
    loaded = FlowBind.load(result.model_path)
    for (k, a), (_, b) in zip(
        result.model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k


def test_memory_mapped_latents_train_like_in_memory_ones(tmp_path, problem):
    mapped = {}
    for m, z in problem.latents.items():
        np.save(tmp_path / f"{m}.npy", z)
        mapped[m] = np.load(tmp_path / f"{m}.npy", mmap_mode="r")
    a = run(tmp_path / "mem", problem, steps=4)
    b = run(tmp_path / "map", problem, steps=4, latents=mapped)
    for (k, x), (_, y) in zip(
        a.model.state_dict().items(), b.model.state_dict().items(), strict=True
    ):
        assert torch.equal(x, y), k


def test_loss_log_has_a_column_per_term(tmp_path, problem):
    result = run(tmp_path / "r", problem, steps=4)
    header = list(read_log(result.log_path)[0])
    assert header[:3] == ["step", "lr", "loss"]
    assert {"main/text", "t0/text", "main/image", "t0/image", "main/audio", "t0/audio"} <= set(
        header
    )


def test_resume_with_a_changed_recipe_names_the_field(tmp_path, problem):
    run(tmp_path / "r", problem, steps=4)
    with pytest.raises(CheckpointError, match=r"lr: 0\.001 -> 0\.01"):
        run(tmp_path / "r", problem, steps=8, lr=1e-2)


def test_fresh_run_into_a_used_folder_is_refused(tmp_path, problem):
    run(tmp_path / "r", problem, steps=4)
    with pytest.raises(CheckpointError, match="already holds checkpoints"):
        train(
            FlowBind(CONFIG),
            problem.latents,
            problem.pairs,
            TrainConfig(steps=4, checkpoint_every=4, log_every=2),
            tmp_path / "r",
            resume=False,
            progress=False,
        )


def test_checkpoint_with_mismatched_shapes_names_the_tensor(tmp_path):
    FlowBind(CONFIG).save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    meta["config"]["latent_dim"] = 5
    (tmp_path / "m" / "config.json").write_text(json.dumps(meta))
    with pytest.raises(
        CheckpointError,
        match=r"shape mismatches \[anchor_encoder.heads.audio.net.0.weight: "
        r"checkpoint \(8, 4\) vs model \(8, 5\)",
    ):
        FlowBind.load(tmp_path / "m")


def test_checkpoint_with_missing_modality_names_the_tensors(tmp_path):
    FlowBind(CONFIG).save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    meta["config"]["modalities"] = ["text", "image", "audio", "depth"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"missing tensors \[anchor_encoder\.heads\.depth\."):
        FlowBind.load(tmp_path / "m")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda d: (d / "model.safetensors").write_bytes(b"not a tensor file"),
            "not a readable safetensors",
        ),
        (lambda d: (d / "config.json").write_text("{"), "not valid JSON"),
        (lambda d: (d / "config.json").unlink(), "config.json is missing"),
        (
            lambda d: (d / "config.json").write_text('{"format": "other"}'),
            "expected 'flowbind-model'",
        ),
    ],
)
def test_damaged_checkpoints_fail_clearly(tmp_path, damage, message):
    FlowBind(CONFIG).save(tmp_path / "m")
    damage(tmp_path / "m")
    with pytest.raises(CheckpointError, match=message):
        FlowBind.load(tmp_path / "m")


def test_pair_tables_and_latents_are_validated():
    with pytest.raises(ValueError, match=r"shape \(M, 2\)"):
        PairTable(("text", "image"), np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match="is empty"):
        PairTable(("text", "image"), np.zeros((0, 2), dtype=int))
    table = PairTable(("text", "image"), np.array([[0, 0], [1, 7]]))
    latents = {"text": np.zeros((2, 4), np.float32), "image": np.zeros((5, 4), np.float32)}
    with pytest.raises(ValueError, match=r"row 7 of 'image' is out of range"):
        train(
            FlowBind(CONFIG),
            latents,
            [table],
            TrainConfig(steps=1, checkpoint_every=1, log_every=1),
            "unused",
        )


def test_proportional_batches_spread_the_pairs_by_table_size():
    latents = {m: np.zeros((700, 4), np.float32) for m in CONFIG.modalities}
    sizes = (100, 200, 400)
    modalities = (("text", "image"), ("text", "audio"), ("image", "audio"))
    pairs = [
        PairTable(mods, np.stack([np.arange(n), np.arange(n)], 1))
        for mods, n in zip(modalities, sizes, strict=True)
    ]
    sampler = GroupSampler(latents, pairs, batch_size=70, seed=0, batching="proportional")
    totals = np.zeros(3)
    for _ in range(400):
        counts = sampler.counts()
        assert sum(counts) == 70  # the batch size is the global batch, not per table
        totals += counts
    np.testing.assert_allclose(totals / totals.sum(), np.array(sizes) / 700, atol=0.01)
    assert [len(next(iter(g.values()))) for g in GroupSampler(latents, pairs, 5, 0).sample()] == [
        5
    ] * 3
    with pytest.raises(ValueError, match="batching must be one of"):
        TrainConfig(batching="mixed")
