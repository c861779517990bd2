"""Training FlowBind from latents and pair tables, with checkpoints and exact resume.

    from flowbind import FlowBind, FlowBindConfig, PairTable, TrainConfig, train
    result = train(model, latents, pairs, TrainConfig(steps=2000), out_dir="runs/toy")

Recipe (public code): Adam without weight decay, linear warm-up then a constant learning rate,
no EMA and no gradient clipping by default (both optional). Each step draws one minibatch per
pair table; the loss sums over groups and modalities. Seeded and deterministic on the CPU:
every ``checkpoint_every`` steps the model, optimizer, EMA and random states are saved, and a
run that resumes from its last checkpoint ends with the same weights as one never interrupted.
A loss that is NaN or inf stops training before it reaches the weights (NonFiniteTrainingError),
and weights are checked before every checkpoint, so no checkpoint or final model holds NaN.

Launched by torchrun (WORLD_SIZE > 1), training is data-parallel with DDP: every rank computes
its shard of each global minibatch and the gradients are all-reduced, so N ranks take the steps
one process takes (flowbind.distributed); rank 0 writes the files.

Output folder layout:
    out_dir/loss.csv                  one row per ``log_every`` steps, one column per loss term
    out_dir/checkpoints/step_<N>/     training checkpoints (the newest ``keep_checkpoints``)
    out_dir/model/                    the final model (EMA weights when EMA is on)
"""

from __future__ import annotations

import csv
import dataclasses
import inspect
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from flowbind import distributed
from flowbind.checkpoint import (
    CheckpointError,
    atomic_folder,
    config_differences,
    load_weights,
    read_model_config,
    save_model,
    write_model_files,
)
from flowbind.checks import count_problem, problems_of, real_problem
from flowbind.data import BATCHING, GroupSampler, Latents, PairTable, check_training_data
from flowbind.files import atomic_file
from flowbind.model import FlowBind
from flowbind.objective import ObjectiveConfig
from flowbind.train_state import (
    TrainProgress,
    load_train_tensors,
    read_train_state,
    restore_optimizer,
    restore_rng,
    write_train_state,
)

# Fields that may change between a run and its resumption without changing the maths.
RESUMABLE_FIELDS = ("steps", "checkpoint_every", "keep_checkpoints", "log_every", "device")


class NonFiniteTrainingError(RuntimeError):
    """The loss or the weights became NaN or inf; training stopped before saving them."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
        steps: optimizer steps in total (the paper: 200k).
        batch_size: pairs drawn from each pair table per step ("per_table"), or in all per step
            ("proportional").
        batching: "per_table", or "proportional": each step's pairs spread over the tables in
            proportion to their sizes, as the public code's one shuffled concatenation of the
            pair data sets does (flowbind.data.GroupSampler).
        lr: Adam learning rate after warm-up (public README: 1e-4).
        warmup_steps: linear warm-up length; step s uses lr * min(1, s / warmup_steps).
        grad_clip: max global gradient norm, None for no clipping (public code: none).
        ema_decay: decay of an exponential moving average of the weights, None for no EMA.
        checkpoint_every: steps between training checkpoints; a multiple of log_every.
        keep_checkpoints: how many of the newest checkpoints to keep.
        log_every: steps averaged into one row of loss.csv.
        seed: seeds initial sampling and every random draw of training.
        device: "auto" (CUDA when available), "cpu" or "cuda[:i]".
        bf16: bf16 autocast on CUDA (ignored on the CPU).
        objective: the objective's scheme and flags.
    """

    steps: int = 200_000
    batch_size: int = 256
    batching: str = "per_table"
    lr: float = 1e-4
    warmup_steps: int = 1000
    grad_clip: float | None = None
    ema_decay: float | None = None
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 10
    seed: int = 0
    device: str = "auto"
    bf16: bool = True
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)

    def __post_init__(self) -> None:
        if isinstance(self.objective, dict):
            object.__setattr__(self, "objective", ObjectiveConfig(**self.objective))
        counts = ("steps", "batch_size", "checkpoint_every", "keep_checkpoints", "log_every")
        problems = problems_of(
            *(count_problem(n, getattr(self, n), 1) for n in counts),
            count_problem("warmup_steps", self.warmup_steps, 0),
            count_problem("seed", self.seed, 0),
            real_problem("lr", self.lr, 0, low_open=True),
            None
            if self.grad_clip is None
            else real_problem("grad_clip", self.grad_clip, 0, low_open=True),
            None
            if self.ema_decay is None
            else real_problem("ema_decay", self.ema_decay, 0, 1, low_open=True, high_open=True),
        )
        if self.batching not in BATCHING:
            problems.append(f"batching must be one of {list(BATCHING)}, got {self.batching!r}")
        if problems:
            raise ValueError("invalid TrainConfig: " + "; ".join(problems))
        if self.checkpoint_every % self.log_every:
            raise ValueError(
                f"checkpoint_every ({self.checkpoint_every}) must be a multiple of log_every "
                f"({self.log_every}) so that a resumed loss log matches an uninterrupted one"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def lr_at(self, step: int) -> float:
        return self.lr * min(1.0, step / max(self.warmup_steps, 1))


@dataclass
class TrainResult:
    """What a training run produced."""

    model: FlowBind
    steps: int
    wall_time_s: float
    model_path: Path
    log_path: Path
    resumed_from: int | None


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {name!r} was asked for but CUDA is not available; use 'cpu' or 'auto'"
        )
    return device


def checkpoints(out_dir: Path) -> list[Path]:
    """Complete training checkpoints in ``out_dir``, oldest first."""
    folders = [p for p in (out_dir / "checkpoints").glob("step_*") if (p / "state.json").is_file()]
    return sorted(folders, key=lambda p: int(p.name.split("_")[1]))


def latest_checkpoint(out_dir: Path) -> Path | None:
    found = checkpoints(out_dir)
    return found[-1] if found else None


def train(
    model: FlowBind,
    latents: Latents,
    pairs: Sequence[PairTable],
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = True,
    progress: bool = True,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place and write checkpoints, the loss log and the final model.

    Args:
        model: the model to train; its latent statistics are fitted on ``latents`` unless resuming.
        latents: modality -> raw latents of shape (N_m, D) (tensor, array or memory map).
        pairs: the pair tables; one minibatch of ``batch_size`` is drawn from each per step.
        config: optimisation settings.
        out_dir: output folder (see the module docstring).
        resume: continue from the newest checkpoint in ``out_dir`` if there is one.
        progress: show a tqdm progress bar.
        callback: called after every step with (step, loss terms as floats).

    Returns:
        TrainResult with the trained model and where things were written.
    """
    out_dir = Path(out_dir)
    check_training_data(latents, pairs, model.modalities, model.config.latent_dim)
    device = distributed.local_device(resolve_device(config.device))
    shard = distributed.setup(device.type)
    if shard is not None and "shard" not in inspect.signature(model.loss).parameters:
        raise ValueError(
            f"{type(model).__name__} does not support data-parallel training (its loss takes no "
            "shard); train it in one process, without torchrun"
        )
    main = shard is None or shard.main
    progress = progress and main
    model.to(device).train()
    # fused: one kernel updates every parameter, on CPU and CUDA alike (python -m perf.train_step
    # times a whole step against the for-each update).
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    sampler = GroupSampler(latents, pairs, config.batch_size, config.seed, config.batching)
    ema = (
        None
        if config.ema_decay is None
        else {k: p.detach().clone() for k, p in model.named_parameters()}
    )
    log_path = out_dir / "loss.csv"

    checkpoint = latest_checkpoint(out_dir)
    if checkpoint is not None and not resume:
        raise CheckpointError(
            f"{out_dir} already holds checkpoints ({checkpoint.name}); pass resume=True to "
            "continue that run, or choose an empty output folder"
        )
    if checkpoint is not None:
        state = _restore(checkpoint, model, optimizer, sampler, ema, config, device)
        if main:
            _truncate_log(log_path, state.step)
    else:
        state = TrainProgress()
        torch.manual_seed(config.seed)
        model.normalizer.fit(latents)
        if main:
            log_path.unlink(missing_ok=True)
    resumed_from = state.step if checkpoint is not None else None

    use_bf16 = config.bf16 and device.type == "cuda"
    # the objective as a module, in DDP when data-parallel: its forward is what syncs gradients
    objective = distributed.wrap(
        distributed.ObjectiveModule(model, config.objective, shard), device
    )
    window: dict[str, float] = {}
    bar = tqdm(total=config.steps, initial=state.step, desc="train flowbind", disable=not progress)
    started = time.perf_counter() - state.wall_time_s
    for step in range(state.step + 1, config.steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = config.lr_at(step)
        groups = [
            {m: model.normalizer.normalize(m, z) for m, z in g.items()}
            for g in sampler.sample(device)
        ]
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
            total, terms = objective(groups)
        # The log needs these floats anyway (one sync per step); read before backward, a NaN
        # loss stops the run before its gradient can reach the weights. Data-parallel, they are
        # the ranks' mean: the global batch's loss, the same on every rank.
        names = ["loss", *terms]
        stacked = torch.stack([total.detach(), *(v.detach() for v in terms.values())]).float()
        values = dict(zip(names, distributed.average(stacked, shard).tolist(), strict=True))
        if not all(math.isfinite(v) for v in values.values()):
            bar.close()
            raise _stopped(out_dir, step, "the loss is not finite", values)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        if ema is not None:
            _update_ema(ema, model, config.ema_decay)

        for k, v in values.items():
            window[k] = window.get(k, 0.0) + v
        if step % config.log_every == 0 or step == config.steps:
            steps_in_window = (step - 1) % config.log_every + 1
            if main:
                means = {k: v / steps_in_window for k, v in window.items()}
                _append_log(log_path, step, config.lr_at(step), means)
            window.clear()
        bar.update(1)
        bar.set_postfix(loss=f"{values['loss']:.4f}")
        state.step, state.wall_time_s = step, time.perf_counter() - started
        if step % config.checkpoint_every == 0 or step == config.steps:
            if not _weights_finite(model, ema):
                bar.close()
                problem = "its update left NaN or inf in the weights although its loss was finite"
                raise _stopped(out_dir, step, problem, values)
            if main:
                _save_checkpoint(out_dir, model, optimizer, sampler, ema, config, state)
            distributed.barrier(shard)
        if callback is not None:
            callback(step, values)
    bar.close()

    if ema is not None:
        model.load_state_dict({**model.state_dict(), **ema})
    model_path = out_dir / "model"
    if main:
        model_path = save_model(model, model_path)
    distributed.barrier(shard)
    return TrainResult(model, state.step, state.wall_time_s, model_path, log_path, resumed_from)


@torch.no_grad()
def _weights_finite(model: FlowBind, ema: dict[str, torch.Tensor] | None) -> bool:
    tensors = [*model.parameters(), *(ema or {}).values()]
    return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())


def _stopped(
    out_dir: Path, step: int, problem: str, values: dict[str, float]
) -> NonFiniteTrainingError:
    """The error of a run stopped at ``step``, naming every loss term and what is left."""
    terms = ", ".join(f"{k}={v:.6g}" for k, v in values.items())
    last = latest_checkpoint(out_dir)
    kept = (
        "no checkpoint was written before it"
        if last is None
        else f"the last good checkpoint, {last} (step {int(last.name.split('_')[1])}), is left "
        "in place"
    )
    return NonFiniteTrainingError(
        f"training stopped at step {step}: {problem} ({terms}); {kept}; no final model was "
        "written. To proceed, lower the learning rate (TrainConfig.lr; a longer warm-up or "
        "grad_clip also help) or check the training latents, and train into a new output "
        "folder: resuming here with the same settings repeats the same steps"
    )


@torch.no_grad()
def _update_ema(ema: dict[str, torch.Tensor], model: FlowBind, decay: float) -> None:
    for name, p in model.named_parameters():
        ema[name].lerp_(p.detach(), 1.0 - decay)


def _append_log(path: Path, step: int, lr: float, values: dict[str, float]) -> None:
    row = {"step": step, "lr": lr, **values}
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def _truncate_log(path: Path, step: int) -> None:
    """Drop log rows written after the checkpoint a run resumes from."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [r for r in rows if int(r["step"]) <= step]
    with atomic_file(path) as tmp, tmp.open("w", newline="") as f:
        if kept:
            writer = csv.DictWriter(f, fieldnames=list(kept[0]))
            writer.writeheader()
            writer.writerows(kept)


def _save_checkpoint(out_dir, model, optimizer, sampler, ema, config, state) -> None:
    folder = out_dir / "checkpoints" / f"step_{state.step:08d}"
    with atomic_folder(folder) as tmp:
        write_model_files(model, tmp)
        write_train_state(
            tmp,
            progress=state,
            train_config=config.to_dict(),
            optimizer=optimizer,
            sampler_generator=sampler.generator,
            ema=ema,
        )
    for stale in checkpoints(out_dir)[: -config.keep_checkpoints]:
        shutil.rmtree(stale)


def _restore(checkpoint, model, optimizer, sampler, ema, config, device) -> TrainProgress:
    meta = read_train_state(checkpoint)
    model_diff = config_differences(read_model_config(checkpoint).to_dict(), model.config.to_dict())
    saved_train = {k: v for k, v in meta["train_config"].items() if k not in RESUMABLE_FIELDS}
    current_train = {k: v for k, v in config.to_dict().items() if k not in RESUMABLE_FIELDS}
    train_diff = config_differences(saved_train, current_train)
    if model_diff or train_diff:
        raise CheckpointError(
            f"cannot resume from {checkpoint}: it was trained with a different configuration "
            f"({'; '.join(model_diff + train_diff)}). Use the original configuration, or a new "
            "output folder to start afresh."
        )
    if meta["step"] > config.steps:
        raise CheckpointError(
            f"{checkpoint} is at step {meta['step']}, past the {config.steps} steps asked for; "
            "raise TrainConfig.steps or use a new output folder"
        )
    load_weights(model, checkpoint / "model.safetensors", device=device)
    restore_optimizer(
        optimizer, load_train_tensors(checkpoint, "optimizer", device), meta["param_groups"]
    )
    restore_rng(load_train_tensors(checkpoint, "rng"), sampler.generator)
    if ema is not None:
        ema.update(load_train_tensors(checkpoint, "ema", device))
    return TrainProgress(step=meta["step"], wall_time_s=meta["wall_time_s"])
