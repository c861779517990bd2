"""Inference: normalisation on the way in and out, many-to-one and one-to-many."""

import pytest
import torch

from flowbind import FlowBind, FlowBindConfig

CONFIG = FlowBindConfig(
    latent_dim=6, hidden_dim=16, depth=2, encoder_hidden_dim=12, time_embed_dim=8
)


def randomized_model() -> FlowBind:
    """A model whose drifts are non-trivial and time-dependent, with fitted statistics."""
    model = FlowBind(CONFIG)
    for drift in model.drifts.values():
        for block in drift.blocks:
            torch.nn.init.normal_(block.modulation[1].weight, std=0.3)
    model.normalizer.fit({m: 3 + 2 * torch.randn(100, 6) for m in CONFIG.modalities})
    return model


def test_zero_drift_shows_normalisation_in_and_out():
    model = FlowBind(CONFIG)
    for drift in model.drifts.values():
        torch.nn.init.zeros_(drift.output_proj.weight)
        torch.nn.init.zeros_(drift.output_proj.bias)
    mean, std = torch.arange(6.0), torch.linspace(1, 3, 6)
    model.normalizer.stats("text")[0].copy_(mean)
    model.normalizer.stats("text")[1].copy_(std)
    z = torch.randn(4, 6)
    anchor = model.encode("text", z)  # a zero drift leaves the z-scored latent in place
    torch.testing.assert_close(anchor, (z - mean) / std)
    torch.testing.assert_close(model.decode(anchor, "text"), z)
    torch.testing.assert_close(model.decode(anchor, "image"), anchor)  # image stats are identity


def test_many_to_one_averages_the_per_source_anchors():
    model = randomized_model()
    zt, za = torch.randn(5, 6), torch.randn(5, 6)
    out = model.translate({"text": zt, "audio": za}, ["image"])
    anchor = (model.encode("text", zt) + model.encode("audio", za)) / 2
    torch.testing.assert_close(out["image"], model.decode(anchor, "image"))
    single = model.translate({"text": zt}, ["image"])["image"]
    assert not torch.allclose(single, out["image"])


def test_one_to_many_decodes_one_shared_anchor(monkeypatch):
    model = randomized_model()
    encoded, decoded = [], []
    encode, decode = model.encode, model.decode

    def spy_encode(modality, z, **kw):
        encoded.append(modality)
        return encode(modality, z, **kw)

    def spy_decode(anchor, modality, **kw):
        decoded.append(anchor)
        return decode(anchor, modality, **kw)

    monkeypatch.setattr(model, "encode", spy_encode)
    monkeypatch.setattr(model, "decode", spy_decode)
    zt = torch.randn(5, 6)
    out = model.translate({"text": zt}, ["image", "audio"])
    assert encoded == ["text"], "the source is integrated back to the anchor once"
    assert len(decoded) == 2 and decoded[0] is decoded[1]
    torch.testing.assert_close(out["audio"], decode(encode("text", zt), "audio"))


def test_translate_uses_eval_mode_and_restores_training_mode():
    model = randomized_model().train()
    z = torch.randn(3, 6)
    a, b = model.translate({"text": z}, ["audio"]), model.translate({"text": z}, ["audio"])
    torch.testing.assert_close(a["audio"], b["audio"])
    assert model.training


def test_solver_settings_can_be_overridden_per_call():
    model = randomized_model()
    z = torch.randn(3, 6)
    coarse = model.encode("image", z, steps=2)
    fine = model.encode("image", z, method="rk4", steps=50)
    exact = model.encode("image", z, method="dopri5", atol=1e-7, rtol=1e-7)
    assert (fine - exact).abs().max() < (coarse - exact).abs().max()


def test_bad_calls_name_the_problem():
    model = randomized_model()
    with pytest.raises(KeyError, match="'depth'"):
        model.encode("depth", torch.randn(2, 6))
    with pytest.raises(ValueError, match="same number of rows"):
        model.translate({"text": torch.randn(2, 6), "audio": torch.randn(3, 6)}, ["image"])
    with pytest.raises(ValueError, match="at least one target"):
        model.translate({"text": torch.randn(2, 6)}, [])
