"""A workflow training run that survives being killed: checkpoints outside the rule's output.

    results/checkpoints/train/<method>/<variant>/seed<seed>/   the run while it trains
        settings.json       the run's settings and the digest of its training latents
        ...                 what Method.fit writes (checkpoints/, loss.csv, model/, method.json)
    results/train/<method>/<variant>/seed<seed>/                the `train` rule's output

Snakemake deletes a job's ``directory()`` output before it runs the job again, so checkpoints
kept there would not survive a retry. The run trains in its work folder instead and resumes
there from its newest checkpoint; only once it has finished is everything but the checkpoints
copied to the output, atomically, and the work folder removed. A work folder left by a run with
other settings or other latents is discarded, never resumed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flowbind.files import atomic_folder, write_json

SETTINGS = "settings.json"


def file_digest(paths: Sequence[str | Path]) -> str:
    """sha256 over the bytes of ``paths``, in the given order."""
    h = hashlib.sha256()
    for path in paths:
        with Path(path).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def has_checkpoints(folder: Path) -> bool:
    return any(folder.glob("**/checkpoints/step_*/state.json"))


def prepare_work(work: str | Path, settings: Mapping[str, Any], inputs: Sequence[Path]) -> str:
    """Make ``work`` ready for ``settings``; says whether the run resumes or starts afresh."""
    work = Path(work)
    record = {"settings": settings, "inputs": file_digest(inputs)}
    saved = work / SETTINGS
    if work.exists():
        previous = json.loads(saved.read_text()) if saved.is_file() else None
        if previous != json.loads(json.dumps(record)):
            shutil.rmtree(work)
            if work.exists():
                raise RuntimeError(f"could not remove {work}")
            note = f"{work} held a run with other settings or latents: discarded, starting afresh"
        elif has_checkpoints(work):
            return f"resuming the interrupted run in {work} from its newest checkpoint"
        else:
            note = f"starting in {work}"
    else:
        note = f"starting in {work}"
    work.mkdir(parents=True, exist_ok=True)
    write_json(saved, record)
    return note


def publish(work: str | Path, out: str | Path, keep: str | Path | None = None) -> None:
    """Copy the finished run in ``work``, all but its checkpoints, to ``out`` atomically, then
    remove ``work`` and the folders above it that it leaves empty, up to ``keep``."""
    work, out = Path(work), Path(out)
    with atomic_folder(out) as tmp:
        shutil.copytree(
            work, tmp, ignore=shutil.ignore_patterns("checkpoints", SETTINGS), dirs_exist_ok=True
        )
    shutil.rmtree(work)
    if keep is None:
        return
    keep = Path(keep).resolve()
    for parent in work.resolve().parents:
        if parent == keep or keep not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()


def run_settings(
    config: Mapping[str, Any], method: str, variant: str = "main", seed: int | None = None
) -> dict[str, Any]:
    """Model, training and data settings of one training run of a resolved workflow config.

    Args:
        config: the resolved config (bench.config.resolve_config).
        method: a registered method name.
        variant: "main", "ia<percent>" (image-audio pairs kept), "objective-<name>"
            (an entry of ablations.objectives), "variance-<v>" (model.anchor_variance v),
            "steps<n>" (n training steps) or "data<percent>" (that share of every pair table).
        seed: the training seed (default: the config's first).
    """
    objective = dict(config["objective"])
    model = {**config["model"], "latent_dim": config["latent_dim"]}
    train = dict(config["train"])
    ia_percent, data_percent = 100, 100
    if variant.startswith("steps"):
        train["steps"] = int(variant.removeprefix("steps"))
    elif variant.startswith("data"):
        data_percent = int(variant.removeprefix("data"))
    elif variant.startswith("variance-"):
        model["anchor_variance"] = float(variant.removeprefix("variance-"))
    elif variant.startswith("ia"):
        ia_percent = int(variant[2:])
    elif variant.startswith("objective-"):
        objective.update(config["ablations"]["objectives"][variant.removeprefix("objective-")])
    elif variant != "main":
        raise ValueError(
            f"unknown run variant {variant!r}: main, ia<percent>, objective-<name>, "
            "variance-<v>, steps<n> or data<percent>"
        )
    seed = config["seeds"][0] if seed is None else seed
    train = {**train, "seed": int(seed), "device": "auto"}
    settings = {
        "method": method,
        "model": model,
        "train": train,
        "objective": objective,
        "ia_fraction": ia_percent / 100,
        "options": config["baselines"].get(method, {}),
    }
    if data_percent != 100:  # absent otherwise, so that the other runs' settings are unchanged
        settings["data_fraction"] = data_percent / 100
    return settings


def train_run(
    settings: Mapping[str, Any],
    latent_dir: str | Path,
    work: str | Path,
    out: str | Path,
    keep: str | Path | None = None,
    progress: bool = False,
) -> Any:
    """Train one run in ``work`` (resuming it there) and publish it to ``out``.

    Under torchrun every rank trains its shard (flowbind.distributed) and rank 0 alone
    prepares the work folder and publishes. Returns the method's FitReport.
    """
    from bench.latents import training_data
    from bench.methods import build_method
    from flowbind import distributed
    from flowbind.training import resolve_device

    latent_dir, work = Path(latent_dir), Path(work)
    shard = distributed.setup(resolve_device(settings["train"]["device"]).type)
    main = shard is None or shard.main
    latents, pairs = training_data(
        latent_dir, settings["ia_fraction"], data_fraction=settings.get("data_fraction", 1.0)
    )
    if main:
        print(prepare_work(work, settings, sorted(latent_dir.glob("train_*.npz"))))
    distributed.barrier(shard)
    method = build_method(
        settings["method"],
        model=settings["model"],
        train=settings["train"],
        objective=settings["objective"],
        options=settings["options"],
    )
    report = method.fit(latents, pairs, work, progress=progress and main)
    if main:
        fractions = {"ia_fraction": settings["ia_fraction"]}
        fractions["data_fraction"] = settings.get("data_fraction", 1.0)
        write_json(work / "fit.json", {**report.to_dict(), **fractions})
        publish(work, out, keep=keep)
    distributed.barrier(shard)
    return report


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bench.train_run``: one training run of a workflow config, alone or under
    torchrun (one process per GPU, data-parallel)."""
    import argparse

    from bench.config import resolve_config

    parser = argparse.ArgumentParser(
        description="Train one run of a workflow config, as the `train` rule does; under "
        "torchrun, data-parallel with one process per GPU.",
        epilog="torchrun --nproc-per-node 8 -m bench.train_run --configfile "
        "workflow/config/paper.yaml --method flowbind",
    )
    parser.add_argument("--configfile", nargs="*", default=[], help="workflow config files")
    parser.add_argument("--method", default="flowbind")
    parser.add_argument(
        "--variant",
        default="main",
        help="main, ia<percent>, objective-<name>, variance-<v>, steps<n>, data<percent>",
    )
    parser.add_argument("--seed", type=int, help="default: the config's first seed")
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    config = resolve_config(args.configfile, {})
    settings = run_settings(config, args.method, args.variant, args.seed)
    name = f"{args.method}/{args.variant}/seed{settings['train']['seed']}"
    report = train_run(
        settings,
        args.results / "latents",
        args.results / "checkpoints" / "train" / name,
        args.results / "train" / name,
        keep=args.results,
        progress=True,
    )
    print(report)


if __name__ == "__main__":
    main()
