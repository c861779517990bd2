"""FLOPs of a training step and of a translation, counted from the layer shapes.

The model is copied to PyTorch's ``meta`` device (shapes, no data), the step or translation runs
there under ``torch.utils.flop_counter.FlopCounterMode``, and every matrix product is counted
from its operands' shapes: nothing is typed in, and nothing is computed. Elementwise work
(norms, activations, the loss) is not counted, as is usual for model-FLOP utilisation.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from flowbind.data import PairTable

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
    model: nn.Module,
    group_sizes: Sequence[tuple[Sequence[str], int]],
    objective: object,
    draws: int = 8,
) -> int:
    """FLOPs of one training step (forward and backward) of ``model.loss``, the mean over
    ``draws`` seeded draws of the loss's random choices (which modalities an anchor is built
    from, which rows sit at an endpoint: they decide which products run). The global random
    state is left as it was.

    Args:
        model: any of the suite's models (FlowBind or a baseline), on any device.
        group_sizes: the step's pair groups: (modalities, rows) each.
        objective: the ObjectiveConfig the loss takes.
        draws: loss draws averaged.
    """
    meta = on_meta(model)
    dim = model.config.latent_dim
    total = 0
    with torch.random.fork_rng(devices=[]):
        for draw in range(draws):
            torch.manual_seed(draw)
            groups = [
                {m: torch.randn(rows, dim, device="meta") for m in modalities}
                for modalities, rows in group_sizes
            ]
            with FlopCounterMode(display=False) as counter:
                meta.loss(groups, objective).total.backward()
            total += counter.get_total_flops()
    return round(total / draws)


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


def group_sizes(
    pairs: Sequence[PairTable], batch_size: int, batching: str
) -> list[tuple[tuple[str, ...], int]]:
    """The pair groups of one training step, (modalities, rows) each: ``batch_size`` rows of
    every table ("per_table"), or the tables' expected shares of ``batch_size`` rows
    ("proportional", rounded; a table with no row has no group)."""
    if batching == "per_table":
        return [(p.modalities, batch_size) for p in pairs]
    total = sum(len(p) for p in pairs)
    sizes = [(p.modalities, round(batch_size * len(p) / total)) for p in pairs]
    return [(modalities, rows) for modalities, rows in sizes if rows > 0]


def walk_stages(
    method: Any, pairs: Sequence[PairTable], sized_for: Any = None, device: str = "meta"
) -> Iterator[tuple[nn.Module, Any, list[tuple[tuple[str, ...], int]]]]:
    """Build ``method``'s model for ``pairs`` on ``device`` and walk its training stages as
    ``fit`` would: yields (model, stage, the stage's pair groups), each stage's ``prepare``
    applied first. ``sized_for`` goes to ``Method.make_model``."""
    method.configure(pairs)
    used = method.checked_pairs(pairs)
    config = method.train_config
    with torch.device(device):
        model = method.make_model(method.model_config, sized_for)
    for stage in method.training_stages(used):
        if stage.prepare is not None:
            stage.prepare(model)
        yield model, stage, group_sizes(stage.pairs, config.batch_size, config.batching)


def training_flops(
    method: Any,
    pairs: Sequence[PairTable],
    cache: dict[str, int] | None = None,
    sized_for: Any = None,
) -> int:
    """FLOPs of a whole ``method.fit`` on ``pairs`` (a FlowBindMethod or a baseline's): every
    training stage's step FLOPs (its pairs, its loss) times its steps. Only the tables'
    modalities and sizes matter; nothing is trained.

    Args:
        cache: step FLOPs by method, sizes, stage and step settings, shared between calls so
            that runs differing only in their steps count each stage once.
        sized_for: the config whose parameter budget sizes a matched method's networks
            (``Method.make_model``); None: the method's own.
    """
    config = method.train_config
    cache = {} if cache is None else cache
    total = 0
    for model, stage, sizes in walk_stages(method, pairs, sized_for):
        key = repr(
            (
                method.name,
                method.model_config,
                sized_for,
                method.options,
                config.objective,
                stage.name,
                sizes,
            )
        )
        if key not in cache:
            cache[key] = step_flops(model, sizes, config.objective)
        total += stage.steps * cache[key]
    return total


def sized_pairs(counts: Mapping[str, int]) -> list[PairTable]:
    """Pair tables of the given sizes (name "text-image" -> rows), for counting FLOPs: a fit
    report's ``pairs``."""
    return [
        PairTable(tuple(name.split("-")), np.zeros((n, len(name.split("-"))), dtype=np.int64))
        for name, n in counts.items()
    ]
