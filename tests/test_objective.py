"""Where the objective sends gradient, and how it samples times."""

import pytest
import torch

from flowbind import FlowBind, FlowBindConfig, ObjectiveConfig, flowbind_loss
from flowbind.objective import sample_times

CONFIG = FlowBindConfig(
    latent_dim=6, hidden_dim=16, depth=2, encoder_hidden_dim=12, time_embed_dim=8
)


def groups() -> list[dict[str, torch.Tensor]]:
    return [
        {"text": torch.randn(32, 6), "image": torch.randn(32, 6)},
        {"image": torch.randn(32, 6), "audio": torch.randn(32, 6)},
    ]


def encoder_grad_norm(model: FlowBind, loss: torch.Tensor) -> float:
    model.zero_grad(set_to_none=True)
    loss.backward()
    grads = [p.grad for p in model.anchor_encoder.parameters() if p.grad is not None]
    return float(sum(g.abs().sum() for g in grads)) if grads else 0.0


def drift_grad_norm(model: FlowBind) -> float:
    return float(sum(p.grad.abs().sum() for p in model.drifts.parameters() if p.grad is not None))


def test_official_main_term_gives_the_encoder_no_gradient():
    model = FlowBind(CONFIG)
    loss = flowbind_loss(model, groups(), ObjectiveConfig(scheme="official"))
    main = sum(v for k, v in loss.terms.items() if k.startswith("main/"))
    assert encoder_grad_norm(model, main) == 0.0
    assert drift_grad_norm(model) > 0.0


def test_official_t0_term_is_the_encoders_gradient_path():
    model = FlowBind(CONFIG)
    loss = flowbind_loss(model, groups(), ObjectiveConfig(scheme="official"))
    t0 = sum(v for k, v in loss.terms.items() if k.startswith("t0/"))
    assert encoder_grad_norm(model, t0) > 0.0


def test_official_terms_cover_every_modality_of_every_group():
    model = FlowBind(CONFIG)
    loss = flowbind_loss(model, groups(), ObjectiveConfig(scheme="official"))
    assert sorted(loss.terms) == sorted(
        f"{k}/{m}" for k in ("main", "t0") for m in ("text", "image", "audio")
    )
    torch.testing.assert_close(loss.total, sum(loss.terms.values()))


def test_paper_scheme_with_every_t_positive_gives_the_encoder_no_gradient():
    model = FlowBind(CONFIG)
    loss = flowbind_loss(model, groups(), ObjectiveConfig(scheme="paper", p_t0=0.0))
    assert sorted(loss.terms) == ["main/audio", "main/image", "main/text"]
    assert encoder_grad_norm(model, loss.total) == 0.0
    assert drift_grad_norm(model) > 0.0


def test_paper_scheme_trains_the_encoder_through_t0_samples():
    model = FlowBind(CONFIG)
    loss = flowbind_loss(model, groups(), ObjectiveConfig(scheme="paper", p_t0=0.3))
    assert encoder_grad_norm(model, loss.total) > 0.0


@pytest.mark.parametrize("scheme", ["official", "paper"])
def test_no_stop_grad_lets_gradient_reach_the_encoder_at_positive_times(scheme):
    model = FlowBind(CONFIG)
    config = ObjectiveConfig(scheme=scheme, p_t0=0.0, no_stop_grad=True)
    loss = flowbind_loss(model, groups(), config)
    main = sum(v for k, v in loss.terms.items() if k.startswith("main/"))
    assert encoder_grad_norm(model, main) > 0.0


def test_official_times_are_uniform_with_endpoint_mass():
    t = sample_times(
        200_000, ObjectiveConfig(scheme="official", p_endpoint=0.3), torch.device("cpu")
    )
    assert (t == 1).float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert (t == 0).sum().item() == 0
    inner = t[t < 1]
    assert inner.mean().item() == pytest.approx(0.5, abs=0.01)


def test_paper_times_mix_uniform_with_a_point_mass_at_zero():
    config = ObjectiveConfig(scheme="paper", p_t0=0.25, p_endpoint=0.0)
    t = sample_times(200_000, config, torch.device("cpu"))
    assert (t == 0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert (t == 1).sum().item() == 0


def test_objective_config_rejects_unknown_scheme():
    with pytest.raises(ValueError, match="'exact'.*official"):
        ObjectiveConfig(scheme="exact")


def per_term_loss(model: FlowBind, groups, config: ObjectiveConfig) -> dict[str, torch.Tensor]:
    """The objective written the plain way, one drift call per term, as a reference."""
    terms: dict[str, torch.Tensor] = {}

    def add(name, value):
        terms[name] = terms[name] + value if name in terms else value

    for group in groups:
        z_star = model.anchor_encoder(group, config.modality_dropout).sample()
        for m in sorted(group):
            z, drift = group[m], model.drifts[m]
            t = sample_times(z.shape[0], config, z.device)
            if config.scheme == "official":
                anchor = z_star if config.no_stop_grad else z_star.detach()
                x_t = t[:, None] * z + (1 - t[:, None]) * anchor
                add(f"main/{m}", torch.nn.functional.mse_loss(drift(x_t, t), z - anchor))
                t0 = torch.zeros_like(t)
                add(f"t0/{m}", torch.nn.functional.mse_loss(drift(z_star, t0), z - z_star))
            else:
                at_zero = (t == 0)[:, None]
                anchor = (
                    z_star if config.no_stop_grad else torch.where(at_zero, z_star, z_star.detach())
                )
                x_t = t[:, None] * z + (1 - t[:, None]) * anchor
                add(f"main/{m}", torch.nn.functional.mse_loss(drift(x_t, t), z - anchor))
    return terms


@pytest.mark.parametrize("scheme", ["official", "paper"])
@pytest.mark.parametrize("no_stop_grad", [False, True])
def test_batched_drift_calls_equal_one_call_per_term(scheme, no_stop_grad):
    """The loss runs each drift once on all its rows; terms, gradients and draws are unchanged."""
    torch.manual_seed(0)
    model = FlowBind(CONFIG)
    for (
        p
    ) in model.parameters():  # leave the zero initialisation, so that every path carries gradient
        torch.nn.init.normal_(p, std=0.2)
    data = groups() + [{"text": torch.randn(32, 6), "audio": torch.randn(32, 6)}]
    config = ObjectiveConfig(scheme=scheme, no_stop_grad=no_stop_grad)
    results = []
    for compute in (
        lambda: per_term_loss(model, data, config),
        lambda: flowbind_loss(model, data, config).terms,
    ):
        torch.manual_seed(1)
        model.zero_grad(set_to_none=True)
        terms = compute()
        sum(terms.values()).backward()
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        results.append((terms, grads, torch.rand(4)))
    (ref, ref_grads, ref_next), (got, got_grads, got_next) = results
    assert list(got) == list(ref)  # same terms, in the same order (loss.csv's columns)
    for name in ref:
        torch.testing.assert_close(got[name], ref[name])
    assert len(got_grads) == len(ref_grads)
    for a, b in zip(got_grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert torch.equal(got_next, ref_next)  # the same random numbers were drawn
