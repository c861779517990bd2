"""AIS audio side: wav2clip audio embeddings (512-d)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from metrics.backbones.common import (
    Weights,
    _Frozen,
    _load_tensors,
    _resolve,
    _waveforms,
)


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
        """(N, 512) embeddings of N clips, unit norm unless built with ``normalize=False``."""
        clips = _waveforms(audio, "audio", min_samples=self.min_samples)
        out = [self.model(c.float().to(self.device).unsqueeze(0)) for c in clips]
        emb = torch.cat(out).float()
        return F.normalize(emb, dim=-1) if self.normalize else emb
