"""FlowBind: per-modality drifts around a learned shared anchor, and any-to-any inference.

Inference never uses the anchor encoder. One source: integrate its drift backwards from the
data (t = 1) to the anchor (t = 0), then the target's drift forwards from the anchor to the
data. Several sources: average their anchors first. Several targets: decode one anchor through
each target's drift.

    model = FlowBind(FlowBindConfig(latent_dim=64, hidden_dim=256, depth=4))
    out = model.translate({"text": z_text}, targets=["image", "audio"])
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from flowbind.anchor import AnchorEncoder
from flowbind.checkpoint import CheckpointError, load_weights, read_model_config, save_model
from flowbind.config import FlowBindConfig
from flowbind.data import check_finite_latents
from flowbind.drift import DriftNet
from flowbind.normalization import LatentNormalizer
from flowbind.objective import LossTerms, ObjectiveConfig, flowbind_loss
from flowbind.solver import integrate


@contextlib.contextmanager
def inference(module: nn.Module) -> Iterator[None]:
    """Eval mode and no gradients inside the block; the module's mode is restored after."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)


def check_translation(
    sources: Mapping[str, Tensor], targets: Sequence[str], config: FlowBindConfig
) -> int:
    """Check a translation's inputs; every method's translate (each baseline's too) calls it first.

    Raises KeyError for a modality the model lacks; ValueError unless there are sources and
    targets, every source is (N, config.latent_dim) and the sources' rows agree; and
    NonFiniteError (a ValueError) naming the modality and the first bad row if a source latent
    is NaN or inf.

    Args:
        sources: modality -> latents of shape (N, D), D = config.latent_dim.
        targets: the modalities to generate.
        config: the model's configuration.

    Returns:
        N, the number of rows of every source batch.
    """
    if not sources:
        raise ValueError("translate needs at least one source modality")
    if not targets:
        raise ValueError("translate needs at least one target modality")
    for m in [*sources, *targets]:
        if m not in config.modalities:
            raise KeyError(f"unknown modality {m!r}; this model has {list(config.modalities)}")
    for m, z in sources.items():
        if z.ndim != 2 or z.shape[1] != config.latent_dim:
            raise ValueError(
                f"translate: source {m!r} must have shape (N, {config.latent_dim}), got "
                f"{tuple(z.shape)}"
            )
    sizes = {m: z.shape[0] for m, z in sources.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"source batches must have the same number of rows, got {sizes}")
    for m, z in sources.items():
        check_finite_latents(
            z,
            f"translate: source {m!r}",
            "check the latents file or the step that made these inputs",
        )
    return next(iter(sizes.values()))


class FlowBind(nn.Module):
    """Drift networks, anchor encoder and latent statistics for a set of modalities."""

    def __init__(self, config: FlowBindConfig) -> None:
        super().__init__()
        self.config = config
        self.drifts = nn.ModuleDict({m: DriftNet(config) for m in config.modalities})
        self.anchor_encoder = AnchorEncoder(config)
        self.normalizer = LatentNormalizer(config.modalities, config.latent_dim)

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities of the configuration."""
        return self.config.modalities

    def num_parameters(self, trainable_only: bool = True) -> int:
        """Parameters of the model: those that require gradients, or all of them."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def loss(
        self,
        groups: Sequence[Mapping[str, Tensor]],
        objective: ObjectiveConfig,
        shard: object = None,
    ) -> LossTerms:
        """The training objective on one minibatch of z-scored pair groups (see objective.py);
        ``shard``: this rank's share of a data-parallel step (flowbind.distributed).

        Args:
            groups: one mapping per pair group, modality -> z-scored latents of shape (N_g, D),
                rows paired.
            objective: the objective's choices.
            shard: a ``flowbind.distributed.Shard``, or None in one process.
        """
        return flowbind_loss(self, groups, objective, shard)

    def _check(self, modality: str) -> None:
        if modality not in self.drifts:
            raise KeyError(f"unknown modality {modality!r}; this model has {list(self.modalities)}")

    def _solve(self, modality: str, x: Tensor, t_start: float, t_end: float, **solver) -> Tensor:
        drift = self.drifts[modality]
        # every row shares the solver's time: the drift embeds it once (DriftNet.forward)
        return integrate(lambda x_t, t: drift(x_t, t[:1]), x, t_start, t_end, **solver)

    def encode(self, modality: str, z: Tensor, **solver: Any) -> Tensor:
        """Map raw latents of one modality to anchors (ODE from t = 1 to t = 0).

        Args:
            modality: the source modality.
            z: raw (not z-scored) latents, shape (N, D).
            **solver: overrides of ``method``, ``steps``, ``atol``, ``rtol``.

        Returns:
            Anchors, shape (N, D).
        """
        self._check(modality)
        with inference(self):
            return self._solve(modality, self.normalizer.normalize(modality, z), 1.0, 0.0, **solver)

    def decode(self, anchor: Tensor, modality: str, **solver: Any) -> Tensor:
        """Map anchors to raw latents of one modality (ODE from t = 0 to t = 1).

        Args:
            anchor: anchors, shape (N, D).
            modality: the target modality.
            **solver: overrides of ``method``, ``steps``, ``atol``, ``rtol``.

        Returns:
            Raw latents, shape (N, D).
        """
        self._check(modality)
        with inference(self):
            return self.normalizer.denormalize(
                modality, self._solve(modality, anchor, 0.0, 1.0, **solver)
            )

    def translate(
        self, sources: Mapping[str, Tensor], targets: Sequence[str], **solver: Any
    ) -> dict[str, Tensor]:
        """Any-to-any translation: one-to-one, one-to-many and many-to-one.

        Args:
            sources: modality -> raw latents of shape (N, D), rows paired across sources.
            targets: the modalities to generate.
            **solver: overrides of ``method``, ``steps``, ``atol``, ``rtol``.

        Returns:
            target modality -> raw latents of shape (N, D).
        """
        check_translation(sources, targets, self.config)
        anchor = self.shared_anchor(sources, **solver)
        return {m: self.decode(anchor, m, **solver) for m in targets}

    def shared_anchor(self, sources: Mapping[str, Tensor], **solver) -> Tensor:
        """The mean of the per-source anchors, shape (N, D); ``solver`` as for ``encode``.

        Args:
            sources: modality -> raw latents of shape (N, D), rows paired across sources.
        """
        anchors = [self.encode(m, z, **solver) for m, z in sources.items()]
        return torch.stack(anchors).mean(dim=0)

    def save(self, path: str | Path) -> Path:
        """Write ``model.safetensors`` and ``config.json`` into the folder ``path``."""
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device = "cpu") -> FlowBind:
        """Restore a model written by ``save``; mismatches raise CheckpointError."""
        path = Path(path)
        if not path.is_dir():
            raise CheckpointError(f"checkpoint folder {path} does not exist")
        model = cls(read_model_config(path))
        load_weights(model, path / "model.safetensors")
        return model.to(map_location)


def count_parameters(config: FlowBindConfig) -> int:
    """Trainable parameters of a FlowBind model, counted on the meta device (nothing allocated)."""
    with torch.device("meta"):
        return FlowBind(config).num_parameters()
