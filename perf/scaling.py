"""How FlowBind and a joint any-to-any model grow with the number of modalities.

    python -m perf.scaling --config workflow/config/paper.yaml --max-modalities 10

For M = 3 ... ``--max-modalities`` modalities, computed from the two implementations on the
meta device (shapes only): trainable parameters, and the FLOPs of one training step (forward
and backward, bench/flops.py) on a batch of ``--batch`` pairs spread evenly over every pair of
modalities. FlowBind (flowbind.FlowBind) adds one drift network and one encoder head per
modality. The joint model is the OmniFlow-style recipe (baselines/omniflow.py): one network over
all modalities' concatenated latents, sized to FlowBind's parameter count at M = 3 as in the main
tables, whose hidden width then grows in proportion to M so that each modality keeps its share
of the width; that is this script's assumption about how a joint model is scaled up.
``python -m bench.scaling`` makes the other assumption, for every method of a workflow config:
each network keeps its three-modality width, and the recipe's own growth shows.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import torch

from baselines.omniflow import OmniFlowModel, _joint_drift
from bench.config import resolve_config
from bench.flops import step_flops
from bench.scaling import parameters
from flowbind import FlowBind, FlowBindConfig
from flowbind.objective import ObjectiveConfig

ROOT = Path(__file__).resolve().parents[1]


def groups(modalities: tuple[str, ...], batch: int) -> list[tuple[tuple[str, str], int]]:
    pairs = list(itertools.combinations(modalities, 2))
    return [(p, max(1, batch // len(pairs))) for p in pairs]


def rows(config: dict, max_modalities: int, batch: int, draws: int = 8) -> list[dict[str, object]]:
    """Parameters and step FLOPs (the mean over ``draws`` loss draws) for 3..max modalities."""
    objective = ObjectiveConfig(**config["objective"])
    sizes = {**config["model"], "latent_dim": config["latent_dim"]}
    base_width = None
    out = []
    for m in range(3, max_modalities + 1):
        names = tuple(f"m{i}" for i in range(m))
        model_config = FlowBindConfig(**sizes, modalities=names)
        with torch.device("meta"):
            flowbind = FlowBind(model_config)
            joint = OmniFlowModel(model_config)
            if base_width is None:  # matched to FlowBind at M = 3
                base_width = joint.net.input_proj.out_features
            joint.net = _joint_drift(model_config, round(base_width * m / 3))
        step = groups(names, batch)
        out.append(
            {
                "modalities": m,
                "flowbind_parameters": parameters(flowbind),
                "joint_parameters": parameters(joint),
                "flowbind_tflop_per_step": step_flops(flowbind, step, objective, draws) / 1e12,
                "joint_tflop_per_step": step_flops(joint, step, objective, draws) / 1e12,
            }
        )
    return out


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "workflow/config/paper.yaml")
    parser.add_argument("--max-modalities", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1024)
    args = parser.parse_args(argv)
    if args.max_modalities < 3:
        parser.error("--max-modalities must be at least 3")
    table = rows(resolve_config([args.config]), args.max_modalities, args.batch)
    print(f"{args.config.name}, {args.batch} pairs per step over every pair of modalities")
    print("| M | FlowBind params | joint params | FlowBind TFLOP/step | joint TFLOP/step |")
    print("|---|---|---|---|---|")
    for r in table:
        print(
            f"| {r['modalities']} | {r['flowbind_parameters'] / 1e6:.0f}M "
            f"| {r['joint_parameters'] / 1e6:.0f}M | {r['flowbind_tflop_per_step']:.2f} "
            f"| {r['joint_tflop_per_step']:.2f} |"
        )
    return table


if __name__ == "__main__":
    main()
