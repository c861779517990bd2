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

The fast path (``fast=True``, for GPUs) keeps the latents on the device and draws the batches
there (flowbind.data.ResidentSampler), and reads nothing back to the host between log steps: the
loss terms are summed on the device, and a step whose loss is not finite is skipped by the fused
Adam update itself (its ``found_inf``) and reported at the next log step, so no NaN reaches the
weights there either. ``compile`` runs the objective through torch.compile ("reduce-overhead"
adds CUDA graphs). The plain path is the reference. On a GPU the fast one draws other random rows
(from the device's generator), so its runs are other seeds of the same training; on the CPU
with per-table batching it takes the plain path's steps exactly (tests/test_fast_path.py checks
both: the identical weights, and the curves of differing draws within seed noise).

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
from torch import Tensor, nn
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
from flowbind.data import (
    BATCHING,
    GroupSampler,
    Latents,
    PairTable,
    ResidentSampler,
    check_training_data,
)
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
RESUMABLE_FIELDS = (
    "steps",
    "checkpoint_every",
    "keep_checkpoints",
    "log_every",
    "device",
    "compile",
)
# torch.compile modes of TrainConfig.compile ("off": eager)
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune-no-cudagraphs")


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
        fast: the fast path (module docstring): latents resident on the device, no host sync
            between log steps; ``callback`` is then called at log steps only.
        compile: "off", or the torch.compile mode of the objective: "default",
            "reduce-overhead" (CUDA graphs) or "max-autotune-no-cudagraphs".
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
    fast: bool = False
    compile: str = "off"
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)

    def __post_init__(self) -> None:
        if self.compile is False:  # YAML reads an unquoted `off` as false
            object.__setattr__(self, "compile", "off")
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
        if self.compile not in COMPILE_MODES:
            problems.append(f"compile must be one of {list(COMPILE_MODES)}, got {self.compile!r}")
        for name in ("bf16", "fast"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        if problems:
            raise ValueError("invalid TrainConfig: " + "; ".join(problems))
        if self.checkpoint_every % self.log_every:
            raise ValueError(
                f"checkpoint_every ({self.checkpoint_every}) must be a multiple of log_every "
                f"({self.log_every}) so that a resumed loss log matches an uninterrupted one"
            )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict, the objective's included."""
        return dataclasses.asdict(self)

    def lr_at(self, step: int) -> float:
        """The learning rate of ``step`` (1-based): lr * min(1, step / warmup_steps)."""
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
    """The device ``name`` asks for ("auto": CUDA when available); RuntimeError if no CUDA."""
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
    """The newest complete training checkpoint in ``out_dir``, or None."""
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
        pairs: the pair tables; each step draws ``batch_size`` pairs from each table
            (``batching='per_table'``) or ``batch_size`` in all, spread by table size
            (``'proportional'``).
        config: optimisation settings.
        out_dir: output folder (see the module docstring).
        resume: continue from the newest checkpoint in ``out_dir`` if there is one.
        progress: show a tqdm progress bar.
        callback: called after every step with (step, loss terms as floats); on the fast path
            after every log step, with the means over the steps since the last one.

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
    sampler = (
        ResidentSampler(
            latents, pairs, config.batch_size, config.seed, config.batching, device=device
        )
        if config.fast
        else GroupSampler(latents, pairs, config.batch_size, config.seed, config.batching)
    )
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
    compiled = compile_networks(model, config.compile)
    window: dict[str, Any] = {}  # loss term -> its sum since the last log step
    guard = _SkipGuard(optimizer, device) if config.fast else None
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
        # Data-parallel, the values are the ranks' mean: the global batch's loss, the same on
        # every rank.
        names = ["loss", *terms]
        stacked = torch.stack([total.detach(), *(v.detach() for v in terms.values())]).float()
        stacked = distributed.average(stacked, shard)
        values: dict[str, float] | None = None
        if guard is None:
            # The log needs these floats anyway (one sync per step); read before backward, a
            # NaN loss stops the run before its gradient can reach the weights.
            values = dict(zip(names, stacked.tolist(), strict=True))
            if not all(math.isfinite(v) for v in values.values()):
                bar.close()
                raise _stopped(out_dir, step, "the loss is not finite", values)
        else:  # no sync: a non-finite step is skipped on the device and reported when logging
            guard.check(step, stacked)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        if ema is not None:
            _update_ema(ema, model, config.ema_decay, None if guard is None else guard.finite)

        for k, v in zip(names, stacked if values is None else values.values(), strict=True):
            window[k] = window[k] + v if k in window else v
        logging = step % config.log_every == 0 or step == config.steps
        if logging:
            steps_in_window = (step - 1) % config.log_every + 1
            means = {k: float(v) / steps_in_window for k, v in window.items()}  # fast: syncs
            window.clear()
            if guard is not None:
                bad = guard.first_bad()  # the one sync of the fast path, at log steps
                if bad is not None:
                    bar.close()
                    raise _stopped(out_dir, bad, "the loss is not finite", means, skipped=True)
            if main:
                _append_log(log_path, step, config.lr_at(step), means)
            if guard is not None:
                values = means
        bar.update(1)
        if values is not None:
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
        if callback is not None and values is not None:
            callback(step, values)
    bar.close()
    uncompile(compiled)

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


def compile_networks(model: nn.Module, mode: str) -> list[nn.Module]:
    """Compile, in place, the networks that carry a model's FLOPs: ``model.compile_targets()``
    when the model defines it, its drift networks (``model.drifts``) otherwise.

    Only the networks are compiled, not the objective around them: its random draws stay eager,
    so compiling changes the floats' rounding, not the draws (a compiled run resumes eagerly).

    Returns:
        The compiled modules (none when ``mode`` is "off"), for ``uncompile``.
    """
    if mode == "off":
        return []
    import torch._inductor  # noqa: PLC0415 (the compiler loads only when asked for)

    if hasattr(model, "compile_targets"):
        targets = list(model.compile_targets())
    elif isinstance(getattr(model, "drifts", None), nn.ModuleDict):
        targets = list(model.drifts.values())
    else:
        raise ValueError(
            f"train.compile: {type(model).__name__} has no drift networks (.drifts) and no "
            "compile_targets(); give it one, or train with compile: off"
        )
    for module in targets:
        module.compile(options=torch._inductor.list_mode_options(mode))
    return targets


def uncompile(modules: Sequence[nn.Module]) -> None:
    """Undo ``compile_networks``: the trained model runs eagerly for whatever comes next."""
    for module in modules:
        module._compiled_call_impl = None  # what nn.Module.compile set


class _SkipGuard:
    """The fast path's NaN guard, without host syncs: a step whose loss is not finite sets the
    fused Adam update's ``found_inf``, which leaves the weights and moments as they were (the
    EMA too), and the first such step is kept on the device for the next log step to report."""

    def __init__(self, optimizer: torch.optim.Optimizer, device: torch.device) -> None:
        self.optimizer = optimizer
        self.finite = torch.ones((), device=device)
        self.bad_step = torch.zeros((), dtype=torch.long, device=device)

    def check(self, step: int, values: Tensor) -> None:
        """Before the update of ``step``: arm the skip if ``values`` (the loss terms) are not."""
        self.finite = torch.isfinite(values).all().float()
        self.optimizer.found_inf = 1.0 - self.finite  # read by the fused Adam kernel
        first = (self.bad_step == 0) & (self.finite == 0)
        self.bad_step = torch.where(first, step, self.bad_step)

    def first_bad(self) -> int | None:
        bad = int(self.bad_step)
        return bad or None


def _stopped(
    out_dir: Path, step: int, problem: str, values: dict[str, float], skipped: bool = False
) -> NonFiniteTrainingError:
    """The error of a run stopped at ``step``, naming every loss term and what is left.

    ``skipped``: the fast path found it at a later log step, having skipped the updates of the
    bad steps, and ``values`` are the means over that log window.
    """
    terms = ", ".join(f"{k}={v:.6g}" for k, v in values.items())
    if skipped:
        terms = f"means since the last log step: {terms}; its update and those of any later "
        terms += "non-finite step were skipped"
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
def _update_ema(
    ema: dict[str, torch.Tensor], model: FlowBind, decay: float, finite: Tensor | None = None
) -> None:
    """ema <- ema + (1 - decay) (p - ema); not at all where ``finite`` (fast path) is 0."""
    weight = 1.0 - decay if finite is None else (1.0 - decay) * finite
    for name, p in model.named_parameters():
        ema[name].lerp_(p.detach(), weight)


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
            sampler_state=sampler.state(),
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
    restore_rng(load_train_tensors(checkpoint, "rng"), sampler)
    if ema is not None:
        ema.update(load_train_tensors(checkpoint, "ema", device))
    return TrainProgress(step=meta["step"], wall_time_s=meta["wall_time_s"])
