"""What a training checkpoint holds beyond the model: optimizer, EMA, random states, progress.

Everything is stored as safetensors or JSON. Together with the model these make resuming from a
checkpoint give the same weights as a run that was never interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from flowbind.checkpoint import CheckpointError, load_tensors, read_json, save_tensors
from flowbind.files import write_json

STATE_FORMAT = "flowbind-train-state"


@dataclass
class TrainProgress:
    """Step reached and wall time spent so far (summed over resumed runs)."""

    step: int = 0
    wall_time_s: float = 0.0


def optimizer_tensors(optimizer: Optimizer) -> tuple[dict[str, Tensor], list[dict]]:
    """Split an optimizer state dict into flat tensors and JSON-ready parameter groups."""
    state = optimizer.state_dict()
    tensors = {
        f"state.{idx}.{key}": value
        for idx, entry in state["state"].items()
        for key, value in entry.items()
        if isinstance(value, Tensor)
    }
    return tensors, state["param_groups"]


def restore_optimizer(optimizer: Optimizer, tensors: dict[str, Tensor], groups: list[dict]) -> None:
    """Load a state written by ``optimizer_tensors``; CheckpointError if it fits another model.

    ``torch.optim`` checks only the number of parameters, so the shapes of the per-parameter
    moments are checked here: a state of another model must not load into this one.

    Args:
        optimizer: the optimizer to restore, over the model's parameters.
        tensors: "state.<i>.<key>" -> parameter i's state entry: a moment of the parameter's
            shape, e.g. (H, D) for a weight, or a 0-d "step".
        groups: the JSON-ready parameter groups ``optimizer_tensors`` returned.
    """
    state: dict[int, dict[str, Tensor]] = {}
    for name, value in tensors.items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    params = [p for group in optimizer.param_groups for p in group["params"]]
    for idx, entry in state.items():
        for key, value in entry.items():
            if key == "step" or idx >= len(params) or value.shape == params[idx].shape:
                continue
            raise CheckpointError(
                f"optimizer state does not fit this model: {key} of parameter {idx} has shape "
                f"{tuple(value.shape)}, the parameter {tuple(params[idx].shape)}"
            )
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as err:
        raise CheckpointError(f"optimizer state does not fit this model: {err}") from err


def rng_tensors(sampler_state: dict[str, Tensor]) -> dict[str, Tensor]:
    """The global random states (CPU and every CUDA device) and the sampler's.

    Args:
        sampler_state: name -> (S,) uint8 generator state, as the sampler's ``state`` returns.

    Returns:
        "torch", "cuda.<i>" and the sampler's names -> (S,) uint8 random states.
    """
    tensors = {"torch": torch.get_rng_state(), **sampler_state}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{i}"] = s
    return tensors


def restore_rng(tensors: dict[str, Tensor], sampler: Any) -> None:
    """Restore what ``rng_tensors`` saved; ``sampler`` has ``load_state`` (flowbind.data).

    Args:
        tensors: name -> (S,) uint8 random state, as ``rng_tensors`` returns.
        sampler: the sampler whose generators are restored.
    """
    torch.set_rng_state(tensors["torch"])
    sampler.load_state(tensors)
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def write_train_state(
    folder: Path,
    *,
    progress: TrainProgress,
    train_config: dict[str, Any],
    optimizer: Optimizer,
    sampler_state: dict[str, Tensor],
    ema: dict[str, Tensor] | None,
) -> None:
    """Write the non-model half of a training checkpoint into ``folder``.

    Args:
        folder: the checkpoint folder.
        progress: the step reached and the wall time spent.
        train_config: the training settings as a dict, written to state.json.
        optimizer: the optimizer whose state is saved.
        sampler_state: name -> (S,) uint8 generator state of the sampler.
        ema: parameter name -> its moving average, of the parameter's shape, e.g. (H, D);
            None without EMA.
    """
    opt_tensors, groups = optimizer_tensors(optimizer)
    save_tensors(folder / "optimizer.safetensors", opt_tensors)
    save_tensors(folder / "rng.safetensors", rng_tensors(sampler_state))
    if ema is not None:
        save_tensors(folder / "ema.safetensors", ema)
    write_json(
        folder / "state.json",
        {
            "format": STATE_FORMAT,
            "step": progress.step,
            "wall_time_s": progress.wall_time_s,
            "train_config": train_config,
            "param_groups": groups,
        },
    )


def read_train_state(folder: Path) -> dict[str, Any]:
    """state.json of a training checkpoint; CheckpointError if it is not one."""
    meta = read_json(folder / "state.json")
    if meta.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{folder / 'state.json'} is not a FlowBind training state")
    return meta


def load_train_tensors(
    folder: Path, name: str, device: str | torch.device = "cpu"
) -> dict[str, Tensor]:
    """The tensors of ``<name>.safetensors`` in ``folder`` (optimizer, rng or ema)."""
    return load_tensors(folder / f"{name}.safetensors", device=device)
