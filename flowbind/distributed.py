"""Data-parallel training with torch DDP, one process per GPU, launched by torchrun.

    torchrun --nproc-per-node 8 my_training.py       # a script that calls flowbind.train
    torchrun --nnodes 4 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint host:29500 ...

Every rank draws the same global minibatch (the sampler's generator and the torch seed are the
same on every rank) and keeps its own contiguous shard of each pair group's rows. The random
draws of the objective (times, anchor noise and the anchor encoder's dropout and modality
dropout: the encoder, a few per cent of the FLOPs, runs on the whole group) are made for the
whole group on every rank and then sliced, so N ranks compute the loss one process computes on
the global batch: each rank's loss is its rows' squared-error sum over the global row count, times
N, and DDP's average of the ranks' gradients is the gradient of the global mean.

The loss goes through the DDP wrapper's ``forward`` (``ObjectiveModule``), which is what makes
DDP all-reduce the gradients in backward. (The public code calls ``.module(...)`` on its wrapped
drifts, which bypasses that, so its ranks train apart.) Rank 0 alone writes the loss log, the
checkpoints and the final model; every rank resumes from the same checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn


@dataclass(frozen=True)
class Shard:
    """This process's part of every global minibatch.

    Attributes:
        rank: this process's index, 0 <= rank < world.
        world: the number of processes.
    """

    rank: int
    world: int

    def __post_init__(self) -> None:
        if not 0 <= self.rank < self.world:
            raise ValueError(f"rank must be in [0, {self.world}), got {self.rank}")

    def rows(self, n: int) -> slice:
        """The contiguous rows of an n-row group this rank keeps (sizes differ by at most 1)."""
        return slice(n * self.rank // self.world, n * (self.rank + 1) // self.world)

    @property
    def main(self) -> bool:
        """Whether this rank writes files (rank 0)."""
        return self.rank == 0


def launched() -> bool:
    """Whether torchrun (or another launcher setting WORLD_SIZE > 1) started this process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def writes_files() -> bool:
    """Whether this process writes a run's files: rank 0 under torchrun, or the only process.

    Read from the launcher's RANK, so that it holds before and after the process group exists.
    """
    return not launched() or int(os.environ.get("RANK", "0")) == 0


def setup(device_type: str) -> Shard | None:
    """Join the process group torchrun describes (NCCL on CUDA, gloo on the CPU).

    Returns:
        This rank's Shard, or None when not launched by torchrun (one process).
    """
    if not launched():
        return None
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return Shard(dist.get_rank(), dist.get_world_size())


def local_device(device: torch.device) -> torch.device:
    """The GPU of this rank on its node (LOCAL_RANK), or ``device`` off CUDA."""
    if device.type != "cuda" or not launched():
        return device
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def average(values: Tensor, shard: Shard | None) -> Tensor:
    """The mean of ``values`` over the ranks (every rank gets it); ``values`` when alone.

    Args:
        values: a tensor of the same shape on every rank, e.g. the (T,) loss and loss terms
            of a step.
        shard: this rank's Shard, or None in one process.
    """
    if shard is None:
        return values
    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / shard.world


def barrier(shard: Shard | None) -> None:
    """Wait until every rank gets here; nothing in one process (``shard`` None)."""
    if shard is not None:
        dist.barrier()


class ObjectiveModule(nn.Module):
    """The training objective as a module, so that DDP can wrap it: ``forward(groups)`` returns
    (total, terms) of ``model.loss(groups, objective, shard=...)``."""

    def __init__(self, model: nn.Module, objective: object, shard: Shard | None) -> None:
        super().__init__()
        self.model = model
        self.objective = objective
        self.shard = shard

    def forward(self, groups: Sequence[Mapping[str, Tensor]]) -> tuple[Tensor, dict[str, Tensor]]:
        """The objective on one global minibatch.

        Args:
            groups: one mapping per pair group, modality -> z-scored latents of shape
                (N_g, D), rows paired.

        Returns:
            The 0-d total loss and its terms' name -> 0-d value.
        """
        if self.shard is None:
            loss = self.model.loss(groups, self.objective)
        else:
            loss = self.model.loss(groups, self.objective, shard=self.shard)
        return loss.total, loss.terms


def wrap(module: ObjectiveModule, device: torch.device) -> nn.Module:
    """``module`` in DDP when it is sharded (unused parameters allowed: modality dropout and
    absent pair groups leave some heads and drifts out of a step); itself otherwise."""
    if module.shard is None:
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)
