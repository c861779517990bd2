"""The drift network, the anchor encoder and the parameter count of the paper configuration."""

import pytest
import torch

from flowbind import AnchorEncoder, DriftNet, FlowBindConfig, count_parameters
from flowbind.drift import timestep_features

SMALL = FlowBindConfig(
    latent_dim=6, hidden_dim=16, depth=2, encoder_hidden_dim=12, time_embed_dim=8
)


def test_paper_configuration_counts_568m_parameters_without_allocating():
    paper = FlowBindConfig()  # the defaults are the paper's D = 768, H = 1152, L = 12
    total = count_parameters(paper)
    assert abs(total - 568e6) / 568e6 < 0.01, f"{total:,} parameters"
    with torch.device("meta"):
        drift, encoder = DriftNet(paper), AnchorEncoder(paper)
    per_drift = sum(p.numel() for p in drift.parameters())
    per_head = sum(p.numel() for p in encoder.heads["text"].parameters())
    assert per_drift == pytest.approx(178.7e6, rel=1e-3)  # FACTS: about 178.7M per drift
    assert per_head == pytest.approx(10.6e6, rel=1e-2)  # and 10.6M per encoder head
    assert total == 3 * (per_drift + per_head)


def test_timestep_features_follow_max_period():
    t = torch.tensor([0.0, 0.5, 1.0])
    f = timestep_features(t, 8, max_period=10.0)
    freqs = 10.0 ** (-torch.arange(4) / 4)
    torch.testing.assert_close(
        f, torch.cat([torch.cos(t[:, None] * freqs), torch.sin(t[:, None] * freqs)], 1)
    )
    assert timestep_features(t, 7).shape == (3, 7)


def test_adaln_zero_blocks_start_as_identity():
    drift = DriftNet(SMALL)
    x = torch.randn(4, 6)
    expected = drift.output_proj(drift.input_proj(x))
    for t in (0.0, 0.3, 1.0):
        torch.testing.assert_close(drift(x, t), expected)
    assert all(not b.modulation[1].weight.any() for b in drift.blocks)


def test_drift_uses_time_once_trained_blocks_are_nonzero():
    drift = DriftNet(SMALL)
    for block in drift.blocks:
        torch.nn.init.normal_(block.modulation[1].weight)
    x = torch.randn(4, 6)
    assert not torch.allclose(drift(x, 0.1), drift(x, 0.9))
    torch.testing.assert_close(drift(x, torch.full((4,), 0.1)), drift(x, 0.1))


def test_anchor_is_the_product_of_equal_variance_gaussians():
    encoder = AnchorEncoder(SMALL).eval()  # no dropout inside the heads
    z = {m: torch.randn(5, 6) for m in ("text", "image")}
    post = encoder(z)
    means = [encoder.heads[m](z[m]) for m in ("image", "text")]
    torch.testing.assert_close(post.mean, (means[0] + means[1]) / 2)
    assert post.variance == pytest.approx(SMALL.anchor_variance / 2)
    assert post.kept == ("image", "text")
    samples = torch.stack([post.sample() for _ in range(4000)])
    assert (samples - post.mean).var().item() == pytest.approx(SMALL.anchor_variance / 2, rel=0.05)


def test_modality_dropout_is_decided_once_per_group_and_never_drops_all():
    encoder = AnchorEncoder(SMALL).eval()
    z = {m: torch.randn(3, 6) for m in ("text", "image", "audio")}
    seen = set()
    for _ in range(200):
        post = encoder(z, modality_dropout=0.5)
        assert post.kept, "at least one head is always kept"
        expected = torch.stack([encoder.heads[m](z[m]) for m in post.kept]).mean(0)
        torch.testing.assert_close(post.mean, expected)  # every row saw the same kept heads
        assert post.variance == pytest.approx(SMALL.anchor_variance / len(post.kept))
        seen.add(post.kept)
    assert len(seen) == 7  # every non-empty subset of three heads occurs
    assert encoder(z, modality_dropout=1.0).kept == ("audio", "image", "text")


def test_config_rejects_bad_values_by_name():
    with pytest.raises(ValueError, match="anchor_variance"):
        FlowBindConfig(anchor_variance=0)
    with pytest.raises(ValueError, match="unknown FlowBindConfig fields"):
        FlowBindConfig.from_dict({"latent_dim": 8, "width": 3})


def test_a_config_written_with_solver_settings_still_reads_without_them():
    """Earlier versions kept the ODE solver in the model config; it is a generation setting."""
    old = {**FlowBindConfig(latent_dim=8).to_dict(), "solver": "rk4", "solver_steps": 3}
    assert FlowBindConfig.from_dict(old) == FlowBindConfig(latent_dim=8)
    assert "solver" not in FlowBindConfig().to_dict()


def test_one_time_for_every_row_is_embedded_once_with_the_same_velocities():
    from flowbind.config import FlowBindConfig
    from flowbind.drift import DriftNet

    torch.manual_seed(0)
    drift = DriftNet(FlowBindConfig(latent_dim=8, hidden_dim=16, depth=2))
    for p in drift.parameters():  # the modulation starts at zero: give it weights
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(5, 8)
    shared = drift(x, torch.tensor([0.37]))
    per_row = drift(x, torch.full((5,), 0.37))
    # one row and five rows take different matrix-product kernels, whose float32 sums round
    # apart by a few ulps in single elements (CPU-dependent): compare the whole output's error
    assert float((shared - per_row).norm() / per_row.norm()) < 1e-5
    assert float((shared - per_row).abs().max()) < 1e-4
    assert not torch.allclose(shared, drift(x, 0.9))  # the time matters
