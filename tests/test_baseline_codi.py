"""The CoDi-style baseline: its two stages, its data, its generation and its budget."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from safetensors.torch import load_file
from tiny_pairs import tiny_pairs
from torch import nn
from toy_problem import make_toy_problem, retrieval_top1

from baselines.budget import BUDGET_TOLERANCE, flowbind_parameters
from baselines.codi import NOISE_SEED, CoDiMethod, CoDiModel, CoDiOptions, contrastive_loss
from flowbind.config import FlowBindConfig
from flowbind.objective import ObjectiveConfig

D = 8
MODEL = {"latent_dim": D, "hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16}
TRAIN = {
    "steps": 20,
    "batch_size": 8,
    "warmup_steps": 2,
    "log_every": 2,
    "checkpoint_every": 20,
    "device": "cpu",
}
SCHEMA = Path(__file__).parents[1] / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A tiny CoDi fitted on all three pair tables, with the groups its loss saw, per stage."""
    out = tmp_path_factory.mktemp("codi")
    seen: list[tuple[int, list[frozenset[str]]]] = []
    original = CoDiModel.loss

    def recording_loss(self, groups, objective):
        seen.append((self.stage, [frozenset(g) for g in groups]))
        return original(self, groups, objective)

    latents, pairs = tiny_pairs(D)
    method = CoDiMethod(model=MODEL, train=TRAIN)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CoDiModel, "loss", recording_loss)
        report = method.fit(latents, pairs, out, progress=False)
    return method, report, out, seen


def test_options_match_the_workflow_schema():
    schema = yaml.safe_load(SCHEMA.read_text())
    props = schema["properties"]["baselines"]["properties"]["codi"]["properties"]
    assert {k: v["default"] for k, v in props.items()} == CoDiOptions().__dict__


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"guidance": 2.0}, "unknown"),
        ({"stage1_fraction": 1.0}, "stage1_fraction"),
        ({"temperature": 0.0}, "temperature"),
        ({"cond_dropout": 1.5}, "cond_dropout"),
    ],
)
def test_bad_options_are_refused_by_name(options, match):
    with pytest.raises(ValueError, match=match):
        CoDiMethod(model=MODEL, train=TRAIN, options=options)


def test_stage_steps_split_the_budget_and_give_each_stage_a_step():
    assert CoDiOptions().stage_steps(20) == (4, 16)
    assert CoDiOptions(stage1_fraction=0.01).stage_steps(10) == (1, 9)
    assert CoDiOptions(stage1_fraction=0.99).stage_steps(10) == (9, 1)
    with pytest.raises(ValueError, match="two-stage recipe needs train.steps >= 2"):
        CoDiOptions().stage_steps(1)


@pytest.mark.parametrize(
    "sizes",
    [MODEL, {"latent_dim": 64, "hidden_dim": 128, "depth": 2, "encoder_hidden_dim": 128}, {}],
    ids=["tiny", "default", "paper"],
)
def test_parameters_are_within_ten_percent_of_flowbind(sizes):
    budget = flowbind_parameters(FlowBindConfig(**sizes))
    count = CoDiMethod(model=sizes).num_parameters()
    assert abs(count - budget) <= BUDGET_TOLERANCE * budget, (count, budget)


def test_contrastive_loss_matches_an_explicit_computation():
    a, b, tau = torch.randn(5, D), torch.randn(5, D), 0.3
    cos = torch.tensor(
        [[F.cosine_similarity(a[i], b[j], dim=0).item() for j in range(5)] for i in range(5)]
    )
    rows = [-torch.log_softmax(cos[i] / tau, 0)[i] for i in range(5)]
    cols = [-torch.log_softmax(cos[:, j] / tau, 0)[j] for j in range(5)]
    expected = (torch.stack(rows).mean() + torch.stack(cols).mean()) / 2
    torch.testing.assert_close(contrastive_loss(a, b, tau), expected, rtol=1e-5, atol=1e-6)
    # identical rows cannot be told apart (log N); orthogonal matched rows are found (-> 0)
    same = torch.ones(5, D)
    torch.testing.assert_close(contrastive_loss(same, same, tau), torch.tensor(math.log(5)))
    eye = torch.eye(5, D)
    assert contrastive_loss(eye, 3 * eye, 0.01).item() < 1e-6


def test_no_image_audio_group_reaches_training_in_either_stage(fitted):
    method, report, out, seen = fitted
    text_pairs = {frozenset({"text", "image"}), frozenset({"text", "audio"})}
    assert [stage for stage, _ in seen] == [1] * 4 + [2] * 16
    for _, groups in seen:
        assert set(groups) == text_pairs and len(groups) == 2
    assert report.pairs == {"text-image": 10, "text-audio": 10}
    assert (report.stages, report.joint, report.steps) == (2, False, 20)
    with pytest.raises(ValueError, match="text pairs only"):
        method.model.loss([{"image": torch.randn(3, D), "audio": torch.randn(3, D)}], None)


def test_each_stage_trains_only_its_own_networks(fitted):
    method, _, out, _ = fitted
    init = CoDiMethod(model=MODEL, train=TRAIN).build().state_dict()  # the same seeded init
    stage1 = load_file(str(out / "stage1" / "model" / "model.safetensors"))
    final = load_file(str(out / "model" / "model.safetensors"))
    for name in init:
        if name.startswith("prompt_encoders."):
            assert not torch.equal(stage1[name], init[name]), f"stage 1 left {name} untrained"
            assert torch.equal(final[name], stage1[name]), f"stage 2 changed frozen {name}"
        elif name.startswith(("drifts.", "null_embeddings.")):
            assert torch.equal(stage1[name], init[name]), f"stage 1 changed {name}"
    changed = [n for n in init if n.startswith("drifts.") and not torch.equal(final[n], stage1[n])]
    assert changed, "stage 2 left the flows untrained"
    for stage, steps in (("stage1", 4), ("stage2", 16)):
        assert (out / stage / "loss.csv").read_text().splitlines()[-1].startswith(f"{steps},")


class ConditionAsVelocity(nn.Module):
    """v(x_t, t, c) = c: the flow's closed form is x_1 = x_0 + c. Counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x_t, t, c):
        self.calls += 1
        return c.expand_as(x_t)


def random_model() -> CoDiModel:
    """A CoDi with random weights everywhere (adaLN-zero would otherwise ignore c) and stats."""
    model = CoDiModel(FlowBindConfig(**MODEL))
    for p in model.parameters():
        p.data.normal_(0.0, 0.2)
    for buffer in model.normalizer.buffers():
        buffer.copy_(torch.rand(D) + 0.5)
    return model


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_generation_is_the_guided_flow_from_seeded_noise_in_closed_form(guidance):
    """x_1 = x_0 + v_u + g (v_c - v_u) for constant velocities, c the mean aligned embedding."""
    model = random_model()
    stub = model.drifts["image"] = ConditionAsVelocity()
    z_text, z_audio = torch.randn(6, D), torch.randn(6, D)
    out = model.translate({"text": z_text, "audio": z_audio}, ["image"], guidance, steps=5)

    def unit(u):
        return u / u.norm(dim=1, keepdim=True) * math.sqrt(D)

    mean, std = model.normalizer.stats("text")
    c_text = unit((z_text - mean) / std)
    mean, std = model.normalizer.stats("audio")
    c_audio = unit(model.prompt_encoders["audio"]((z_audio - mean) / std)).detach()
    c = (c_text + c_audio) / 2
    null = model.null_embeddings["image"].detach()
    seed = NOISE_SEED + model.modalities.index("image")
    x_0 = torch.randn(6, D, generator=torch.Generator().manual_seed(seed))
    mean, std = model.normalizer.stats("image")
    expected = (x_0 + null + guidance * (c - null)) * std + mean
    torch.testing.assert_close(out["image"], expected, rtol=1e-5, atol=1e-5)
    assert stub.calls == (5 if guidance == 1.0 else 10)  # the unconditional pass only if needed


def test_image_to_audio_goes_through_the_text_aligned_space():
    """Audio from an image equals audio from a text whose embedding is the image's aligned one."""
    model = random_model()
    z_image = torch.randn(6, D)
    with torch.no_grad():
        aligned = model.embed("image", model.normalizer.normalize("image", z_image))
        text = model.normalizer.denormalize("text", aligned)  # its embedding is ``aligned``
    from_image = model.translate({"image": z_image}, ["audio"])["audio"]
    from_text = model.translate({"text": text}, ["audio"])["audio"]
    torch.testing.assert_close(from_text, from_image, rtol=1e-4, atol=1e-4)  # float32 rounding
    other = model.translate({"image": torch.randn(6, D)}, ["audio"])["audio"]
    assert (other - from_image).abs().max() > 1e-2  # the condition matters
    # one-to-many decodes each target as its one-to-one call does, and reruns agree
    both = model.translate({"image": z_image}, ["text", "audio"])
    torch.testing.assert_close(both["audio"], from_image)
    torch.testing.assert_close(both["text"], model.translate({"image": z_image}, ["text"])["text"])


def test_prompt_encoders_are_frozen_in_stage_two():
    model = random_model()
    model.stage = 2
    groups = [{"text": torch.randn(4, D), "image": torch.randn(4, D)}]
    model.loss(groups, ObjectiveConfig()).total.backward()
    assert all(p.grad is None for p in model.prompt_encoders.parameters())
    assert all(p.grad is not None for p in model.drifts["image"].parameters())
    assert all(p.grad is not None for p in model.drifts["text"].parameters())
    assert all(p.grad is None for p in model.drifts["audio"].parameters())


@pytest.mark.slow
def test_trained_codi_beats_its_untrained_copy_on_held_out_translation(tmp_path):
    """Top-1 retrieval of translations among 200 held-out scenes (chance 0.005).

    Measured: trained 0.07-0.16 per task (0.11 mean), the untrained copy (same seed and latent
    statistics, no optimisation) 0.005-0.01. I->A has no training pairs: it goes through the
    text-aligned embedding and still works, as in CoDi.
    """
    torch.set_num_threads(1)
    problem = make_toy_problem(dim=D, pairs_per_group=1000, n_test=200, seed=0)
    model = {"latent_dim": D, "hidden_dim": 32, "depth": 2, "encoder_hidden_dim": 32}
    model["time_embed_dim"] = 32
    train = {"steps": 300, "batch_size": 64, "lr": 2e-3, "warmup_steps": 20, "device": "cpu"}
    trained = CoDiMethod(model=model, train=train)
    trained.fit(problem.latents, problem.pairs, tmp_path, progress=False)
    untrained = CoDiMethod(model=model, train=train)
    untrained.model = untrained.build()
    untrained.model.normalizer.fit(problem.latents)

    test = {m: torch.from_numpy(z) for m, z in problem.test.items()}
    tasks = [("text", "image"), ("image", "text"), ("text", "audio"), ("image", "audio")]

    def mean_top1(method):
        scores = [
            retrieval_top1(method.translate({s: test[s]}, [t])[t].numpy(), problem.test[t])
            for s, t in tasks
        ]
        return float(np.mean(scores))

    good, bad = mean_top1(trained), mean_top1(untrained)
    assert good > bad + 0.05, (good, bad)
    assert bad < 0.03, bad
