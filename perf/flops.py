"""FLOPs of a training step and of a translation, counted from the layer shapes.

The model is copied to PyTorch's ``meta`` device (shapes, no data), the step or translation runs
there under ``torch.utils.flop_counter.FlopCounterMode``, and every matrix product is counted
from its operands' shapes: nothing is typed in, and nothing is computed. Elementwise work
(norms, activations, the loss) is not counted, as is usual for model-FLOP utilisation.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# Dense bf16 tensor-core peak (FLOP/s) by device name, from the vendors' data sheets.
BF16_PEAK = {
    "H200": 989.4e12,
    "H100 PCIe": 756.0e12,
    "H100": 989.4e12,  # SXM
    "A100": 312.0e12,
    "L40S": 362.1e12,
}


def bf16_peak(device_name: str) -> float | None:
    """The dense bf16 peak of a GPU named ``device_name``; None if unknown (or a CPU)."""
    for key, peak in BF16_PEAK.items():  # "H100 PCIe" before "H100"
        if key in device_name:
            return peak
    return None


def on_meta(model: nn.Module) -> nn.Module:
    """A shape-only copy of ``model``."""
    return copy.deepcopy(model).to("meta")


def step_flops(
    model: nn.Module, group_sizes: Sequence[tuple[Sequence[str], int]], objective: object
) -> int:
    """FLOPs of one training step (forward and backward) of ``model.loss``.

    Args:
        model: any of the suite's models (FlowBind or a baseline), on any device.
        group_sizes: the step's pair groups: (modalities, rows) each.
        objective: the ObjectiveConfig the loss takes.
    """
    meta = on_meta(model)
    dim = model.config.latent_dim
    groups = [
        {m: torch.randn(rows, dim, device="meta") for m in modalities}
        for modalities, rows in group_sizes
    ]
    with FlopCounterMode(display=False) as counter:
        meta.loss(groups, objective).total.backward()
    return int(counter.get_total_flops())


def translation_flops(model: nn.Module, source: str, target: str, rows: int, steps: int) -> int:
    """FLOPs of a one-to-one FlowBind translation of ``rows`` items with fixed-step Euler:
    ``steps`` evaluations of the source's drift back to the anchor, ``steps`` of the target's
    forward, each on one time shared by every row (as ``FlowBind._solve`` calls them)."""
    meta = on_meta(model)
    x = torch.randn(rows, model.config.latent_dim, device="meta")
    t = torch.zeros(1, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta.drifts[source](x, t)
        meta.drifts[target](x, t)
    return steps * int(counter.get_total_flops())
