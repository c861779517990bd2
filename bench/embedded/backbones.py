"""Metric backbones of the embedded benchmark: the evaluator networks of ``bench.embedded``.

    FID            image evaluator features (64-d), one per image
    FAD            audio evaluator features (64-d, log-mel), one per clip
    CLIP score     text_image pair: text and image embeddings
    CLAP score     text_audio pair: text and audio embeddings
    AIS            audio_image pair: audio side plays wav2clip, image side plays CLIP
    FPD            point-cloud evaluator features (64-d), one per cloud: the Frechet PointNet
                   Distance of the fourth modality
    image-points   image_points pair: image and point-cloud embeddings (alignment score)
    attributes     image, audio and point-cloud classifiers, the caption parser

They are trained on the benchmark's evaluator split only, never on codec outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor

from bench.embedded.prepare import load_evaluator


class EmbeddedBackbones:
    """The evaluators of a folder prepared by ``python -m bench.embedded``, loaded on use."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._loaded: dict[str, Any] = {}

    def _net(self, name: str):
        if name not in self._loaded:
            self._loaded[name] = load_evaluator(self.root, name)
        return self._loaded[name]

    def fid_features(self, images: Any) -> Tensor:
        return self._net("image").features(images)

    def fad_features(self, audio: Any) -> Tensor:
        return self._net("audio").features(audio)

    def clip(self, modality: str, batch: Any) -> Tensor:
        """text or image embeddings of the text_image pair (the CLIP score's backbone)."""
        return self._net("text_image").embed(modality, batch)

    def clap(self, modality: str, batch: Any) -> Tensor:
        """text or audio embeddings of the text_audio pair (the CLAP score's backbone)."""
        return self._net("text_audio").embed(modality, batch)

    def ais(self, modality: str, batch: Any) -> Tensor:
        """audio or image embeddings of the audio_image pair (AIS's backbone)."""
        return self._net("audio_image").embed(modality, batch)

    def fpd_features(self, points: Any) -> Tensor:
        """Point-cloud evaluator features (the Frechet PointNet Distance's backbone)."""
        return self._net("points").features(points)

    def image_points(self, modality: str, batch: Any) -> Tensor:
        """image or points embeddings of the image_points pair (image-point-cloud alignment)."""
        return self._net("image_points").embed(modality, batch)

    def attributes(self, modality: str, batch: Any) -> dict:
        """Predicted attribute codes of image, audio, text or point-cloud outputs."""
        return self._net(modality).predict(batch)
