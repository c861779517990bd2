"""Feature extractors of the paper profile, each loading its weights from the registry.

    InceptionFeatures   FID: Inception-v3 pool3, 2048-d (pytorch-fid convention)
    VGGishEmbeddings    FAD: VGGish, one 128-d embedding per 0.96 s of 16 kHz audio
    ClipViTB32          CLIP score, AIS image side: OpenAI CLIP ViT-B/32 (open_clip), 512-d
    Wav2ClipAudio       AIS audio side: wav2clip, 512-d
    ClapAudioText       CLAP score: LAION-CLAP audio (48 kHz) and text, 512-d

``weights`` selects what is loaded: ``"registry"`` (default) the backbone's registry entry, another
registry entry name, a path to a file, or None for random initialisation (tests only; scores from
it mean nothing). Weights are never downloaded here: a missing file raises
``MissingWeightsError`` saying where to put it (see ``metrics.backbones.registry``).

Every backbone is frozen: eval mode (``train()`` does not change that), no gradients, and its
``forward`` runs under ``torch.no_grad``. Inputs go to the backbone's device; outputs are float32
on that device.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import pickle
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from metrics.backbones.registry import REGISTRY, MissingWeightsError, checked_path
from metrics.validation import MetricInputError, check_texts

Weights = str | Path | None


class BackboneUnavailableError(RuntimeError):
    """A backbone needs something this machine lacks (a package, files from a hub cache)."""


# ----------------------------------------------------------------------------- helpers


def _resolve(weights: Weights, default_entry: str) -> Path | None:
    """None, or the checked file for "registry" / a registry entry name / a path."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "registry":
        return checked_path(default_entry)
    if isinstance(weights, str) and weights in REGISTRY:
        return checked_path(weights)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"weights file {path} does not exist (registry entries: {', '.join(sorted(REGISTRY))})"
        )
    return path


def _load_tensors(path: Path) -> dict[str, Any]:
    """A checkpoint of tensors, read with ``weights_only=True``; clear error if it holds more."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise RuntimeError(
            f"{path} holds Python objects besides tensors and is not unpickled for safety; "
            "check it is the official file"
        ) from exc


def _unprefixed(state: dict[str, Any], prefix: str = "module.") -> dict[str, Any]:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def _load_strict(
    module: nn.Module, state: dict[str, Any], source: Path, optional: tuple[str, ...] = ()
) -> None:
    """load_state_dict that names the file on failure; keys ending in ``optional`` may be absent."""
    result = module.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith(optional)]
    if missing or result.unexpected_keys:
        raise RuntimeError(
            f"{source} does not fit {type(module).__name__}: missing {missing[:5]} "
            f"({len(missing)}), unexpected {result.unexpected_keys[:5]} "
            f"({len(result.unexpected_keys)})"
        )


class _Frozen(nn.Module):
    """Frozen feature extractor: eval mode that ``train()`` keeps, no gradients."""

    def _freeze(self) -> None:
        for param in self.parameters():
            param.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> _Frozen:
        return super().train(False)

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")


def _to_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x.detach()
    if hasattr(x, "convert") and hasattr(x, "size"):  # PIL image
        return torch.from_numpy(np.array(x.convert("RGB")))
    return torch.as_tensor(np.asarray(x))


def _image_batch(x: Tensor, name: str) -> Tensor:
    """(N, C, H, W) with C = 3: uint8 0..255, or float clamped to [0, 1] after a range check."""
    if x.ndim == 3:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise MetricInputError(f"{name} must be (N,3,H,W) float or (N,H,W,3) uint8, got {x.shape}")
    if x.dtype == torch.uint8:
        if x.shape[-1] in (1, 3):  # channels last, the documented uint8 layout
            x = x.permute(0, 3, 1, 2)
    elif x.is_floating_point():
        if x.numel() and not torch.isfinite(x).all():
            raise MetricInputError(f"{name} has NaN or inf values")
        lo, hi = (float(x.min()), float(x.max())) if x.numel() else (0.0, 1.0)
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise MetricInputError(
                f"float {name} must be in [0, 1], got min {lo:.3g} max {hi:.3g} (map [-1, 1] "
                "with (x + 1) / 2; pass 0..255 images as uint8)"
            )
        x = x.float().clamp(0, 1)
    else:
        raise MetricInputError(f"{name} must be float in [0, 1] or uint8, got {x.dtype}")
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[1] != 3:
        raise MetricInputError(f"{name} must have 1 or 3 channels, got shape {tuple(x.shape)}")
    return x


def _image_groups(images: Any, name: str = "images") -> Iterator[Tensor]:
    """Equal-size batches: the whole input if it is one array, else one per listed image."""
    if isinstance(images, Tensor | np.ndarray):
        yield _image_batch(_to_tensor(images), name)
        return
    if not isinstance(images, Sequence) or not images:
        raise MetricInputError(f"{name}: expected an image array or a non-empty list of images")
    for i, image in enumerate(images):
        yield _image_batch(_to_tensor(image), f"{name}[{i}]")


def _waveforms(audio: Any, name: str, min_samples: int = 1) -> list[Tensor]:
    """Mono float64 clips from (N, S) / (N, C, S) / (S,) arrays or a list of 1-D clips.

    int16 is divided by 32768; several channels are averaged (as torchvggish does).
    """
    if isinstance(audio, Tensor | np.ndarray):
        x = _to_tensor(audio)
        if x.dtype == torch.int16:
            x = x.to(torch.float64) / 32768.0
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.ndim == 3 and x.is_floating_point():
            x = x.to(torch.float64).mean(dim=1)
        if x.ndim != 2:
            raise MetricInputError(f"{name} must be (N, samples), got shape {tuple(x.shape)}")
        clips = list(x)
    elif isinstance(audio, Sequence) and audio:
        clips = [_to_tensor(c) for c in audio]
    else:
        raise MetricInputError(f"{name}: expected a waveform array or a non-empty list of clips")
    out = []
    for i, clip in enumerate(clips):
        if clip.ndim != 1:
            raise MetricInputError(f"{name}[{i}] must be 1-D, got shape {tuple(clip.shape)}")
        if clip.dtype == torch.int16:
            clip = clip.to(torch.float64) / 32768.0
        elif clip.is_floating_point():
            clip = clip.to(torch.float64)
        else:
            raise MetricInputError(f"{name}[{i}] must be float in [-1, 1] or int16")
        if not torch.isfinite(clip).all():
            raise MetricInputError(f"{name}[{i}] has NaN or inf samples")
        if clip.numel() < min_samples:
            raise MetricInputError(
                f"{name}[{i}] has {clip.numel()} samples; at least {min_samples} are needed"
            )
        out.append(clip)
    return out


# ----------------------------------------------------------------------------- Inception (FID)


@functools.cache
def _fid_blocks() -> tuple[type[nn.Module], ...]:
    """torchvision's Inception-v3 blocks, and the three FID variants built on them."""
    from torchvision.models import inception as tv

    def tf_avg_pool(x: Tensor) -> Tensor:  # TensorFlow's average pool: padding not counted
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    class FIDInceptionA(tv.InceptionA):
        """InceptionA with TensorFlow's average pool."""

        def forward(self, x: Tensor) -> Tensor:
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([b1, b5, b3, self.branch_pool(tf_avg_pool(x))], 1)

    class FIDInceptionC(tv.InceptionC):
        """InceptionC with TensorFlow's average pool."""

        def forward(self, x: Tensor) -> Tensor:
            b1 = self.branch1x1(x)
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            d = self.branch7x7dbl_2(self.branch7x7dbl_1(x))
            d = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(d)))
            return torch.cat([b1, b7, d, self.branch_pool(tf_avg_pool(x))], 1)

    class FIDInceptionE(tv.InceptionE):
        """InceptionE; pool branch: TensorFlow's average pool, or a 3x3 max pool (Mixed_7c)."""

        def __init__(self, in_channels: int, max_pool: bool) -> None:
            super().__init__(in_channels)
            self.max_pool = max_pool

        def forward(self, x: Tensor) -> Tensor:
            b1 = self.branch1x1(x)
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
            if self.max_pool:
                pool = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
            else:
                pool = tf_avg_pool(x)
            return torch.cat([b1, b3, d, self.branch_pool(pool)], 1)

    return tv.BasicConv2d, FIDInceptionA, tv.InceptionB, FIDInceptionC, tv.InceptionD, FIDInceptionE


class InceptionFeatures(_Frozen):
    """Inception-v3 pool3 features (2048-d) for FID, in the pytorch-fid convention.

    The network of TensorFlow's FID code (inception-2015-12-05) as ported by pytorch-fid: the
    torchvision Inception-v3 layout with FID-specific blocks (average pools that exclude padding,
    a max pool in the pool branch of Mixed_7c) and a 1008-class ``fc`` kept only so that the
    checkpoint loads unchanged (it is not used). Module names match the checkpoint
    ``pt_inception-2015-12-05-6726825d.pth``.

    Input: float images (N, 3, H, W) in [0, 1], uint8 images (N, H, W, 3), or a list of such
    images / PIL images (each processed alone, so sizes may differ). Each image is resized to
    299 x 299 (bilinear, align_corners=False, no antialias), scaled to [-1, 1] (2x - 1), passed
    through the network up to the final average pool. Output: (N, 2048).
    """

    entry = "inception-fid"
    dim = 2048

    def __init__(self, weights: Weights = "registry") -> None:
        super().__init__()
        path = _resolve(weights, self.entry)  # before building: a missing file fails fast
        conv, block_a, block_b, block_c, block_d, block_e = _fid_blocks()
        self.Conv2d_1a_3x3 = conv(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = conv(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = conv(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = conv(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = conv(80, 192, kernel_size=3)
        self.Mixed_5b = block_a(192, pool_features=32)
        self.Mixed_5c = block_a(256, pool_features=64)
        self.Mixed_5d = block_a(288, pool_features=64)
        self.Mixed_6a = block_b(288)
        self.Mixed_6b = block_c(768, channels_7x7=128)
        self.Mixed_6c = block_c(768, channels_7x7=160)
        self.Mixed_6d = block_c(768, channels_7x7=160)
        self.Mixed_6e = block_c(768, channels_7x7=192)
        self.Mixed_7a = block_d(768)
        self.Mixed_7b = block_e(1280, max_pool=False)
        self.Mixed_7c = block_e(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)
        if path is not None:
            state = _unprefixed(_load_tensors(path))
            _load_strict(self, state, path, optional=("num_batches_tracked",))
        self._freeze()

    def features(self, x: Tensor) -> Tensor:
        """Pool3 features of a float batch already in [-1, 1] at 299 x 299."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b):
            x = block(x)
        for block in (self.Mixed_6c, self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b):
            x = block(x)
        x = self.Mixed_7c(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    @torch.no_grad()
    def forward(self, images: Any) -> Tensor:
        out = []
        for batch in _image_groups(images):
            x = batch.to(self.device)
            x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
            x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
            out.append(self.features(2 * x - 1))
        return torch.cat(out)


# ----------------------------------------------------------------------------- VGGish (FAD)


def _hertz_to_mel(hz: Tensor) -> Tensor:
    return 1127.0 * torch.log1p(hz / 700.0)


def vggish_mel_matrix(
    num_bins: int = 257,
    sample_rate: int = 16000,
    num_mel: int = 64,
    lower_hz: float = 125.0,
    upper_hz: float = 7500.0,
) -> Tensor:
    """(num_bins, num_mel) float64 triangular HTK-mel weights of VGGish; the DC row is zero."""
    bins_mel = _hertz_to_mel(torch.linspace(0.0, sample_rate / 2, num_bins, dtype=torch.float64))
    edges = torch.linspace(
        float(_hertz_to_mel(torch.tensor(lower_hz, dtype=torch.float64))),
        float(_hertz_to_mel(torch.tensor(upper_hz, dtype=torch.float64))),
        num_mel + 2,
        dtype=torch.float64,
    )
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel[:, None] - lower) / (center - lower)
    falling = (upper - bins_mel[:, None]) / (upper - center)
    weights = torch.clamp(torch.minimum(rising, falling), min=0.0)
    weights[0, :] = 0.0
    return weights


class VGGishEmbeddings(_Frozen):
    """VGGish 128-d embeddings of 16 kHz audio for FAD (frechet_audio_distance convention).

    Front end (torchvggish / AudioSet VGGish, computed in float64): 25 ms periodic-Hann windows
    (400 samples) every 10 ms (160), no centring; |rfft| with 512 points; 64 HTK-mel bands over
    125-7500 Hz; log(mel + 0.01); non-overlapping examples of 96 frames (0.96 s) x 64 bands.
    Trailing audio that does not fill a whole example is dropped, as in the reference. A clip
    shorter than 15600 samples (0.975 s, the least giving one example) is zero-padded at the end
    to 15600 samples and yields one embedding (the reference yields none).

    Network: the torchvggish VGG (module names match ``vggish-10086976.pth``); the embedding is
    the last linear layer's output before its ReLU, with no PCA, clipping or 8-bit quantisation.

    Input: float waveforms in [-1, 1] or int16, mono 16 kHz: (N, samples), (N, channels,
    samples) (channels averaged), (samples,), or a list of 1-D clips of any lengths.
    Output of ``forward``: (total examples, 128), every example of every clip in order (clip-
    major), the sample set of FAD. ``embed_clips`` gives one (examples, 128) tensor per clip.
    """

    entry = "vggish"
    dim = 128
    sample_rate = 16000
    window, hop, n_fft = 400, 160, 512
    example_frames, mel_bands = 96, 64
    min_samples = window + (example_frames - 1) * hop  # 15600

    def __init__(self, weights: Weights = "registry", max_examples: int = 512) -> None:
        super().__init__()
        path = _resolve(weights, self.entry)
        layers: list[nn.Module] = []
        channels = 1
        for width in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
            if width == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(channels, width, kernel_size=3, padding=1), nn.ReLU()]
                channels = width
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(512 * 4 * 6, 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, 128),  # the checkpoint's final ReLU is left out (FAD convention)
        )
        self.max_examples = max_examples
        hann = 0.5 - 0.5 * torch.cos(
            2 * torch.pi * torch.arange(self.window, dtype=torch.float64) / self.window
        )
        self.register_buffer("hann", hann, persistent=False)
        self.register_buffer("mel_matrix", vggish_mel_matrix(), persistent=False)
        if path is not None:
            _load_strict(self, _unprefixed(_load_tensors(path)), path)
        self._freeze()

    def log_mel_examples(self, clip: Tensor) -> Tensor:
        """(examples, 96, 64) float64 log-mel examples of one 1-D 16 kHz float clip."""
        clip = clip.to(device=self.hann.device, dtype=torch.float64)
        if clip.numel() < self.min_samples:
            clip = F.pad(clip, (0, self.min_samples - clip.numel()))
        frames = clip.unfold(0, self.window, self.hop) * self.hann
        magnitude = torch.fft.rfft(frames, n=self.n_fft).abs()
        log_mel = torch.log(magnitude @ self.mel_matrix + 0.01)
        examples = log_mel.unfold(0, self.example_frames, self.example_frames)
        return examples.transpose(1, 2)

    def embed_examples(self, examples: Tensor) -> Tensor:
        """(B, 128) embeddings of (B, 96, 64) log-mel examples, in chunks of max_examples."""
        out = []
        for chunk in examples.split(self.max_examples):
            x = self.features(chunk.float().unsqueeze(1))  # (B, 512, 6, 4)
            x = x.permute(0, 2, 3, 1).flatten(1)  # TensorFlow's NHWC flattening order
            out.append(self.embeddings(x))
        return torch.cat(out) if out else examples.new_zeros((0, self.dim), dtype=torch.float32)

    @torch.no_grad()
    def embed_clips(self, audio: Any) -> list[Tensor]:
        """One (examples, 128) tensor per clip."""
        clips = _waveforms(audio, "audio")
        examples = [self.log_mel_examples(c) for c in clips]
        flat = self.embed_examples(torch.cat(examples))
        return list(flat.split([len(e) for e in examples]))

    @torch.no_grad()
    def forward(self, audio: Any) -> Tensor:
        return torch.cat(self.embed_clips(audio))


# ----------------------------------------------------------------------------- CLIP ViT-B/32

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_OPENAI_META_KEYS = ("input_resolution", "context_length", "vocab_size")


@contextlib.contextmanager
def _quiet_logging(level: int = logging.WARNING) -> Iterator[None]:
    previous = logging.root.manager.disable
    logging.disable(level)
    try:
        yield
    finally:
        logging.disable(previous)


def read_openai_clip_state(path: str | Path) -> dict[str, Tensor]:
    """State dict of an OpenAI CLIP file: TorchScript archive (the official ``.pt``) or a plain
    state dict; the archive's non-tensor entries (input_resolution, ...) are dropped."""
    try:
        with warnings.catch_warnings():  # TorchScript is deprecated, but it is OpenAI's format
            warnings.simplefilter("ignore", DeprecationWarning)
            state = dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    except RuntimeError:
        state = _load_tensors(Path(path))
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
    state = {k: v for k, v in state.items() if k not in _OPENAI_META_KEYS}
    return _unprefixed(state)


class ClipViTB32(_Frozen):
    """OpenAI CLIP ViT-B/32 through open_clip: unit-norm 512-d image and text embeddings.

    Built as open_clip ``ViT-B-32-quickgelu`` (the OpenAI models use QuickGELU) with no
    pretrained tag, then the OpenAI checkpoint's weights are loaded strictly (the official file
    is a TorchScript archive; its state dict is read with ``torch.jit.load``).

    Images (``encode_images`` / ``forward``): float (N, 3, H, W) in [0, 1], uint8 (N, H, W, 3),
    or a list of images / PIL images. OpenAI preprocessing: shorter side resized to 224 (bicubic,
    antialiased; uint8 input is resized in uint8 like PIL, float output clamped to [0, 1]),
    centre crop 224 x 224, normalised with CLIP's mean and std.
    Texts (``encode_texts``): open_clip's tokenizer (OpenAI BPE, 77 tokens, longer texts cut,
    keeping the end-of-text token), no prompt prefix.
    """

    entry = "clip-vit-b-32-openai"
    dim = 512
    image_size = 224

    def __init__(self, weights: Weights = "registry") -> None:
        super().__init__()
        import open_clip

        path = _resolve(weights, self.entry)
        with _quiet_logging():  # open_clip warns that no weights were loaded: they come next
            self.model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
        self.tokenizer = open_clip.get_tokenizer("ViT-B-32-quickgelu")
        if path is not None:
            _load_strict(self.model, read_openai_clip_state(path), path)
        self.model.float()
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)
        self._freeze()

    def preprocess(self, batch: Tensor) -> Tensor:
        """OpenAI's resize / centre-crop / normalise on a (N, 3, H, W) uint8 or [0, 1] batch."""
        from torchvision.transforms.v2 import InterpolationMode
        from torchvision.transforms.v2 import functional as TF

        x = TF.resize(
            batch, [self.image_size], interpolation=InterpolationMode.BICUBIC, antialias=True
        )
        x = TF.center_crop(x, [self.image_size, self.image_size])
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float().clamp(0, 1)
        return (x - self.mean) / self.std

    @torch.no_grad()
    def encode_images(self, images: Any) -> Tensor:
        out = []
        for batch in _image_groups(images):
            x = self.preprocess(batch.to(self.device))
            out.append(self.model.encode_image(x))
        return F.normalize(torch.cat(out).float(), dim=-1)

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> Tensor:
        texts = list(texts)
        check_texts(texts, "texts")
        tokens = self.tokenizer(texts).to(self.device)
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1)

    def forward(self, images: Any) -> Tensor:
        return self.encode_images(images)


# ----------------------------------------------------------------------------- wav2clip


class Wav2ClipAudio(_Frozen):
    """wav2clip audio embeddings (512-d, unit norm by default) for AIS.

    The wav2clip package's ResNetExtractor in its released configuration (``get_model()``):
    ResNet encoder on a log spectrogram plus the 512-512-512 MLP ``transform``, one embedding per
    clip (no framing). wav2clip standardises the log spectrogram with the mean and std of the
    whole input tensor, so each clip is embedded alone: a clip's embedding never depends on the
    other clips of a batch.

    Input: float waveforms in [-1, 1] or int16, mono 16 kHz, (N, samples) or a list of 1-D clips
    (at least 512 samples each). Output: (N, 512).
    """

    entry = "wav2clip"
    dim = 512
    sample_rate = 16000
    min_samples = 512

    def __init__(self, weights: Weights = "registry", normalize: bool = True) -> None:
        super().__init__()
        from wav2clip.model.encoder import MLPLayers, ResNetExtractor

        path = _resolve(weights, self.entry)
        if path is None:
            self.model = ResNetExtractor(scenario="supervise")
            self.model.transform = MLPLayers(units=[512, 512, 512], dropout=0.1)
        else:
            checkpoint = _load_tensors(path)
            self.model = ResNetExtractor(checkpoint=checkpoint, scenario="frozen", transform=True)
        self.normalize = normalize
        self._freeze()

    @torch.no_grad()
    def forward(self, audio: Any) -> Tensor:
        clips = _waveforms(audio, "audio", min_samples=self.min_samples)
        out = [self.model(c.float().to(self.device).unsqueeze(0)) for c in clips]
        emb = torch.cat(out).float()
        return F.normalize(emb, dim=-1) if self.normalize else emb


# ----------------------------------------------------------------------------- LAION-CLAP

# Files laion_clap fetches from the Hugging Face hub when it is imported (the three tokenizers
# in laion_clap.training.data) and when the model is built (roberta-base's weights for the text
# branch, overwritten by the CLAP checkpoint). Any one of each tuple suffices.
CLAP_HUB_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("roberta-base", ("vocab.json",)),
    ("roberta-base", ("merges.txt",)),
    ("roberta-base", ("config.json",)),
    ("roberta-base", ("model.safetensors", "pytorch_model.bin")),
    ("bert-base-uncased", ("vocab.txt",)),
    ("facebook/bart-base", ("vocab.json",)),
    ("facebook/bart-base", ("merges.txt",)),
)
CLAP_AUDIO_MODELS = {
    "clap-630k-audioset": "HTSAT-tiny",
    "clap-music-audioset": "HTSAT-base",
    "clap-flowbind": "HTSAT-base",
}
_HUB_PREPARE = (
    'python -c "from transformers import AutoModel, AutoTokenizer; '
    "[AutoTokenizer.from_pretrained(n) for n in ('roberta-base', 'bert-base-uncased', "
    "'facebook/bart-base')]; AutoModel.from_pretrained('roberta-base')\""
)


def missing_clap_hub_files() -> list[str]:
    """The hub files laion_clap needs that the local Hugging Face cache lacks (no network)."""
    from huggingface_hub import constants, try_to_load_from_cache

    missing = []
    for repo, names in CLAP_HUB_FILES:
        if not any(isinstance(try_to_load_from_cache(repo, n), str) for n in names):
            missing.append(f"{repo}/{' or '.join(names)}")
    return [f"{m} (in {constants.HF_HUB_CACHE})" for m in missing]


@contextlib.contextmanager
def _hub_offline() -> Iterator[None]:
    """Hugging Face libraries in offline mode: cached files only, no network call."""
    import huggingface_hub.constants as hub_constants

    try:
        from transformers.utils import hub as transformers_hub
    except ImportError:  # pragma: no cover - transformers is a laion_clap dependency
        transformers_hub = None
    saved_env = os.environ.get("HF_HUB_OFFLINE")
    saved_hub = hub_constants.HF_HUB_OFFLINE
    saved_tf = getattr(transformers_hub, "_is_offline_mode", None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    hub_constants.HF_HUB_OFFLINE = True
    if transformers_hub is not None:
        transformers_hub._is_offline_mode = True
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved_env
        hub_constants.HF_HUB_OFFLINE = saved_hub
        if transformers_hub is not None:
            transformers_hub._is_offline_mode = saved_tf


class ClapAudioText(_Frozen):
    """LAION-CLAP audio and text embeddings (512-d, unit norm) for the CLAP score.

    laion_clap's ``CLAP_Module`` (non-fusion, RoBERTa text branch), its audio model chosen by the
    checkpoint: HTSAT-tiny for ``clap-630k-audioset`` (the default), HTSAT-base for
    ``clap-music-audioset`` and ``clap-flowbind``; for a file path pass ``audio_model``.
    Nothing is fetched: laion_clap is imported with the Hugging Face libraries in offline mode,
    and it needs the roberta-base tokenizer and weights, and the bert-base-uncased and
    facebook/bart-base tokenizers, in the local Hugging Face cache (``HF_HOME``). What is missing
    is reported before laion_clap is imported, in one BackboneUnavailableError.

    Audio (``encode_audio`` / ``forward``): float waveforms in [-1, 1] or int16, mono,
    (N, samples) or a list of 1-D clips, at ``sample_rate`` (resampled to 48 kHz with torchaudio
    when different). laion_clap quantises to int16 and back, repeat-pads clips shorter than
    10 s and crops longer ones at a random offset (numpy's global RNG).
    Texts (``encode_texts``): RoBERTa tokenizer, padded / cut to 77 tokens.
    laion_clap unpickles its checkpoint in full (``weights_only=False``): use the official file.
    """

    dim = 512
    sample_rate = 48000

    def __init__(
        self,
        weights: Weights = "registry",
        *,
        entry: str = "clap-630k-audioset",
        audio_model: str | None = None,
    ) -> None:
        super().__init__()
        if entry not in CLAP_AUDIO_MODELS:
            raise ValueError(f"entry must be one of {sorted(CLAP_AUDIO_MODELS)}, got {entry!r}")
        if isinstance(weights, str) and weights in CLAP_AUDIO_MODELS:
            entry = weights
        self.audio_model = audio_model or CLAP_AUDIO_MODELS[entry]
        problems = []
        path: Path | None = None
        try:
            path = _resolve(weights, entry)
        except MissingWeightsError as exc:
            problems.append(f"the CLAP checkpoint: {exc}")
        missing = missing_clap_hub_files()
        if missing:
            problems.append(
                "Hugging Face hub files that laion_clap loads at import and construction:\n    "
                + "\n    ".join(missing)
                + "\n  Provide them by running once with internet (same HF_HOME), then copying "
                f"the cache here if needed:\n    {_HUB_PREPARE}"
            )
        if problems:
            raise BackboneUnavailableError(
                "LAION-CLAP cannot be built offline on this machine; missing:\n- "
                + "\n- ".join(problems)
            )
        try:
            with _hub_offline(), contextlib.redirect_stdout(io.StringIO()):
                import laion_clap

                module = laion_clap.CLAP_Module(
                    enable_fusion=False, amodel=self.audio_model, tmodel="roberta", device="cpu"
                )
                if path is not None:
                    module.load_ckpt(str(path), verbose=False)
        except Exception as exc:
            raise BackboneUnavailableError(
                f"laion_clap failed to load offline ({type(exc).__name__}: {exc}). It needs "
                "roberta-base, bert-base-uncased and facebook/bart-base in the Hugging Face cache "
                f"(HF_HOME); fill it once with internet:\n    {_HUB_PREPARE}"
            ) from exc
        self.clap = module
        self._freeze()

    @torch.no_grad()
    def encode_audio(self, audio: Any, sample_rate: int = 48000) -> Tensor:
        clips = _waveforms(audio, "audio")
        if sample_rate != self.sample_rate:
            import torchaudio.functional as AF

            clips = [AF.resample(c, sample_rate, self.sample_rate) for c in clips]
        data = [c.float().cpu().numpy() for c in clips]
        emb = self.clap.get_audio_embedding_from_data(data, use_tensor=False)
        return F.normalize(torch.as_tensor(np.asarray(emb)).float(), dim=-1).to(self.device)

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> Tensor:
        texts = list(texts)
        check_texts(texts, "texts")
        padded = texts if len(texts) > 1 else texts * 2  # laion_clap squeezes a batch of one
        emb = self.clap.get_text_embedding(padded, use_tensor=True)[: len(texts)]
        return F.normalize(emb.float(), dim=-1)

    def forward(self, audio: Any, sample_rate: int = 48000) -> Tensor:
        return self.encode_audio(audio, sample_rate)


# ----------------------------------------------------------------------------- lookup

BACKBONES: dict[str, type[nn.Module]] = {
    "inception": InceptionFeatures,
    "vggish": VGGishEmbeddings,
    "clip": ClipViTB32,
    "wav2clip": Wav2ClipAudio,
    "clap": ClapAudioText,
}


def load_backbone(name: str, **kwargs: Any) -> nn.Module:
    """Build a paper-profile backbone by name: inception, vggish, clip, wav2clip, clap."""
    try:
        cls = BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}") from None
    return cls(**kwargs)
