"""What the official-checkpoint adapters share: their errors, format conversion, the base class.

An adapter runs the authors' released code and weights on the suite's test items, one item per
call, and writes the outputs where the suite's own methods write theirs:

    results/generate/<method>/<task>/{image/<id>.png, audio/<id>.wav, text.json, manifest.csv}

through ``bench.generate.write_decoded``, so the evaluate step reads them unchanged.
Images are resized to the suite's size and audio is resampled to 16 kHz and cut or padded to the
suite's length, because ``read_outputs`` checks both. The offline tests exercise only this
plumbing against stand-in modules; they say nothing about the official models themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from bench.embedded.audio import N_SAMPLES, SAMPLE_RATE
from bench.embedded.images import IMAGE_SIZE
from bench.embedded.storage import Split
from bench.generate import write_decoded
from bench.tasks import Task, get_task


class BaselineUnavailableError(RuntimeError):
    """The official package or its weights are missing; the message says what to install."""


class UnsupportedTaskError(ValueError):
    """The official model offers no call for this task of the suite."""


# -- format conversion -------------------------------------------------------------------------


def image_to_pil(image: np.ndarray) -> Image.Image:
    """A suite image, uint8 (H, W, 3), as an RGB PIL image."""
    assert image.dtype == np.uint8 and image.ndim == 3, f"want uint8 (H, W, 3), got {image.shape}"
    return Image.fromarray(image).convert("RGB")


def pil_to_image(image: Image.Image, size: int | None = IMAGE_SIZE) -> np.ndarray:
    """A PIL image as the suite's uint8 (size, size, 3) array; ``size=None`` keeps its size."""
    image = image.convert("RGB")
    if size is not None and image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def pcm_to_float(audio: np.ndarray) -> np.ndarray:
    """int16 PCM (T,) -> float32 waveform (T,) in [-1, 1)."""
    return np.asarray(audio, dtype=np.float32) / 32768.0


def resample(wave: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling of a float waveform (T,) by zero-padding or cutting its spectrum."""
    if rate_in == rate_out:
        return wave
    n_out = round(len(wave) * rate_out / rate_in)
    spectrum = np.fft.rfft(wave)
    keep = min(len(spectrum), n_out // 2 + 1)
    out = np.zeros(n_out // 2 + 1, dtype=complex)
    out[:keep] = spectrum[:keep]
    return np.fft.irfft(out, n=n_out) * (n_out / len(wave))


def wave_to_pcm(wave: np.ndarray, sample_rate: int, length: int | None = N_SAMPLES) -> np.ndarray:
    """A float waveform (any shape holding one clip) at ``sample_rate`` -> int16 16 kHz PCM.

    ``length`` cuts or zero-pads to the suite's clip length; ``None`` keeps the whole clip.
    """
    wave = resample(np.asarray(wave, dtype=np.float64).reshape(-1), sample_rate, SAMPLE_RATE)
    if length is not None:
        wave = np.pad(wave[:length], (0, max(0, length - len(wave))))
    return (np.clip(wave, -1.0, 1.0) * 32767.0).round().astype(np.int16)


# -- the adapters' common interface ---------------------------------------------------------------


class OfficialAdapter(ABC):
    """One official baseline: load its released model, run the suite's tasks, write the layout.

    Subclasses set ``method`` and ``calls`` (suite task key -> what they call) and implement
    ``check`` (import + weight files), ``load`` and ``generate_item``.
    """

    method: ClassVar[str]
    calls: Mapping[str, Any]  # suite task key -> the official call (a class default)
    missing: ClassVar[Mapping[str, str]] = {}  # suite task key -> why the official model lacks it

    def __init__(self, image_size: int | None = IMAGE_SIZE, audio_length: int | None = N_SAMPLES):
        self.image_size = image_size
        self.audio_length = audio_length
        self._model: Any = None

    @abstractmethod
    def check(self) -> Any:
        """Import the official package and check the weight files; returns the module.

        Raises:
            BaselineUnavailableError: naming what to install and where the weights go.
        """

    @abstractmethod
    def load(self) -> Any:
        """The official model, loaded once."""

    @abstractmethod
    def generate_item(self, task: Task, item: Mapping[str, Any], **overrides: Any) -> dict:
        """Raw outputs of one test item: target -> PIL image, (waveform, rate) or caption.

        ``item`` holds the task's sources: "text" a caption, "image" an RGB PIL image and
        "audio" int16 16 kHz PCM (T,).
        """

    def available(self) -> bool:
        """Whether the package imports and the weight files are where ``load`` looks."""
        try:
            self.check()
        except BaselineUnavailableError:
            return False
        return True

    def task(self, key: str) -> Task:
        """The suite task ``key`` if the official model can run it, else UnsupportedTaskError."""
        task = get_task(key)
        if key not in self.calls:
            why = self.missing.get(key, "it has no call for these modalities")
            raise UnsupportedTaskError(f"{self.method} cannot run {key} ({task.name}): {why}")
        return task

    def output_dir(self, key: str, results: str | Path = "results") -> Path:
        return Path(results) / "generate" / self.method / key

    def generate(
        self,
        task_key: str,
        sources: Mapping[str, Sequence[Any]],
        ids: Sequence[Any],
        results: str | Path = "results",
        **overrides: Any,
    ) -> Path:
        """Run ``task_key`` on every item and write results/generate/<method>/<task>/.

        Args:
            task_key: a suite task, e.g. "t2i" (bench.tasks.TASKS).
            sources: modality -> one entry per id: captions (str), uint8 (N, H, W, 3) images,
                int16 (N, T) 16 kHz audio; as ``Split`` holds them.
            ids: the test item ids, written to the manifest next to each output.
            results: the results root.
            overrides: keyword arguments passed on to every official call.

        Returns:
            The generation folder.
        """
        task = self.task(task_key)
        missing = [m for m in task.sources if m not in sources]
        assert not missing, f"{task_key} needs sources {task.sources}; missing {missing}"
        for m in task.sources:
            assert len(sources[m]) == len(ids), f"{len(sources[m])} {m} sources for {len(ids)} ids"
        self.load()
        decoded: dict[str, list[Any]] = {t: [] for t in task.targets}
        for row in range(len(ids)):
            item = {m: sources[m][row] for m in task.sources}
            if "image" in item:
                item["image"] = image_to_pil(np.asarray(item["image"]))
            raw = self.generate_item(task, item, **overrides)
            for target in task.targets:
                decoded[target].append(self._to_suite(target, raw[target]))
        return write_decoded(self.output_dir(task_key, results), task, ids, decoded)

    def generate_split(
        self, task_key: str, split: Split, results: str | Path = "results", **overrides: Any
    ) -> Path:
        """``generate`` on a test split read with ``bench.embedded.storage.load_split``."""
        sources = {"text": split.captions, "image": split.image, "audio": split.audio}
        sources = {m: v for m, v in sources.items() if v is not None}
        return self.generate(task_key, sources, split.ids, results, **overrides)

    def _to_suite(self, target: str, raw: Any) -> Any:
        if target == "image":
            return pil_to_image(raw, self.image_size)
        if target == "audio":
            wave, rate = raw
            return wave_to_pcm(wave, rate, self.audio_length)
        return " ".join(str(raw).split())
