"""The embedded benchmark's codecs: the frozen encoders and decoders FlowBind works between.

One codec per modality, each with ``encode(batch) -> (N, D)`` latents and ``decode(latents)
-> batch`` in the same form the data comes in (uint8 images, int16 waveforms, caption strings).
They are trained once on the codec split, then frozen, and store the mean and standard deviation
of their latents on that split (``zscore`` / ``unzscore``).

    image  convolutional autoencoder on 64x64 RGB (MSE)
    audio  convolutional autoencoder on 64x64 log-mel spectrograms (MSE); waveforms come back
           through the pseudo-inverse mel filters and Griffin-Lim
    text   token MLP encoder and GRU decoder over the grammar's vocabulary (cross-entropy,
           greedy decoding)
    points PointNet encoder and a decoder to 256 points in 8 slots of 32: each slot a centre
           and a shape drawn by one MLP shared by the slots (Chamfer distance), for the
           fourth modality
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bench.embedded.captions import max_caption_words, vocabulary
from bench.embedded.catalog import CODEC_MODALITIES, POINT_CODEC_MODALITIES
from bench.embedded.nets import (
    Frozen,
    batched,
    fit,
    fit_mel_scaling,
    point_tensor,
    pointnet,
    spatial_decoder,
    spatial_encoder,
)
from bench.embedded.points import N_POINTS
from bench.embedded.spectrogram import griffin_lim, log_mel
from metrics.chamfer import chamfer_tensor

DEFAULT_LATENT_DIM = 64


class Codec(Frozen):
    """Common parts: latent statistics and batched encode/decode."""

    latent_dim: int

    def _init_stats(self, latent_dim: int) -> None:
        self.latent_dim = latent_dim
        self.register_buffer("latent_mean", torch.zeros(latent_dim))
        self.register_buffer("latent_std", torch.ones(latent_dim))

    def set_stats(self, latents: Tensor) -> None:
        self.latent_mean.copy_(latents.mean(0))
        self.latent_std.copy_(latents.std(0).clamp_min(1e-6))

    def zscore(self, latents: Tensor) -> Tensor:
        return (latents - self.latent_mean) / self.latent_std

    def unzscore(self, latents: Tensor) -> Tensor:
        return latents * self.latent_std + self.latent_mean

    def encode(self, batch) -> Tensor:
        return batched(self._encode, batch)

    def _encode(self, batch) -> Tensor:
        raise NotImplementedError


# -- image ---------------------------------------------------------------------------------


def image_tensor(images: np.ndarray | Tensor) -> Tensor:
    """uint8 (N, 64, 64, 3) -> float (N, 3, 64, 64) in [0, 1]."""
    return torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2).float() / 255.0


def image_uint8(x: Tensor) -> np.ndarray:
    """float (N, 3, 64, 64) in [0, 1] -> uint8 (N, 64, 64, 3)."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _object_weight(x: Tensor, factor: float = 10.0, threshold: float = 0.2) -> Tensor:
    """Per-pixel loss weights (N, 1, H, W): ``factor`` where a pixel is far from the background.

    Objects cover a few percent of the pixels but carry every attribute, so their squared error
    counts ten times more. The background is each image's per-channel median.
    """
    background = x.flatten(2).median(dim=2).values[..., None, None]
    far = (x - background).abs().amax(1, keepdim=True) > threshold
    return 1 + (factor - 1) * far.float()


class ImageCodec(Codec):
    NAME = "image_codec"
    VERSION = "1"

    def __init__(self, latent_dim: int = DEFAULT_LATENT_DIM, width: int = 16) -> None:
        super().__init__()
        self.config = {"latent_dim": latent_dim, "width": width}
        self.encoder = spatial_encoder(3, width, latent_dim)
        self.decoder = spatial_decoder(latent_dim, width, 3)
        self._init_stats(latent_dim)

    def _encode(self, images) -> Tensor:
        return self.encoder(image_tensor(images) * 2 - 1)

    def decode_tensor(self, latents: Tensor) -> Tensor:
        return (self.decoder(latents) + 1) / 2

    def decode(self, latents: Tensor) -> np.ndarray:
        return image_uint8(batched(self.decode_tensor, torch.as_tensor(latents).float()))

    @classmethod
    def train_on(
        cls, images: np.ndarray, latent_dim: int, steps: int, seed: int, progress: bool = True
    ) -> ImageCodec:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        codec = cls(latent_dim)
        x = image_tensor(images) * 2 - 1

        weight = _object_weight(x)

        def loss(rows: np.ndarray) -> Tensor:
            batch = x[rows]
            return (weight[rows] * (codec.decoder(codec.encoder(batch)) - batch) ** 2).mean()

        fit(codec, loss, len(x), steps, 64, 2e-3, seed, "image codec", progress)
        codec.set_stats(codec.encode(images))
        return codec


# -- audio ---------------------------------------------------------------------------------


class AudioCodec(Codec):
    NAME = "audio_codec"
    VERSION = "1"

    def __init__(
        self, latent_dim: int = DEFAULT_LATENT_DIM, width: int = 16, griffin_lim_iters: int = 32
    ) -> None:
        super().__init__()
        self.config = {
            "latent_dim": latent_dim,
            "width": width,
            "griffin_lim_iters": griffin_lim_iters,
        }
        self.encoder = spatial_encoder(1, width, latent_dim)
        self.decoder = spatial_decoder(latent_dim, width, 1)
        self.register_buffer("mel_mean", torch.zeros(()))
        self.register_buffer("mel_std", torch.ones(()))
        self._init_stats(latent_dim)

    def _scaled_mel(self, audio) -> Tensor:
        return (log_mel(audio) - self.mel_mean) / self.mel_std

    def _encode(self, audio) -> Tensor:
        return self.encoder(self._scaled_mel(audio))

    def decode_logmel(self, latents: Tensor) -> Tensor:
        return self.decoder(latents) * self.mel_std + self.mel_mean

    def decode(self, latents: Tensor) -> np.ndarray:
        """int16 waveforms (N, 16000) via Griffin-Lim from the decoded log-mel."""
        latents = torch.as_tensor(latents).float()
        iters = self.config["griffin_lim_iters"]
        wave = batched(lambda z: griffin_lim(self.decode_logmel(z), iters), latents, 256)
        return (wave * 32767.0).round().to(torch.int16).numpy()

    @classmethod
    def train_on(
        cls,
        audio: np.ndarray,
        latent_dim: int,
        steps: int,
        seed: int,
        progress: bool = True,
        griffin_lim_iters: int = 32,
    ) -> AudioCodec:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        codec = cls(latent_dim, griffin_lim_iters=griffin_lim_iters)
        x = fit_mel_scaling(codec, audio)

        def loss(rows: np.ndarray) -> Tensor:
            batch = x[rows]
            return F.mse_loss(codec.decoder(codec.encoder(batch)), batch)

        fit(codec, loss, len(x), steps, 64, 2e-3, seed, "audio codec", progress)
        codec.set_stats(batched(codec.encoder, x))
        return codec


# -- text ----------------------------------------------------------------------------------

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"


class Tokenizer:
    """Whitespace tokens over the grammar's vocabulary, padded to a fixed length."""

    def __init__(self, words: Sequence[str], max_words: int) -> None:
        self.itos = (PAD, BOS, EOS, *words)
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.length = max_words + 1  # room for EOS

    def encode(self, captions: Sequence[str], lenient: bool = False) -> Tensor:
        """Token ids of shape (N, max_words + 1).

        Strict by default: a caption outside the grammar's vocabulary or length is an error.
        ``lenient`` (for scoring generated text, as CLIP's tokenizer truncates its context)
        drops unknown words and truncates long captions instead.
        """
        out = torch.zeros(len(captions), self.length, dtype=torch.long)
        for i, caption in enumerate(captions):
            words = caption.lower().split()
            if lenient:
                words = [w for w in words if w in self.stoi][: self.length - 1]
            unknown = [w for w in words if w not in self.stoi]
            if unknown or len(words) >= self.length:
                problem = f"unknown words {unknown}" if unknown else f"{len(words)} words"
                raise ValueError(
                    f"caption {caption!r} has {problem}; the text codec reads captions of the "
                    f"embedded grammar only (at most {self.length - 1} words)"
                )
            ids = [self.stoi[w] for w in words] + [self.stoi[EOS]]
            out[i, : len(ids)] = torch.tensor(ids)
        return out

    def decode(self, ids: Tensor) -> list[str]:
        captions = []
        for row in ids.tolist():
            words = []
            for i in row:
                if self.itos[i] == EOS:
                    break
                if self.itos[i] not in (PAD, BOS):
                    words.append(self.itos[i])
            captions.append(" ".join(words))
        return captions


class TextCodec(Codec):
    NAME = "text_codec"
    VERSION = "1"

    def __init__(
        self,
        latent_dim: int = DEFAULT_LATENT_DIM,
        words: Sequence[str] | None = None,
        max_words: int | None = None,
        embed_dim: int = 32,
        hidden_dim: int = 128,
    ) -> None:
        super().__init__()
        words = list(vocabulary() if words is None else words)
        max_words = max_caption_words() if max_words is None else max_words
        self.config = {
            "latent_dim": latent_dim,
            "words": words,
            "max_words": max_words,
            "embed_dim": embed_dim,
            "hidden_dim": hidden_dim,
        }
        self.tokenizer = Tokenizer(words, max_words)
        vocab, length = len(self.tokenizer.itos), self.tokenizer.length
        self.embed = nn.Embedding(vocab, embed_dim)
        self.encoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(length * embed_dim, 256),
            nn.GELU(),
            nn.Linear(256, latent_dim),
        )
        self.init_hidden = nn.Linear(latent_dim, hidden_dim)
        self.gru = nn.GRU(embed_dim + latent_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab)
        self._init_stats(latent_dim)

    def _encode_ids(self, ids: Tensor) -> Tensor:
        return self.encoder(self.embed(ids))

    def _encode(self, captions: Sequence[str]) -> Tensor:
        return self._encode_ids(self.tokenizer.encode(list(captions)))

    def _logits(self, latents: Tensor, ids: Tensor) -> Tensor:
        """Teacher-forced next-token logits (N, L, V) for target tokens ``ids``."""
        bos = torch.full((len(ids), 1), self.tokenizer.stoi[BOS], dtype=torch.long)
        inputs = torch.cat([bos, ids[:, :-1]], dim=1)
        cond = latents.unsqueeze(1).expand(-1, inputs.shape[1], -1)
        h0 = torch.tanh(self.init_hidden(latents)).unsqueeze(0)
        out, _ = self.gru(torch.cat([self.embed(inputs), cond], dim=-1), h0)
        return self.out(out)

    def _greedy(self, latents: Tensor) -> Tensor:
        n = len(latents)
        token = torch.full((n, 1), self.tokenizer.stoi[BOS], dtype=torch.long)
        h = torch.tanh(self.init_hidden(latents)).unsqueeze(0)
        cond = latents.unsqueeze(1)
        ids = []
        for _ in range(self.tokenizer.length):
            out, h = self.gru(torch.cat([self.embed(token), cond], dim=-1), h)
            token = self.out(out).argmax(-1)
            ids.append(token)
        return torch.cat(ids, dim=1)

    def decode(self, latents: Tensor) -> list[str]:
        ids = batched(self._greedy, torch.as_tensor(latents).float())
        return self.tokenizer.decode(ids)

    @classmethod
    def train_on(
        cls, captions: Sequence[str], latent_dim: int, steps: int, seed: int, progress: bool = True
    ) -> TextCodec:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        codec = cls(latent_dim)
        ids = codec.tokenizer.encode(list(captions))
        pad = codec.tokenizer.stoi[PAD]

        def loss(rows: np.ndarray) -> Tensor:
            batch = ids[rows]
            logits = codec._logits(codec._encode_ids(batch), batch)
            return F.cross_entropy(logits.flatten(0, 1), batch.flatten(), ignore_index=pad)

        fit(codec, loss, len(ids), steps, 128, 3e-3, seed, "text codec", progress)
        codec.set_stats(batched(codec._encode_ids, ids))
        return codec


# -- point clouds --------------------------------------------------------------------------


class PointCodec(Codec):
    """PointNet encoder; the decoder maps the latent to ``slots`` (centre, shape code) pairs
    and each shape code, through one MLP shared by the slots, to ``n_points / slots`` offsets
    around its centre. Scenes are one to three compact objects, and a plain MLP decoder trained
    with the Chamfer distance piles most points on one of them (measured: count 0.91, kind
    0.66 recovered after 800 steps, against 0.97 and 0.73 with slots); slots let each object
    take its own points. Trained with the Chamfer distance (metrics.chamfer)."""

    NAME = "points_codec"
    VERSION = "1"

    def __init__(
        self,
        latent_dim: int = DEFAULT_LATENT_DIM,
        width: int = 32,
        hidden_dim: int = 512,
        n_points: int = N_POINTS,
        slots: int = 8,
        shape_dim: int = 128,
    ) -> None:
        super().__init__()
        if n_points % slots:
            raise ValueError(f"n_points ({n_points}) must be a multiple of slots ({slots})")
        self.config = {
            "latent_dim": latent_dim,
            "width": width,
            "hidden_dim": hidden_dim,
            "n_points": n_points,
            "slots": slots,
            "shape_dim": shape_dim,
        }
        self.encoder = pointnet(width, latent_dim)
        self.to_slots = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, slots * (3 + shape_dim)),
        )
        self.to_shape = nn.Sequential(
            nn.GELU(), nn.Linear(shape_dim, 256), nn.GELU(), nn.Linear(256, 3 * n_points // slots)
        )
        self._init_stats(latent_dim)

    def _encode(self, points) -> Tensor:
        return self.encoder(point_tensor(points))

    def decode_tensor(self, latents: Tensor) -> Tensor:
        """Latents (N, D) -> clouds (N, n_points, 3), slot after slot."""
        n, slots = len(latents), self.config["slots"]
        slot = self.to_slots(latents).view(n, slots, -1)
        centre, code = slot[..., :3], slot[..., 3:]
        offsets = self.to_shape(code).view(n, slots, -1, 3)
        return (centre.unsqueeze(2) + offsets).flatten(1, 2)

    def decode(self, latents: Tensor) -> np.ndarray:
        """float32 point clouds (N, n_points, 3)."""
        return batched(self.decode_tensor, torch.as_tensor(latents).float()).numpy()

    @classmethod
    def train_on(
        cls, points: np.ndarray, latent_dim: int, steps: int, seed: int, progress: bool = True
    ) -> PointCodec:
        torch.manual_seed(seed)  # the initial weights too come from the seed
        codec = cls(latent_dim, n_points=points.shape[1])
        x = point_tensor(points)
        target = x.transpose(1, 2).contiguous()

        def loss(rows: np.ndarray) -> Tensor:
            decoded = codec.decode_tensor(codec.encoder(x[rows]))
            return chamfer_tensor(decoded, target[rows], exact=False).mean()

        fit(codec, loss, len(x), steps, 64, 1e-3, seed, "point-cloud codec", progress)
        codec.set_stats(codec.encode(points))
        return codec


CODECS = dict(zip(CODEC_MODALITIES, (ImageCodec, AudioCodec, TextCodec), strict=True))
# Every codec, the fourth modality's included: the three above are the default benchmark's.
ALL_CODECS = {**CODECS, **dict(zip(POINT_CODEC_MODALITIES, (PointCodec,), strict=True))}
