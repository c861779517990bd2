"""The public code's checkpoint format, mapped into this package's model and back.

The authors release one file (``model.pth``) whose ``model_state_dict`` holds one state dict per
modality (``text``, ``image``, ``audio``), each of one public ``MLPFlow``, plus a
``config.json`` with ``hidden_dim``, ``num_layers``, ``prior`` and ``t_cond``. An ``MLPFlow``
is this package's drift and, under the name ``logvar``, that modality's anchor-encoder head:

    public MLPFlow key                      FlowBind key (modality m)
    time_embed.{0,2}                        drifts.m.time_embed.mlp.{0,2}
    input_proj                              drifts.m.input_proj
    res_blocks.k.mlp.fc1 / .fc2             drifts.m.blocks.k.mlp.0 / .3
    res_blocks.k.adaLN_modulation.1         drifts.m.blocks.k.modulation.1
    out                                     drifts.m.output_proj
    logvar.0 / logvar.4                     anchor_encoder.heads.m.net.0 / .4
    logvar.j.in_layers.{0,2}  (j = 1..3)    anchor_encoder.heads.m.net.j.net.{0,2}
    logvar.j.out_layers.{0,3}               anchor_encoder.heads.m.net.j.net.{3,6}

(``prior = "explicit_residual"``: Linear, three residual blocks, Linear; the only prior whose
heads this model has. Inference never uses the heads.) The per-modality latent statistics are
separate files of the public repository, (1, 768) tensors each, loaded into the normaliser.

Files are read with ``torch.load(..., weights_only=True)``: tensors and plain containers only,
never arbitrary pickled objects.

    config = public_config(json.load(open("config.json")))
    model = FlowBind(config)
    load_public_state(model, read_public_checkpoint("model.pth"))
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from flowbind.config import FlowBindConfig

PUBLIC_LATENT_DIM = 768  # MLPFlow(in_channels=768) in the public code
PUBLIC_TIME_FEATURES = 256  # MLPFlow(time_embed_dim=256)
PUBLIC_PRIOR = "explicit_residual"
PUBLIC_T_COND = "adaln"

# (public key prefix, FlowBind key prefix); "{n}" stands for a block's index
_DRIFT_KEYS = (
    ("time_embed.{n}.", "time_embed.mlp.{n}."),
    ("input_proj.", "input_proj."),
    ("res_blocks.{n}.mlp.fc1.", "blocks.{n}.mlp.0."),
    ("res_blocks.{n}.mlp.fc2.", "blocks.{n}.mlp.3."),
    ("res_blocks.{n}.adaLN_modulation.1.", "blocks.{n}.modulation.1."),
    ("out.", "output_proj."),
)
_HEAD_KEYS = (  # the longer prefixes first: "logvar.{n}." alone would match them all
    ("logvar.{n}.in_layers.0.", "net.{n}.net.0."),
    ("logvar.{n}.in_layers.2.", "net.{n}.net.2."),
    ("logvar.{n}.out_layers.0.", "net.{n}.net.3."),
    ("logvar.{n}.out_layers.3.", "net.{n}.net.6."),
    ("logvar.{n}.", "net.{n}."),
)


def _rules(pairs: tuple[tuple[str, str], ...], inverse: bool = False) -> list[tuple[str, str]]:
    """(regex, replacement) of each prefix pair, public -> FlowBind or, inverse, back."""
    rules = []
    for source, target in pairs:
        if inverse:
            source, target = target, source
        pattern = re.escape(source).replace(re.escape("{n}"), r"(\d+)")
        rules.append((pattern, target.replace("{n}", r"\1")))
    return rules


class PublicFormatError(ValueError):
    """A file or state dict is not in the public code's format, or does not fit the model."""


def public_config(data: Mapping[str, Any], **overrides: Any) -> FlowBindConfig:
    """The FlowBindConfig of a public ``config.json`` (hidden_dim, num_layers, prior, t_cond).

    Raises:
        PublicFormatError: a key is missing, or the prior / time conditioning is one this
            model does not have.
    """
    missing = [k for k in ("hidden_dim", "num_layers") if k not in data]
    if missing:
        raise PublicFormatError(f"the public config lacks {missing}; it has {sorted(data)}")
    prior = data.get("prior", PUBLIC_PRIOR)  # init_mlpflow's default
    if prior != PUBLIC_PRIOR:
        raise PublicFormatError(
            f"the public config's prior is {prior!r}; only {PUBLIC_PRIOR!r} (Linear, three "
            "residual blocks, Linear) matches this model's anchor-encoder heads"
        )
    t_cond = data.get("t_cond", PUBLIC_T_COND)
    if t_cond != PUBLIC_T_COND:
        raise PublicFormatError(
            f"the public config's t_cond is {t_cond!r}; MLPFlow supports only {PUBLIC_T_COND!r}"
        )
    scale = data.get("feat_scale", 1.0)
    if scale != 1.0:
        raise PublicFormatError(f"feat_scale {scale} is not supported (only 1.0)")
    return FlowBindConfig(
        latent_dim=PUBLIC_LATENT_DIM,
        hidden_dim=int(data["hidden_dim"]),
        depth=int(data["num_layers"]),
        time_embed_dim=PUBLIC_TIME_FEATURES,
        time_max_period=10.0,
        encoder_hidden_dim=int(data["hidden_dim"]),
        encoder_depth=3,
        **overrides,
    )


def read_public_checkpoint(path: str | Path) -> dict[str, dict[str, Tensor]]:
    """The per-modality state dicts of a public ``model.pth``, read with weights_only=True.

    Raises:
        FileNotFoundError: the file is missing.
        PublicFormatError: it holds pickled objects besides tensors, or no ``model_state_dict``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise PublicFormatError(
            f"{path} holds Python objects besides tensors, so it is not unpickled (weights_only "
            f"load): check that it is the released file ({err})"
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("model_state_dict"), dict):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise PublicFormatError(f"{path} has no 'model_state_dict' (found {keys})")
    return data["model_state_dict"]


def read_public_stats(path: str | Path) -> Tensor:
    """A public latent statistic file (``samples/<name>_mean.pt`` / ``_std.pt``): (768,)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        value = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise PublicFormatError(f"{path} holds Python objects besides tensors ({err})") from err
    if not isinstance(value, Tensor) or value.numel() != PUBLIC_LATENT_DIM:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise PublicFormatError(
            f"{path} must hold a tensor of {PUBLIC_LATENT_DIM} values, found {shape}"
        )
    value = value.reshape(-1).float()
    if not torch.isfinite(value).all():
        raise PublicFormatError(f"{path} has NaN or inf values")
    return value


def _rename(key: str, rules: list[tuple[str, str]]) -> str | None:
    for pattern, replacement in rules:
        if re.match(pattern, key):
            return re.sub(f"^{pattern}", replacement, key)
    return None


def from_public_state(public: Mapping[str, Mapping[str, Tensor]]) -> dict[str, Tensor]:
    """Drift and anchor-head tensors of a FlowBind model from the public per-modality dicts.

    Args:
        public: modality -> public ``MLPFlow`` key -> tensor, e.g. ``input_proj.weight`` of
            shape (H, D); a ``module.`` prefix (a DDP-wrapped save) is dropped.

    Returns:
        FlowBind key -> the same tensor, shape unchanged.

    Raises:
        PublicFormatError: naming every key that has no counterpart.
    """
    out: dict[str, Tensor] = {}
    unknown = []
    for modality, state in public.items():
        for key, value in state.items():
            key = key.removeprefix("module.")  # a DDP-wrapped save
            if key.startswith("logvar."):
                mapped = _rename(key, _rules(_HEAD_KEYS))
                prefix = f"anchor_encoder.heads.{modality}."
            else:
                mapped = _rename(key, _rules(_DRIFT_KEYS))
                prefix = f"drifts.{modality}."
            if mapped is None:
                unknown.append(f"{modality}: {key}")
            else:
                out[prefix + mapped] = value
    if unknown:
        raise PublicFormatError(f"keys with no FlowBind counterpart: {unknown[:8]}")
    return out


def to_public_state(model: torch.nn.Module) -> dict[str, dict[str, Tensor]]:
    """The inverse of ``from_public_state``: per-modality dicts in the public key layout."""
    inverse_drift, inverse_head = _rules(_DRIFT_KEYS, True), _rules(_HEAD_KEYS, True)
    out: dict[str, dict[str, Tensor]] = {}
    for key, value in model.state_dict().items():
        parts = key.split(".")
        if parts[0] == "drifts":
            mapped = _rename(".".join(parts[2:]), inverse_drift)
            modality = parts[1]
        elif parts[:2] == ["anchor_encoder", "heads"]:
            mapped = _rename(".".join(parts[3:]), inverse_head)
            modality = parts[2]
        else:  # the normaliser's statistics: separate files in the public code
            continue
        if mapped is None:
            raise PublicFormatError(f"{key} has no public counterpart")
        out.setdefault(modality, {})[mapped] = value.detach().clone()
    return out


def load_public_state(
    model: torch.nn.Module,
    public: Mapping[str, Mapping[str, Tensor]],
    stats: Mapping[str, tuple[Tensor, Tensor]] | None = None,
) -> None:
    """Load public per-modality state dicts (and optional (mean, std) per modality) into a model.

    Every drift and head tensor must be present with the model's shape; the normaliser's
    statistics come from ``stats`` (the public files) and stay as they are when it is None.

    Raises:
        PublicFormatError: naming missing, unexpected or misshapen tensors.
    """
    tensors = from_public_state(public)
    own = model.state_dict()
    expected = {k for k in own if not k.startswith("normalizer.")}
    missing = sorted(expected - set(tensors))
    unexpected = sorted(set(tensors) - expected)
    misshapen = [
        f"{k}: file {tuple(v.shape)}, model {tuple(own[k].shape)}"
        for k, v in tensors.items()
        if k in own and v.shape != own[k].shape
    ]
    if missing or unexpected or misshapen:
        raise PublicFormatError(
            "the public state dicts do not fit this model: "
            f"missing {missing[:5]} ({len(missing)}), unexpected {unexpected[:5]} "
            f"({len(unexpected)}), misshapen {misshapen[:3]} ({len(misshapen)}); check the "
            "config's hidden_dim and num_layers"
        )
    model.load_state_dict({**own, **tensors})
    for modality, (mean, std) in (stats or {}).items():
        mean_buf, std_buf = model.normalizer.stats(modality)
        mean_buf.copy_(mean.reshape(-1))
        std_buf.copy_(std.reshape(-1))
