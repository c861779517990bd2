"""One-to-one translations per second of FlowBind, the flow part only (codecs excluded).

    python -m perf.translate --config workflow/config/paper.yaml --batch 8192
    python -m perf.translate --config workflow/config/default.yaml --device cpu --threads 1

Builds the config's FlowBind (random weights: speed does not depend on them), translates
``--batch`` random text latents to image latents with the config's fixed-step solver (Euler 10
steps each way in the paper) ``--repeats`` times after one untimed run, and prints translations
per second with the FLOPs of a translation counted from the layer shapes (bench/flops.py).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bench.config import resolve_config
from bench.flops import bf16_peak, translation_flops
from flowbind import FlowBind, FlowBindConfig

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "workflow/config/default.yaml")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = resolve_config([args.config])
    solver = config["generation"]
    if solver["method"] not in ("euler", "midpoint", "rk4"):
        parser.error(f"{solver['method']} is adaptive: time a fixed-step solver")
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    model_config = FlowBindConfig(latent_dim=config["latent_dim"], **config["model"])
    torch.manual_seed(0)
    model = FlowBind(model_config).to(device).eval()
    z = torch.randn(args.batch, config["latent_dim"], device=device)
    options = {"method": solver["method"], "steps": solver["steps"]}

    def run() -> None:
        with torch.autocast(device.type, torch.bfloat16, enabled=args.bf16):
            model.translate({"text": z}, ["image"], **options)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    run()  # warm-up
    start = time.perf_counter()
    for _ in range(args.repeats):
        run()
    seconds = (time.perf_counter() - start) / args.repeats
    per_eval = {"euler": 1, "midpoint": 2, "rk4": 4}[solver["method"]]
    flops = translation_flops(model, "text", "image", args.batch, solver["steps"] * per_eval)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = bf16_peak(name)
    row = {
        "device": name,
        "threads": torch.get_num_threads() if device.type == "cpu" else "",
        "config": args.config.name,
        "batch": args.batch,
        "solver": f"{solver['method']} {solver['steps']} + {solver['steps']}",
        "translations_per_s": round(args.batch / seconds, 1),
        "gflop_per_translation": round(flops / args.batch / 1e9, 4),
        "tflop_per_s": round(flops / seconds / 1e12, 3),
        "mfu": "" if peak is None or not args.bf16 else round(flops / seconds / peak, 4),
    }
    for key, value in row.items():
        print(f"{key:>22}: {value}")
    return row


if __name__ == "__main__":
    main()
