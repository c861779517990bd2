"""Building blocks shared by the embedded benchmark's codecs and evaluators.

Small convolutional trunks over 64x64 inputs (RGB images or log-mel spectrograms), a PointNet
trunk over point clouds, a seeded minibatch trainer, and a registry that saves every frozen
network as safetensors + JSON config and loads it back by name, refusing weights written by
another version of its code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from bench.embedded.spectrogram import log_mel
from flowbind.checkpoint import (
    CheckpointError,
    atomic_folder,
    load_weights,
    read_json,
    save_tensors,
    write_json,
)

FROZEN_FORMAT = "flowbind-embedded-net"


def conv_trunk(in_channels: int, width: int) -> nn.Sequential:
    """64x64 -> (4 * width, 4, 4): four stride-2 3x3 convolutions, batch norm, GELU."""
    chans = (in_channels, width, 2 * width, 4 * width, 4 * width)
    layers: list[nn.Module] = []
    for a, b in zip(chans[:-1], chans[1:], strict=True):
        layers += [nn.Conv2d(a, b, 3, 2, 1), nn.BatchNorm2d(b), nn.GELU()]
    return nn.Sequential(*layers)


def conv_encoder(in_channels: int, width: int, out_dim: int) -> nn.Sequential:
    """64x64 -> out_dim: the conv trunk, flattened, then a linear map."""
    return nn.Sequential(
        conv_trunk(in_channels, width), nn.Flatten(), nn.Linear(4 * width * 16, out_dim)
    )


def spatial_encoder(in_channels: int, width: int, latent_dim: int) -> nn.Sequential:
    """64x64 -> latent_dim as a flattened (latent_dim / 4, 2, 2) map: a spatial bottleneck.

    Each of the four latent cells sees mostly one quadrant, which makes the autoencoder learn
    scenes of a few objects far faster than a global linear bottleneck.
    """
    if latent_dim % 4:
        raise ValueError(f"latent_dim must be a multiple of 4, got {latent_dim}")
    return nn.Sequential(
        conv_trunk(in_channels, width), nn.Conv2d(4 * width, latent_dim // 4, 3, 2, 1), nn.Flatten()
    )


def spatial_decoder(latent_dim: int, width: int, out_channels: int) -> nn.Sequential:
    """latent_dim -> 64x64, the mirror of ``spatial_encoder`` (five 2x up-convolutions)."""
    chans = (latent_dim // 4, 4 * width, 4 * width, 2 * width, width)
    layers: list[nn.Module] = [nn.Unflatten(1, (latent_dim // 4, 2, 2))]
    for a, b in zip(chans[:-1], chans[1:], strict=True):
        layers += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b), nn.GELU()]
    layers.append(nn.ConvTranspose2d(width, out_channels, 4, 2, 1))
    return nn.Sequential(*layers)


def point_tensor(points: np.ndarray | Tensor) -> Tensor:
    """float (N, P, 3) point clouds -> float32 (N, 3, P), the layout of ``pointnet``."""
    return torch.as_tensor(np.asarray(points), dtype=torch.float32).transpose(1, 2)


def pointnet(width: int, out_dim: int) -> nn.Sequential:
    """(N, 3, P) -> out_dim: a shared per-point MLP (3 -> w -> 2w -> 4w, batch norm, GELU), max
    pooled over the points (so the order of the points does not matter), then a linear map.
    PointNet (Qi et al. 2017) without its input and feature transforms."""
    chans = (3, width, 2 * width, 4 * width)
    layers: list[nn.Module] = []
    for a, b in zip(chans[:-1], chans[1:], strict=True):
        layers += [nn.Conv1d(a, b, 1), nn.BatchNorm1d(b), nn.GELU()]
    return nn.Sequential(
        *layers, nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(4 * width, out_dim)
    )


def fit_mel_scaling(module: nn.Module, audio: Any) -> Tensor:
    """Log-mel of ``audio``, scaled by its mean and standard deviation, which are stored in
    ``module``'s ``mel_mean`` / ``mel_std`` buffers (for the networks that read log-mel)."""
    mel = batched(log_mel, audio)
    module.mel_mean.copy_(mel.mean())
    module.mel_std.copy_(mel.std())
    return (mel - module.mel_mean) / module.mel_std


def fit(
    module: nn.Module,
    loss_fn: Callable[[np.ndarray], Tensor],
    n_items: int,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    desc: str,
    progress: bool = True,
) -> list[float]:
    """Adam with a cosine decay over ``steps`` minibatches of item indices; returns the losses.

    ``loss_fn`` gets the item indices of one minibatch (drawn without replacement within an
    epoch, from a generator seeded by ``seed``) and returns a scalar loss.
    """
    if n_items < 2:
        raise ValueError(f"{desc}: need at least 2 training items, got {n_items}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr, fused=True)

    def cosine(step: int) -> float:  # the learning rate's factor at ``step``
        return 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))

    batch_size = min(batch_size, n_items)
    order, cursor, losses = rng.permutation(n_items), 0, []
    module.train()
    bar = tqdm(range(steps), desc=desc, unit="step", disable=not progress, leave=False)
    for step in bar:
        optimizer.param_groups[0]["lr"] = lr * cosine(step)
        if cursor + batch_size > n_items:
            order, cursor = rng.permutation(n_items), 0
        batch = order[cursor : cursor + batch_size]
        cursor += batch_size
        loss = loss_fn(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if len(losses) % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    module.eval()
    for p in params:
        p.requires_grad_(False)
    return losses


class Frozen(nn.Module):
    """A network of the embedded benchmark that is trained once, then saved and only used.

    Subclasses set NAME and VERSION (bumped whenever a change to the code would change the
    trained weights, so cached results built with older weights are not reused) and keep the
    constructor's keyword arguments in ``self.config``.
    """

    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    registry: ClassVar[dict[str, type[Frozen]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "NAME" in cls.__dict__:
            Frozen.registry[cls.NAME] = cls

    config: dict[str, Any]

    def save(self, folder: str | Path, info: dict[str, Any] | None = None) -> Path:
        """Write ``config.json`` and ``weights.safetensors`` atomically; ``info`` is stored too."""
        folder = Path(folder)
        with atomic_folder(folder) as tmp:
            save_tensors(tmp / "weights.safetensors", self.state_dict())
            write_json(
                tmp / "config.json",
                {
                    "format": FROZEN_FORMAT,
                    "name": self.NAME,
                    "version": self.VERSION,
                    "config": self.config,
                    "info": info or {},
                },
            )
        return folder


def load_frozen(folder: str | Path, name: str | None = None) -> Frozen:
    """Load a network saved by ``Frozen.save``; ``name`` (if given) must match what is there."""
    folder = Path(folder)
    meta = read_json(folder / "config.json")
    if meta.get("format") != FROZEN_FORMAT or "name" not in meta:
        raise CheckpointError(f"{folder / 'config.json'} is not an embedded-benchmark network")
    if name is not None and meta["name"] != name:
        raise CheckpointError(f"{folder} holds {meta['name']!r}, not {name!r}")
    cls = Frozen.registry.get(meta["name"])
    if cls is None:
        raise CheckpointError(
            f"{folder} holds {meta['name']!r}, which this code does not know; "
            f"known: {sorted(Frozen.registry)}"
        )
    if meta.get("version") != cls.VERSION:
        raise CheckpointError(
            f"{folder} was trained by {meta['name']} version {meta.get('version')!r}; this code "
            f"is version {cls.VERSION!r}. Retrain it (python -m bench.embedded)."
        )
    net = cls(**meta["config"])
    load_weights(net, folder / "weights.safetensors")
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def batched(fn: Callable[[Any], Tensor], items: Any, batch_size: int = 512) -> Tensor:
    """Apply ``fn`` to slices of ``items`` under no_grad and concatenate the results."""
    outs = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            outs.append(fn(items[start : start + batch_size]))
    return torch.cat(outs) if outs else torch.zeros(0)
