"""The released FlowBind checkpoint: the public key layout mapped into this suite's model.

The public state dicts here are built from random weights with the public ``MLPFlow``'s key
layout and shapes (model/mlp_flows.py: DiT-style MLP blocks with adaLN-zero, the residual prior
as ``logvar``), and the public forward pass is written out below as plain tensor algebra from
those keys, so the check is independent of this suite's modules: after the mapping, the suite's
drifts and encoder heads must give the same numbers, and its translation must equal the public
code's Euler integration (10 steps each way, z-scored with the released statistics).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from bench.methods import build_method, load_method
from bench.paper.released import FlowBindReleasedMethod
from flowbind.model import FlowBind
from flowbind.released import (
    PublicFormatError,
    load_public_state,
    public_config,
    read_public_checkpoint,
    read_public_stats,
    to_public_state,
)
from metrics.backbones import registry
from metrics.backbones.registry import WeightsChecksumError

D, H, L = 768, 32, 2
MODALITIES = ("text", "image", "audio")


def public_mlpflow_state(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Random tensors for every key of the public MLPFlow(768, 256, H, L, 'explicit_residual')."""
    shapes = {
        "time_embed.0.weight": (H, 256),
        "time_embed.0.bias": (H,),
        "time_embed.2.weight": (H, H),
        "time_embed.2.bias": (H,),
        "input_proj.weight": (H, D),
        "input_proj.bias": (H,),
        "out.weight": (D, H),
        "out.bias": (D,),
        "logvar.0.weight": (H, D),
        "logvar.0.bias": (H,),
        "logvar.4.weight": (2 * D, H),
        "logvar.4.bias": (2 * D,),
    }
    for k in range(L):
        shapes |= {
            f"res_blocks.{k}.mlp.fc1.weight": (4 * H, H),
            f"res_blocks.{k}.mlp.fc1.bias": (4 * H,),
            f"res_blocks.{k}.mlp.fc2.weight": (H, 4 * H),
            f"res_blocks.{k}.mlp.fc2.bias": (H,),
            f"res_blocks.{k}.adaLN_modulation.1.weight": (3 * H, H),
            f"res_blocks.{k}.adaLN_modulation.1.bias": (3 * H,),
        }
    for j in (1, 2, 3):
        for part, index in (("in_layers", 0), ("in_layers", 2), ("out_layers", 0)):
            shapes |= {f"logvar.{j}.{part}.{index}.weight": (H,) if index == 0 else (H, H)}
            shapes |= {f"logvar.{j}.{part}.{index}.bias": (H,)}
        shapes |= {f"logvar.{j}.out_layers.3.weight": (H, H), f"logvar.{j}.out_layers.3.bias": (H,)}
    # every tensor non-zero (the public code zero-initialises some): the mapping must carry all
    return {k: 0.2 * torch.randn(s, generator=generator) for k, s in shapes.items()}


def lin(state: dict, name: str, x: torch.Tensor) -> torch.Tensor:
    return x @ state[f"{name}.weight"].T + state[f"{name}.bias"]


def public_drift(state: dict, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """MLPFlow.forward(timesteps, x) of the public code, from its state dict."""
    half = 128
    freqs = torch.exp(-math.log(10) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    emb = lin(state, "time_embed.2", F.silu(lin(state, "time_embed.0", emb)))
    h = lin(state, "input_proj", x)
    for k in range(L):
        shift, scale, gate = lin(state, f"res_blocks.{k}.adaLN_modulation.1", F.silu(emb)).chunk(
            3, dim=1
        )
        normed = F.layer_norm(h, (H,), eps=1e-6) * (1 + scale) + shift
        mlp = lin(
            state, f"res_blocks.{k}.mlp.fc2", F.gelu(lin(state, f"res_blocks.{k}.mlp.fc1", normed))
        )
        h = h + gate * mlp
    return lin(state, "out", h)


def public_prior_mean(state: dict, z: torch.Tensor) -> torch.Tensor:
    """The mean half of the public 'residual' prior (``logvar``), dropout off."""

    def ln(name: str, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (H,), state[f"{name}.weight"], state[f"{name}.bias"])

    h = lin(state, "logvar.0", z)
    for j in (1, 2, 3):
        r = lin(state, f"logvar.{j}.in_layers.2", F.silu(ln(f"logvar.{j}.in_layers.0", h)))
        r = lin(state, f"logvar.{j}.out_layers.3", F.silu(ln(f"logvar.{j}.out_layers.0", r)))
        h = h + r
    return lin(state, "logvar.4", h).chunk(2, dim=-1)[0]


def public_euler(state: dict, x: torch.Tensor, start: float, end: float) -> torch.Tensor:
    """The public ode_intergrate with method 'euler10': 11 grid points from start to end."""
    grid = torch.arange(11, dtype=torch.float32) * ((end - start) / 10) + start
    for a, b in zip(grid[:-1], grid[1:], strict=True):
        x = x + (b - a) * public_drift(state, torch.full((x.shape[0],), float(a)), x)
    return x


@pytest.fixture(scope="module")
def public() -> dict[str, dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return {m: public_mlpflow_state(generator) for m in MODALITIES}


@pytest.fixture
def released_files(tmp_path: Path, public, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The released files in a weights folder, the statistics' registry checksums set to them."""
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv(registry.ENV_VAR, str(folder))
    torch.save({"model_state_dict": public}, folder / "flowbind-model.pth")
    config = {"hidden_dim": H, "num_layers": L, "prior": "explicit_residual", "t_cond": "adaln"}
    (folder / "flowbind-config.json").write_text(json.dumps(config))
    generator = torch.Generator().manual_seed(1)
    for m in MODALITIES:
        for stat in ("mean", "std"):
            value = torch.randn(1, D, generator=generator)
            value = value.abs() + 0.5 if stat == "std" else value
            entry = registry.REGISTRY[f"flowbind-{m}-{stat}"]
            torch.save(value, folder / entry.filename)
            digest = hashlib.sha256((folder / entry.filename).read_bytes()).hexdigest()
            monkeypatch.setitem(
                registry.REGISTRY,
                entry.name,
                registry.WeightEntry(**{**vars(entry), "sha256": digest}),
            )
    return {"folder": folder}


def test_public_state_maps_onto_the_suite_model_with_identical_outputs(public):
    config = public_config({"hidden_dim": H, "num_layers": L})
    model = FlowBind(config).eval()
    load_public_state(model, public)
    x = torch.randn(6, D)
    t = torch.rand(6)
    with torch.no_grad():
        for m in MODALITIES:
            torch.testing.assert_close(model.drifts[m](x, t), public_drift(public[m], t, x))
            head = model.anchor_encoder.heads[m]
            torch.testing.assert_close(head(x), public_prior_mean(public[m], x))
    # and back: the inverse mapping gives the public dicts key for key
    again = to_public_state(model)
    assert again.keys() == public.keys()
    for m in MODALITIES:
        assert again[m].keys() == public[m].keys()
        for key, value in public[m].items():
            torch.testing.assert_close(again[m][key], value)


def test_a_state_dict_of_another_size_is_refused_naming_the_tensors(public):
    model = FlowBind(public_config({"hidden_dim": 2 * H, "num_layers": L}))
    with pytest.raises(
        PublicFormatError, match=r"misshapen .*file \(32, 256\), model \(64, 256\).*hidden_dim"
    ):
        load_public_state(model, public)
    extra = {m: {**s, "res_blocks.0.attn.qkv.weight": torch.zeros(1)} for m, s in public.items()}
    with pytest.raises(PublicFormatError, match="no FlowBind counterpart.*attn"):
        load_public_state(FlowBind(public_config({"hidden_dim": H, "num_layers": L})), extra)


def test_public_config_refuses_what_the_model_lacks():
    assert public_config({"hidden_dim": 1152, "num_layers": 12}).depth == 12
    with pytest.raises(PublicFormatError, match="prior is 'explicit_v1'"):
        public_config({"hidden_dim": 8, "num_layers": 1, "prior": "explicit_v1"})
    with pytest.raises(PublicFormatError, match=r"lacks \['num_layers'\]"):
        public_config({"hidden_dim": 8})


def test_files_are_read_without_unpickling_objects(tmp_path: Path, public):
    path = tmp_path / "model.pth"
    torch.save({"model_state_dict": public, "args": argparse.Namespace(lr=1e-4)}, path)
    with pytest.raises(PublicFormatError, match="Python objects besides tensors"):
        read_public_checkpoint(path)
    torch.save({"state": public}, path)
    with pytest.raises(PublicFormatError, match="no 'model_state_dict'"):
        read_public_checkpoint(path)
    torch.save(torch.zeros(1, 10), tmp_path / "mean.pt")
    with pytest.raises(PublicFormatError, match="768 values"):
        read_public_stats(tmp_path / "mean.pt")


def test_released_method_translates_as_the_public_code_does(released_files, public, tmp_path):
    method = build_method("flowbind_released")
    report = method.fit({}, [], tmp_path / "run", progress=False)
    assert report.steps == 0 and report.parameters == FlowBind(method.model_config).num_parameters()
    folder = released_files["folder"]
    z = torch.randn(5, D)
    out = method.translate({"text": z}, ["image", "audio"], method="euler", steps=10)
    mean = {m: read_public_stats(folder / f"flowbind-{s}_mean.pt") for m, s in _STEMS.items()}
    std = {m: read_public_stats(folder / f"flowbind-{s}_std.pt") for m, s in _STEMS.items()}
    with torch.no_grad():
        anchor = public_euler(public["text"], (z - mean["text"]) / std["text"], 1.0, 0.0)
        for target in ("image", "audio"):
            expected = public_euler(public[target], anchor, 0.0, 1.0) * std[target] + mean[target]
            # float32 rounding over 20 steps (the time grids are built differently, and one time
            # row takes other matrix-product kernels than N), which single elements amplify
            # more than others on some CPUs: bound the whole output's relative error
            error = float((out[target] - expected).norm() / expected.norm())
            assert error < 1e-4, f"{target}: relative error {error:.2e}"
    again = load_method(tmp_path / "run")
    assert isinstance(again, FlowBindReleasedMethod)
    torch.testing.assert_close(again.translate({"text": z}, ["image"])["image"], out["image"])


_STEMS = {"text": "gemmae_text", "image": "unclip_img", "audio": "clap_audio"}


def test_registry_refuses_released_statistics_with_a_wrong_checksum(released_files, tmp_path):
    entry = registry.REGISTRY["flowbind-image-std"]
    torch.save(torch.ones(1, D), entry.path)  # not the file the checksum was taken of
    with pytest.raises(WeightsChecksumError, match="flowbind-image-std"):
        build_method("flowbind_released").fit({}, [], tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "model").exists()


def test_released_method_names_a_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path / "empty"))
    with pytest.raises(registry.MissingWeightsError, match="flowbind-config"):
        build_method("flowbind_released").fit({}, [], tmp_path / "run", progress=False)
    assert FlowBindReleasedMethod.files_needed({"stats": "fitted"}) == [
        "flowbind-model",
        "flowbind-config",
    ]


def test_the_workflow_accepts_the_released_method_only_on_the_paper_benchmark():
    from bench.config import ConfigError, validate_config

    root = Path(__file__).resolve().parents[1]
    schema = root / "workflow" / "schemas" / "config.schema.yaml"
    with pytest.raises(ConfigError, match="'flowbind_released' .* needs the paper benchmark"):
        validate_config({"methods": ["flowbind", "flowbind_released"]}, schema)
    paper = {"benchmark": "paper", "latent_dim": 768, "methods": ["flowbind_released"]}
    filled = validate_config(
        {**paper, "baselines": {"flowbind_released": {"stats": "fitted"}}}, schema
    )
    assert filled["baselines"]["flowbind_released"] == {
        "checkpoint": "registry",
        "config": "registry",
        "stats": "fitted",
    }
