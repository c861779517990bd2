"""The fast training path against the plain one: loss curves over seeds on a config's latents.

    python -m perf.fast_path                       # the embedded default, 3 seeds, this device
    python -m perf.fast_path --configfile workflow/config/tiny.yaml --seeds 0 1 2 3

Trains FlowBind with the config's recipe on the workflow's training latents (results/latents,
made by `snakemake encode`) once per seed on the plain path (the reference) and once on the fast
path (TrainConfig.fast, plus ``--compile``), and compares the total loss of every log row: the
difference of the two seed means against its standard error. The fast path draws other random
rows, so its runs are other seeds of the same training: it matches when every row's difference
is within ``--z`` standard errors. Prints the table and the verdict, writes it to ``--csv`` and
exits non-zero when a row is outside.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def loss_curve(path: Path) -> tuple[list[int], list[float]]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [int(r["step"]) for r in rows], [float(r["loss"]) for r in rows]


def compare(plain: np.ndarray, fast: np.ndarray, z: float) -> dict[str, np.ndarray]:
    """Per log row (columns of the (seeds, rows) arrays): means, standard error, within z SE."""
    se = np.sqrt(plain.var(0, ddof=1) / len(plain) + fast.var(0, ddof=1) / len(fast))
    diff = fast.mean(0) - plain.mean(0)
    return {
        "plain_mean": plain.mean(0),
        "plain_sd": plain.std(0, ddof=1),
        "fast_mean": fast.mean(0),
        "fast_sd": fast.std(0, ddof=1),
        "diff": diff,
        "se": se,
        "within": np.abs(diff) <= z * se,
    }


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", nargs="*", default=[], help="workflow config files")
    parser.add_argument("--latents", type=Path, default=ROOT / "results/latents")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:i]")
    parser.add_argument("--compile", default="off", help="train.compile of the fast runs")
    parser.add_argument("--z", type=float, default=4.0, help="standard errors allowed")
    parser.add_argument("--csv", type=Path, default=ROOT / "results/perf/fast_path.csv")
    args = parser.parse_args(argv)
    if len(args.seeds) < 2:
        parser.error("--seeds: at least two, to estimate the seed noise")
    if not (args.latents / "train_ti.npz").is_file():
        parser.error(
            f"no training latents in {args.latents}: make them with `snakemake --cores all "
            "encode` (the embedded default) or pass --latents"
        )

    from bench.config import resolve_config
    from bench.latents import training_data
    from bench.methods import build_method

    config = resolve_config(args.configfile, {})
    latents, pairs = training_data(args.latents, 1.0)
    curves: dict[bool, list[list[float]]] = {False: [], True: []}
    steps: list[int] = []
    with tempfile.TemporaryDirectory() as scratch:
        for fast in (False, True):
            for seed in args.seeds:
                train = {**config["train"], "seed": seed, "device": args.device, "fast": fast}
                if fast:
                    train["compile"] = args.compile
                method = build_method(
                    "flowbind",
                    model={**config["model"], "latent_dim": config["latent_dim"]},
                    train=train,
                    objective=config["objective"],
                )
                out = Path(scratch) / f"{'fast' if fast else 'plain'}{seed}"
                method.fit(latents, pairs, out, progress=False)
                steps, losses = loss_curve(out / "loss.csv")
                curves[fast].append(losses)
                print(f"{'fast ' if fast else 'plain'} seed {seed}: final loss {losses[-1]:.4f}")
    result = compare(np.array(curves[False]), np.array(curves[True]), args.z)
    header = ["step", *result]
    rows = [[s, *(result[k][i] for k in result)] for i, s in enumerate(steps)]
    print(" ".join(f"{h:>10}" for h in header))
    for row in rows:
        print(" ".join(f"{v:>10.4f}" if isinstance(v, float) else f"{v!s:>10}" for v in row))
    matched = bool(result["within"].all())
    worst = float(np.max(np.abs(result["diff"]) / result["se"]))
    print(
        f"fast path {'matches' if matched else 'does NOT match'} the plain path within "
        f"{args.z:g} standard errors of the seed means ({len(args.seeds)} seeds each; the "
        f"largest difference is {worst:.2f} SE)"
    )
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with args.csv.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return matched


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
