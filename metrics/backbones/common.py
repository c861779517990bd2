"""The paper benchmark's backbones: shared weight resolution, strict loading, input checks."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from metrics.backbones.registry import REGISTRY, checked_path
from metrics.validation import MetricInputError

Weights = str | Path | None


class BackboneUnavailableError(RuntimeError):
    """A backbone needs something this machine lacks (a package, files from a hub cache)."""


def _resolve(weights: Weights, default_entry: str) -> Path | None:
    """None, or the checked file for "registry" / a registry entry name / a path."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "registry":
        return checked_path(default_entry)
    if isinstance(weights, str) and weights in REGISTRY:
        return checked_path(weights)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"weights file {path} does not exist (registry entries: {', '.join(sorted(REGISTRY))})"
        )
    return path


def _load_tensors(path: Path) -> dict[str, Any]:
    """A checkpoint of tensors, read with ``weights_only=True``; clear error if it holds more."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise RuntimeError(
            f"{path} holds Python objects besides tensors and is not unpickled for safety; "
            "check it is the official file"
        ) from exc


def _unprefixed(state: dict[str, Any], prefix: str = "module.") -> dict[str, Any]:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def _load_strict(
    module: nn.Module, state: dict[str, Any], source: Path, optional: tuple[str, ...] = ()
) -> None:
    """load_state_dict that names the file on failure; keys ending in ``optional`` may be absent."""
    result = module.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith(optional)]
    if missing or result.unexpected_keys:
        raise RuntimeError(
            f"{source} does not fit {type(module).__name__}: missing {missing[:5]} "
            f"({len(missing)}), unexpected {result.unexpected_keys[:5]} "
            f"({len(result.unexpected_keys)})"
        )


class _Frozen(nn.Module):
    """Frozen feature extractor: eval mode that ``train()`` keeps, no gradients."""

    def _freeze(self) -> None:
        for param in self.parameters():
            param.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> _Frozen:
        return super().train(False)

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")


def _to_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x.detach()
    if hasattr(x, "convert") and hasattr(x, "size"):  # PIL image
        return torch.from_numpy(np.array(x.convert("RGB")))
    return torch.as_tensor(np.asarray(x))


def _image_batch(x: Tensor, name: str) -> Tensor:
    """(N, C, H, W) with C = 3: uint8 0..255, or float clamped to [0, 1] after a range check."""
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise MetricInputError(f"{name} must be (N,3,H,W) float or (N,H,W,3) uint8, got {x.shape}")
    if x.dtype == torch.uint8:
        if x.shape[-1] in (1, 3):  # channels last, the documented uint8 layout
            x = x.permute(0, 3, 1, 2)
    elif x.is_floating_point():
        if x.numel() and not torch.isfinite(x).all():
            raise MetricInputError(f"{name} has NaN or inf values")
        lo, hi = (float(x.min()), float(x.max())) if x.numel() else (0.0, 1.0)
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise MetricInputError(
                f"float {name} must be in [0, 1], got min {lo:.3g} max {hi:.3g} (map [-1, 1] "
                "with (x + 1) / 2; pass 0..255 images as uint8)"
            )
        x = x.float().clamp(0, 1)
    else:
        raise MetricInputError(f"{name} must be float in [0, 1] or uint8, got {x.dtype}")
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[1] != 3:
        raise MetricInputError(f"{name} must have 1 or 3 channels, got shape {tuple(x.shape)}")
    return x


def _image_groups(images: Any, name: str = "images") -> Iterator[Tensor]:
    """Equal-size batches: the whole input if it is one array, else one per listed image."""
    if isinstance(images, Tensor | np.ndarray):
        yield _image_batch(_to_tensor(images), name)
        return
    if not isinstance(images, Sequence) or not images:
        raise MetricInputError(f"{name}: expected an image array or a non-empty list of images")
    for i, image in enumerate(images):
        yield _image_batch(_to_tensor(image), f"{name}[{i}]")


def _waveforms(audio: Any, name: str, min_samples: int = 1) -> list[Tensor]:
    """Mono float64 clips from (N, S) / (N, C, S) / (S,) arrays or a list of 1-D clips.

    int16 is divided by 32768; several channels are averaged (as torchvggish does).
    """
    if isinstance(audio, Tensor | np.ndarray):
        x = _to_tensor(audio)
        if x.dtype == torch.int16:
            x = x.to(torch.float64) / 32768.0
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.ndim == 3 and x.is_floating_point():
            x = x.to(torch.float64).mean(dim=1)
        if x.ndim != 2:
            raise MetricInputError(f"{name} must be (N, samples), got shape {tuple(x.shape)}")
        clips = list(x)
    elif isinstance(audio, Sequence) and audio:
        clips = [_to_tensor(c) for c in audio]
    else:
        raise MetricInputError(f"{name}: expected a waveform array or a non-empty list of clips")
    out = []
    for i, clip in enumerate(clips):
        if clip.ndim != 1:
            raise MetricInputError(f"{name}[{i}] must be 1-D, got shape {tuple(clip.shape)}")
        if clip.dtype == torch.int16:
            clip = clip.to(torch.float64) / 32768.0
        elif clip.is_floating_point():
            clip = clip.to(torch.float64)
        else:
            raise MetricInputError(f"{name}[{i}] must be float in [-1, 1] or int16")
        if not torch.isfinite(clip).all():
            raise MetricInputError(f"{name}[{i}] has NaN or inf samples")
        if clip.numel() < min_samples:
            raise MetricInputError(
                f"{name}[{i}] has {clip.numel()} samples; at least {min_samples} are needed"
            )
        out.append(clip)
    return out
