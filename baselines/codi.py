"""CoDi-style baseline: prompt encoders aligned to text, then conditional flows from noise.

Re-implements the recipe of CoDi (microsoft/i-Code, i-Code-V3) on the suite's latents, in two
stages, text-anchored throughout:

1. Alignment. Image and audio prompt encoders (small MLPs, D -> D) are pulled onto the text
   latent with a symmetric InfoNCE (CLIP) loss at a fixed ``temperature``, on text-image and
   text-audio pairs only. Text's prompt embedding is its own z-scored latent: CoDi keeps the
   frozen CLIP text encoder as the anchor space and trains only the other encoders to it.
2. Generation. One conditional flow per modality, text included (CoDi generates text too),
   v_m(x_t, t, c) from Gaussian noise (t = 0) to the z-scored latent (t = 1), conditioned on the
   aligned prompt embedding c of the paired source; the prompt encoders stay frozen. A text-image
   pair trains the image flow on the text's embedding and the text flow on the image's; likewise
   text-audio. ``cond_dropout`` replaces c by a learned null embedding (classifier-free training).

Every prompt embedding is L2-normalised, as CoDi's CLIP and CLAP embeddings are, and scaled to
norm sqrt(D), the typical norm of a z-scored latent, so that c enters the flow at the scale of
its other inputs. Several sources are mixed as CoDi mixes them: the equally weighted mean of
their embeddings, not renormalised. Each target is integrated from seeded noise with the guided
velocity v_uncond + guidance_scale * (v_cond - v_uncond).

Image-audio pairs are never used (CoDi trained on none), so image <-> audio goes through the
aligned (text) space directly: audio's flow is conditioned on the image's aligned embedding,
although it only ever saw text embeddings in training. This is what CoDi does.

Stage 1 trains into ``out_dir/stage1``, stage 2 into ``out_dir/stage2``, the whole model ends in
``out_dir/model``. Sizes follow FlowBind's config: the prompt encoders have FlowBind's encoder
width, and the flows' width is chosen so that the total is within 10 % of FlowBind's count.

    method = CoDiMethod(model={"hidden_dim": 128}, train={"steps": 1500})
    method.fit(latents, pairs, "results/train/codi")
    out = method.translate({"image": z_image}, ["audio"])  # via the text-aligned embedding
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from baselines.budget import flowbind_parameters, trainable_parameters, width_for_budget
from baselines.nets import ConditionalDrift
from flowbind.config import FlowBindConfig
from flowbind.data import PairTable
from flowbind.method import FlowBindMethod, Stage, split_steps
from flowbind.model import check_translation, inference
from flowbind.normalization import LatentNormalizer
from flowbind.objective import LossTerms, ObjectiveConfig
from flowbind.path import sample_path
from flowbind.solver import integrate

ANCHOR = "text"
STAGES = (1, 2)  # 1: align the prompt encoders to text; 2: train the conditional flows
NOISE_SEED = 0


@dataclass(frozen=True)
class CoDiOptions:
    """CoDi's own recipe settings (workflow config key ``baselines.codi``).

    Attributes:
        stage1_fraction: share of the optimizer steps spent on stage 1 (alignment).
        temperature: temperature of stage 1's symmetric contrastive loss (CLIP's initial value).
        cond_dropout: probability of replacing a stage-2 condition by the null embedding.
        guidance_scale: classifier-free guidance scale at generation (1 = conditional flow alone).
    """

    stage1_fraction: float = 0.2
    temperature: float = 0.07
    cond_dropout: float = 0.1
    guidance_scale: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 < self.stage1_fraction < 1.0:
            raise ValueError(f"stage1_fraction must lie in (0, 1), got {self.stage1_fraction}")
        if self.temperature <= 0.0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.cond_dropout <= 1.0:
            raise ValueError(f"cond_dropout must lie in [0, 1], got {self.cond_dropout}")
        if self.guidance_scale < 0.0:
            raise ValueError(f"guidance_scale must be >= 0, got {self.guidance_scale}")

    def stage_steps(self, steps: int) -> tuple[int, int]:
        """Steps of (stage 1, stage 2): round(stage1_fraction * steps), at least 1 each."""
        return split_steps(steps, self.stage1_fraction)


def prompt_encoder(dim: int, width: int) -> nn.Sequential:
    """A small MLP D -> width -> width -> D mapping a z-scored latent to a prompt embedding."""
    return nn.Sequential(
        nn.Linear(dim, width), nn.GELU(), nn.Linear(width, width), nn.GELU(), nn.Linear(width, dim)
    )


def contrastive_loss(a: Tensor, b: Tensor, temperature: float) -> Tensor:
    """Symmetric InfoNCE (CLIP): row i of ``a`` should pick row i of ``b`` and vice versa.

    Args:
        a: embeddings, shape (N, D); compared by cosine similarity.
        b: the paired embeddings, shape (N, D).
        temperature: divides the cosine similarities.

    Returns:
        The mean of the a->b and b->a cross-entropies, a scalar.
    """
    assert a.shape == b.shape, f"a {tuple(a.shape)} and b {tuple(b.shape)} differ"
    logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / temperature
    labels = torch.arange(a.shape[0], device=a.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def _parameters(config: FlowBindConfig, width: int) -> int:
    """Trainable parameters of a CoDiModel whose flows have hidden width ``width``."""
    d, others = config.latent_dim, len(config.modalities) - 1
    encoders = trainable_parameters(lambda: prompt_encoder(d, config.encoder_width))
    flow = trainable_parameters(lambda: ConditionalDrift(config, width, cond_dim=d))
    return others * encoders + len(config.modalities) * (flow + d)  # + d: the null embedding


@functools.lru_cache(maxsize=32)
def flow_width(config: FlowBindConfig) -> int:
    """The flows' hidden width that brings CoDi's total nearest FlowBind's count at ``config``."""
    return width_for_budget(lambda w: _parameters(config, w), flowbind_parameters(config))


class CoDiModel(nn.Module):
    """Prompt encoders aligned to text and one conditional flow per modality.

    Attributes:
        stage: 1 (``loss`` trains the prompt encoders) or 2 (``loss`` trains the flows).
        prompt_encoders: modality -> MLP, for every modality but text.
        drifts: modality -> ConditionalDrift v_m(x_t, t, c), noise (t = 0) to data (t = 1).
        null_embeddings: modality -> learned unconditional embedding, shape (D,).
    """

    def __init__(
        self, config: FlowBindConfig, options: CoDiOptions | None = None, width: int | None = None
    ) -> None:
        super().__init__()
        if ANCHOR not in config.modalities:
            raise ValueError(f"CoDi needs a {ANCHOR!r} modality, got {config.modalities}")
        self.config = config
        self.options = options or CoDiOptions()
        self.stage = STAGES[0]
        d = config.latent_dim
        self.prompt_encoders = nn.ModuleDict(
            {m: prompt_encoder(d, config.encoder_width) for m in config.modalities if m != ANCHOR}
        )
        width = flow_width(config) if width is None else width
        self.drifts = nn.ModuleDict(
            {m: ConditionalDrift(config, width, cond_dim=d) for m in config.modalities}
        )
        self.null_embeddings = nn.ParameterDict(
            {m: nn.Parameter(torch.zeros(d)) for m in config.modalities}
        )
        self.normalizer = LatentNormalizer(config.modalities, d)

    @property
    def modalities(self) -> tuple[str, ...]:
        return self.config.modalities

    def _check(self, modality: str) -> None:
        if modality not in self.drifts:
            raise KeyError(f"unknown modality {modality!r}; this model has {list(self.modalities)}")

    def embed(self, modality: str, z: Tensor) -> Tensor:
        """Aligned prompt embedding of z-scored latents: (N, D) -> (N, D), norm sqrt(D) per row."""
        self._check(modality)
        u = z if modality == ANCHOR else self.prompt_encoders[modality](z)
        return F.normalize(u, dim=-1) * math.sqrt(self.config.latent_dim)

    def loss(self, groups: Sequence[Mapping[str, Tensor]], objective: ObjectiveConfig) -> LossTerms:
        """The current stage's loss on z-scored pair groups; ``objective`` (FlowBind's) is unused.

        Raises:
            ValueError: for a group without text: CoDi never trains on image-audio pairs.
        """
        for group in groups:
            if ANCHOR not in group or len(group) != 2:
                raise ValueError(f"CoDi trains on text pairs only, got a {sorted(group)} group")
        device = next(iter(groups[0].values())).device
        out = LossTerms(total=torch.zeros((), device=device))
        for group in groups:
            (other,) = (m for m in group if m != ANCHOR)
            if self.stage == 1:
                e = self.prompt_encoders[other](group[other])
                out.add(
                    f"align/{other}", contrastive_loss(e, group[ANCHOR], self.options.temperature)
                )
                continue
            with torch.no_grad():  # stage 2: the prompt encoders are frozen
                c_other = self.embed(other, group[other])
            c_text = self.embed(ANCHOR, group[ANCHOR])
            for target, c in ((other, c_text), (ANCHOR, c_other)):
                out.add(f"flow/{target}", self._flow_loss(target, group[target], c))
        return out

    def _flow_loss(self, target: str, z: Tensor, c: Tensor) -> Tensor:
        """Conditional flow matching from noise to z (N, D); c (N, D) is dropped at random."""
        x_0 = torch.randn_like(z)
        path = sample_path(z, x_0, torch.rand(z.shape[0], device=z.device))
        dropped = torch.rand(z.shape[0], 1, device=z.device) < self.options.cond_dropout
        c = torch.where(dropped, self.null_embeddings[target].expand_as(c), c)
        return F.mse_loss(self.drifts[target](path.x_t, path.t, c), path.dx_t)

    def guided_velocity(
        self, modality: str, x_t: Tensor, t: Tensor, c: Tensor, guidance_scale: float
    ) -> Tensor:
        """v_uncond + guidance_scale * (v_cond - v_uncond) for (N, D) points, (N,) times, (N, D) c.

        At scale 1 the unconditional flow is not evaluated (the result is v_cond exactly).
        """
        v_cond = self.drifts[modality](x_t, t, c)
        if guidance_scale == 1.0:
            return v_cond
        v_uncond = self.drifts[modality](x_t, t, self.null_embeddings[modality].expand_as(c))
        return v_uncond + guidance_scale * (v_cond - v_uncond)

    def condition(self, sources: Mapping[str, Tensor]) -> Tensor:
        """The equally weighted mean of the sources' aligned embeddings (N, D), from raw latents."""
        device = self.null_embeddings[ANCHOR].device
        embeddings = [
            self.embed(m, self.normalizer.normalize(m, z.to(device))) for m, z in sources.items()
        ]
        return torch.stack(embeddings).mean(dim=0)

    def generate(
        self, c: Tensor, targets: Sequence[str], guidance_scale: float | None = None, **solver: Any
    ) -> dict[str, Tensor]:
        """Integrate each target's guided flow from seeded noise (t = 0) to data (t = 1).

        Args:
            c: conditions (aligned embeddings), shape (N, D).
            targets: the modalities to generate.
            guidance_scale: overrides the options' scale.
            **solver: overrides of ``method``, ``steps``, ``atol``, ``rtol``.

        Returns:
            target -> raw latents, shape (N, D). The noise of target m is drawn from a generator
            seeded with NOISE_SEED + (m's index), so every call and every target set agree.
        """
        scale = self.options.guidance_scale if guidance_scale is None else guidance_scale
        out = {}
        with inference(self):
            for m in targets:
                self._check(m)
                seed = NOISE_SEED + self.modalities.index(m)
                noise = torch.randn(c.shape, generator=torch.Generator().manual_seed(seed))
                x_1 = integrate(
                    functools.partial(self.guided_velocity, m, c=c, guidance_scale=scale),
                    noise.to(c),
                    0.0,
                    1.0,
                    **solver,
                )
                out[m] = self.normalizer.denormalize(m, x_1)
        return out

    def translate(
        self,
        sources: Mapping[str, Tensor],
        targets: Sequence[str],
        guidance_scale: float | None = None,
        **solver: Any,
    ) -> dict[str, Tensor]:
        """Any-to-any: raw source latents (N, D), rows paired -> raw target latents (N, D).

        Every target's flow is conditioned on the mean aligned embedding of the sources; the other
        arguments are ``generate``'s.
        """
        check_translation(sources, targets, self.config)
        with inference(self):
            c = self.condition(sources)
        return self.generate(c, targets, guidance_scale, **solver)


def _enter_stage(stage: int, model: CoDiModel) -> None:
    model.stage = stage


class CoDiMethod(FlowBindMethod):
    """The CoDi-style recipe behind the common method interface: two stages, text pairs only."""

    name = "codi"
    options_class = CoDiOptions
    joint = False

    def make_model(
        self, config: FlowBindConfig, sized_for: FlowBindConfig | None = None
    ) -> CoDiModel:
        return CoDiModel(config, CoDiOptions(**self.options), flow_width(sized_for or config))

    def usable_pairs(self, pairs: Sequence[PairTable]) -> list[PairTable]:
        """Text-paired tables only: CoDi never trained on image-audio pairs."""
        return [p for p in pairs if ANCHOR in p.modalities]

    def training_stages(self, used: Sequence[PairTable]) -> list[Stage]:
        """Stage 1 (alignment) into out_dir/stage1, stage 2 (the flows) into out_dir/stage2."""
        steps = CoDiOptions(**self.options).stage_steps(self.train_config.steps)
        return [
            Stage(f"stage{stage}", list(used), n, functools.partial(_enter_stage, stage))
            for stage, n in zip(STAGES, steps, strict=True)
        ]
