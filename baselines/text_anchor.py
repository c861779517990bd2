"""Text anchoring: the paper's ablation in which the text latent itself is the shared anchor.

Instead of a learned anchor, each group's anchor is its z-scored text latent z* = z^text. Image
and audio drifts flow from it: v_m(x_t, t) regresses z^m - z^text on x_t = t z^m + (1 - t) z^text.
Only text-paired data is usable (an image-audio pair has no anchor), and image-audio translation
passes through the text anchor: image drift backwards to a text latent, audio drift forwards.
Text as a source is the anchor as it is; text as a target is the anchor itself.

The drifts, time sampling and ODE inference are FlowBind's, so the comparison isolates the
choice of anchor (the paper's Table 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flowbind.config import FlowBindConfig
from flowbind.data import PairTable
from flowbind.drift import DriftNet
from flowbind.method import FlowBindMethod
from flowbind.model import FlowBind
from flowbind.normalization import LatentNormalizer
from flowbind.objective import LossTerms, ObjectiveConfig, sample_times
from flowbind.path import sample_path

ANCHOR = "text"


class TextAnchorModel(FlowBind):
    """Drifts from the (z-scored) text latent to each other modality; no anchor encoder."""

    def __init__(self, config: FlowBindConfig) -> None:
        nn.Module.__init__(self)
        if ANCHOR not in config.modalities:
            raise ValueError(f"text anchoring needs a {ANCHOR!r} modality, got {config.modalities}")
        self.config = config
        self.drifts = nn.ModuleDict({m: DriftNet(config) for m in config.modalities if m != ANCHOR})
        self.normalizer = LatentNormalizer(config.modalities, config.latent_dim)

    def _check(self, modality: str) -> None:
        if modality not in self.modalities:
            raise KeyError(f"unknown modality {modality!r}; this model has {list(self.modalities)}")

    def loss(self, groups: Sequence[Mapping[str, Tensor]], objective: ObjectiveConfig) -> LossTerms:
        """Flow matching from the text anchor; groups without text contribute nothing."""
        device = next(iter(groups[0].values())).device
        out = LossTerms(total=torch.zeros((), device=device))
        for group in groups:
            if ANCHOR not in group:
                continue
            z_star = group[ANCHOR]
            for modality in sorted(m for m in group if m != ANCHOR):
                z = group[modality]
                path = sample_path(z, z_star, sample_times(z.shape[0], objective, z.device))
                out.add(
                    f"main/{modality}",
                    F.mse_loss(self.drifts[modality](path.x_t, path.t), path.dx_t),
                )
        return out

    def encode(self, modality: str, z: Tensor, **solver) -> Tensor:
        if modality == ANCHOR:
            self._check(modality)
            return self.normalizer.normalize(modality, z).detach()
        return super().encode(modality, z, **solver)

    def decode(self, anchor: Tensor, modality: str, **solver) -> Tensor:
        if modality == ANCHOR:
            return self.normalizer.denormalize(modality, anchor).detach()
        return super().decode(anchor, modality, **solver)


class TextAnchorMethod(FlowBindMethod):
    """The text-anchoring variant behind the common method interface."""

    name = "text_anchor"
    model_class = TextAnchorModel

    def usable_pairs(self, pairs: Sequence[PairTable]) -> list[PairTable]:
        return [p for p in pairs if ANCHOR in p.modalities]
