"""Training data: per-modality latent stores and pair-index tables.

Latents are stored once per modality, ``latents[m]`` of shape (N_m, D): a torch tensor, a numpy
array, or a memory-mapped array (``np.load(path, mmap_mode="r")``), so large sets never need to
fit in memory. A ``PairTable`` lists which rows are paired, e.g. text-image pairs as an (M, 2)
index array into ``latents["text"]`` and ``latents["image"]``. Pairs are partial: the paper
trains on text-image, text-audio and image-audio pairs, never on triplets. Latents must be
finite: one NaN row would make the loss NaN from the first step that draws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from flowbind.files import NonFiniteError, describe_nonfinite, nonfinite_rows

Latents = Mapping[str, np.ndarray | Tensor]

# Rows per slice when a numpy store is scanned for NaN, so a memory map is read piece by piece.
SCAN_ROWS = 1 << 16


@dataclass(frozen=True)
class PairTable:
    """Rows of the per-modality latent stores that belong together.

    Attributes:
        modalities: the group's modalities, e.g. ("text", "image").
        index: int array of shape (M, len(modalities)); column j indexes latents[modalities[j]].
    """

    modalities: tuple[str, ...]
    index: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "modalities", tuple(self.modalities))
        index = np.asarray(self.index)
        if index.ndim != 2 or index.shape[1] != len(self.modalities):
            raise ValueError(
                f"pair table {self.name}: index must have shape (M, {len(self.modalities)}), "
                f"got {index.shape}"
            )
        if len(set(self.modalities)) != len(self.modalities):
            raise ValueError(f"pair table {self.name}: a modality appears twice")
        if not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"pair table {self.name}: index must hold integers, got {index.dtype}")
        if len(index) == 0:
            raise ValueError(f"pair table {self.name} is empty; drop it or give it pairs")
        if index.min() < 0:
            raise ValueError(f"pair table {self.name}: negative row index {index.min()}")
        object.__setattr__(self, "index", index.astype(np.int64, copy=False))

    @property
    def name(self) -> str:
        """The modalities joined by "-", e.g. "text-image"."""
        return "-".join(self.modalities)

    def __len__(self) -> int:
        return len(self.index)


def check_training_data(
    latents: Latents, pairs: Sequence[PairTable], modalities: Sequence[str], dim: int
) -> None:
    """Raise ValueError naming the first inconsistency between latents, pairs and the model.

    Every latent store is scanned once for NaN and inf (NonFiniteError, a ValueError).
    """
    if not pairs:
        raise ValueError("no pair tables given; training needs at least one group of pairs")
    for m, z in latents.items():
        if m not in modalities:
            raise ValueError(
                f"latents given for {m!r}, which the model lacks (it has {list(modalities)})"
            )
        if z.ndim != 2 or z.shape[1] != dim:
            raise ValueError(f"latents[{m!r}] must have shape (N, {dim}), got {tuple(z.shape)}")
        check_finite_latents(
            z, f"latents[{m!r}]", "training on them would give a NaN loss: fix or drop those rows"
        )
    for table in pairs:
        for j, m in enumerate(table.modalities):
            if m not in latents:
                raise ValueError(
                    f"pair table {table.name} uses {m!r} but no latents were given for it"
                )
            top = int(table.index[:, j].max())
            if top >= latents[m].shape[0]:
                raise ValueError(
                    f"pair table {table.name}: row {top} of {m!r} is out of range "
                    f"(latents[{m!r}] has {latents[m].shape[0]} rows)"
                )


def check_finite_latents(z: np.ndarray | Tensor, what: str, advice: str) -> None:
    """Raise NonFiniteError "<what> has NaN or inf in ...; <advice>" if a row is not finite.

    Args:
        z: latents of shape (N, ...): a tensor (on any device), an array or a memory map.
        what: names them, e.g. "latents['image']".
        advice: what to do about it, appended to the message.
    """
    if isinstance(z, Tensor):
        if not z.is_floating_point():
            return
        finite = torch.isfinite(z.detach())
        if finite.ndim > 1:
            finite = finite.flatten(1).all(dim=1)
        bad = torch.nonzero(~finite).flatten().cpu().numpy()
    else:
        slices = range(0, len(z), SCAN_ROWS)
        bad = np.concatenate(
            [np.empty(0, np.int64)]
            + [start + nonfinite_rows(z[start : start + SCAN_ROWS]) for start in slices]
        )
    if len(bad):
        raise NonFiniteError(f"{what} has {describe_nonfinite(bad, len(z))}; {advice}")


def gather(z: np.ndarray | Tensor, rows: np.ndarray) -> Tensor:
    """Rows of a latent store as a float32 tensor of shape (len(rows), D).

    Args:
        z: one modality's latent store, shape (N, D): a tensor, an array or a memory map.
        rows: (n,) int row indices into ``z``.
    """
    if isinstance(z, Tensor):
        return z[torch.from_numpy(rows)].float()
    return torch.from_numpy(np.asarray(z[rows], dtype=np.float32))


BATCHING = ("per_table", "proportional")


class GroupSampler:
    """Draws minibatch groups of pairs, uniformly with replacement, from its own generator.

    ``per_table``: ``batch_size`` pairs from every pair table per step. ``proportional``:
    ``batch_size`` pairs in all, each from a table chosen with probability proportional to its
    size, as one shuffled concatenation of every pair data set gives (the public code's
    minibatches); a table that draws no pair in a step has no group in it.
    """

    def __init__(
        self,
        latents: Latents,
        pairs: Sequence[PairTable],
        batch_size: int,
        seed: int,
        batching: str = "per_table",
    ) -> None:
        if batching not in BATCHING:
            raise ValueError(f"batching must be one of {BATCHING}, got {batching!r}")
        self.latents = latents
        self.pairs = list(pairs)
        self.batch_size = batch_size
        self.batching = batching
        self.generator = torch.Generator().manual_seed(seed)
        sizes = torch.tensor([len(t) for t in self.pairs], dtype=torch.float64)
        self._weights = sizes / sizes.sum() if len(sizes) else sizes

    def counts(self) -> list[int]:
        """Pairs drawn from each table this step."""
        if self.batching == "per_table":
            return [self.batch_size] * len(self.pairs)
        tables = torch.multinomial(
            self._weights, self.batch_size, replacement=True, generator=self.generator
        )
        return torch.bincount(tables, minlength=len(self.pairs)).tolist()

    def sample(self, device: torch.device | str = "cpu") -> list[dict[str, Tensor]]:
        """One group per pair table drawn from, modality -> raw latents of shape (n, D)."""
        groups = []
        for table, count in zip(self.pairs, self.counts(), strict=True):
            if count == 0:
                continue
            rows = torch.randint(len(table), (count,), generator=self.generator).numpy()
            picked = table.index[rows]
            groups.append(
                {
                    m: gather(self.latents[m], picked[:, j]).to(device)
                    for j, m in enumerate(table.modalities)
                }
            )
        return groups

    def state(self) -> dict[str, Tensor]:
        """The random state of the draws, for a training checkpoint."""
        return {"sampler": self.generator.get_state()}

    def load_state(self, state: Mapping[str, Tensor]) -> None:
        """Restore what ``state`` returned; KeyError names a missing entry.

        Args:
            state: "sampler" -> the generator's (S,) uint8 state tensor.
        """
        self.generator.set_state(state["sampler"])


class ResidentSampler(GroupSampler):
    """The GPU fast path's sampler: every latent store and pair table copied to ``device`` once,
    and each step's rows drawn and gathered there, so no step copies from the host.

    The pairs per table come from the host generator as in ``GroupSampler`` (a host draw, no
    device sync); the rows come from a generator on ``device``, seeded alike. On a GPU, or with
    proportional batching (where the plain sampler draws counts and rows from one generator),
    the draws are therefore not ``GroupSampler``'s, and a run is another seed of the same
    training; on the CPU with per-table batching they are the same draws.

    Raises:
        ValueError: if the stores do not fit in the device's free memory, naming both sizes.
    """

    # the share of the device's free memory the stores may take; training needs the rest
    MAX_FREE_SHARE = 0.5

    def __init__(
        self,
        latents: Latents,
        pairs: Sequence[PairTable],
        batch_size: int,
        seed: int,
        batching: str = "per_table",
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__(latents, pairs, batch_size, seed, batching)
        self.device = torch.device(device)
        used = {m for table in self.pairs for m in table.modalities}
        need = sum(latents[m].shape[0] * latents[m].shape[1] * 4 for m in used)
        need += sum(table.index.nbytes for table in self.pairs)
        if self.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            if need > self.MAX_FREE_SHARE * free:
                raise ValueError(
                    f"train.fast keeps the training latents on {self.device}: they need "
                    f"{need / 2**30:.2f} GiB, more than half of its {free / 2**30:.2f} GiB free. "
                    "Train with fast: false (each batch is then read from the host), or on a "
                    "device with more memory"
                )
        self.stores = {m: _to_device(latents[m], self.device) for m in sorted(used)}
        self.tables = [torch.from_numpy(t.index).to(self.device) for t in self.pairs]
        self.device_generator = torch.Generator(self.device).manual_seed(seed)

    def sample(self, device: torch.device | str | None = None) -> list[dict[str, Tensor]]:
        """One group per pair table drawn from, modality -> raw latents of shape (n, D), on the
        sampler's device (``device``, if given, must be that one)."""
        if device is not None and torch.device(device) != self.device:
            raise ValueError(f"this sampler's latents are on {self.device}, not on {device}")
        groups = []
        for table, index, count in zip(self.pairs, self.tables, self.counts(), strict=True):
            if count == 0:
                continue
            rows = torch.randint(
                len(table), (count,), generator=self.device_generator, device=self.device
            )
            picked = index[rows]
            groups.append({m: self.stores[m][picked[:, j]] for j, m in enumerate(table.modalities)})
        return groups

    def state(self) -> dict[str, Tensor]:
        """The random states of the host and the device generators, for a training checkpoint."""
        return {**super().state(), "sampler.device": self.device_generator.get_state()}

    def load_state(self, state: Mapping[str, Tensor]) -> None:
        """Restore what ``state`` returned; KeyError names a missing entry.

        Args:
            state: "sampler" and "sampler.device" -> the (S,) uint8 state tensors of the host
                and the device generators.
        """
        super().load_state(state)
        self.device_generator.set_state(state["sampler.device"])


def _to_device(z: np.ndarray | Tensor, device: torch.device, rows: int = SCAN_ROWS) -> Tensor:
    """A float32 copy of a latent store on ``device``, copied in slices (a memory map is never
    read whole into host memory)."""
    out = torch.empty(tuple(z.shape), dtype=torch.float32, device=device)
    for start in range(0, len(z), rows):
        part = z[start : start + rows]
        if not isinstance(part, Tensor):
            part = torch.from_numpy(np.asarray(part, dtype=np.float32))
        out[start : start + rows] = part.float()
    return out
