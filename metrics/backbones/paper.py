"""Feature extractors of the paper benchmark, each loading its weights from the registry.

    InceptionFeatures   FID: Inception-v3 pool3, 2048-d (pytorch-fid convention)   inception.py
    VGGishEmbeddings    FAD: VGGish, one 128-d embedding per 0.96 s of 16 kHz audio  vggish.py
    ClipViTB32          CLIP score, AIS image side: OpenAI CLIP ViT-B/32, 512-d    clip.py
    Wav2ClipAudio       AIS audio side: wav2clip, 512-d                            wav2clip_audio.py
    ClapAudioText       CLAP score: LAION-CLAP audio (48 kHz) and text, 512-d      clap.py

This module gathers them and ``load_backbone(name)``; their shared pieces are in common.py.

``weights`` selects what is loaded: ``"registry"`` (default) the backbone's registry entry, another
registry entry name, a path to a file, or None for random initialisation (tests only; scores from
it mean nothing). Weights are never downloaded here: a missing file raises
``MissingWeightsError`` saying where to put it (see ``metrics.backbones.registry``).

Every backbone is frozen: eval mode (``train()`` does not change that), no gradients, and its
``forward`` runs under ``torch.no_grad``. Inputs go to the backbone's device; outputs are float32
on that device.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from metrics.backbones.clap import CLAP_AUDIO_MODELS, ClapAudioText, missing_clap_hub_files
from metrics.backbones.clip import CLIP_MEAN, CLIP_STD, ClipViTB32, read_openai_clip_state
from metrics.backbones.common import BackboneUnavailableError, Weights
from metrics.backbones.inception import InceptionFeatures
from metrics.backbones.vggish import VGGishEmbeddings, vggish_mel_matrix
from metrics.backbones.wav2clip_audio import Wav2ClipAudio

__all__ = [
    "CLAP_AUDIO_MODELS",
    "CLIP_MEAN",
    "CLIP_STD",
    "BackboneUnavailableError",
    "ClapAudioText",
    "ClipViTB32",
    "InceptionFeatures",
    "VGGishEmbeddings",
    "Wav2ClipAudio",
    "Weights",
    "load_backbone",
    "missing_clap_hub_files",
    "read_openai_clip_state",
    "vggish_mel_matrix",
]


BACKBONES: dict[str, type[nn.Module]] = {
    "inception": InceptionFeatures,
    "vggish": VGGishEmbeddings,
    "clip": ClipViTB32,
    "wav2clip": Wav2ClipAudio,
    "clap": ClapAudioText,
}


def load_backbone(name: str, **kwargs: Any) -> nn.Module:
    """Build a paper-benchmark backbone by name: inception, vggish, clip, wav2clip, clap."""
    try:
        cls = BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}") from None
    return cls(**kwargs)
