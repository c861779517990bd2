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

import importlib
import importlib.util
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from bench.embedded.audio import N_SAMPLES, SAMPLE_RATE
from bench.embedded.images import IMAGE_SIZE
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
    ``locate`` (package and weight files, found without importing), ``load`` and
    ``generate_item``.

    Args:
        image_size, audio_length: the side images and the length clips are brought to (the
            embedded benchmark's); None keeps the model's own (the paper benchmark's metrics
            take any size).
        repo_dir: a source checkout of the official code, put on ``sys.path`` so that its
            package imports (None: it is installed).
    """

    method: ClassVar[str]
    package: ClassVar[str]  # the module ``check`` imports
    install: ClassVar[str]  # how to install it
    calls: Mapping[str, Any]  # suite task key -> the official call (a class default)
    missing: ClassVar[Mapping[str, str]] = {}  # suite task key -> why the official model lacks it

    def __init__(
        self,
        image_size: int | None = IMAGE_SIZE,
        audio_length: int | None = N_SAMPLES,
        repo_dir: str | Path | None = None,
    ):
        self.image_size = image_size
        self.audio_length = audio_length
        self.repo_dir = None if repo_dir is None else Path(repo_dir)
        self._model: Any = None

    @abstractmethod
    def weights_missing(self) -> str | None:
        """What is wrong with the weight files and how to fetch them; None if they are there."""

    @abstractmethod
    def load(self) -> Any:
        """The official model, loaded once."""

    @abstractmethod
    def generate_item(self, task: Task, item: Mapping[str, Any], **overrides: Any) -> dict:
        """Raw outputs of one test item: target -> PIL image, (waveform, rate) or caption.

        ``item`` holds the task's sources: "text" a caption, "image" an RGB PIL image and
        "audio" int16 16 kHz PCM (T,).
        """

    def locate(self) -> None:
        """Find the package and the weight files without importing anything (a cheap check,
        made when the workflow plans a run).

        Raises:
            BaselineUnavailableError: naming what to install and where the weights go.
        """
        top = self.package.split(".")[0]
        if self.repo_dir is not None:
            module = self.repo_dir.joinpath(*self.package.split("."))
            if not (module.with_suffix(".py").is_file() or (module / "__init__.py").is_file()):
                raise BaselineUnavailableError(
                    f"{self.method}: {self.repo_dir} holds no `{self.package}` (neither "
                    f"{module.with_suffix('.py')} nor {module / '__init__.py'}); install it "
                    f"with: {self.install}"
                )
        elif importlib.util.find_spec(top) is None:
            raise BaselineUnavailableError(
                f"{self.method}: the package `{top}` is not installed; install it with: "
                f"{self.install}"
            )
        self._check_weights()

    def check(self) -> Any:
        """Import the official package and check the weight files; returns the module.

        Raises:
            BaselineUnavailableError: naming what to install and where the weights go.
        """
        if self.repo_dir is not None and str(self.repo_dir) not in sys.path:
            sys.path.insert(0, str(self.repo_dir))
        try:
            module = importlib.import_module(self.package)
        except ImportError as err:
            raise BaselineUnavailableError(
                f"{self.method}: `{self.package}` does not import ({err}); install it with: "
                f"{self.install}"
            ) from err
        self._check_weights()
        return module

    def _check_weights(self) -> None:
        problem = self.weights_missing()
        if problem:
            raise BaselineUnavailableError(f"{self.method}: {problem}")

    def available(self) -> bool:
        """Whether the package imports and the weight files are where ``load`` looks."""
        try:
            self.check()
        except BaselineUnavailableError:
            return False
        return True

    def unavailable(self) -> str | None:
        """``locate``'s message if the package or the weights are missing, else None."""
        try:
            self.locate()
        except BaselineUnavailableError as err:
            return str(err)
        return None

    def supports(self, key: str) -> bool:
        """Whether the official model has a call for suite task ``key``."""
        return key in self.calls

    def why_not(self, key: str) -> str:
        """Why the official model cannot run ``key`` (for a table's blank cell)."""
        return self.missing.get(key, "it has no call for these modalities")

    def task(self, key: str) -> Task:
        """The suite task ``key`` if the official model can run it, else UnsupportedTaskError."""
        task = get_task(key)
        if not self.supports(key):
            raise UnsupportedTaskError(
                f"{self.method} cannot run {key} ({task.name}): {self.why_not(key)}"
            )
        return task

    def output_dir(self, key: str, results: str | Path = "results") -> Path:
        return Path(results) / "generate" / self.method / key

    def generate(
        self,
        task_key: str,
        sources: Mapping[str, Sequence[Any]],
        ids: Sequence[Any],
        results: str | Path = "results",
        folder: str | Path | None = None,
        task: Task | None = None,
        **overrides: Any,
    ) -> Path:
        """Run ``task_key`` on every item and write results/generate/<method>/<task>/.

        Args:
            task_key: a suite task, e.g. "t2i" (bench.tasks.TASKS).
            sources: modality -> one entry per id: captions (str), uint8 (H, W, 3) images,
                int16 (T,) 16 kHz audio; as a test split holds them.
            ids: the test item ids, written to the manifest next to each output.
            results: the results root.
            folder: where to write instead of results/generate/<method>/<task>/.
            task: the task as the benchmark defines it (its test split), when not the
                suite's default.
            overrides: keyword arguments passed on to every official call.

        Returns:
            The generation folder.
        """
        checked = self.task(task_key)
        task = checked if task is None else task
        missing = [m for m in task.sources if m not in sources]
        assert not missing, f"{task_key} needs sources {task.sources}; missing {missing}"
        for m in task.sources:
            assert len(sources[m]) == len(ids), f"{len(sources[m])} {m} sources for {len(ids)} ids"
        self.load()
        decoded: dict[str, list[Any]] = {t: [] for t in task.targets}
        for row in tqdm(range(len(ids)), desc=f"{self.method} {task.name}", unit="item"):
            item = {m: sources[m][row] for m in task.sources}
            if "image" in item:
                item["image"] = image_to_pil(np.asarray(item["image"]))
            raw = self.generate_item(task, item, **overrides)
            for target in task.targets:
                decoded[target].append(self._to_suite(target, raw[target]))
        out = self.output_dir(task_key, results) if folder is None else Path(folder)
        return write_decoded(out, task, ids, decoded)

    def generate_split(
        self,
        task_key: str,
        split: Any,
        results: str | Path = "results",
        folder: str | Path | None = None,
        task: Task | None = None,
        **overrides: Any,
    ) -> Path:
        """``generate`` on a test split: the embedded ``Split`` (bench.embedded.storage) or the
        paper benchmark's ``PaperSplit``, which reads its images and clips on access."""
        sources: dict[str, Sequence[Any]] = {}
        for m in split.modalities:
            sources[m] = split.captions if m == "text" else getattr(split, m)
        return self.generate(task_key, sources, split.ids, results, folder, task, **overrides)

    def _to_suite(self, target: str, raw: Any) -> Any:
        if target == "image":
            return pil_to_image(raw, self.image_size)
        if target == "audio":
            wave, rate = raw
            return wave_to_pcm(wave, rate, self.audio_length)
        return " ".join(str(raw).split())
