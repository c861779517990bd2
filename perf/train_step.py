"""Training speed of every method at a workflow config's sizes, on one CPU thread.

Builds each method as the workflow's `train` rule does (model, train, objective and baseline
settings from the config), fits it for ``--steps`` optimizer steps on random latents with the
embedded default's pair counts, and prints the wall time per step and the projected time of the
config's full training. No data, codecs or workflow outputs are needed.

Usage: ``python perf/train_step.py [--config workflow/config/default.yaml] [--steps 100]
[--methods flowbind omniflow] [--threads 1]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from bench.methods import build_method
from flowbind.data import PairTable

ROOT = Path(__file__).resolve().parents[1]
# Training pairs of the embedded default (Table 6): text-image, text-audio, image-audio.
PAIRS = {("text", "image"): 3100, ("text", "audio"): 960, ("image", "audio"): 1800}


def random_training_data(dim: int, seed: int = 0, pairs: dict | None = None):
    """Latent stores and pair tables with ``pairs`` (modalities -> count) pairs per table, by
    default the embedded default's pair counts."""
    rng = np.random.default_rng(seed)
    latents: dict[str, list[np.ndarray]] = {}
    tables = []
    for modalities, n in (PAIRS if pairs is None else pairs).items():
        columns = []
        for m in modalities:
            start = sum(len(part) for part in latents.get(m, []))
            latents.setdefault(m, []).append(rng.standard_normal((n, dim), dtype=np.float32))
            columns.append(start + np.arange(n))
        tables.append(PairTable(modalities, np.stack(columns, axis=1)))
    return {m: np.concatenate(parts) for m, parts in latents.items()}, tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "workflow/config/default.yaml")
    parser.add_argument("--steps", type=int, default=100, help="optimizer steps timed per method")
    parser.add_argument("--methods", nargs="*", help="default: the config's methods")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (workflow: 1)")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    config = yaml.safe_load(args.config.read_text())
    torch.set_num_threads(args.threads)
    latents, pairs = random_training_data(config["latent_dim"])
    full_steps = config["train"]["steps"]
    print(f"config {args.config.name}: {args.steps} steps per method, {args.threads} thread(s)")
    print(f"{'method':<12} {'parameters':>10} {'ms/step':>8} {f'{full_steps} steps (s)':>16}")
    for name in args.methods or config["methods"]:
        method = build_method(
            name,
            model={**config["model"], "latent_dim": config["latent_dim"]},
            train={**config["train"], "steps": args.steps, "device": "cpu"},
            objective=config["objective"],
            options=config.get("baselines", {}).get(name, {}),
        )
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            report = method.fit(latents, pairs, Path(out) / name, progress=False)
            seconds = time.perf_counter() - start
        per_step = seconds / args.steps
        print(
            f"{name:<12} {report.parameters:>10,} {1000 * per_step:>8.1f} "
            f"{per_step * full_steps:>16.0f}"
        )


if __name__ == "__main__":
    main()
