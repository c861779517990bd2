"""FAD backbone: VGGish, one 128-d embedding per 0.96 s of 16 kHz audio (no PCA)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from metrics.backbones.common import (
    Weights,
    _Frozen,
    _load_strict,
    _load_tensors,
    _resolve,
    _unprefixed,
    _waveforms,
)


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
        """(total examples, 128) embeddings of every example of every clip, clip-major."""
        return torch.cat(self.embed_clips(audio))
