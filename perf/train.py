"""Training throughput of FlowBind (or a baseline) at a workflow config's sizes.

    python -m perf.train --config workflow/config/paper.yaml --steps 50
    python -m perf.train --config workflow/config/paper.yaml --no-fast --compile off  # plain
    python -m perf.train --config workflow/config/default.yaml --device cpu --threads 2
    for w in 256 512 1152; do for b in 128 512; do
        python -m perf.train --width $w --batch $b; done; done     # step time against width, batch

Trains the config's model with the config's recipe (``flowbind.train``, as the workflow does) on
random latents whose pair tables have the paper's proportions, times the steps after
``--warmup``, and prints steps/s, samples/s, the FLOPs of a step counted from the layer shapes
(bench/flops.py), the achieved TFLOP/s and the model-FLOP utilisation against the device's dense
bf16 peak (none on a CPU). Appends one row to ``--csv`` with the device, config and commit.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from bench.config import resolve_config
from bench.flops import bf16_peak, group_sizes, step_flops
from bench.methods import build_method
from flowbind.data import PairTable
from flowbind.training import COMPILE_MODES
from perf.train_step import random_training_data

ROOT = Path(__file__).resolve().parents[1]
# The paper's training pairs (FACTS: LAION-COCO + Flickr30k, AudioCaps, VGGSound), in thousands.
PAPER_PAIRS = {("text", "image"): 272, ("text", "audio"): 91, ("image", "audio"): 184}


def random_pairs(dim: int, total: int, seed: int = 0) -> tuple[dict, list[PairTable]]:
    """Random latents and pair tables of ``total`` pairs in the paper's proportions."""
    weight = sum(PAPER_PAIRS.values())
    counts = {m: max(1, total * share // weight) for m, share in PAPER_PAIRS.items()}
    return random_training_data(dim, seed, counts)


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "workflow/config/default.yaml")
    parser.add_argument("--method", default="flowbind")
    parser.add_argument("--steps", type=int, default=50, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--pairs", type=int, default=20000, help="random training pairs")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:i]")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--width", type=int, help="override model.hidden_dim (and the encoder's)")
    parser.add_argument("--batch", type=int, help="override train.batch_size")
    parser.add_argument(
        "--fast",
        action=argparse.BooleanOptionalAction,
        help="override train.fast: the fast path (--fast) or the plain one (--no-fast)",
    )
    parser.add_argument(
        "--compile", choices=COMPILE_MODES, help="override train.compile (torch.compile mode)"
    )
    parser.add_argument("--csv", type=Path, default=ROOT / "results/perf/train.csv")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 1:
        parser.error("--steps and --warmup must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)

    config = resolve_config([args.config])
    if args.width:
        config["model"].update(hidden_dim=args.width, encoder_hidden_dim=args.width)
    if args.batch:
        config["train"]["batch_size"] = args.batch
    total_steps = args.warmup + args.steps
    train = {**config["train"], "steps": total_steps, "device": args.device}
    if args.fast is not None:
        train["fast"] = args.fast
    if args.compile:
        train["compile"] = args.compile
    # Timed at log steps: the end of the warm-up and the end are both log steps, and the fast
    # path reads the device only there (so the clock waits for the device's queue to drain).
    log_every = math.gcd(args.warmup, args.steps)
    train.update(log_every=log_every, checkpoint_every=total_steps)
    method = build_method(
        args.method,
        model={**config["model"], "latent_dim": config["latent_dim"]},
        train=train,
        objective=config["objective"],
        options=config["baselines"].get(args.method, {}),
    )
    latents, pairs = random_pairs(config["latent_dim"], args.pairs)
    model = method.build()
    # the FLOPs of one step: the expected pair-group sizes of the tables it trains on, counted
    # on shapes only
    sizes = group_sizes(method.usable_pairs(pairs), train["batch_size"], train["batching"])
    flops = step_flops(model, sizes, method.train_config.objective)
    samples = int(sum(n for _, n in sizes))

    times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as out:
        from flowbind.training import train as train_model

        train_model(
            model,
            latents,
            method.usable_pairs(pairs),
            method.train_config,
            Path(out) / "run",
            progress=False,
            callback=lambda step, values: times.update({step: time.perf_counter()}),
        )
    device = next(model.parameters()).device
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    per_step = (times[total_steps] - times[args.warmup]) / args.steps  # after the warm-up
    achieved = flops / per_step
    peak = bf16_peak(name)
    row = {
        "date": datetime.date.today().isoformat(),
        "commit": commit(),
        "device": name,
        "threads": torch.get_num_threads() if device.type == "cpu" else "",
        "config": args.config.name,
        "method": args.method,
        "fast": method.train_config.fast,
        "compile": method.train_config.compile,
        "width": config["model"]["hidden_dim"],
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "batch": samples,
        "steps_per_s": round(1 / per_step, 3),
        "samples_per_s": round(samples / per_step, 1),
        "tflop_per_step": round(flops / 1e12, 4),
        "tflop_per_s": round(achieved / 1e12, 3),
        "mfu": "" if peak is None else round(achieved / peak, 4),
        "command": "python -m perf.train " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    for key, value in row.items():
        print(f"{key:>15}: {value}")
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    new = not args.csv.is_file()
    with args.csv.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
    return row


if __name__ == "__main__":
    main()
