"""CrossFlow baseline: options, budget, guidance, the training batch, routing and learning."""

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from toy_problem import make_toy_problem, r_squared

from baselines.budget import BUDGET_TOLERANCE, flowbind_parameters
from baselines.crossflow import (
    CrossFlowMethod,
    CrossFlowModel,
    CrossFlowOptions,
    flow_key,
    swap_for_guidance,
)
from bench.methods import load_method
from flowbind.config import FlowBindConfig
from flowbind.data import PairTable
from flowbind.objective import ObjectiveConfig

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
D = 8
TINY = {"latent_dim": D, "hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16}
DEFAULT = {"latent_dim": 64, "hidden_dim": 128, "depth": 2, "encoder_hidden_dim": 128}
TRAIN = {"steps": 20, "batch_size": 8, "warmup_steps": 2, "log_every": 10, "checkpoint_every": 20}
ALL_GROUPS = [("text", "image"), ("text", "audio"), ("image", "audio")]


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: one thread is fastest, and more only contend for shared cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_model(groups=ALL_GROUPS, **options) -> CrossFlowModel:
    return CrossFlowModel(FlowBindConfig(**TINY), CrossFlowOptions(**options), groups)


def scramble(model: torch.nn.Module) -> None:
    """Random weights everywhere, so that adaLN-zero blocks (identity at init) depend on t and c."""
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)


def test_options_follow_the_schema_and_bad_options_are_named():
    schema = yaml.safe_load(SCHEMA.read_text())
    props = schema["properties"]["baselines"]["properties"]["crossflow"]["properties"]
    fields = {f.name: f.default for f in dataclasses.fields(CrossFlowOptions)}
    assert fields == {name: spec["default"] for name, spec in props.items()}
    for bad, key in [({"kl_wieght": 1.0}, "kl_wieght"), ({"cfg_dropout": 1.5}, "cfg_dropout")]:
        with pytest.raises(ValueError, match=key):
            CrossFlowMethod(model=TINY, options=bad)
    with pytest.raises(ValueError, match="via"):
        CrossFlowMethod(model=TINY, options={"via": "video"})


@pytest.mark.parametrize("sizes", [TINY, DEFAULT], ids=["tiny", "default"])
def test_all_flows_together_match_flowbinds_budget_and_width_shrinks_with_more_flows(sizes):
    config = FlowBindConfig(**sizes)
    budget = flowbind_parameters(config)
    widths = []
    for k in (1, 2, 3):
        with torch.device("meta"):
            model = CrossFlowModel(config, CrossFlowOptions(), ALL_GROUPS[:k])
        assert len(model.drifts) == len(model.encoders) == 2 * k
        count = sum(p.numel() for p in model.parameters() if p.requires_grad)
        assert abs(count - budget) <= BUDGET_TOLERANCE * budget, (k, count, budget)
        widths.append(model.width)
    assert widths[0] > widths[1] > widths[2]


def test_guidance_scale_one_is_the_conditional_velocity_and_other_scales_are_not():
    model = tiny_model()
    scramble(model)
    x, t = torch.randn(6, D), torch.rand(6)
    key = flow_key("text", "image")
    v_cond = model.drifts[key](x, t, torch.zeros(6, 1))
    v_uncond = model.drifts[key](x, t, torch.ones(6, 1))
    assert (v_cond - v_uncond).abs().max() > 1e-3  # the indicator matters once trained/scrambled
    # Scale 1 is the conditional velocity itself, computed on the same rows: equal to the bit.
    assert torch.equal(model.velocity(key, x, t, guidance_scale=1.0), v_cond)
    # Other scales run the conditional and null rows as one batch of 12, whose matrix products
    # may round differently from two batches of 6: a float32 round-off tolerance, scaled by the
    # size of the terms (guidance amplifies v_c - v_u by the scale).
    guided = model.velocity(key, x, t, guidance_scale=3.0)
    expected = v_uncond + 3.0 * (v_cond - v_uncond)
    eps = torch.finfo(torch.float32).eps
    scale = 4 * max(v_cond.abs().max().item(), v_uncond.abs().max().item())
    torch.testing.assert_close(guided, expected, rtol=0, atol=64 * eps * scale)
    assert (guided - v_cond).abs().max() > 1e-3


def test_guidance_swap_flags_the_share_asked_for_and_takes_other_rows_start_points():
    x_0 = torch.arange(40.0)[:, None].expand(40, 3)  # row i holds the value i
    mixed, c = swap_for_guidance(x_0, share=0.25)
    swapped = c[:, 0] == 1
    assert c.shape == (40, 1) and swapped.sum() == 10
    torch.testing.assert_close(mixed[~swapped], x_0[~swapped])
    assert (mixed[swapped, 0] != x_0[swapped, 0]).all()  # another item's start point
    everything, c_all = swap_for_guidance(x_0, share=1.0)
    assert c_all.all() and sorted(everything[:, 0].tolist()) == list(range(40))  # a permutation
    none, c_none = swap_for_guidance(x_0, share=0.0)
    assert not c_none.any() and torch.equal(none, x_0)


def test_loss_trains_both_directions_and_reaches_the_encoders_through_x0():
    model = tiny_model(groups=[("text", "image")], kl_weight=0.0)
    group = {"text": torch.randn(16, D), "image": torch.randn(16, D)}
    loss = model.loss([group], ObjectiveConfig())
    assert set(loss.terms) == {
        f"{kind}/{key}" for kind in ("fm", "kl") for key in ("text_to_image", "image_to_text")
    }
    assert loss.terms["kl/text_to_image"] == 0  # kl_weight 0: flow matching alone
    loss.total.backward()
    for encoder in model.encoders.values():
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters())
    with pytest.raises(KeyError, match="audio"):
        model.loss([{"text": group["text"], "audio": group["image"]}], ObjectiveConfig())


def test_many_to_one_averages_start_points_so_identical_sources_give_one_source():
    """With audio->image a copy of text->image, {text: z, audio: z} must equal {text: z} alone."""
    model = tiny_model()
    scramble(model)
    for part in (model.encoders, model.drifts):
        part[flow_key("audio", "image")].load_state_dict(
            part[flow_key("text", "image")].state_dict()
        )
    z = torch.randn(5, D)
    both = model.translate({"text": z, "audio": z}, ["image"], method="rk4", steps=4)["image"]
    alone = model.translate({"text": z}, ["image"], method="rk4", steps=4)["image"]
    torch.testing.assert_close(both, alone)
    other = model.translate({"text": z, "audio": torch.randn(5, D)}, ["image"])["image"]
    assert (other - model.translate({"text": z}, ["image"])["image"]).abs().max() > 1e-4


def data():
    rng = np.random.default_rng(0)
    latents = {m: rng.normal(size=(20, D)).astype(np.float32) for m in ("text", "image", "audio")}
    rows = np.arange(10)
    pairs = [
        PairTable(("text", "image"), np.stack([rows, rows], 1)),
        PairTable(("text", "audio"), np.stack([rows + 10, rows], 1)),
    ]
    return latents, pairs


def test_flows_follow_the_pair_tables_and_missing_pairs_go_through_text(tmp_path):
    latents, pairs = data()
    method = CrossFlowMethod(model=TINY, train={**TRAIN, "device": "cpu"})
    report = method.fit(latents, pairs, tmp_path, progress=False)
    assert (report.stages, report.joint, report.steps) == (1, False, 20)
    budget = flowbind_parameters(FlowBindConfig(**TINY))
    assert abs(report.parameters - budget) <= BUDGET_TOLERANCE * budget
    assert method.options["pairs"] == ["text-audio", "text-image"]
    expected = {flow_key(a, b) for g in ALL_GROUPS[:2] for a, b in itertools.permutations(g)}
    assert set(method.model.drifts) == expected

    z = {m: torch.randn(4, D) for m in ("text", "image", "audio")}
    via_text = method.translate({"image": z["image"]}, ["text"])["text"]
    torch.testing.assert_close(
        method.translate({"image": z["image"]}, ["audio"])["audio"],
        method.translate({"text": via_text}, ["audio"])["audio"],
    )
    one_to_many = method.translate({"text": z["text"]}, ["image", "audio"])
    for target in ("image", "audio"):
        alone = method.translate({"text": z["text"]}, [target])[target]
        torch.testing.assert_close(one_to_many[target], alone)
    again = load_method(tmp_path)
    assert again.options == method.options and set(again.model.drifts) == expected
    torch.testing.assert_close(
        again.translate({"image": z["image"], "text": z["text"]}, ["audio"])["audio"],
        method.translate({"image": z["image"], "text": z["text"]}, ["audio"])["audio"],
    )

    only_ti = CrossFlowMethod(model=TINY, options={"pairs": ["text-image"]})
    only_ti.model = only_ti.make_model(only_ti.model_config)
    message = "no text->audio flow and no modality with a flow from text and one into audio"
    with pytest.raises(ValueError, match=message):
        only_ti.translate({"text": z["text"]}, ["audio"])
    assert message in only_ti.why_not(["text"], ["audio"])
    assert only_ti.why_not(["image"], ["text"]) is None


def test_a_pair_the_via_modality_cannot_reach_goes_through_another():
    """Text and a point cloud are never paired; image is paired with both, so text -> points
    goes text -> image -> points although `via` is text."""
    four = {**TINY, "modalities": ["text", "image", "audio", "points"]}
    method = CrossFlowMethod(model=four, options={"pairs": ["text-image", "image-points"]})
    method.model = method.make_model(method.model_config)
    assert method.model.route("text", "points") == ["text", "image", "points"]
    assert method.model.route("points", "text") == ["points", "image", "text"]
    assert method.model.route("image", "points") == ["image", "points"]
    assert method.why_not(["text", "image"], ["points"]) is None
    assert "no audio->points flow" in method.why_not(["audio"], ["points"])


@pytest.mark.slow
def test_trained_crossflow_beats_its_untrained_copy_on_held_out_triplets(tmp_path):
    """Held-out R^2 of all six one-to-one translations, trained vs the same seed untrained.

    The untrained copy gets the same z-scoring, so the gap is the flows' doing alone.
    """
    problem = make_toy_problem(dim=D, pairs_per_group=500, n_test=200, seed=1)
    sizes = {"latent_dim": D, "hidden_dim": 48, "depth": 1, "encoder_hidden_dim": 48}
    train = {"steps": 300, "batch_size": 64, "lr": 2e-3, "warmup_steps": 20, "device": "cpu"}
    method = CrossFlowMethod(model=sizes, train={**train, "checkpoint_every": 300})
    method.fit(problem.latents, problem.pairs, tmp_path, progress=False)
    untrained = CrossFlowMethod(model=sizes, train=train)
    untrained.model = untrained.build()
    untrained.model.normalizer.fit(problem.latents)

    def mean_r2(m: CrossFlowMethod) -> float:
        scores = []
        for source, target in itertools.permutations(("text", "image", "audio"), 2):
            z = torch.from_numpy(problem.test[source])
            out = m.translate({source: z}, [target], method="euler", steps=10)[target]
            scores.append(r_squared(out.numpy(), problem.test[target]))
        return float(np.mean(scores))

    trained_r2, untrained_r2 = mean_r2(method), mean_r2(untrained)
    # measured: 0.70 trained vs -0.05 untrained
    assert trained_r2 > 0.5 and trained_r2 > untrained_r2 + 0.4, (trained_r2, untrained_r2)
