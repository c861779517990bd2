"""CoDi (Tang et al., NeurIPS 2023) through its released ``model_module``, on the suite's tasks.

    adapter = CoDiAdapter(repo_dir="i-Code/i-Code-V3", checkpoint_dir="checkpoints")
    adapter.generate_split("ta2i", load_split("results/embedded/data", "test_triplet"))

What the calls below rest on (read through the code-search index, microsoft/i-Code, not run
here):

- i-Code-V3/core/models/model_module_infer.py (commit a030ed2f):
  ``model_module(data_dir='pretrained', pth=["CoDi_encoders.pth"], fp16=False)`` loads each
  ``os.path.join(data_dir, p)`` with ``strict=False``;
  ``inference(xtype=[], condition=[], condition_types=[], n_samples=1, mix_weight={'video': 1,
  'audio': 1, 'text': 1, 'image': 1}, image_size=256, ddim_steps=50, scale=7.5, num_frames=8)``
  returns one entry per ``xtype``, in order, each holding ``n_samples`` outputs: image a list
  of PIL images, text a list of strings, audio the numpy waveforms of
  ``net.mel_spectrogram_to_waveform``. It moves tensors with ``.cuda()``, so it needs a GPU.
- Conditions: text a string, image a PIL image (``regularize_image``), audio a 1-D float torch
  waveform at 16 kHz of at most 10.23 s (demo.ipynb: torchaudio load, resample to 16 kHz,
  ``.mean(0)[:int(16000 * 10.23)]``, zero-padded to that length before audio-to-image; the demo
  plays generated audio at rate=16000). Condition types are named "text", "image", "audio",
  as in the suite, so every suite task maps onto one call.
- i-Code-V3/README.md: ``pip install -r requirement.txt``; the four weight files and their wget
  lines below (fp16 copies under checkpoints_fp16/, loaded with ``fp16=True``).

Not verified: the audio output's exact array shape (read here as n_samples clips of any
layout), and whether the released weights carry the joint-generation attention that
one-to-many tasks (several ``xtype``) rely on. The offline tests check only this adapter's
plumbing against a stand-in module, never the official model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from baselines.official.common import OfficialAdapter, pcm_to_float
from bench.embedded.audio import N_SAMPLES, SAMPLE_RATE
from bench.embedded.images import IMAGE_SIZE
from bench.tasks import TASKS, Task

MODULE = "core.models.model_module_infer"
INSTALL = (
    "git clone https://github.com/microsoft/i-Code && "
    "pip install -r i-Code/i-Code-V3/requirement.txt, then pass repo_dir='i-Code/i-Code-V3'"
)
HUB = "https://huggingface.co/ZinengTang/CoDi/resolve/main/"
WEIGHTS = (
    "CoDi_encoders.pth",
    "CoDi_text_diffuser.pth",
    "CoDi_audio_diffuser_m.pth",
    "CoDi_video_diffuser_8frames.pth",
)
MIX_WEIGHT = {"video": 1, "audio": 1, "text": 1, "image": 1}  # inference()'s default
PAD_SECONDS = 10.23  # demo.ipynb pads or cuts audio conditions to this length
CALLS = {key: (list(task.targets), list(task.sources)) for key, task in TASKS.items()}


class CoDiAdapter(OfficialAdapter):
    """The released CoDi checkpoints behind the suite's generation layout.

    Args:
        repo_dir: the cloned i-Code/i-Code-V3 folder, put on sys.path so that ``core`` imports
            (None if it already imports).
        checkpoint_dir: the folder holding the weight files (``data_dir`` of model_module).
        fp16: load fp16 weights (the checkpoints_fp16/ copies).
        device: where the model is moved; inference() itself calls ``.cuda()``.
        weights: the weight files to load, as in the README.
        resolution: ``image_size`` of the generated images (inference()'s default 256).
        ddim_steps, scale, mix_weight: inference()'s sampling arguments, its defaults.
        image_size, audio_length: the suite's image side and clip length (None keeps them).
    """

    method = "codi_official"
    package = MODULE
    install = INSTALL
    calls = CALLS

    def __init__(
        self,
        repo_dir: str | Path | None = None,
        checkpoint_dir: str | Path = "checkpoints",
        fp16: bool = False,
        device: str = "cuda",
        weights: Sequence[str] = WEIGHTS,
        resolution: int = 256,
        ddim_steps: int = 50,
        scale: float = 7.5,
        mix_weight: Mapping[str, float] = MIX_WEIGHT,
        image_size: int | None = IMAGE_SIZE,
        audio_length: int | None = N_SAMPLES,
    ):
        super().__init__(image_size, audio_length, repo_dir)
        self.checkpoint_dir = Path(checkpoint_dir)
        self.fp16, self.device, self.weights = fp16, device, tuple(weights)
        self.sampling = {"image_size": resolution, "ddim_steps": ddim_steps, "scale": scale}
        self.mix_weight = dict(mix_weight)

    def weights_missing(self) -> str | None:
        absent = [w for w in self.weights if not (self.checkpoint_dir / w).is_file()]
        if not absent:
            return None
        sub = "checkpoints_fp16/" if self.fp16 else ""
        fetch = "; ".join(f"wget {HUB}{sub}{w} -P {self.checkpoint_dir}" for w in absent)
        return (
            f"CoDi weights {absent} are missing from {self.checkpoint_dir}; fetch them with: "
            f"{fetch}"
        )

    def load(self) -> Any:
        if self._model is None:
            module = self.check()
            model = module.model_module(
                data_dir=str(self.checkpoint_dir), pth=list(self.weights), fp16=self.fp16
            )
            self._model = model.to(self.device).eval()
        return self._model

    def condition(self, modality: str, value: Any) -> Any:
        """A suite source in the form inference() takes (audio: 1-D float torch, 10.23 s)."""
        if modality != "audio":
            return value
        import torch

        length = int(SAMPLE_RATE * PAD_SECONDS)
        wave = pcm_to_float(value)[:length]
        return torch.from_numpy(np.pad(wave, (0, length - len(wave))))

    def generate_item(self, task: Task, item: Mapping[str, Any], **overrides: Any) -> dict:
        xtype, condition_types = self.calls[task.key]
        kwargs = {**self.sampling, "mix_weight": dict(self.mix_weight), **overrides}
        out = self.load().inference(
            xtype=list(xtype),
            condition=[self.condition(m, item[m]) for m in condition_types],
            condition_types=list(condition_types),
            n_samples=1,
            **kwargs,
        )
        raw: dict[str, Any] = {}
        for target, samples in zip(xtype, out, strict=True):
            if target == "audio":  # n_samples waveforms at 16 kHz
                raw[target] = (np.asarray(samples).reshape(1, -1)[0], SAMPLE_RATE)
            else:
                raw[target] = samples[0]
        return raw
