"""The embedded benchmark's evaluators: metric backbones trained apart from the codecs.

They are trained on the evaluator split only (never on codec outputs) and play the roles of the
paper's pretrained backbones:

    ImageEvaluator   features for FID (Inception's role) + one head per image attribute
    AudioEvaluator   log-mel features for FAD (VGGish's role) + one head per audio attribute
    TextEvaluator    the grammar's exact parser: attributes of any caption it can parse
    PointEvaluator   PointNet features for the Frechet PointNet Distance + one head per
                     point-cloud attribute (the fourth modality)
    ContrastivePair  two towers with a shared embedding, trained with the CLIP loss:
                     text-image plays CLIP, text-audio plays CLAP, audio-image plays
                     wav2clip + CLIP for AIS, image-points scores image-point-cloud alignment
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bench.embedded.captions import max_caption_words, parse_caption, vocabulary
from bench.embedded.codecs import PAD, Tokenizer, image_tensor
from bench.embedded.nets import (
    Frozen,
    batched,
    conv_encoder,
    fit,
    fit_mel_scaling,
    point_tensor,
    pointnet,
)
from bench.embedded.spectrogram import log_mel
from bench.embedded.world import BY_NAME, attributes_shown_by

FEATURE_DIM = 64
EMBED_DIM = 64
UNPARSED = -1


def _blur(x: Tensor, sigma: Tensor) -> Tensor:
    """Separable Gaussian blur with one sigma per item (N, C, H, W); sigma 0 leaves x alone."""
    radius = 3
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype)
    kernel = torch.exp(-(offsets**2) / (2 * sigma.clamp_min(1e-3).view(-1, 1) ** 2))
    kernel = kernel / kernel.sum(1, keepdim=True)  # (N, K)
    n, c, h, w = x.shape
    flat = x.reshape(1, n * c, h, w)
    k = kernel.repeat_interleave(c, 0)
    flat = F.conv2d(
        F.pad(flat, (radius, radius, 0, 0), mode="replicate"), k.view(n * c, 1, 1, -1), groups=n * c
    )
    flat = F.conv2d(
        F.pad(flat, (0, 0, radius, radius), mode="replicate"), k.view(n * c, 1, -1, 1), groups=n * c
    )
    return flat.reshape(n, c, h, w)


class _Classifier(Frozen):
    """A conv trunk giving features, and one linear head per attribute of a modality."""

    modality: str

    def _build(self, in_channels: int, width: int, trunk: nn.Module | None = None) -> None:
        self.attributes = attributes_shown_by(self.modality)
        self.trunk = conv_encoder(in_channels, width, FEATURE_DIM) if trunk is None else trunk
        self.heads = nn.ModuleDict(
            {a: nn.Linear(FEATURE_DIM, BY_NAME[a].n) for a in self.attributes}
        )

    def _input(self, batch) -> Tensor:
        raise NotImplementedError

    def _features(self, batch) -> Tensor:
        return self.trunk(self._input(batch))

    def features(self, batch) -> Tensor:
        """(N, FEATURE_DIM) features, the FID / FAD embedding of this benchmark."""
        return batched(self._features, batch)

    def _logits(self, x: Tensor) -> dict[str, Tensor]:
        h = F.gelu(self.trunk(x))
        return {a: head(h) for a, head in self.heads.items()}

    def predict(self, batch) -> dict[str, np.ndarray]:
        """Predicted attribute codes, attribute -> (N,) int64."""
        logits = batched(
            lambda b: torch.cat(list(self._logits(self._input(b)).values()), dim=1), batch
        )
        out, start = {}, 0
        for a in self.attributes:
            out[a] = logits[:, start : start + BY_NAME[a].n].argmax(1).numpy()
            start += BY_NAME[a].n
        return out

    def _train(
        self,
        x: Tensor,
        labels: dict[str, np.ndarray],
        steps: int,
        seed: int,
        progress: bool,
        augment=None,
    ) -> None:
        targets = {a: torch.as_tensor(labels[a]) for a in self.attributes}
        gen = torch.Generator().manual_seed(seed + 1)

        def loss(rows: np.ndarray) -> Tensor:
            batch = x[rows]
            if augment is not None:
                batch = augment(batch, gen)
            logits = self._logits(batch)
            return sum(F.cross_entropy(logits[a], targets[a][rows]) for a in self.attributes)

        fit(self, loss, len(x), steps, 64, 2e-3, seed, f"{self.modality} evaluator", progress)


class ImageEvaluator(_Classifier):
    NAME = "image_evaluator"
    VERSION = "1"
    modality = "image"

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.config = {"width": width}
        self._build(3, width)

    def _input(self, images) -> Tensor:
        return image_tensor(images) * 2 - 1

    @classmethod
    def train_on(
        cls,
        images: np.ndarray,
        labels: dict[str, np.ndarray],
        steps: int,
        seed: int,
        progress: bool = True,
    ) -> ImageEvaluator:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        net = cls()
        x = batched(net._input, images)

        def augment(batch: Tensor, gen: Tensor) -> Tensor:
            # Generated images are softer than rendered ones: train on a range of blurs.
            sigma = torch.rand(len(batch), generator=gen) * 2.5
            noise = torch.randn(batch.shape, generator=gen) * 0.05
            return _blur(batch, sigma) + noise

        net._train(x, labels, steps, seed, progress, augment)
        return net


class AudioEvaluator(_Classifier):
    NAME = "audio_evaluator"
    VERSION = "1"
    modality = "audio"

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.config = {"width": width}
        self._build(1, width)
        self.register_buffer("mel_mean", torch.zeros(()))
        self.register_buffer("mel_std", torch.ones(()))

    def _input(self, audio) -> Tensor:
        return (log_mel(audio) - self.mel_mean) / self.mel_std

    @classmethod
    def train_on(
        cls,
        audio: np.ndarray,
        labels: dict[str, np.ndarray],
        steps: int,
        seed: int,
        progress: bool = True,
    ) -> AudioEvaluator:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        net = cls()
        x = fit_mel_scaling(net, audio)

        def augment(batch: Tensor, gen: Tensor) -> Tensor:
            sigma = torch.rand(len(batch), generator=gen) * 1.0
            return _blur(batch, sigma) + torch.randn(batch.shape, generator=gen) * 0.05

        net._train(x, labels, steps, seed, progress, augment)
        return net


class PointEvaluator(_Classifier):
    NAME = "points_evaluator"
    VERSION = "1"
    modality = "points"

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.config = {"width": width}
        self._build(3, width, pointnet(width, FEATURE_DIM))

    def _input(self, points) -> Tensor:
        return point_tensor(points)

    @classmethod
    def train_on(
        cls,
        points: np.ndarray,
        labels: dict[str, np.ndarray],
        steps: int,
        seed: int,
        progress: bool = True,
    ) -> PointEvaluator:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        net = cls()
        x = net._input(points)

        def augment(batch: Tensor, gen: Tensor) -> Tensor:
            # Decoded clouds are blurrier than sampled ones: train on a range of extra jitter.
            sigma = torch.rand(len(batch), 1, 1, generator=gen) * 0.04
            return batch + torch.randn(batch.shape, generator=gen) * sigma

        net._train(x, labels, steps, seed, progress, augment)
        return net


class TextEvaluator:
    """Attributes of captions by exact parsing; unparseable captions get code -1 everywhere."""

    modality = "text"
    attributes = attributes_shown_by("text")

    def predict(self, captions: Sequence[str]) -> dict[str, np.ndarray]:
        out = {a: np.full(len(captions), UNPARSED, dtype=np.int64) for a in self.attributes}
        for i, caption in enumerate(captions):
            parsed = parse_caption(caption)
            if parsed is not None:
                for a in self.attributes:
                    out[a][i] = BY_NAME[a].values.index(parsed[a])
        return out

    @staticmethod
    def parse_rate(captions: Sequence[str]) -> float:
        return float(np.mean([parse_caption(c) is not None for c in captions]))


# -- contrastive pairs ---------------------------------------------------------------------


class _TextTower(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.tokenizer = Tokenizer(vocabulary(), max_caption_words())
        self.embed = nn.Embedding(len(self.tokenizer.itos), 64, padding_idx=0)
        self.mlp = nn.Sequential(nn.Linear(64, 128), nn.GELU(), nn.Linear(128, dim))

    def prepare(self, captions: Sequence[str]) -> Tensor:
        # Generated captions may run long or be empty: score them, do not refuse them.
        return self.tokenizer.encode(list(captions), lenient=True)

    def forward(self, ids: Tensor) -> Tensor:
        mask = (ids != self.tokenizer.stoi[PAD]).float().unsqueeze(-1)
        pooled = (self.embed(ids) * mask).sum(1) / mask.sum(1).clamp_min(1)
        return self.mlp(pooled)


class _ImageTower(nn.Module):
    def __init__(self, dim: int, width: int) -> None:
        super().__init__()
        self.net = conv_encoder(3, width, dim)

    def prepare(self, images) -> Tensor:
        return image_tensor(images) * 2 - 1

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _AudioTower(nn.Module):
    def __init__(self, dim: int, width: int) -> None:
        super().__init__()
        self.net = conv_encoder(1, width, dim)
        self.register_buffer("mel_mean", torch.zeros(()))
        self.register_buffer("mel_std", torch.ones(()))

    def prepare(self, audio) -> Tensor:
        return (log_mel(audio) - self.mel_mean) / self.mel_std

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _PointTower(nn.Module):
    def __init__(self, dim: int, width: int) -> None:
        super().__init__()
        self.net = pointnet(2 * width, dim)

    def prepare(self, points) -> Tensor:
        return point_tensor(points)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ContrastivePair(Frozen):
    """Two towers mapping their modalities into one unit-norm embedding (CLIP loss)."""

    NAME = "contrastive_pair"
    VERSION = "1"

    def __init__(self, first: str, second: str, dim: int = EMBED_DIM, width: int = 16) -> None:
        super().__init__()
        self.config = {"first": first, "second": second, "dim": dim, "width": width}
        self.modalities = (first, second)
        builders = {
            "text": lambda: _TextTower(dim),
            "image": lambda: _ImageTower(dim, width),
            "audio": lambda: _AudioTower(dim, width),
            "points": lambda: _PointTower(dim, width),
        }
        self.towers = nn.ModuleDict({m: builders[m]() for m in self.modalities})
        self.logit_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))

    def embed(self, modality: str, batch) -> Tensor:
        """Unit-norm embeddings (N, dim) of raw data of one of the pair's modalities."""
        if modality not in self.towers:
            raise ValueError(f"this pair embeds {self.modalities}, not {modality!r}")
        tower = self.towers[modality]
        return batched(lambda b: F.normalize(tower(tower.prepare(b)), dim=-1), batch)

    @classmethod
    def train_on(
        cls, first: str, second: str, data: dict, steps: int, seed: int, progress: bool = True
    ) -> ContrastivePair:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        net = cls(first, second)
        inputs = {}
        for m in net.modalities:
            tower = net.towers[m]
            if m == "audio":
                inputs[m] = fit_mel_scaling(tower, data[m])
            else:
                inputs[m] = batched(tower.prepare, data[m])

        def loss(rows: np.ndarray) -> Tensor:
            a, b = (F.normalize(net.towers[m](inputs[m][rows]), dim=-1) for m in net.modalities)
            logits = net.logit_scale.exp().clamp(max=100) * a @ b.T
            target = torch.arange(len(rows))
            return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2

        fit(
            net, loss, len(inputs[first]), steps, 64, 3e-3, seed, f"{first}-{second} pair", progress
        )
        return net


def candidate_groups(n_items: int, candidates: int = 100, seed: int = 0) -> np.ndarray:
    """Disjoint groups of ``candidates`` item indices from a seeded shuffle; the rest is dropped."""
    n = (n_items // candidates) * candidates
    if n == 0:
        raise ValueError(f"need at least {candidates} items for retrieval, got {n_items}")
    return np.random.default_rng(seed).permutation(n_items)[:n].reshape(-1, candidates)


def retrieval_top1(a: Tensor, b: Tensor, candidates: int = 100, seed: int = 0) -> float:
    """Top-1 accuracy of finding each item's partner among ``candidates`` items (itself + others).

    Items are split into disjoint groups of ``candidates``; chance is 1 / candidates.
    """
    groups = candidate_groups(len(a), candidates, seed)
    hits = 0
    for group in torch.as_tensor(groups):
        sims = a[group] @ b[group].T
        hits += (sims.argmax(1) == torch.arange(candidates)).sum().item()
    return hits / groups.size
