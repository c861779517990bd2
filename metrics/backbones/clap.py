"""CLAP score: LAION-CLAP audio and text embeddings, loaded without network access."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from metrics.backbones.common import (
    BackboneUnavailableError,
    Weights,
    _Frozen,
    _resolve,
    _waveforms,
)
from metrics.backbones.registry import MissingWeightsError
from metrics.validation import check_texts

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
        """(N, 512) unit-norm embeddings of N audio clips at ``sample_rate`` (class docstring)."""
        clips = _waveforms(audio, "audio")
        if sample_rate != self.sample_rate:
            import torchaudio.functional as AF

            clips = [AF.resample(c, sample_rate, self.sample_rate) for c in clips]
        data = [c.float().cpu().numpy() for c in clips]
        emb = self.clap.get_audio_embedding_from_data(data, use_tensor=False)
        return F.normalize(torch.as_tensor(np.asarray(emb)).float(), dim=-1).to(self.device)

    @torch.no_grad()
    def encode_texts(self, texts: Sequence[str]) -> Tensor:
        """(N, 512) unit-norm embeddings of N non-empty texts."""
        texts = list(texts)
        check_texts(texts, "texts")
        padded = texts if len(texts) > 1 else texts * 2  # laion_clap squeezes a batch of one
        emb = self.clap.get_text_embedding(padded, use_tensor=True)[: len(texts)]
        # on the module's device, as encode_audio's, so that the two sides can be compared
        return F.normalize(emb.float(), dim=-1).to(self.device)

    def forward(self, audio: Any, sample_rate: int = 48000) -> Tensor:
        """``encode_audio``: (N, 512) unit-norm audio embeddings."""
        return self.encode_audio(audio, sample_rate)
