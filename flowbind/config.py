"""The FlowBind model configuration: one frozen dataclass for every size and modelling choice.

The defaults are the paper's configuration as released in the public code (latent D = 768,
width H = 1152, depth L = 12, three modalities): 568M trainable parameters, the paper's Table 1
figure. Small configurations for the embedded benchmark and the tests override the sizes only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flowbind.checks import count_problem, problems_of, real_problem

# Keys that model configs written by earlier versions hold, now generation settings
# (flowbind.solver.SolverConfig): dropped when such a config is read.
MOVED_TO_GENERATION = ("solver", "solver_steps")


@dataclass(frozen=True)
class FlowBindConfig:
    """Sizes and modelling choices of a FlowBind model.

    Attributes:
        modalities: names of the modalities, one drift network and one encoder head each.
        latent_dim: D, the shared latent dimension of every modality's (z-scored) latent.
        hidden_dim: H, the width of each drift network.
        depth: L, the number of adaLN-zero residual blocks per drift network.
        mlp_ratio: hidden width of each block's MLP, as a multiple of H.
        dropout: dropout inside each drift block's MLP (the public code uses 0).
        time_embed_dim: size of the sinusoidal time features fed to the time MLP.
        time_max_period: max_period of the sinusoidal features; the public code uses 10 because
            t lies in [0, 1] (the diffusion default of 10000 would waste most frequencies).
        encoder_hidden_dim: width of each anchor-encoder head; None means hidden_dim.
        encoder_depth: residual MLP blocks per anchor-encoder head.
        encoder_dropout: dropout inside the anchor-encoder blocks.
        anchor_variance: the fixed per-dimension variance of each head's Gaussian; the predicted
            log-variance is discarded, as in the public code.

    The ODE solver is not a model setting: translations take it from ``flowbind.solver``.
    """

    modalities: tuple[str, ...] = ("text", "image", "audio")
    latent_dim: int = 768
    hidden_dim: int = 1152
    depth: int = 12
    mlp_ratio: float = 4.0
    dropout: float = 0.0
    time_embed_dim: int = 256
    time_max_period: float = 10.0
    encoder_hidden_dim: int | None = None
    encoder_depth: int = 3
    encoder_dropout: float = 0.1
    anchor_variance: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "modalities", tuple(self.modalities))
        problems = []
        if not self.modalities:
            problems.append("modalities is empty; give at least one modality name")
        if len(set(self.modalities)) != len(self.modalities):
            problems.append(f"modalities {self.modalities} contains duplicates")
        problems += problems_of(
            *(count_problem(n, getattr(self, n), 1) for n in ("latent_dim", "hidden_dim")),
            count_problem("time_embed_dim", self.time_embed_dim, 1),
            *(count_problem(n, getattr(self, n), 0) for n in ("depth", "encoder_depth")),
            None
            if self.encoder_hidden_dim is None
            else count_problem("encoder_hidden_dim", self.encoder_hidden_dim, 1),
            real_problem("mlp_ratio", self.mlp_ratio, 0, low_open=True),
            *(
                real_problem(n, getattr(self, n), 0, 1, high_open=True)
                for n in ("dropout", "encoder_dropout")
            ),
            real_problem("time_max_period", self.time_max_period, 0, low_open=True),
            real_problem("anchor_variance", self.anchor_variance, 0, low_open=True),
        )
        if problems:
            raise ValueError("invalid FlowBindConfig: " + "; ".join(problems))

    @property
    def encoder_width(self) -> int:
        """Width of each anchor-encoder head: encoder_hidden_dim, or hidden_dim if None."""
        return self.encoder_hidden_dim or self.hidden_dim

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (modalities as a list)."""
        out = dataclasses.asdict(self)
        out["modalities"] = list(self.modalities)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowBindConfig:
        """Build a config from ``to_dict``'s output, dropping keys moved to generation settings.

        Raises ValueError on unknown keys.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in data.items() if k not in MOVED_TO_GENERATION}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown FlowBindConfig fields {unknown}; known fields: {sorted(known)}"
            )
        return cls(**data)
