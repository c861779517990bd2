"""FlowBind's single flow-matching objective, in the public code's and the paper's variants.

Both variants regress each modality's drift onto the anchor-to-data velocity z^i - z* of the
straight path, with one sampled anchor z* per group of paired latents. They differ in how the
anchor encoder gets its gradient:

- ``official`` (the public code, the default): the main term sees t ~ U(0, 1), replaced by t = 1
  with probability ``p_endpoint`` (0.3), and every input to it is detached. A separate, always-on
  t = 0 term MSE(v_i(z*, 0), z^i - z*) keeps z* attached: it is the encoder's only gradient path.
- ``paper`` (the paper's text): one term with t ~ (1 - a) U(0, 1) + a delta(0), a = ``p_t0``;
  a fraction ``p_endpoint`` of the non-zero times is moved to the endpoint t = 1; the anchor is
  attached only for the t = 0 samples, so the encoder learns from them alone.

Why stop-gradient: with gradient through t > 0, the encoder can reach a constant anchor, for
which v_i = (x_t - z*) / t fits the path exactly. At t = 0 the loss is E[Var(z^i | z*)] plus the
drift's distance to the Bayes drift (the paper's Proposition 1), so the encoder maximises the
variance the anchor explains. ``no_stop_grad`` removes the detaching; it exists only to show the
collapse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flowbind.checks import problems_of, real_problem
from flowbind.path import sample_path

SCHEMES = ("official", "paper")


@dataclass(frozen=True)
class ObjectiveConfig:
    """Choices of the training objective.

    Attributes:
        scheme: "official" (public code) or "paper" (paper text); see the module docstring.
        p_endpoint: probability of replacing a sampled time by the endpoint t = 1 (public code:
            0.3; the paper applies an endpoint objective at random without giving the value).
        p_t0: the paper scheme's a, the mass of t = 0 (not given in the paper; 0.3 by default).
            Unused by the official scheme, whose t = 0 term is always on.
        modality_dropout: probability of dropping each encoder head, once per group.
        no_stop_grad: let the encoder receive gradient through every time (shows collapse).
    """

    scheme: str = "official"
    p_endpoint: float = 0.3
    p_t0: float = 0.3
    modality_dropout: float = 0.5
    no_stop_grad: bool = False

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(
                f"objective scheme {self.scheme!r} is unknown; choose one of {SCHEMES}"
            )
        problems = problems_of(
            *(real_problem(n, getattr(self, n), 0, 1) for n in ("p_endpoint", "p_t0")),
            real_problem("modality_dropout", self.modality_dropout, 0, 1),
        )
        if not isinstance(self.no_stop_grad, bool):
            problems.append(f"no_stop_grad must be True or False, got {self.no_stop_grad!r}")
        if problems:
            raise ValueError("invalid objective: " + "; ".join(problems))


@dataclass
class LossTerms:
    """The objective's value and its terms.

    Attributes:
        total: the scalar minimised, summed over groups and modalities.
        terms: "main/<modality>" and (official scheme) "t0/<modality>", each summed over groups.
    """

    total: Tensor
    terms: dict[str, Tensor] = field(default_factory=dict)

    def add(self, name: str, value: Tensor) -> None:
        """Add value to the term ``name`` (summed when it recurs) and to the total.

        Args:
            name: the term, e.g. "main/text".
            value: a 0-d tensor, e.g. the mean squared error over one group's (N_g, D)
                predictions.
        """
        self.terms[name] = self.terms[name] + value if name in self.terms else value
        self.total = self.total + value


def sample_times(n: int, config: ObjectiveConfig, device: torch.device) -> Tensor:
    """Training times of shape (n,), following the configured scheme."""
    t = torch.rand(n, device=device)
    t = torch.where(torch.rand(n, device=device) < config.p_endpoint, torch.ones_like(t), t)
    if config.scheme == "paper":
        t = torch.where(torch.rand(n, device=device) < config.p_t0, torch.zeros_like(t), t)
    return t


def flowbind_loss(
    model: nn.Module,
    groups: Sequence[Mapping[str, Tensor]],
    config: ObjectiveConfig,
    shard: Any = None,
) -> LossTerms:
    """The FlowBind objective on one minibatch.

    Args:
        model: a FlowBind model, or any module with its ``anchor_encoder`` and ``drifts``
            (modality -> drift network), which are all this objective uses.
        groups: one mapping per pair group (e.g. text-image), modality -> z-scored latents of
            shape (N_g, D) with paired rows. One anchor is sampled per group.
        config: the objective's choices.
        shard: a ``flowbind.distributed.Shard`` (data-parallel training): ``groups`` is the
            global minibatch, of which this rank computes its rows' share. The random draws
            are made for every row and sliced, and each term is this rank's squared-error sum
            over the global count times the world size, so the ranks' mean is the one-process
            loss (and DDP's mean of their gradients its gradient).

    Returns:
        LossTerms with the total and its per-modality terms.
    """
    assert groups, "flowbind_loss needs at least one group"
    device = next(iter(groups[0].values())).device
    # Every random draw happens in the order of a loop over groups and modalities; the drift
    # of each modality then runs once on all of its terms' rows, which on a CPU costs about a
    # third less than one call per term. The terms are added in the loop's order. A shard
    # draws for the whole group and keeps its rows.
    terms: list[tuple[str, str, int, int]] = []  # (name, modality, index of its rows, group rows)
    inputs: dict[str, list[tuple[Tensor, Tensor, Tensor]]] = {}  # modality -> (x, t, target)
    for group in groups:
        n = next(iter(group.values())).shape[0]
        rows = slice(None) if shard is None else shard.rows(n)
        part = group if shard is None else {m: z[rows] for m, z in group.items()}
        # The encoder (a few % of the model's FLOPs) runs on the whole group on every rank, so
        # its dropout masks and the anchor noise are the one-process draws; each rank keeps its
        # rows. (Drift dropout, 0 by default, draws per row: with it the ranks' draws differ.)
        z_star = model.anchor_encoder(group, config.modality_dropout).sample()[rows]
        for modality in sorted(part):
            z = part[modality]
            t = sample_times(n, config, z.device)[rows]
            entries = inputs.setdefault(modality, [])
            if config.scheme == "official":
                anchor = z_star if config.no_stop_grad else z_star.detach()
                path = sample_path(z, anchor, t)
                terms.append((f"main/{modality}", modality, len(entries), n))
                entries.append((path.x_t, path.t, path.dx_t))
                terms.append((f"t0/{modality}", modality, len(entries), n))
                entries.append((z_star, torch.zeros_like(t), z - z_star))
            else:
                at_zero = (t == 0)[:, None]
                anchor = (
                    z_star if config.no_stop_grad else torch.where(at_zero, z_star, z_star.detach())
                )
                path = sample_path(z, anchor, t)
                terms.append((f"main/{modality}", modality, len(entries), n))
                entries.append((path.x_t, path.t, path.dx_t))
    predictions = {}
    for modality, entries in inputs.items():
        x, t, _ = zip(*entries, strict=True)
        v = model.drifts[modality](torch.cat(x), torch.cat(t))
        predictions[modality] = v.split([len(part) for part in x])
    out = LossTerms(total=torch.zeros((), device=device))
    for name, modality, i, n in terms:
        prediction, target = predictions[modality][i], inputs[modality][i][2]
        if shard is None:
            out.add(name, F.mse_loss(prediction, target))
        else:  # this rank's share of the group's mean
            squared = (prediction.float() - target.float()).square().sum()
            out.add(name, squared * (shard.world / (n * target.shape[1])))
    return out
