"""Matched budgets: size a baseline's networks so its trainable parameters match FlowBind's.

The controlled comparison gives every method the same latents, pairs, optimizer steps and batch
size, and (within 10 %) the same number of trainable parameters. A baseline states how its count
grows with one width; ``width_for_budget`` picks the width that lands nearest FlowBind's count
for the same config, so the match holds at every size the workflow runs (tiny, default, paper).

    width = width_for_budget(lambda h: count_parameters_of(MyNet, h), flowbind_parameters(config))
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from flowbind.config import FlowBindConfig
from flowbind.model import count_parameters

BUDGET_TOLERANCE = 0.10


def flowbind_parameters(config: FlowBindConfig) -> int:
    """Trainable parameters of FlowBind at ``config``: the budget every baseline is sized to."""
    return count_parameters(config)


def trainable_parameters(build: Callable[[], nn.Module]) -> int:
    """Trainable parameters of the module ``build()`` makes, built on the meta device."""
    with torch.device("meta"):
        module = build()
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def width_for_budget(count: Callable[[int], int], budget: int, max_width: int = 1 << 15) -> int:
    """The width w >= 1 whose ``count(w)`` is nearest ``budget``; ``count`` must grow with w.

    Raises:
        ValueError: when even width 1 exceeds the budget by more than BUDGET_TOLERANCE, or the
            budget needs a width past ``max_width``; the message names both counts.
    """
    if budget < 1:
        raise ValueError(f"the parameter budget must be >= 1, got {budget}")
    lo, hi = 1, max_width
    if count(hi) < budget:
        raise ValueError(
            f"a budget of {budget} parameters needs a width past {max_width} "
            f"({count(hi)} parameters there)"
        )
    while lo < hi:  # smallest width whose count reaches the budget
        mid = (lo + hi) // 2
        if count(mid) >= budget:
            hi = mid
        else:
            lo = mid + 1
    best = min((w for w in (lo - 1, lo) if w >= 1), key=lambda w: abs(count(w) - budget))
    if count(best) > budget * (1 + BUDGET_TOLERANCE):
        raise ValueError(
            f"the smallest network has {count(best)} parameters, more than the budget of {budget} "
            f"+{BUDGET_TOLERANCE:.0%}; give FlowBind a larger model.hidden_dim or depth"
        )
    return best
