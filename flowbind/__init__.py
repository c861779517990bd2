"""FlowBind: any-to-any generation with bidirectional flows around a learned shared anchor.

The method of "FlowBind: Efficient Any-to-Any Generation with Bidirectional Flows" (ICLR 2026),
implemented to match its public code by default, with the paper's objective selectable.

    config.py         FlowBindConfig, every size and modelling choice
    drift.py          the per-modality drift network (adaLN-zero MLP)
    anchor.py         the anchor encoder H_phi and its product of Gaussians
    path.py           the straight anchor-to-data path
    objective.py      the training objective ("official" and "paper" schemes)
    solver.py         ODE integration with torchdiffeq
    normalization.py  per-modality z-scoring of latents
    model.py          FlowBind: encode, decode, translate
    data.py           latent stores, pair tables, minibatch sampling
    training.py       training with checkpoints and exact resume
    checkpoint.py     safetensors + JSON checkpoints
    train_state.py    the optimizer, EMA and random-number state a resume restores
    files.py          atomic writes of the files a run leaves behind, NaN/inf checks of arrays
    checks.py         the checks of every count and real number in the settings
    method.py         the ``Method`` interface the benchmark trains, and FlowBind behind it

This package is the method alone: it imports nothing else from the repository. The benchmark
that trains and scores it (and the baselines) is ``bench``.

The names below load on first use, so that importing a light submodule (the benchmark's tables,
say) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> the submodule that defines it.
_EXPORTS = {
    "AnchorEncoder": "flowbind.anchor",
    "AnchorPosterior": "flowbind.anchor",
    "CheckpointError": "flowbind.checkpoint",
    "DriftNet": "flowbind.drift",
    "FlowBind": "flowbind.model",
    "FlowBindConfig": "flowbind.config",
    "LossTerms": "flowbind.objective",
    "NonFiniteError": "flowbind.files",
    "NonFiniteTrainingError": "flowbind.training",
    "ObjectiveConfig": "flowbind.objective",
    "PairTable": "flowbind.data",
    "TrainConfig": "flowbind.training",
    "TrainResult": "flowbind.training",
    "count_parameters": "flowbind.model",
    "flowbind_loss": "flowbind.objective",
    "integrate": "flowbind.solver",
    "train": "flowbind.training",
}
__all__ = [
    "AnchorEncoder",
    "AnchorPosterior",
    "CheckpointError",
    "DriftNet",
    "FlowBind",
    "FlowBindConfig",
    "LossTerms",
    "NonFiniteError",
    "NonFiniteTrainingError",
    "ObjectiveConfig",
    "PairTable",
    "TrainConfig",
    "TrainResult",
    "count_parameters",
    "flowbind_loss",
    "integrate",
    "train",
]

if TYPE_CHECKING:
    from flowbind.anchor import AnchorEncoder, AnchorPosterior
    from flowbind.checkpoint import CheckpointError
    from flowbind.config import FlowBindConfig
    from flowbind.data import PairTable
    from flowbind.drift import DriftNet
    from flowbind.files import NonFiniteError
    from flowbind.model import FlowBind, count_parameters
    from flowbind.objective import LossTerms, ObjectiveConfig, flowbind_loss
    from flowbind.solver import integrate
    from flowbind.training import NonFiniteTrainingError, TrainConfig, TrainResult, train


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flowbind' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
