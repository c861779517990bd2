"""The fast training path (TrainConfig.fast, compile) against the plain reference path, on the CPU.

What needs a GPU is checked by perf/gpu_checks.sh: no host synchronisation between log steps
(CUDA's sync debug mode), bf16 autocast and CUDA graphs. Everything else is checked here: the
resident sampler, the device-side NaN guard, exact resume, torch.compile, and that the fast
path's loss curve is the plain one's within seed noise.
"""

import csv

import numpy as np
import pytest
import torch
from tiny_pairs import tiny_pairs
from toy_problem import make_toy_problem

from flowbind import FlowBind, FlowBindConfig, TrainConfig, train
from flowbind.data import GroupSampler, PairTable, ResidentSampler
from flowbind.training import NonFiniteTrainingError, checkpoints
from perf.fast_path import compare

D = 8
MODEL = {"latent_dim": D, "hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16}


def small_model(**changes) -> FlowBind:
    torch.manual_seed(0)
    return FlowBind(FlowBindConfig(**{**MODEL, **changes}))


def settings(**changes) -> TrainConfig:
    base = {
        "steps": 8,
        "batch_size": 8,
        "lr": 1e-3,
        "warmup_steps": 1,
        "log_every": 2,
        "checkpoint_every": 4,
        "device": "cpu",
        "fast": True,
    }
    return TrainConfig(**{**base, **changes})


def loss_rows(path) -> list[dict[str, float]]:
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


@pytest.mark.parametrize("batching", ["per_table", "proportional"])
def test_resident_sampler_draws_real_pairs_of_the_requested_sizes(batching):
    latents, pairs = tiny_pairs(D)
    sampler = ResidentSampler(latents, pairs, 12, seed=3, batching=batching)
    plain = GroupSampler(latents, pairs, 12, seed=3, batching=batching)
    for _ in range(5):
        groups = sampler.sample()
        # the pairs per table come from the host generator, as the plain sampler's counts
        assert [len(next(iter(g.values()))) for g in groups] == [n for n in plain.counts() if n]
        for group in groups:
            table = next(t for t in pairs if set(t.modalities) == set(group))
            first, second = table.modalities
            # every drawn row pair is a row of the table: the stores were gathered together
            rows_a = [np.flatnonzero((latents[first] == r.numpy()).all(1))[0] for r in group[first]]
            rows_b = [
                np.flatnonzero((latents[second] == r.numpy()).all(1))[0] for r in group[second]
            ]
            known = {tuple(p) for p in table.index.tolist()}
            assert all((a, b) in known for a, b in zip(rows_a, rows_b, strict=True))
    assert sum(len(next(iter(g.values()))) for g in groups) == (
        12 if batching == "proportional" else 36
    )


def test_resident_sampler_state_round_trips_and_reads_memory_maps(tmp_path):
    latents, pairs = tiny_pairs(D)
    np.save(tmp_path / "text.npy", latents["text"])
    latents["text"] = np.load(tmp_path / "text.npy", mmap_mode="r")
    sampler = ResidentSampler(latents, pairs, 6, seed=0, batching="proportional")
    sampler.sample()
    state = {k: v.clone() for k, v in sampler.state().items()}
    assert set(state) == {"sampler", "sampler.device"}
    first = sampler.sample()
    sampler.load_state(state)
    again = sampler.sample()
    for a, b in zip(first, again, strict=True):
        for m in a:
            torch.testing.assert_close(a[m], b[m], rtol=0, atol=0)
    with pytest.raises(ValueError, match="latents are on cpu, not on meta"):
        sampler.sample("meta")


def test_resident_sampler_refuses_stores_too_large_for_the_device(monkeypatch):
    latents, pairs = tiny_pairs(D)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (1000, 10**9))
    with pytest.raises(ValueError, match=r"need 0\.00 GiB, more than half.*fast: false"):
        ResidentSampler(latents, pairs, 4, 0, device="cuda")


def test_fast_path_resumes_exactly(tmp_path):
    latents, pairs = tiny_pairs(D)
    whole = train(small_model(), latents, pairs, settings(), tmp_path / "a", progress=False)

    class StopError(Exception):
        pass

    def interrupt(step, values):
        if step == 6:
            raise StopError

    with pytest.raises(StopError):
        train(small_model(), latents, pairs, settings(), tmp_path / "b", callback=interrupt)
    assert [c.name for c in checkpoints(tmp_path / "b")] == ["step_00000004"]
    resumed = train(small_model(), latents, pairs, settings(), tmp_path / "b", progress=False)
    assert resumed.resumed_from == 4
    for k, v in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, rtol=0, atol=0)
    assert loss_rows(tmp_path / "a" / "loss.csv") == loss_rows(tmp_path / "b" / "loss.csv")


def test_fast_checkpoint_does_not_resume_on_the_plain_path(tmp_path):
    latents, pairs = tiny_pairs(D)
    train(small_model(), latents, pairs, settings(steps=4), tmp_path, progress=False)
    with pytest.raises(Exception, match="fast"):
        train(small_model(), latents, pairs, settings(steps=8, fast=False), tmp_path)


def test_fast_path_calls_back_at_log_steps_with_window_means(tmp_path):
    latents, pairs = tiny_pairs(D)
    seen = {}
    train(
        small_model(),
        latents,
        pairs,
        settings(log_every=4, checkpoint_every=4),
        tmp_path,
        progress=False,
        callback=lambda step, values: seen.update({step: values}),
    )
    assert sorted(seen) == [4, 8]
    logged = {int(r["step"]): r for r in loss_rows(tmp_path / "loss.csv")}
    for step, values in seen.items():
        for k, v in values.items():
            assert v == pytest.approx(logged[step][k], rel=1e-12)


def test_fast_path_skips_a_nan_step_on_the_device_and_stops_at_the_next_log_step(tmp_path):
    latents, pairs = tiny_pairs(D)
    model = small_model()
    loss, calls, weights = model.loss, [], {}

    def poisoned(groups, objective):
        calls.append(1)
        if len(calls) == 5:  # the weights the bad step meets
            weights.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        out = loss(groups, objective)
        if len(calls) == 5:
            out.total = out.total * torch.nan
        return out

    model.loss = poisoned
    config = settings(log_every=3, checkpoint_every=3, ema_decay=0.9)
    with pytest.raises(NonFiniteTrainingError) as info:
        train(model, latents, pairs, config, tmp_path, progress=False)
    message = str(info.value)
    # step 5 was bad; the fast path saw it at the log step 6, after running step 6 too
    assert "stopped at step 5" in message and "loss=nan" in message and "skipped" in message
    assert len(calls) == 6
    last = tmp_path / "checkpoints" / "step_00000003"
    assert str(last) in message and checkpoints(tmp_path) == [last]
    assert not (tmp_path / "model").exists()
    assert [int(r["step"]) for r in loss_rows(tmp_path / "loss.csv")] == [3]
    # the bad step's update was skipped: step 6 started from the weights step 5 met, moved by
    # one finite update, and nothing is NaN
    for k, v in model.state_dict().items():
        assert torch.isfinite(v).all(), k
    moved = [k for k, v in model.state_dict().items() if not torch.equal(v, weights[k])]
    assert moved  # step 6 did update


def test_nan_guard_leaves_weights_moments_and_ema_as_they_were():
    """One skipped update: the fused Adam kernel reads found_inf and changes nothing."""
    from flowbind.training import _SkipGuard, _update_ema

    model = small_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    moments = [s["exp_avg"].clone() for s in optimizer.state.values()]
    ema = {k: p.detach().clone() + 1 for k, p in model.named_parameters()}
    ema_before = {k: v.clone() for k, v in ema.items()}
    guard = _SkipGuard(optimizer, torch.device("cpu"))
    guard.check(7, torch.tensor([1.0, float("inf")]))
    for p in model.parameters():
        p.grad = torch.full_like(p, torch.nan)
    optimizer.step()
    _update_ema(ema, model, 0.9, guard.finite)
    assert guard.first_bad() == 7
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    for s, m in zip(optimizer.state.values(), moments, strict=True):
        torch.testing.assert_close(s["exp_avg"], m, rtol=0, atol=0)
    for k, v in ema.items():
        torch.testing.assert_close(v, ema_before[k], rtol=0, atol=0)
    guard.check(8, torch.tensor([1.0, 2.0]))  # a finite step updates again
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    assert guard.first_bad() == 7
    assert any(not torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_on_the_cpu_per_table_draws_the_fast_path_takes_the_plain_steps(tmp_path):
    """With one pair count per table, the only draws are the rows; on the CPU the device's
    generator is the host's kind, seeded alike, so the fast path draws the plain path's rows
    and its found_inf-guarded update is the plain one: the weights are identical."""
    latents, pairs = tiny_pairs(D)
    plain = train(small_model(), latents, pairs, settings(fast=False), tmp_path / "plain")
    fast = train(small_model(), latents, pairs, settings(), tmp_path / "fast", progress=False)
    for k, v in plain.model.state_dict().items():
        torch.testing.assert_close(fast.model.state_dict()[k], v, rtol=0, atol=0)


def curves(tmp_path, fast: bool, seeds, **changes) -> np.ndarray:
    """The total loss per log row (shape (seeds, rows)) of toy-problem runs with proportional
    batching, where the fast path's draws differ from the plain path's (counts on the host,
    rows from the device's generator), as they do on a GPU."""
    toy = make_toy_problem(dim=D, pairs_per_group=400, n_test=10)
    out = []
    for seed in seeds:
        config = settings(
            steps=200,
            batch_size=16,
            warmup_steps=20,
            log_every=20,
            checkpoint_every=200,
            batching="proportional",
            seed=seed,
            fast=fast,
            **changes,
        )
        torch.manual_seed(seed)
        model = FlowBind(FlowBindConfig(**MODEL))
        run = tmp_path / f"{fast}-{seed}-{sorted(changes)}"
        train(model, toy.latents, toy.pairs, config, run, progress=False)
        out.append([r["loss"] for r in loss_rows(run / "loss.csv")])
    return np.array(out)


def within_seed_noise(a: np.ndarray, b: np.ndarray, z: float = 4.0) -> np.ndarray:
    """Per log row: whether the seed means differ by at most z standard errors (the
    comparison python -m perf.fast_path prints)."""
    return compare(a, b, z)["within"]


@pytest.mark.slow  # twelve 200-step runs: about 1.5-3 minutes on 2 cores
def test_fast_loss_curve_matches_the_plain_one_within_seed_noise(tmp_path):
    seeds = range(4)
    plain = curves(tmp_path, False, seeds)
    fast = curves(tmp_path, True, seeds)
    assert plain.shape == fast.shape == (4, 10)
    # other random rows: other seeds of the same run, not float round-off of the same one
    assert np.abs(plain - fast).max() > 1e-3
    assert within_seed_noise(plain, fast).all(), (plain.mean(0), fast.mean(0))
    # the comparison can fail: a 4x learning rate is outside the noise on most of the curve
    other = curves(tmp_path, True, seeds, lr=4e-3)
    assert within_seed_noise(plain, other).mean() < 0.5, (plain.mean(0), other.mean(0))


@pytest.mark.slow  # inductor compiles the objective: about a minute on 2 cores
def test_compiled_objective_trains_like_the_eager_one(tmp_path):
    """torch.compile (inductor on the CPU) of the objective: same loss curve up to float error,
    and a checkpoint of a compiled run resumes eagerly (compile does not change the maths)."""
    latents, pairs = tiny_pairs(D)
    config = settings(steps=6, log_every=3, checkpoint_every=3)
    eager = train(small_model(), latents, pairs, config, tmp_path / "eager", progress=False)
    compiled_config = TrainConfig(**{**config.to_dict(), "compile": "default"})
    compiled = train(small_model(), latents, pairs, compiled_config, tmp_path / "compiled")
    a = loss_rows(tmp_path / "eager" / "loss.csv")
    b = loss_rows(tmp_path / "compiled" / "loss.csv")
    for row_a, row_b in zip(a, b, strict=True):
        for k in row_a:
            assert row_b[k] == pytest.approx(row_a[k], rel=1e-4, abs=1e-6), k
    for k, v in eager.model.state_dict().items():
        torch.testing.assert_close(compiled.model.state_dict()[k], v, rtol=1e-4, atol=1e-5)
    longer = TrainConfig(**{**config.to_dict(), "steps": 9})
    resumed = train(small_model(), latents, pairs, longer, tmp_path / "compiled", progress=False)
    assert resumed.resumed_from == 6


def test_train_config_checks_the_fast_settings():
    with pytest.raises(ValueError, match="compile must be one of"):
        TrainConfig(compile="fastest")
    with pytest.raises(ValueError, match="fast must be True or False"):
        TrainConfig(fast="yes")


def test_fast_path_trains_every_pair_layout():
    """One pair table only, and a table whose rows repeat a store row."""
    latents, _ = tiny_pairs(D)
    pairs = [PairTable(("text", "image"), np.array([[0, 0], [0, 1], [2, 2]]))]
    model = small_model()
    sampler = ResidentSampler(latents, pairs, 5, 0)
    (group,) = sampler.sample()
    assert set(group) == {"text", "image"} and group["text"].shape == (5, D)
    assert model.loss([group], settings().objective).total.isfinite()
