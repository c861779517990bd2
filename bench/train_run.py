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
import math
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


def snapshot_steps(config: Mapping[str, Any], method: str) -> list[int]:
    """The budgets of ``curves.steps`` that ``method``'s longest budget run provides as
    snapshots instead of runs of their own; empty where it cannot.

    After warm-up the learning rate is constant, so the weights of an n-step run are those of a
    longer run (same seed) at step n. A snapshot is such a checkpoint's model, for one-stage
    recipes without EMA (a later stage, or the EMA's final weights, would differ), when the
    longest budget exceeds the main runs' (which then stay as they are) and every snapshot step
    is a multiple of the checkpoint spacing that divides them all.
    """
    from bench.methods import stage_count

    steps = sorted(config["curves"]["steps"])
    train = config["train"]
    longest = steps[-1]
    points = [s for s in steps[:-1] if s != train["steps"]]
    if (
        not points
        or longest <= train["steps"]
        or train.get("ema_decay") is not None
        or stage_count(method, config["baselines"].get(method, {})) != 1
        or math.gcd(longest, *points) % train["log_every"] != 0
    ):
        return []
    return points


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
    snapshots: list[int] = []
    if variant.startswith("steps"):
        train["steps"] = int(variant.removeprefix("steps"))
        if "curves" in config and train["steps"] == max(config["curves"]["steps"]):
            snapshots = snapshot_steps(config, method)
        if snapshots:  # a checkpoint at every snapshot step, each kept
            every = math.gcd(train["steps"], *snapshots)
            train.update(checkpoint_every=every, keep_checkpoints=train["steps"] // every)
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
    # absent otherwise, so that the other runs' settings are unchanged
    if data_percent != 100:
        settings["data_fraction"] = data_percent / 100
    if snapshots:
        settings["snapshots"] = snapshots
    return settings


def publish_snapshot(run: str | Path, step: int, out: str | Path) -> None:
    """The run of ``step`` steps, from the snapshot a longer run kept (snapshot_steps), as a
    training folder of its own, written atomically: its model, method.json and fit.json with
    the steps, and loss.csv up to the step. Its fit.json has no wall time: it was not timed."""
    run, out = Path(run), Path(out)
    model = run / "snapshots" / f"step_{step}" / "model"
    if not model.is_dir():
        raise FileNotFoundError(
            f"{model} is missing: {run} kept no snapshot at step {step}; retrain it "
            "(snakemake --forcerun train)"
        )
    method = json.loads((run / "method.json").read_text())
    method["train"]["steps"] = step
    fit = json.loads((run / "fit.json").read_text())
    fit.update(steps=step, wall_time_s=None, snapshot_of=str(run))
    lines = (run / "loss.csv").read_text().splitlines()
    header = lines[0].split(",")
    kept = [ln for ln in lines[1:] if int(ln.split(",")[header.index("step")]) <= step]
    with atomic_folder(out) as tmp:
        shutil.copytree(model, tmp / "model")
        write_json(tmp / "method.json", method)
        write_json(tmp / "fit.json", fit)
        (tmp / "loss.csv").write_text("\n".join([lines[0], *kept]) + "\n")


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
        fractions = {
            "ia_fraction": settings["ia_fraction"],
            "data_fraction": settings.get("data_fraction", 1.0),
        }
        write_json(work / "fit.json", {**report.to_dict(), **fractions})
        for step in settings.get("snapshots", []):  # their checkpoints' models, kept
            checkpoint = work / "checkpoints" / f"step_{step:08d}"
            (work / "snapshots" / f"step_{step}" / "model").mkdir(parents=True, exist_ok=True)
            for name in ("model.safetensors", "config.json"):
                shutil.copy2(checkpoint / name, work / "snapshots" / f"step_{step}" / "model")
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
