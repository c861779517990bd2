"""What each method costs as modalities are added: the paper's Appendix J scalability claim.

FlowBind adds one drift network and one encoder head per modality, so its parameters and its
FLOPs per training step grow linearly; the claim is that joint models grow faster. Here every
method is built at K = 3, 4, ... modalities, on the meta device (shapes only), with each of its
networks kept at the width it has at three modalities (``Method.make_model(sized_for=...)``):
the baselines are matched to FlowBind's parameter count at three modalities, and adding a
modality adds what their recipe adds, nothing re-matched. Counted, never typed in:

    parameters     trainable parameters of the K-modality model
    step GFLOP     matrix-product FLOPs of one training step (forward and backward), averaged
                   over the recipe's stages by their steps (bench.flops)

Beside the counts, ``step_seconds`` times real training steps (loss, backward, Adam) of the same
models on random latents, on this machine: ``python -m bench.scaling`` writes both, measured
times for 3 and 4 modalities, to results/cost_scaling.csv, and the workflow's ``cost_scaling``
rule (part of ``snakemake fourth_modality``) does the same with a figure beside it.

``python -m perf.scaling`` is the other assumption about a joint model, at the paper's sizes:
OmniFlow's width grows in proportion to K, so each modality keeps its share of it.

The modalities are the embedded world's four (text, image, audio, points) and then stand-ins
``m5``, ``m6``, ...; the pair tables are the three of the default benchmark and, as in the
paper, one more per added modality, paired with images only and sized like the image-audio
table.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from bench.flops import sized_pairs, training_flops, walk_stages

WORLD = ("text", "image", "audio", "points")
DEFAULT_COUNTS = (3, 4, 5, 6, 8, 10)


def modality_names(k: int) -> tuple[str, ...]:
    """The first ``k`` modalities: the world's four, then stand-ins m5, m6, ..."""
    if k < 3:
        raise ValueError(f"the cost table starts at the three modalities of the paper, got {k}")
    return (*WORLD, *(f"m{i}" for i in range(len(WORLD) + 1, k + 1)))[:k]


def pair_sizes(k: int, base: Mapping[str, int]) -> dict[str, int]:
    """Pair table name -> rows at ``k`` modalities: ``base`` (text-image, text-audio,
    image-audio) and one image-<m> table per further modality, as large as image-audio."""
    sizes = dict(base)
    for m in modality_names(k)[3:]:
        sizes[f"image-{m}"] = base["image-audio"]
    return sizes


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def step_seconds(
    method: Any, pairs: Sequence[Any], sized_for: Any, repeats: int = 20, warmup: int = 5
) -> float:
    """Wall-clock seconds of one training step (loss, backward, Adam) on random latents, on
    this machine's CPU: the median of ``repeats`` timed steps after ``warmup`` untimed ones
    (the median, so that another process taking the core for a while moves it little),
    averaged over the recipe's stages by their steps."""
    config = method.train_config
    dim = method.model_config.latent_dim
    seconds, steps = 0.0, 0
    torch.manual_seed(0)  # the model's initial weights
    for model, stage, sizes in walk_stages(method, pairs, sized_for, device="cpu"):
        groups = [{m: torch.randn(rows, dim) for m in mods} for mods, rows in sizes]
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-4)
        times = []
        for _ in range(warmup + repeats):
            start = time.perf_counter()
            loss = model.loss(groups, config.objective).total
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
        seconds += stage.steps * statistics.median(times[warmup:])
        steps += stage.steps
    return seconds / steps


def cost_rows(
    methods: Sequence[str],
    settings: Mapping[str, Mapping[str, Any]],
    base_pairs: Mapping[str, int],
    counts: Sequence[int] = DEFAULT_COUNTS,
    timed: Sequence[int] = (),
) -> list[dict[str, Any]]:
    """One row per method and modality count: parameters and step GFLOP, and both relative
    to the method's three-modality figures; for the counts in ``timed``, the measured
    seconds of a training step too (None for the others).

    Args:
        methods: registry names (bench.methods.METHODS).
        settings: method -> its build_method keywords (model, train, objective, options), as
            the workflow gives them (bench.train_run.run_settings).
        base_pairs: rows of the text-image, text-audio and image-audio tables.
        counts: the modality counts, each >= 3.
    """
    from bench.methods import build_method

    counts = sorted(counts)
    if counts[0] != 3:
        raise ValueError(f"the counts start at 3, the modalities every ratio is taken to: {counts}")

    def build(name: str, k: int):
        kwargs = settings[name]
        model = {**kwargs["model"], "modalities": list(modality_names(k))}
        keys = ("train", "objective", "options")
        return build_method(name, model=model, **{key: kwargs[key] for key in keys})

    rows = []
    for name in methods:
        reference = build(name, 3).model_config  # sizes the networks at every K
        for k in counts:
            method = build(name, k)
            pairs = sized_pairs(pair_sizes(k, base_pairs))
            flops = training_flops(method, pairs, sized_for=reference)
            with torch.device("meta"):
                built = method.make_model(method.model_config, reference)
            seconds = step_seconds(method, pairs, reference) if k in timed else None
            rows.append(
                {
                    "method": name,
                    "modalities": k,
                    "parameters": parameters(built),
                    "step_gflop": flops / method.train_config.steps / 1e9,
                    "step_ms": None if seconds is None else 1000 * seconds,
                }
            )
    for row in rows:
        first = next(r for r in rows if r["method"] == row["method"])  # its K = 3 row
        row["parameters_ratio"] = row["parameters"] / first["parameters"]
        row["step_gflop_ratio"] = row["step_gflop"] / first["step_gflop"]
    return rows


COLUMNS = {
    "method": "Method",
    "modalities": "Modalities",
    "parameters": "Parameters",
    "parameters_ratio": "Parameters (x 3 modalities)",
    "step_gflop": "Step GFLOP",
    "step_gflop_ratio": "Step GFLOP (x 3 modalities)",
    "step_ms": "Step ms (CPU, measured)",
}


def config_rows(
    config: Mapping[str, Any], counts: Sequence[int] = DEFAULT_COUNTS, timed: Sequence[int] = ()
) -> list[dict[str, Any]]:
    """``cost_rows`` of every method of a resolved embedded workflow config that trains from
    scratch, with the settings of its main runs (bench.train_run.run_settings)."""
    from bench.embedded.build import SIZES
    from bench.methods import trained_from_scratch
    from bench.train_run import run_settings

    if config["benchmark"] != "embedded":
        raise ValueError("the cost table sizes its pair tables from the embedded benchmark's")
    methods = trained_from_scratch(config["methods"])
    settings = {m: run_settings(config, m) for m in methods}
    return cost_rows(methods, settings, SIZES[config["size"]].pair_rows(), counts, timed)


def plot_costs(rows: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """Parameters and training FLOPs per step against the number of modalities, each as a
    multiple of the method's three-modality figure, with linear growth (K / 3) dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bench.tables import label

    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.2), dpi=110)
    panels = (("parameters_ratio", "Parameters"), ("step_gflop_ratio", "Training FLOPs per step"))
    counts = sorted({r["modalities"] for r in rows})
    for ax, (key, title) in zip(axes, panels, strict=True):
        ax.plot(counts, [k / 3 for k in counts], "k--", linewidth=1, label="linear (K / 3)")
        for method in dict.fromkeys(r["method"] for r in rows):
            own = [r for r in rows if r["method"] == method]
            x = [r["modalities"] for r in own]
            ours = method == "flowbind"  # drawn over the others, which its lines may coincide with
            ax.plot(x, [r[key] for r in own], marker="o", markersize=3, label=label(method),
                    linewidth=2.5 if ours else 1.2, zorder=3 if ours else 2)  # fmt: skip
        ax.set_title(f"{title} (x its 3-modality value)", fontsize=9)
        ax.set_xlabel("modalities K", fontsize=8)
        ax.set_xticks(counts)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def write_table(rows: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """The rows as a CSV with readable headers (results/cost_scaling.csv), written atomically."""
    from bench.tables import label
    from flowbind.files import atomic_file

    def cell(key: str, value: Any) -> str:
        if value is None:
            return ""
        if key == "method":
            return label(value)
        if isinstance(value, float):
            return f"{value:.2f}" if key != "step_gflop" else f"{value:.3f}"
        return str(value)

    with atomic_file(Path(path)) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS.values())
        for row in rows:
            writer.writerow([cell(k, row.get(k)) for k in COLUMNS])


def main(argv: Sequence[str] | None = None) -> int:
    from bench.config import resolve_config

    parser = argparse.ArgumentParser(
        prog="python -m bench.scaling",
        description="Parameters, training FLOPs per step and measured step times of every "
        "method of a workflow config against the number of modalities.",
    )
    parser.add_argument("--configfile", nargs="*", default=[], help="workflow config files")
    parser.add_argument("--out", default="results/cost_scaling.csv", help="the CSV to write")
    parser.add_argument("--counts", type=int, nargs="+", default=list(DEFAULT_COUNTS))
    parser.add_argument("--timed", type=int, nargs="*", default=[3, 4], help="counts to time")
    args = parser.parse_args(argv)
    config = resolve_config(args.configfile)
    if config["benchmark"] != "embedded":
        parser.error("the cost table sizes its pair tables from the embedded benchmark's")
    write_table(config_rows(config, args.counts, args.timed), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
