"""The interface every paper-benchmark codec implements (the embedded codecs' contract).

A codec is a frozen encoder and decoder of one modality. FlowBind and the baselines work on its
latents; generation decodes their outputs back to data in the generation folder's layout
(``bench.generate``):

    encode(batch) -> Tensor (N, latent_dim) float32 on the CPU, raw (not z-scored: the
                     methods z-score with the statistics stored in their latent store)
    decode(latents) -> list of N outputs:
        text    str
        image   uint8 (H, W, 3) arrays, every one of the same size
        audio   int16 1-D waveforms at 16 kHz

Inputs of ``encode``:
    text    a sequence of caption strings
    image   a sequence of uint8 (H, W, 3) RGB arrays (any sizes) or PIL images
    audio   a sequence of float32 mono 1-D waveforms in [-1, 1] at ``codec.sample_rate``
            (feature extraction resamples to it)

``describe()`` says what was loaded (model names, files and their sha256), for provenance.
Every codec has a ``tiny`` constructor that builds the same architectures with tiny random
weights and no download: the tests run every code path on it, and the ``paper_tiny`` config
runs the whole workflow on it. Its outputs mean nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

LATENT_DIM = 768  # every latent of the paper benchmark (FACTS: all flows live in one space)
OUTPUT_SAMPLE_RATE = 16000  # decoded audio, AudioLDM's rate and FAD's


class PaperCodec:
    """Common parts: device handling, batching and output checks."""

    modality: ClassVar[str]
    latent_dim: int = LATENT_DIM
    sample_rate: int | None = None  # audio input rate of encode (audio codecs only)

    def to(self, device: str | torch.device) -> PaperCodec:
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        raise NotImplementedError

    def encode(self, batch: Sequence[Any]) -> Tensor:
        raise NotImplementedError

    def decode(self, latents: Tensor) -> list[Any]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError


def check_latents(latents: Tensor, dim: int, what: str) -> Tensor:
    """``latents`` as a float32 (N, dim) tensor, or ValueError naming ``what`` and the shape."""
    latents = torch.as_tensor(latents)
    if latents.ndim != 2 or latents.shape[1] != dim:
        raise ValueError(f"{what}: latents must have shape (N, {dim}), got {tuple(latents.shape)}")
    if not torch.isfinite(latents).all():
        raise ValueError(f"{what}: latents have NaN or inf values")
    return latents.float()
