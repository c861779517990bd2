"""The OmniFlow baseline: matched budget, masked joint loss, clamped sources, two stages."""

import csv
import dataclasses
from pathlib import Path

import pytest
import torch
import yaml
from tiny_pairs import tiny_pairs
from toy_problem import make_toy_problem, r_squared

from baselines.budget import BUDGET_TOLERANCE, flowbind_parameters
from baselines.omniflow import OmniFlowMethod, OmniFlowModel, OmniFlowOptions
from bench.methods import load_method
from flowbind.config import FlowBindConfig
from flowbind.objective import ObjectiveConfig

D = 8
TINY = FlowBindConfig(latent_dim=D, hidden_dim=16, depth=1, encoder_hidden_dim=16)
SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def tiny_model(**options) -> OmniFlowModel:
    return OmniFlowModel(TINY, OmniFlowOptions(**options))


def record_velocity(model: OmniFlowModel, monkeypatch) -> list[tuple]:
    """Record (x_t, t, v) of every call to the joint velocity network."""
    calls, inner = [], model.velocity

    def spy(x_t, t):
        v = inner(x_t, t)
        calls.append((x_t.detach().clone(), t.detach().clone(), v))
        return v

    monkeypatch.setattr(model, "velocity", spy)
    return calls


@pytest.mark.parametrize(
    "sizes",
    [
        {"latent_dim": 8, "hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16},
        {"latent_dim": 64, "hidden_dim": 128, "depth": 2, "encoder_hidden_dim": 128},
        {"latent_dim": 32, "hidden_dim": 64, "depth": 0, "encoder_hidden_dim": 32},
        {},  # the paper's size
    ],
)
def test_joint_network_matches_flowbinds_parameter_budget(sizes):
    method = OmniFlowMethod(model=sizes)
    budget = flowbind_parameters(FlowBindConfig(**sizes))
    assert abs(method.num_parameters() / budget - 1) <= BUDGET_TOLERANCE


def test_options_defaults_follow_the_schema_and_bad_options_are_named():
    schema = yaml.safe_load(SCHEMA.read_text())
    props = schema["properties"]["baselines"]["properties"]["omniflow"]["properties"]
    assert {k: v["default"] for k, v in props.items()} == dataclasses.asdict(OmniFlowOptions())
    assert OmniFlowMethod().options == {"p_condition": 0.5, "pretrain_fraction": 0.0}
    with pytest.raises(ValueError, match="p_conditon"):
        OmniFlowMethod(options={"p_conditon": 0.3})
    with pytest.raises(ValueError, match="pretrain_fraction"):
        OmniFlowMethod(options={"pretrain_fraction": 1.0})
    with pytest.raises(ValueError, match="p_condition"):
        OmniFlowMethod(options={"p_condition": -0.1})


@pytest.mark.parametrize(("fraction", "steps", "split"), [(0.0, 20, (0, 20)), (0.25, 20, (5, 15)),
                                                          (0.01, 20, (1, 19)), (0.99, 20, (19, 1)),
                                                          (0.5, 1, (0, 1))])  # fmt: skip
def test_stage_split_gives_each_stage_at_least_one_step(fraction, steps, split):
    method = OmniFlowMethod(train={"steps": steps}, options={"pretrain_fraction": fraction})
    assert method.stage_steps() == split


def test_loss_ignores_the_absent_modality():
    model = tiny_model(p_condition=0.3)
    out = model.net.output_proj
    audio = slice(2 * D, 3 * D)  # modalities are (text, image, audio)
    group = {"text": torch.randn(64, D), "image": torch.randn(64, D)}
    torch.manual_seed(1)
    loss = model.loss([group], ObjectiveConfig())
    loss.total.backward()
    assert set(loss.terms) == {"main/text", "main/image"}
    # the audio rows of the output layer feed only the audio velocity: no gradient may reach them
    assert out.weight.grad[audio].abs().max() == 0 and out.bias.grad[audio].abs().max() == 0
    assert out.weight.grad[: 2 * D].abs().min(dim=1).values.gt(0).all()
    # and the audio velocity may be anything without changing the loss
    with torch.no_grad():
        out.bias[audio] += 100.0
    torch.manual_seed(1)
    torch.testing.assert_close(model.loss([group], ObjectiveConfig()).total, loss.total)


def test_training_inputs_follow_the_per_modality_times(monkeypatch):
    model = tiny_model(p_condition=0.5)
    calls = record_velocity(model, monkeypatch)
    z = {"image": torch.randn(512, D), "audio": torch.randn(512, D)}
    model.loss([z], ObjectiveConfig())
    ((x_t, t, _),) = calls
    t_text, t_image, t_audio = t.unbind(dim=1)
    assert (t_text == 0).all()  # the absent modality is noise at t = 0
    assert x_t[:, :D].std() == pytest.approx(1.0, abs=0.1)
    present = torch.stack([t_image, t_audio], dim=1)
    is_condition = present == 1
    assert not is_condition.all(dim=1).any()  # every pair keeps a target
    assert 0.2 < is_condition.float().mean() < 0.45  # p = 0.5, minus the rows forced to a target
    for j, m in ((1, "image"), (2, "audio")):  # a condition is its clean latent
        rows = t[:, j] == 1
        torch.testing.assert_close(x_t[rows, j * D : (j + 1) * D], z[m][rows])


@pytest.mark.parametrize(("p", "targets_per_row"), [(0.0, 2), (1.0, 1)])
def test_p_condition_sets_the_number_of_targets(monkeypatch, p, targets_per_row):
    model = tiny_model(p_condition=p)
    calls = record_velocity(model, monkeypatch)
    model.loss([{"text": torch.randn(128, D), "audio": torch.randn(128, D)}], ObjectiveConfig())
    t = calls[0][1]
    assert ((t[:, [0, 2]] < 1).sum(dim=1) == targets_per_row).all()


def test_loss_is_the_mse_over_target_modalities_only(monkeypatch):
    """Recompute the loss from the recorded network inputs: eps = (x_t - t z) / (1 - t)."""
    model = tiny_model(p_condition=0.5)
    calls = record_velocity(model, monkeypatch)
    z = {"text": torch.randn(256, D), "image": torch.randn(256, D)}
    terms = model.loss([z], ObjectiveConfig()).terms
    x_t, t, v = calls[0]
    for j, m in ((0, "text"), (1, "image")):
        rows = t[:, j] < 1
        tj = t[rows, j, None]
        cols = slice(j * D, (j + 1) * D)
        eps = (x_t[rows, cols] - tj * z[m][rows]) / (1 - tj)
        expected = ((v[rows, cols] - (z[m][rows] - eps)) ** 2).mean()
        torch.testing.assert_close(terms[f"main/{m}"], expected, rtol=1e-3, atol=1e-4)


def test_one_network_call_over_all_groups_equals_the_groups_scored_apart():
    """The loss runs the network once on every group's rows; no group may see another's."""
    model = tiny_model(p_condition=0.5)
    for p in model.parameters():  # leave the zero initialisation, so that every row matters
        torch.nn.init.normal_(p, std=0.2)
    groups = [
        {"text": torch.randn(32, D), "image": torch.randn(32, D)},
        {"text": torch.randn(16, D), "audio": torch.randn(16, D)},
        {"image": torch.randn(24, D), "audio": torch.randn(24, D)},
    ]
    torch.manual_seed(2)
    together = model.loss(groups, ObjectiveConfig()).terms
    torch.manual_seed(2)  # the draws happen group by group, so scoring apart draws the same
    apart: dict[str, torch.Tensor] = {}
    for group in groups:
        for name, value in model.loss([group], ObjectiveConfig()).terms.items():
            apart[name] = apart.get(name, 0) + value
    assert list(together) == ["main/text", "main/image", "main/audio"]
    assert set(apart) == set(together)
    for name, value in together.items():
        torch.testing.assert_close(value, apart[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("sources", "targets"),
    [(["text"], ["image"]), (["image"], ["text", "audio"]), (["text", "audio"], ["image"])],
)
def test_translation_clamps_sources_and_integrates_targets_jointly(monkeypatch, sources, targets):
    model = tiny_model()
    torch.nn.init.normal_(model.net.output_proj.weight)  # a drift that is not zero
    model.normalizer.mean_text.fill_(2.0)  # normalisation must happen before clamping
    raw = {m: torch.randn(6, D) for m in sources}
    first = model.translate(raw, targets, method="euler", steps=5)
    calls = record_velocity(model, monkeypatch)
    again = model.translate(raw, targets, method="euler", steps=5)
    for m in targets:  # deterministic: noise seeded per call
        torch.testing.assert_close(again[m], first[m])
    assert len(calls) == 5  # one joint evaluation per step, however many targets
    index = {m: j for j, m in enumerate(model.modalities)}
    others = [m for m in model.modalities if m not in sources and m not in targets]
    for step, (x_t, t, _) in enumerate(calls):
        for m in sources:
            cols = slice(index[m] * D, (index[m] + 1) * D)
            assert (t[:, index[m]] == 1).all()
            torch.testing.assert_close(x_t[:, cols], model.normalizer.normalize(m, raw[m]))
        for m in targets:
            torch.testing.assert_close(t[:, index[m]], torch.full((6,), step / 5))
        for m in others:  # fixed noise at t = 0 throughout
            cols = slice(index[m] * D, (index[m] + 1) * D)
            assert (t[:, index[m]] == 0).all()
            torch.testing.assert_close(x_t[:, cols], calls[0][0][:, cols])


def test_translate_rejects_bad_requests():
    model = tiny_model()
    with pytest.raises(ValueError, match="both source and target"):
        model.translate({"text": torch.randn(2, D)}, ["text", "image"])
    with pytest.raises(KeyError, match="video"):
        model.translate({"video": torch.randn(2, D)}, ["image"])
    with pytest.raises(ValueError, match="same number of rows"):
        model.translate({"text": torch.randn(2, D), "audio": torch.randn(3, D)}, ["image"])


@pytest.mark.slow
def test_two_stage_fit_pretrains_on_text_pairs_then_trains_jointly(tmp_path, monkeypatch):
    seen, inner = [], OmniFlowModel.loss

    def spy(self, groups, objective):
        seen.append(sorted("-".join(sorted(g)) for g in groups))
        return inner(self, groups, objective)

    monkeypatch.setattr(OmniFlowModel, "loss", spy)
    latents, pairs = tiny_pairs(D)
    train = {"steps": 20, "batch_size": 8, "warmup_steps": 2, "log_every": 5,
             "checkpoint_every": 5, "device": "cpu"}  # fmt: skip
    method = OmniFlowMethod(model=TINY.to_dict(), train=train, options={"pretrain_fraction": 0.25})
    report = method.fit(latents, pairs, tmp_path, progress=False)
    assert (report.stages, report.steps, report.joint) == (2, 20, True)
    assert report.pairs == {"text-image": 10, "text-audio": 10, "image-audio": 10}
    assert seen[:5] == [["audio-text", "image-text"]] * 5
    assert seen[5:] == [["audio-image", "audio-text", "image-text"]] * 15
    for stage, steps in (("stage1", 5), ("stage2", 15)):
        with (tmp_path / stage / "loss.csv").open() as f:
            assert int(list(csv.DictReader(f))[-1]["step"]) == steps
    sources = {"image": torch.randn(4, D)}
    again = load_method(tmp_path)
    assert again.options["pretrain_fraction"] == 0.25
    torch.testing.assert_close(
        again.translate(sources, ["text", "audio"])["audio"],
        method.translate(sources, ["text", "audio"])["audio"],
    )


@pytest.mark.slow
def test_training_beats_an_untrained_copy_on_held_out_translations(tmp_path):
    torch.set_num_threads(1)
    problem = make_toy_problem(dim=D, pairs_per_group=500, n_test=200)
    model = {"latent_dim": D, "hidden_dim": 32, "depth": 1, "encoder_hidden_dim": 32}
    train = {"steps": 150, "batch_size": 64, "lr": 3e-3, "warmup_steps": 10, "log_every": 10,
             "checkpoint_every": 150, "device": "cpu"}  # fmt: skip
    trained = OmniFlowMethod(model=model, train=train)
    trained.fit(problem.latents, problem.pairs, tmp_path, progress=False)
    # the same seed and network, no optimizer step; it gets the same latent statistics
    untrained = OmniFlowMethod(model=model, train=train)
    untrained.model = untrained.build().eval()
    untrained.model.normalizer.fit(problem.latents)
    test = {m: torch.from_numpy(z) for m, z in problem.test.items()}
    for sources, target in (
        (["text"], "image"),
        (["image"], "audio"),
        (["text", "audio"], "image"),
    ):
        scores = [
            r_squared(
                method.translate({m: test[m] for m in sources}, [target])[target].numpy(),
                problem.test[target],
            )
            for method in (trained, untrained)
        ]
        assert scores[0] > 0.2 and scores[0] > scores[1] + 0.8, (sources, target, scores)
