"""A workflow training run that survives being killed: checkpoints outside the rule's output.

    results/checkpoints/train/<method>/<variant>/seed<seed>/   the run while it trains
        settings.json       the run's settings and the digest of its training latents
        ...                 what Method.fit writes (checkpoints/, loss.csv, model/, method.json)
    results/train/<method>/<variant>/seed<seed>/                the `train` rule's output
        state/              a main run's final checkpoint (step_<n>/) and loss.csv, where
                            the longest budget run continues it (continues_main)

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

from bench.embedded.build import ALL_SPLITS, PAIR_SPLITS, POINT_PAIR_SPLITS
from flowbind.files import atomic_folder, write_json

SETTINGS = "settings.json"
STATE = "state"  # a finished run's final checkpoint and log, for a longer run to continue


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
    remove ``work`` and the folders above it that it leaves empty, up to ``keep``.

    Parallel jobs share those folders: one may remove a folder this one was about to, or put a
    new run in it, so each is removed by ``rmdir`` alone (which refuses a non-empty folder)
    and one already gone is passed over."""
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
        if parent == keep or keep not in parent.parents:
            break
        try:
            parent.rmdir()
        except FileNotFoundError:
            continue
        except OSError:  # not empty: another run lives here
            break


def _constant_after_warmup(config: Mapping[str, Any], method: str) -> bool:
    """Whether a longer run of ``method`` passes through the weights of a shorter one: after
    warm-up the learning rate is constant, so with one training stage and no EMA (a later
    stage, or the EMA's final weights, would differ) the n-step run is the longer run (same
    seed) at step n."""
    from bench.methods import stage_count

    return (
        config["train"].get("ema_decay") is None
        and stage_count(method, config["baselines"].get(method, {})) == 1
    )


def curve_seeds(config: Mapping[str, Any]) -> list[int]:
    """The seeds the curves train: ablations.seeds, by default the main seed alone."""
    return list(config["ablations"]["seeds"] or config["seeds"][:1])


def continues_main(config: Mapping[str, Any], method: str) -> bool:
    """Whether ``method``'s longest budget run continues its main run of the same seed from
    that run's final checkpoint instead of training its first train.steps steps again.

    On the embedded benchmark, for methods whose runs pass through each other's weights
    (_constant_after_warmup), when the longest budget exceeds the main runs'. The main run
    then keeps its final checkpoint (STATE) and the snapshots below its budget; the paper's
    main runs (a checkpoint of 568M parameters and their Adam moments) keep none.
    """
    longest = max(config.get("curves", {}).get("steps", [0]))
    return (
        config.get("benchmark") == "embedded"
        and longest > config["train"]["steps"]
        and _constant_after_warmup(config, method)
    )


def snapshot_steps(config: Mapping[str, Any], method: str) -> list[int]:
    """The budgets of ``curves.steps`` that ``method``'s longest budget run provides as
    snapshots instead of runs of their own; empty where it cannot.

    After warm-up the learning rate is constant, so the weights of an n-step run are those of a
    longer run (same seed) at step n. A snapshot is such a checkpoint's model, for one-stage
    recipes without EMA (a later stage, or the EMA's final weights, would differ), when the
    longest budget exceeds the main runs' (which then stay as they are) and every snapshot step
    is a multiple of the checkpoint spacing that divides them all.
    """
    steps = sorted(config["curves"]["steps"])
    train = config["train"]
    longest = steps[-1]
    points = [s for s in steps[:-1] if s != train["steps"]]
    if (
        not points
        or longest <= train["steps"]
        or not _constant_after_warmup(config, method)
        or math.gcd(longest, *points) % train["log_every"] != 0
    ):
        return []
    return points


def _keep_snapshots(train: dict[str, Any], snapshots: list[int]) -> None:
    """A checkpoint at every snapshot step, each kept."""
    every = math.gcd(train["steps"], *snapshots)
    train.update(checkpoint_every=every, keep_checkpoints=train["steps"] // every)


def run_settings(
    config: Mapping[str, Any], method: str, variant: str = "main", seed: int | None = None
) -> dict[str, Any]:
    """Model, training and data settings of one training run of a resolved workflow config.

    Args:
        config: the resolved config (bench.config.resolve_config).
        method: a registered method name.
        variant: "main", "ia<percent>" (image-audio pairs kept), "objective-<name>"
            (an entry of ablations.objectives), "variance-<v>" (model.anchor_variance v),
            "steps<n>" (n training steps), "data<percent>" (that share of every pair table) or
            "points" (every modality of the config's ``modalities``, the fourth modality's
            image-point-cloud pairs included).
        seed: the training seed (default: the config's first).
    """
    objective = dict(config["objective"])
    model = {**config["model"], "latent_dim": config["latent_dim"]}
    train = dict(config["train"])
    ia_percent, data_percent = 100, 100
    snapshots: list[int] = []
    seed = config["seeds"][0] if seed is None else seed
    continues = continues_main(config, method) and int(seed) in curve_seeds(config)
    role = None  # "keeps": a main run the longest budget run continues; "continues": that run
    main_steps = train["steps"]
    if variant == "main" and continues:
        role = "keeps"
        # the longest budget run continues this one: its final state and the earlier
        # snapshots are kept
        snapshots = [s for s in snapshot_steps(config, method) if s < main_steps]
        if snapshots:
            _keep_snapshots(train, snapshots)
    elif variant.startswith("steps"):
        train["steps"] = int(variant.removeprefix("steps"))
        longest = "curves" in config and train["steps"] == max(config["curves"]["steps"])
        if longest:
            snapshots = snapshot_steps(config, method)
            if continues:  # those below the main runs' budget are the main run's
                role = "continues"
                snapshots = [s for s in snapshots if s > main_steps]
        if snapshots:
            _keep_snapshots(train, snapshots)
    elif variant.startswith("data"):
        data_percent = int(variant.removeprefix("data"))
    elif variant.startswith("variance-"):
        model["anchor_variance"] = float(variant.removeprefix("variance-"))
    elif variant.startswith("ia"):
        ia_percent = int(variant[2:])
    elif variant.startswith("objective-"):
        objective.update(config["ablations"]["objectives"][variant.removeprefix("objective-")])
    elif variant == "points":
        if "points" not in config["modalities"]:
            raise ValueError(
                "the points run needs the fourth modality: add points to the config's "
                "modalities ([text, image, audio, points])"
            )
        model["modalities"] = list(config["modalities"])
    elif variant != "main":
        raise ValueError(
            f"unknown run variant {variant!r}: main, ia<percent>, objective-<name>, "
            "variance-<v>, steps<n>, data<percent> or points"
        )
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
    if variant == "points":
        settings["pair_splits"] = [*PAIR_SPLITS, *POINT_PAIR_SPLITS]
    if data_percent != 100:
        settings["data_fraction"] = data_percent / 100
    if snapshots:
        settings["snapshots"] = snapshots
    if role == "keeps":
        settings["keep_state"] = True
    elif role == "continues":
        settings["continues"] = "main"
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
    lines = (run / "loss.csv").read_bytes().decode().splitlines(keepends=True)  # csv's \r\n
    column = lines[0].rstrip().split(",").index("step")
    kept = [ln for ln in lines[1:] if int(ln.split(",")[column]) <= step]
    with atomic_folder(out) as tmp:
        shutil.copytree(model, tmp / "model")
        write_json(tmp / "method.json", method)
        write_json(tmp / "fit.json", fit)
        (tmp / "loss.csv").write_bytes("".join([lines[0], *kept]).encode())


def train_run(
    settings: Mapping[str, Any],
    latent_dir: str | Path,
    work: str | Path,
    out: str | Path,
    keep: str | Path | None = None,
    progress: bool = False,
    start: str | Path | None = None,
) -> Any:
    """Train one run in ``work`` (resuming it there) and publish it to ``out``.

    ``start``: a finished run that kept its final state (settings ``keep_state``), which this
    run, with more steps, continues from (settings ``continues``) instead of training from
    step 0. Under torchrun every rank trains its shard (flowbind.distributed) and rank 0 alone
    prepares the work folder and publishes. Returns the method's FitReport.
    """
    from bench.latents import training_data
    from bench.methods import build_method
    from flowbind import distributed
    from flowbind.training import resolve_device

    latent_dir, work = Path(latent_dir), Path(work)
    shard = distributed.setup(resolve_device(settings["train"]["device"]).type)
    main = shard is None or shard.main
    splits = settings.get("pair_splits", list(PAIR_SPLITS))
    latents, pairs = training_data(
        latent_dir,
        settings["ia_fraction"],
        data_fraction=settings.get("data_fraction", 1.0),
        pair_splits={split: ALL_SPLITS[split] for split in splits},
    )
    if main:
        inputs = sorted(latent_dir / f"{split}.npz" for split in splits)
        print(prepare_work(work, settings, inputs))
        if settings.get("continues") and not has_checkpoints(work):
            _continue_from(start, work)
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
        if settings.get("keep_state"):
            _keep_state(work, settings["train"]["steps"])
        publish(work, out, keep=keep)
    distributed.barrier(shard)
    return report


def _keep_state(work: Path, steps: int) -> None:
    """Copy the final checkpoint and the loss log of a one-stage run to ``work/STATE``."""
    final = work / "checkpoints" / f"step_{steps:08d}"
    if not (final / "state.json").is_file():
        raise FileNotFoundError(f"{final} is missing: the run did not checkpoint its last step")
    shutil.copytree(final, work / STATE / final.name)  # publish leaves out checkpoints/ alone
    shutil.copy2(work / "loss.csv", work / STATE / "loss.csv")


def _continue_from(start: str | Path | None, work: Path) -> None:
    """Seed ``work`` with the final state a shorter run kept, so that training resumes there."""
    state = None if start is None else Path(start) / STATE
    if state is None or not state.is_dir():
        raise FileNotFoundError(
            f"this run continues a shorter run's final state, and {state} is missing: retrain "
            "that run (snakemake --forcerun train) or pass its folder as start"
        )
    for checkpoint in state.glob("step_*"):
        shutil.copytree(checkpoint, work / "checkpoints" / checkpoint.name)
    shutil.copy2(state / "loss.csv", work / "loss.csv")
    print(f"continuing {start} from its final checkpoint")


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
        help="main, ia<percent>, objective-<name>, variance-<v>, steps<n>, data<percent>, points",
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
        start=args.results / "train" / f"{args.method}/main/seed{settings['train']['seed']}",
    )
    print(report)


if __name__ == "__main__":
    main()
