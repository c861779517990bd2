"""Checkpoints as safetensors plus JSON, never pickle.

A model folder holds ``model.safetensors`` (parameters and latent statistics) and
``config.json`` (the FlowBindConfig). A training checkpoint folder adds the optimizer's tensors,
the EMA weights, the random-number states and ``state.json`` (step and training config).
Folders are written under a temporary name and renamed into place, so an interrupted save never
leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from flowbind.config import FlowBindConfig
from flowbind.files import atomic_folder, write_json

MODEL_FORMAT = "flowbind-model"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, malformed, or does not match the model or config asked for."""


def read_json(path: Path) -> dict[str, Any]:
    """Read a checkpoint's JSON file, raising CheckpointError if it is missing or corrupt."""
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; is {path.parent} a checkpoint folder?")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(
            f"{path} is not valid JSON ({err}); the checkpoint is corrupt"
        ) from err


def save_tensors(path: Path, tensors: Mapping[str, Tensor]) -> None:
    """Write named tensors to a safetensors file, detached, contiguous and on the CPU.

    Args:
        path: the file to write.
        tensors: name -> tensor of any shape, e.g. a state dict's (D_out, D_in) weights.
    """
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(path))


def load_tensors(path: Path, device: str | torch.device = "cpu") -> dict[str, Tensor]:
    """Read a safetensors file onto ``device``, raising CheckpointError if it is unreadable."""
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; is {path.parent} a checkpoint folder?")
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path} is not a readable safetensors file ({err})") from err


def check_state_dict(module: nn.Module, tensors: Mapping[str, Tensor], source: Path) -> None:
    """Raise CheckpointError naming every missing, unexpected or mis-shaped tensor.

    Args:
        module: the model the tensors are meant for; its state dict gives the expected names
            and shapes.
        tensors: name -> tensor, each of the shape of ``module``'s state-dict entry of that
            name, e.g. (D_out, D_in) for a Linear weight or (D,) for a bias.
        source: the file the tensors came from, named in the error.
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    shapes = [
        f"{k}: checkpoint {tuple(tensors[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in sorted(set(expected) & set(tensors))
        if tensors[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing tensors {_short(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {_short(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches {_short(shapes)}")
    if problems:
        raise CheckpointError(
            f"{source} does not match the model built from its config: {'; '.join(problems)}. "
            "Load it with the configuration it was saved with, or re-save it."
        )


def _short(items: list[str], limit: int = 5) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return "[" + ", ".join(items[:limit]) + "]" + more


def config_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Human-readable ``key: saved -> current`` lines for every differing key."""
    keys = sorted(set(saved) | set(current))
    return [
        f"{k}: {saved.get(k, '<absent>')!r} -> {current.get(k, '<absent>')!r}"
        for k in keys
        if saved.get(k, "<absent>") != current.get(k, "<absent>")
    ]


def save_model(model: nn.Module, path: str | Path) -> Path:
    """Write a FlowBind model folder atomically; returns its path."""
    path = Path(path)
    with atomic_folder(path) as tmp:
        write_model_files(model, tmp)
    return path


def write_model_files(model: nn.Module, folder: Path) -> None:
    """Write ``model.safetensors`` and ``config.json`` of ``model`` into ``folder``."""
    save_tensors(folder / "model.safetensors", model.state_dict())
    header = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION}
    write_json(folder / "config.json", {**header, "config": model.config.to_dict()})


def read_model_config(path: str | Path) -> FlowBindConfig:
    """The FlowBindConfig stored in a model folder."""
    path = Path(path)
    meta = read_json(path / "config.json")
    if meta.get("format") != MODEL_FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path / 'config.json'} has format {meta.get('format')!r} version "
            f"{meta.get('format_version')!r}; expected {MODEL_FORMAT!r} version {FORMAT_VERSION}"
        )
    try:
        return FlowBindConfig.from_dict(meta["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(
            f"{path / 'config.json'} holds an invalid model config: {err}"
        ) from err


def load_weights(module: nn.Module, path: Path, device: str | torch.device = "cpu") -> None:
    """Load a safetensors state dict into ``module`` after checking every name and shape."""
    tensors = load_tensors(path, device=device)
    check_state_dict(module, tensors, path)
    module.load_state_dict(tensors)
