"""OmniFlow (Li et al., CVPR 2025) through its released ``OmniFlowPipeline``, on the suite's tasks.

    adapter = OmniFlowAdapter(checkpoint="ckpts/v0.5")
    adapter.generate_split("t2i", load_split("results/embedded/data", "test_ti"))

What the calls below rest on (read through the code-search index, not run here). The indexed
official repository, jacklishufan/OmniFlows, holds readme.MD, setup.py and requirements.txt but
not the pipeline file; ``__call__`` was read in two forks that carry
omniflow/pipelines/omniflow_pipeline.py (lsy-92/omniges, YayoiSakura15/omnidiffusion):

- readme.MD: ``OmniFlowPipeline.load_pretrained('ckpts/v0.5', device='cuda')``, then
  ``pipeline.cfg_mode = 'new'`` and ``pipeline(prompt, height=512, width=512, add_token_embed=0,
  task='t2i')``; weights at huggingface.co/jacklishufan/OmniFlow-v0.5.
- ``load_pretrained(path, device='cuda', weight_dtype=torch.bfloat16, load_ema=False)`` reads
  ``<path>/transformer/diffusion_pytorch_model.bin`` and fetches CLIP, flan-t5-large,
  LanguageBind audio and cvssp/audioldm2 from the Hugging Face hub.
- ``__call__(prompt=None, ..., height=None, width=None, num_inference_steps=28,
  guidance_scale=7.0, ..., add_token_embed=False, task='t2i', input_img=None, ...,
  input_aud=None, ...)`` asserts ``task in ['t2i','a2i','i2t','a2t','t2a','i2a']``; the ai2t
  and at2i branches exist behind that assert and it2a has no denoising branch.
- ``input_img`` is a PIL image; ``input_aud`` is a path to an audio file (a missing path is read
  as silence, with only a printed warning).
- Returns: t2i/a2i ``StableDiffusion3PipelineOutput(images=[PIL])``; i2t/a2t ``(texts, texts2)``,
  decoded strings with ``<s>``/``</s>``; t2a/i2a ``(spec, x0)``, ``spec`` the audio VAE's
  log-mel as numpy (B, 1, T, 64).
- Per-task arguments: omniflow/scripts/train.py ``log_validation`` (copy in lsy-92/omniges).

Not verified: how the authors' demo (scripts/Demo.ipynb, not in the index) turns the log-mel
into a waveform. The default here is AudioLDM2's HiFi-GAN (OmniFlow's audio VAE is
cvssp/audioldm2's); pass ``vocoder=`` to use another. The offline tests check only this
adapter's plumbing against a stand-in module, never the official model.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from baselines.official.common import BaselineUnavailableError, OfficialAdapter
from bench.embedded.audio import N_SAMPLES
from bench.embedded.images import IMAGE_SIZE
from bench.embedded.storage import write_wav
from bench.tasks import Task

INSTALL = (
    "git clone https://github.com/jacklishufan/OmniFlows && "
    "pip install -r OmniFlows/requirements.txt && pip install -e OmniFlows"
)
DOWNLOAD = "huggingface-cli download jacklishufan/OmniFlow-v0.5 --local-dir {checkpoint}"
SIZE = {"height": 512, "width": 512}  # readme.MD and train.py
# suite task -> (OmniFlow task, fixed keyword arguments), as the authors call them.
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "t2i": ("t2i", {"add_token_embed": 0}),  # readme.MD
    "i2t": ("i2t", {"add_token_embed": 1, "guidance_scale": 2}),  # train.py
    "a2t": ("a2t", {"add_token_embed": 1, "guidance_scale": 4}),  # __call__(bypass=True)
    "t2a": ("t2a", {"add_token_embed": 1, "num_inference_steps": 50, "guidance_scale": 4}),
    "i2a": ("i2a", {"add_token_embed": 1}),
    "a2i": ("a2i", {"add_token_embed": 1}),  # train.py
}
# Written in __call__ but rejected by its task assert; tried only with unreleased_tasks=True.
UNRELEASED: dict[str, tuple[str, dict[str, Any]]] = {
    "ta2i": ("at2i", {"add_token_embed": 1}),
    "ia2t": ("ai2t", {"add_token_embed": 1}),
}
_ONE_TARGET = "the pipeline generates one modality per call; run the one-to-one tasks instead"
_ASSERT = "its __call__ asserts a one-to-one task (unreleased_tasks=True tries {} anyway)"
MISSING = {
    "t2ia": _ONE_TARGET,
    "i2ta": _ONE_TARGET,
    "a2ti": _ONE_TARGET,
    "ta2i": _ASSERT.format("at2i"),
    "ia2t": _ASSERT.format("ai2t"),
    "ti2a": "its __call__ has no it2a denoising branch",
}
SPECIAL_TOKENS = ("<s>", "</s>", "<pad>", "[PAD]")

Vocoder = Callable[[np.ndarray], tuple[np.ndarray, int]]


def clean_caption(text: str) -> str:
    """The text VAE's decoded string without its special tokens (the authors strip <s>, </s>)."""
    for token in SPECIAL_TOKENS:
        text = text.replace(token, " ")
    return " ".join(text.split())


def audioldm2_vocoder(device: str = "cuda") -> Vocoder:
    """log-mel (T, 64) of the cvssp/audioldm2 VAE -> (waveform (samples,), sample rate)."""
    try:
        import torch
        from transformers import SpeechT5HifiGan
    except ImportError as err:
        raise BaselineUnavailableError(
            f"the default OmniFlow vocoder needs transformers ({err}); `pip install transformers`"
        ) from err
    model = SpeechT5HifiGan.from_pretrained("cvssp/audioldm2", subfolder="vocoder")
    model = model.to(device).eval()

    def vocode(spec: np.ndarray) -> tuple[np.ndarray, int]:
        with torch.no_grad():
            mel = torch.as_tensor(np.asarray(spec), dtype=torch.float32, device=device)[None]
            wave = model(mel)
        return wave.float().cpu().numpy().reshape(-1), int(model.config.sampling_rate)

    return vocode


def named_function(name: str) -> Callable:
    """The function ``module:function`` names, imported."""
    module, _, function = name.partition(":")
    if not module or not function:
        raise ValueError(f"a vocoder is named 'module:function', got {name!r}")
    return getattr(importlib.import_module(module), function)


class OmniFlowAdapter(OfficialAdapter):
    """The released OmniFlow v0.5 pipeline behind the suite's generation layout.

    Args:
        checkpoint: the folder ``load_pretrained`` reads (OmniFlow-v0.5 from the hub).
        device: where ``load_pretrained`` puts the models.
        vocoder: log-mel (T, 64) -> (waveform, rate), or such a function named
            "module:function" (imported on first use, after ``repo_dir`` is on the path);
            default (None or "audioldm2") AudioLDM2's HiFi-GAN.
        unreleased_tasks: also try ta2i as at2i and ia2t as ai2t (rejected by the pipeline
            version read; for a version that lifts its task assert).
        image_size, audio_length: the suite's image side and clip length (None keeps them).
        repo_dir: a checkout of OmniFlows put on ``sys.path`` (None: ``omniflow`` is installed).
    """

    method = "omniflow_official"
    package = "omniflow"
    install = INSTALL
    calls = CALLS
    missing = MISSING

    def __init__(
        self,
        checkpoint: str | Path = "ckpts/v0.5",
        device: str = "cuda",
        vocoder: Vocoder | str | None = None,
        unreleased_tasks: bool = False,
        image_size: int | None = IMAGE_SIZE,
        audio_length: int | None = N_SAMPLES,
        repo_dir: str | Path | None = None,
    ):
        super().__init__(image_size, audio_length, repo_dir)
        self.checkpoint = Path(checkpoint)
        self.device = device
        self.vocoder = None if vocoder == "audioldm2" else vocoder
        if unreleased_tasks:
            self.calls = {**CALLS, **UNRELEASED}

    def weights_missing(self) -> str | None:
        weights = self.checkpoint / "transformer" / "diffusion_pytorch_model.bin"
        if weights.is_file():
            return None
        return (
            f"{weights} is missing; download the OmniFlow v0.5 checkpoint into "
            f"{self.checkpoint} with: {DOWNLOAD.format(checkpoint=self.checkpoint)}"
        )

    def load(self) -> Any:
        if self._model is None:
            module = self.check()
            pipeline = module.OmniFlowPipeline.load_pretrained(
                str(self.checkpoint), device=self.device
            )
            pipeline.cfg_mode = "new"  # as readme.MD sets it
            self._model = pipeline
        return self._model

    def generate_item(self, task: Task, item: Mapping[str, Any], **overrides: Any) -> dict:
        name, fixed = self.calls[task.key]
        kwargs: dict[str, Any] = {**SIZE, **fixed, **overrides}
        with tempfile.TemporaryDirectory() as tmp:
            if "audio" in item:  # the pipeline reads audio from a file
                path = Path(tmp) / "source.wav"
                write_wav(path, item["audio"])
                kwargs["input_aud"] = str(path)
            if "image" in item:
                kwargs["input_img"] = item["image"]
            out = self.load()(prompt=item.get("text", ""), task=name, **kwargs)
        (target,) = task.targets
        if target == "image":
            images = out.images if hasattr(out, "images") else out[0]
            return {"image": images[0]}
        if target == "text":
            return {"text": clean_caption(out[0][0])}
        if self.vocoder is None:
            self.vocoder = audioldm2_vocoder(self.device)
        elif isinstance(self.vocoder, str):
            self.vocoder = named_function(self.vocoder)
        return {"audio": self.vocoder(np.asarray(out[0])[0, 0])}  # spec (B, 1, T, 64)
