"""CLIP score and AIS image side: OpenAI CLIP ViT-B/32 through open_clip."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from metrics.backbones.common import (
    Weights,
    _Frozen,
    _image_groups,
    _load_strict,
    _load_tensors,
    _resolve,
    _unprefixed,
)
from metrics.validation import check_texts

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
        """(N, 512) unit-norm embeddings of N images (class docstring for the layouts)."""
        out = []
        for batch in _image_groups(images):
            x = self.preprocess(batch.to(self.device))
            out.append(self.model.encode_image(x))
        return F.normalize(torch.cat(out).float(), dim=-1)

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> Tensor:
        """(N, 512) unit-norm embeddings of N non-empty texts."""
        texts = list(texts)
        check_texts(texts, "texts")
        tokens = self.tokenizer(texts).to(self.device)
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1)

    def forward(self, images: Any) -> Tensor:
        """``encode_images``: (N, 512) unit-norm image embeddings."""
        return self.encode_images(images)
