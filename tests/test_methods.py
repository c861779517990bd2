"""The method interface: FlowBind and text anchoring fit, translate, save and load alike."""

from pathlib import Path

import pytest
import torch
import yaml
from tiny_pairs import tiny_pairs

from baselines.text_anchor import TextAnchorMethod, TextAnchorModel
from bench.ablations import count_evaluations
from bench.config import ConfigError, validate_config
from bench.methods import METHODS, build_method, load_method, method_class
from bench.tasks import POINT_TASKS, TASKS
from flowbind.config import FlowBindConfig
from flowbind.method import FitReport
from flowbind.objective import ObjectiveConfig

# Methods whose fit trains (flowbind_released loads released weights instead).
TRAINABLE = [name for name in sorted(METHODS) if method_class(name).trainable]
D = 8
MODEL = {"latent_dim": D, "hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16}
TRAIN = {"steps": 20, "batch_size": 8, "warmup_steps": 2, "log_every": 10, "checkpoint_every": 20}


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_method_fits_translates_and_reloads(tmp_path, name):
    latents, pairs = tiny_pairs(D)
    method = build_method(name, model=MODEL, train={**TRAIN, "device": "cpu"})
    report = method.fit(latents, pairs, tmp_path, progress=False)
    assert isinstance(report, FitReport)
    assert report.parameters == method.num_parameters() > 0
    assert report.steps == 20 and report.device == "cpu"
    sources = {"text": torch.randn(5, D), "audio": torch.randn(5, D)}
    out = method.translate(sources, ["image"])
    assert out["image"].shape == (5, D)
    again = load_method(tmp_path)
    assert type(again) is type(method)
    torch.testing.assert_close(again.translate(sources, ["image"])["image"], out["image"])


# The methods that learn from pairs without text: a point cloud, paired with images only, is
# theirs to translate; text anchoring and CoDi learn from text pairs alone.
LEARN_POINTS = {"flowbind", "omniflow", "crossflow"}


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_method_takes_a_fourth_modality_and_says_which_tasks_it_cannot_serve(tmp_path, name):
    latents, pairs = tiny_pairs(D, points=True)
    model = {**MODEL, "modalities": ["text", "image", "audio", "points"]}
    method = build_method(name, model=model, train={**TRAIN, "device": "cpu"})
    method.fit(latents, pairs, tmp_path, progress=False)
    again = load_method(tmp_path)
    for key, task in POINT_TASKS.items():
        for m in (method, again):
            reason = m.why_not(task.sources, task.targets)
            if name in LEARN_POINTS:
                assert reason is None, (key, reason)
            else:
                assert "points appears in none of the pair tables" in reason, (key, reason)
        if name in LEARN_POINTS:
            sources = {s: torch.randn(3, D) for s in task.sources}
            out = method.translate(sources, list(task.targets))
            assert {t: z.shape for t, z in out.items()} == {t: (3, D) for t in task.targets}
    assert all(method.why_not(t.sources, t.targets) is None for t in TASKS.values())


def test_text_anchoring_uses_only_text_pairs_and_text_is_the_anchor(tmp_path):
    latents, pairs = tiny_pairs(D)
    method = TextAnchorMethod(model=MODEL, train={**TRAIN, "device": "cpu"})
    report = method.fit(latents, pairs, tmp_path, progress=False)
    assert report.pairs == {"text-image": 10, "text-audio": 10}
    model = method.model
    assert set(model.drifts) == {"image", "audio"}
    z = torch.randn(4, D)
    # text -> text is the identity (text is the anchor), text-sourced anchors are z-scored text
    torch.testing.assert_close(model.translate({"text": z}, ["text"])["text"], z)
    # image -> audio passes through the text anchor: the same as image -> text -> audio
    via_text = model.translate({"image": z}, ["text"])["text"]
    torch.testing.assert_close(
        model.translate({"image": z}, ["audio"])["audio"],
        model.translate({"text": via_text}, ["audio"])["audio"],
    )


def test_text_anchor_loss_ignores_groups_without_text():
    model = TextAnchorModel(FlowBindConfig(latent_dim=D, hidden_dim=16, depth=1))
    ia = {"image": torch.randn(4, D), "audio": torch.randn(4, D)}
    ti = {"text": torch.randn(4, D), "image": torch.randn(4, D)}
    torch.manual_seed(1)
    with_ia = model.loss([ti, ia], ObjectiveConfig())
    torch.manual_seed(1)
    without = model.loss([ti], ObjectiveConfig())
    torch.testing.assert_close(with_ia.total, without.total)
    assert set(with_ia.terms) == {"main/image"}


def test_flowbind_fit_refuses_when_no_pairs_are_usable(tmp_path):
    latents, pairs = tiny_pairs(D)
    method = TextAnchorMethod(model=MODEL, train={**TRAIN, "device": "cpu"})
    with pytest.raises(ValueError, match="can use none of the pair tables"):
        method.fit(latents, [pairs[2]], tmp_path, progress=False)


def test_unknown_method_names_the_known_ones():
    with pytest.raises(ValueError, match="known methods"):
        build_method("codi_typo")


def test_euler_drift_evaluations_are_counted(tmp_path):
    latents, pairs = tiny_pairs(D)
    method = build_method("flowbind", model=MODEL, train={**TRAIN, "device": "cpu"})
    method.fit(latents, pairs, tmp_path, progress=False)
    with count_evaluations(dict(method.model.drifts)) as counts:
        method.translate({"text": torch.randn(3, D)}, ["image"], method="euler", steps=7)
    assert counts == {"text": 7, "image": 7, "audio": 0}


def test_the_twelve_tasks_are_named_as_in_the_paper():
    names = [t.name for t in TASKS.values()]
    assert names[:6] == ["T->I", "I->T", "T->A", "A->T", "I->A", "A->I"]
    assert names[6:] == ["T->(I+A)", "I->(T+A)", "A->(T+I)", "(T+A)->I", "(T+I)->A", "(I+A)->T"]


@pytest.mark.parametrize("config_name", ["default", "tiny"])
def test_every_method_has_flowbinds_parameter_budget_at_the_workflow_configs(config_name):
    root = Path(__file__).resolve().parents[1] / "workflow"
    config = validate_config(
        yaml.safe_load((root / "config" / f"{config_name}.yaml").read_text()),
        root / "schemas" / "config.schema.yaml",
    )
    model = {**config["model"], "latent_dim": config["latent_dim"]}
    budget = build_method("flowbind", model=model).num_parameters()
    # Text anchoring is FlowBind's own ablation (its drifts, no encoder, no text drift), not sized.
    for name in ("codi", "omniflow", "crossflow"):
        options = config["baselines"].get(name, {})
        count = build_method(name, model=model, options=options).num_parameters()
        assert abs(count - budget) <= 0.10 * budget, (name, count, budget)


def test_config_method_names_are_checked_against_the_registry(monkeypatch):
    root = Path(__file__).resolve().parents[1] / "workflow"
    config = yaml.safe_load((root / "config" / "tiny.yaml").read_text())
    config["methods"] = ["flowbind", "mine"]
    schema = root / "schemas" / "config.schema.yaml"
    with pytest.raises(ConfigError, match=r"methods\[1\]: 'mine' is not a registered method"):
        validate_config(config, schema)
    monkeypatch.setitem(METHODS, "mine", "my_package.module:MyMethod")  # one line to register
    assert validate_config(config, schema)["methods"] == ["flowbind", "mine"]
