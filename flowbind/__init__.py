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
    train.py          training with checkpoints and exact resume
    checkpoint.py     safetensors + JSON checkpoints
    datasets/         the embedded benchmark's procedural text-image-audio world
    embedded/         the embedded profile's codecs and evaluators, trained inside the suite
"""

from flowbind.anchor import AnchorEncoder, AnchorPosterior
from flowbind.checkpoint import CheckpointError
from flowbind.config import FlowBindConfig
from flowbind.data import PairTable
from flowbind.drift import DriftNet
from flowbind.model import FlowBind, count_parameters
from flowbind.objective import LossTerms, ObjectiveConfig, flowbind_loss
from flowbind.solver import integrate
from flowbind.train import TrainConfig, TrainResult, train

__all__ = [
    "AnchorEncoder",
    "AnchorPosterior",
    "CheckpointError",
    "DriftNet",
    "FlowBind",
    "FlowBindConfig",
    "LossTerms",
    "ObjectiveConfig",
    "PairTable",
    "TrainConfig",
    "TrainResult",
    "count_parameters",
    "flowbind_loss",
    "integrate",
    "train",
]
