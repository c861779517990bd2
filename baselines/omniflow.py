"""OmniFlow: one joint rectified-flow network over all modalities, with one time per modality.

Re-implements the recipe of OmniFlow (Li et al., CVPR 2025) on the suite's latents. The state is
the concatenation x = [x^text, x^image, x^audio] of shape (N, 3D); each modality m has its own time
t_m and its own straight path from noise (t = 0) to its z-scored latent (t = 1):

    x_t^m = t_m z^m + (1 - t_m) eps^m,   target velocity z^m - eps^m.

One velocity network v(x_t, t_text, t_image, t_audio) predicts all three velocities at once.
Training on a pair (two modalities present): the missing modality is pure noise at t = 0 and is
left out of the loss; each present modality is, with probability ``p_condition``, a clean
condition (t_m = 1, left out of the loss) and otherwise a target (t_m ~ U(0, 1), in the loss);
every pair keeps at least one target. Any-to-any generation follows from the times alone:
sources sit clean at t = 1, targets are integrated together from noise at 0 to 1, and any other
modality stays noise at t = 0, as in training.

    method = OmniFlowMethod(model={"latent_dim": 64}, train={"steps": 1500},
                            options={"p_condition": 0.5, "pretrain_fraction": 0.2})
    method.fit(latents, pairs, "results/train/omniflow")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from baselines.budget import flowbind_parameters, trainable_parameters, width_for_budget
from baselines.nets import ConditionalDrift
from flowbind.config import FlowBindConfig
from flowbind.data import PairTable
from flowbind.drift import timestep_features
from flowbind.method import FlowBindMethod, Stage, split_steps
from flowbind.model import check_translation, inference
from flowbind.normalization import LatentNormalizer
from flowbind.objective import LossTerms, ObjectiveConfig
from flowbind.solver import integrate

PRETRAIN_MODALITY = "text"  # OmniFlow is grown from a text-image model: stage 1 sees text pairs


@dataclass(frozen=True)
class OmniFlowOptions:
    """The recipe's own hyper-parameters (config key ``baselines.omniflow``).

    Attributes:
        p_condition: probability that a present modality of a training pair is a clean condition
            (t = 1) instead of a noised target; each pair keeps at least one target.
        pretrain_fraction: share of the optimizer steps spent on stage 1 (text pairs only)
            before joint training on all pairs; 0 trains in one stage.
    """

    p_condition: float = 0.5
    pretrain_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_condition <= 1.0:
            raise ValueError(f"omniflow p_condition must lie in [0, 1], got {self.p_condition}")
        if not 0.0 <= self.pretrain_fraction < 1.0:
            raise ValueError(
                f"omniflow pretrain_fraction must lie in [0, 1), got {self.pretrain_fraction}"
            )


def _joint_drift(config: FlowBindConfig, width: int) -> ConditionalDrift:
    n = len(config.modalities)
    return ConditionalDrift(
        config, width, in_dim=n * config.latent_dim, cond_dim=n * config.time_embed_dim
    )


def joint_width(config: FlowBindConfig) -> int:
    """The joint network's hidden width that brings it nearest FlowBind's count at ``config``."""
    return width_for_budget(
        lambda w: trainable_parameters(lambda: _joint_drift(config, w)),
        flowbind_parameters(config),
    )


class OmniFlowModel(nn.Module):
    """The joint velocity network, sized to FlowBind's parameter count, and latent statistics."""

    def __init__(
        self,
        config: FlowBindConfig,
        options: OmniFlowOptions | None = None,
        width: int | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.options = options or OmniFlowOptions()
        self.net = _joint_drift(config, joint_width(config) if width is None else width)
        self.normalizer = LatentNormalizer(config.modalities, config.latent_dim)

    @property
    def modalities(self) -> tuple[str, ...]:
        return self.config.modalities

    def compile_targets(self) -> list[nn.Module]:
        """The networks train.compile compiles (flowbind.training.compile_networks)."""
        return [self.net]

    def velocity(self, x_t: Tensor, t: Tensor) -> Tensor:
        """Joint velocity of all modalities.

        Args:
            x_t: concatenated states [x^m for m in modalities], shape (N, M * D).
            t: per-modality times, shape (N, M), column j for modality j.

        Returns:
            Concatenated velocities, shape (N, M * D).
        """
        assert t.shape == (x_t.shape[0], len(self.modalities)), f"bad times {tuple(t.shape)}"
        # Each modality's time enters through its own columns of the condition projection (a
        # linear map of its sinusoidal features), so the network knows which modality is clean
        # and which is noise; a plain sum of one shared time embedding could not tell them apart.
        # The shared nonlinear time MLP sees the mean time, the overall noise level.
        c = torch.cat(
            [
                timestep_features(t[:, j], self.config.time_embed_dim, self.config.time_max_period)
                for j in range(t.shape[1])
            ],
            dim=1,
        ).to(x_t.dtype)
        return self.net(x_t, t.mean(dim=1), c)

    def _split(self, x: Tensor) -> dict[str, Tensor]:
        return dict(zip(self.modalities, x.split(self.config.latent_dim, dim=1), strict=True))

    def loss(self, groups: Sequence[Mapping[str, Tensor]], objective: ObjectiveConfig) -> LossTerms:
        """Masked rectified-flow loss on pair groups (FlowBind's ``objective`` is not used).

        Args:
            groups: one mapping per pair table, modality -> z-scored latents of shape (B, D).
            objective: ignored; the recipe's choices live in ``self.options``.

        Returns:
            LossTerms with "main/<modality>": the MSE over that modality's target rows only,
            summed over groups.
        """
        device = next(iter(groups[0].values())).device
        # Every random draw happens group by group; the network then runs once on the rows of
        # all groups (on a CPU about a fifth cheaper than one call per group).
        inputs, times_in, scored = [], [], []  # rows of every group; what to score them against
        for group in groups:
            present = [m for m in self.modalities if m in group]
            b = next(iter(group.values())).shape[0]
            is_target = self._sample_roles(len(present), b, device)  # (B, P)
            t_present = torch.where(is_target, torch.rand(b, len(present), device=device), 1.0)
            x_t, dx_t, times = [], [], []
            for m in self.modalities:
                eps = torch.randn(b, self.config.latent_dim, device=device)
                if m in group:
                    t_m = t_present[:, present.index(m)]
                    z = group[m]
                    x_t.append(t_m[:, None] * z + (1 - t_m[:, None]) * eps)
                    dx_t.append(z - eps)
                else:  # absent: noise at t = 0, as a modality that is neither source nor target
                    t_m = torch.zeros(b, device=device)
                    x_t.append(eps)
                    dx_t.append(torch.zeros_like(eps))
                times.append(t_m)
            inputs.append(torch.cat(x_t, dim=1))
            times_in.append(torch.stack(times, dim=1))
            scored.append((present, is_target, dict(zip(self.modalities, dx_t, strict=True))))
        # float32 loss even under bf16 autocast, as F.mse_loss gives FlowBind
        velocity = self.velocity(torch.cat(inputs), torch.cat(times_in)).float()
        out = LossTerms(total=torch.zeros((), device=device))
        for (present, is_target, targets), v in zip(
            scored, velocity.split([len(x) for x in inputs]), strict=True
        ):
            v = self._split(v)
            for j, m in enumerate(present):
                mask = is_target[:, j].to(v[m].dtype)[:, None]  # (B, 1)
                err = ((v[m] - targets[m]) ** 2 * mask).sum()
                # mean over the target rows; a modality with no target row this step adds 0
                denom = mask.sum().clamp(min=1.0) * self.config.latent_dim
                out.add(f"main/{m}", err / denom)
        return out

    def _sample_roles(self, n_present: int, b: int, device: torch.device) -> Tensor:
        """Bool (B, P): True where a present modality is a target, at least one per row."""
        is_target = torch.rand(b, n_present, device=device) >= self.options.p_condition
        # rows drawn all-condition get one target, chosen uniformly among their modalities
        pick = torch.randint(n_present, (b,), device=device)
        forced = nn.functional.one_hot(pick, n_present).bool()
        none = ~is_target.any(dim=1, keepdim=True)
        return is_target | (forced & none)

    def translate(
        self, sources: Mapping[str, Tensor], targets: Sequence[str], **solver: Any
    ) -> dict[str, Tensor]:
        """Any-to-any generation: sources clamped clean at t = 1, targets integrated jointly.

        Args:
            sources: modality -> raw latents of shape (N, D), rows paired across sources.
            targets: the modalities to generate (none of them a source).
            **solver: overrides of ``method``, ``steps``, ``atol``, ``rtol``.

        Returns:
            target modality -> raw latents of shape (N, D); deterministic (noise seeded with 0).
        """
        n = check_translation(sources, targets, self.config)
        if set(sources) & set(targets):
            raise ValueError(f"{sorted(set(sources) & set(targets))} are both source and target")
        d = self.config.latent_dim
        device = next(self.parameters()).device
        # One noise draw per modality, in a fixed order, so a call is reproducible and the
        # start of a target does not depend on which other targets were asked for.
        gen = torch.Generator().manual_seed(0)
        noise = {m: torch.randn(n, d, generator=gen).to(device) for m in self.modalities}
        clean = {m: self.normalizer.normalize(m, z.to(device).float()) for m, z in sources.items()}
        targets = list(targets)

        def drift(state: Tensor, t: Tensor) -> Tensor:
            x_tgt = dict(zip(targets, state.split(d, dim=1), strict=True))
            x, times = [], []
            for m in self.modalities:
                if m in clean:
                    x.append(clean[m])
                    times.append(torch.ones_like(t))
                elif m in x_tgt:
                    x.append(x_tgt[m])
                    times.append(t)
                else:
                    x.append(noise[m])
                    times.append(torch.zeros_like(t))
            v = self._split(self.velocity(torch.cat(x, dim=1), torch.stack(times, dim=1)))
            return torch.cat([v[m] for m in targets], dim=1)

        with inference(self):
            x0 = torch.cat([noise[m] for m in targets], dim=1)
            x1 = integrate(drift, x0, 0.0, 1.0, **solver)
        return {
            m: self.normalizer.denormalize(m, x)
            for m, x in zip(targets, x1.split(d, dim=1), strict=True)
        }


class OmniFlowMethod(FlowBindMethod):
    """The OmniFlow recipe behind the common method interface (one or two training stages)."""

    name = "omniflow"
    options_class = OmniFlowOptions

    def make_model(
        self, config: FlowBindConfig, sized_for: FlowBindConfig | None = None
    ) -> nn.Module:
        width = joint_width(sized_for or config)
        return OmniFlowModel(config, OmniFlowOptions(**self.options), width)

    def stage_steps(self) -> tuple[int, int]:
        """(stage 1, stage 2) optimizer steps; stage 1 is 0 for the one-stage recipe."""
        steps = self.train_config.steps
        fraction = self.options["pretrain_fraction"]
        if fraction == 0 or steps < 2:
            return 0, steps
        return split_steps(steps, fraction)

    def training_stages(self, used: Sequence[PairTable]) -> list[Stage]:
        """One stage, or with pretrain_fraction > 0 text pairs first (stage1), then all."""
        first, second = self.stage_steps()
        if first == 0:
            return super().training_stages(used)
        text_pairs = [p for p in used if PRETRAIN_MODALITY in p.modalities]
        if not text_pairs:
            raise ValueError(
                f"omniflow stage 1 trains on {PRETRAIN_MODALITY} pairs, but none are among "
                f"{[p.name for p in used]}; set pretrain_fraction to 0"
            )
        return [Stage("stage1", text_pairs, first), Stage("stage2", list(used), second)]
