"""The paper benchmark's audio codec: LAION-CLAP and a light autoencoder in, AudioLDM out.

As the public code runs it (FACTS section 7):

    encode  float32 waveforms at 48 kHz -> LAION-CLAP HTSAT-base audio embedding (512-d, unit
            norm; ``get_audio_embedding_from_data(..., use_tensor=True)``, so no int16 rounding;
            clips are repeat-padded to 10 s, longer ones cropped) -> autoencoder encoder
            Linear(512, 768) -> ReLU -> Linear(768, 768): the raw 768-d latent (not z-scored)
    decode  768-d latent -> autoencoder decoder Linear(768, 768) -> ReLU -> Linear(768, 512) ->
            AudioLDMPipeline (cvssp/audioldm-m-full; fp16 on CUDA) with ``prompt_embeds``,
            20 steps, its default guidance (2.5) and length (5.12 s) -> int16 waveforms, 16 kHz

``AudioAutoencoder`` has the layout of the released ``lightweight_audio_ae.pth`` (encoder.0,
encoder.2, decoder.0, decoder.2); ``train_audio_autoencoder`` fits one with 0.1 Gaussian noise
on the code and MSE reconstruction (the released training recipe is not public: the defaults
of lr and batch size are ours). ``load_audio_codec`` loads the real parts from local files;
``tiny_audio_codec`` builds the same architectures with tiny random weights, no download:

    CLAP      laion_clap's own HTSAT Swin transformer class (widths 16..128, one block per stage)
              behind HTSAT-base's audio front end and config, and an audio projection as CLAP's
              (Linear, ReLU, Linear to 512), imported from the installed laion_clap files without
              its package ``__init__``, which fetches three tokenizers from the hub. It stands in
              for ``laion_clap.CLAP_Module``: the call ``get_audio_embedding_from_data`` and its
              clip padding / cropping are re-implemented here (laion_clap's live in modules that
              need the hub at import); the tests check both against laion_clap's own code. Not
              checked offline: ``CLAP_Module`` itself, its RoBERTa text branch, loading clap.pt.
    AE        the real sizes (512 <-> 768)
    AudioLDM  an AudioLDMPipeline of tiny components as diffusers' own tests build it (UNet with
              a 512-d class-embedding projection, AutoencoderKL, CLAP text encoder, a byte-level
              RoBERTa tokenizer written here, SpeechT5 HiFi-GAN vocoder, DDIM), 64 samples long

    codec = load_audio_codec("clap.pt", "lightweight_audio_ae.pth", "cvssp--audioldm-m-full",
                             device="cuda")
    z = codec.encode(clips_48k)       # (N, 768) float32, CPU
    waves = codec.decode(z)           # N int16 waveforms at 16 kHz
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import pickle
import sys
import tempfile
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from bench.paper.codec import LATENT_DIM, OUTPUT_SAMPLE_RATE, PaperCodec, check_latents
from metrics.backbones.clap import ClapAudioText, _hub_offline
from metrics.backbones.common import BackboneUnavailableError
from metrics.backbones.hub import snapshot_path
from metrics.backbones.registry import checked_path, sha256_file

if TYPE_CHECKING:
    from diffusers import AudioLDMPipeline

CLAP_DIM = 512  # LAION-CLAP's joint embedding, AudioLDM's conditioning
INPUT_SAMPLE_RATE = 48000
CLIP_SAMPLES = 480000  # laion_clap pads or crops every clip to 10 s at 48 kHz
AUDIOLDM_REPO = "cvssp/audioldm-m-full"
AUTOENCODER_FILE = "lightweight_audio_ae.pth"
TINY_AUDIOLDM_DIR = "audioldm-tiny"
# the released files' names in the weight registry and the hub snapshot list
CLAP_ENTRY = "clap-flowbind"
AUTOENCODER_ENTRY = "flowbind-audio-ae"
AUDIOLDM_SNAPSHOT = "audioldm-m-full"
_FETCH = "python -m metrics.backbones.registry download"
_WHAT_GOES_THERE = {
    "clap_checkpoint": "the LAION-CLAP HTSAT-base checkpoint clap.pt of yeonwoo378/flowbind "
    f"({_FETCH} {CLAP_ENTRY})",
    "autoencoder_file": f"the audio autoencoder state dict {AUTOENCODER_FILE} of "
    f"yeonwoo378/flowbind ({_FETCH} {AUTOENCODER_ENTRY})",
    "audioldm_dir": f"a local snapshot of {AUDIOLDM_REPO}, the folder with model_index.json "
    f"({_FETCH} {AUDIOLDM_SNAPSHOT})",
}


class ClapAudioEmbedder(Protocol):
    """What the codec needs of LAION-CLAP: ``laion_clap.CLAP_Module``'s audio call."""

    def get_audio_embedding_from_data(self, x: Any, use_tensor: bool = False) -> Any: ...

    def to(self, device: torch.device) -> Any: ...


# -- the 512 <-> 768 autoencoder ------------------------------------------------------------


class AudioAutoencoder(nn.Module):
    """The released audio autoencoder: CLAP embedding (N, 512) <-> latent (N, 768)."""

    def __init__(
        self, input_dim: int = CLAP_DIM, hidden_dim: int = LATENT_DIM, latent_dim: int = LATENT_DIM
    ) -> None:
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.encoder = nn.Sequential(
            nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, latent_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim)
        )

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(
        self, x: Tensor, noise: float = 0.0, generator: torch.Generator | None = None
    ) -> Tensor:
        """Reconstruction (N, input_dim) with Gaussian noise of std ``noise`` added to the code."""
        z = self.encoder(x)
        if noise:
            eps = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
            z = z + noise * eps
        return self.decoder(z)


def train_audio_autoencoder(
    clap_embeddings: Tensor,
    *,
    steps: int,
    lr: float = 1e-3,
    batch_size: int = 256,
    seed: int = 0,
    noise: float = 0.1,
    device: str | torch.device = "cpu",
) -> tuple[AudioAutoencoder, list[float]]:
    """Fit an ``AudioAutoencoder`` to CLAP embeddings: Adam, MSE, noise on the code.

    Args:
        clap_embeddings: (N, 512) float CLAP audio embeddings.
        steps: optimiser steps, each on ``batch_size`` rows drawn without replacement per epoch.
        lr: Adam learning rate.
        batch_size: rows per step (at most N).
        seed: the initial weights, the minibatches and the noise.
        noise: std of the Gaussian noise added to the 768-d code (the public code uses 0.1).
        device: where to train; the model comes back on the CPU, in eval mode.

    Returns:
        The trained model and the training loss of every step.
    """
    x = torch.as_tensor(clap_embeddings)
    if x.ndim != 2 or len(x) == 0 or not x.is_floating_point():
        raise ValueError(f"clap_embeddings must be a float (N, D) tensor, got {x.dtype} {x.shape}")
    if not torch.isfinite(x).all():
        raise ValueError("clap_embeddings have NaN or inf values")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    x = x.float().to(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AudioAutoencoder(input_dim=x.shape[1]).to(device)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    noise_generator = torch.Generator(device=x.device).manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    batch_size = min(batch_size, len(x))
    order, used, losses = torch.randperm(len(x), generator=generator), 0, []
    model.train()
    for _ in range(steps):
        if used + batch_size > len(x):
            order, used = torch.randperm(len(x), generator=generator), 0
        batch = x[order[used : used + batch_size].to(x.device)]
        used += batch_size
        loss = F.mse_loss(model(batch, noise=noise, generator=noise_generator), batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return model.cpu().eval(), losses


def save_audio_autoencoder(model: AudioAutoencoder, path: str | Path) -> Path:
    """Write the model as a plain tensor state dict (loads with ``weights_only=True``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, path)
    return path


def load_audio_autoencoder(path: str | Path) -> AudioAutoencoder:
    """An ``AudioAutoencoder`` from a state dict file such as the released one.

    The sizes come from the tensors' shapes. The file is read with ``weights_only=True``: one
    that holds other pickled Python objects is refused (ValueError), as is one whose keys are not
    the layout encoder.0, encoder.2, decoder.0, decoder.2 (a "module." prefix is dropped).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: it should be {_WHAT_GOES_THERE['autoencoder_file']}"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} holds pickled Python objects besides tensors and is not unpickled for "
            "safety (torch.load weights_only=True); save the autoencoder as a plain state dict "
            "(save_audio_autoencoder, or torch.save(model.state_dict(), path))"
        ) from exc
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError(f"{path} is not a state dict of tensors (got {type(state).__name__})")
    if state and all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    expected = {
        f"{part}.{i}.{p}"
        for part in ("encoder", "decoder")
        for i in (0, 2)
        for p in ("weight", "bias")
    }
    if set(state) != expected:
        raise ValueError(
            f"{path} does not have the audio autoencoder's keys: missing "
            f"{sorted(expected - set(state))}, unexpected {sorted(set(state) - expected)[:5]}"
        )
    hidden_dim, input_dim = state["encoder.0.weight"].shape
    model = AudioAutoencoder(input_dim, hidden_dim, state["encoder.2.weight"].shape[0])
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(
            f"{path}: the autoencoder's tensor shapes do not fit together: {exc}"
        ) from exc
    return model.eval()


# -- the codec ------------------------------------------------------------------------------


def _waveforms(audio: Sequence[Any]) -> list[Tensor]:
    """Checked float32 mono 1-D CPU tensors; ValueError naming the first bad item."""
    clips = []
    for i, item in enumerate(audio):
        x = item if isinstance(item, Tensor) else np.asarray(item)
        what = f"audio[{i}]"
        is_float32 = x.dtype == (torch.float32 if isinstance(x, Tensor) else np.float32)
        if not is_float32:
            pcm = str(x.dtype).removeprefix("torch.") == "int16"
            hint = " (int16 PCM: x.astype(np.float32) / 32768)" if pcm else ""
            raise ValueError(f"{what}: expected a float32 waveform in [-1, 1], got {x.dtype}{hint}")
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x if x.flags.writeable else x.copy())
        if x.ndim != 1:
            raise ValueError(
                f"{what}: expected a mono 1-D waveform, got shape {tuple(x.shape)}; average the "
                "channels of a multi-channel clip, and pass a list of clips"
            )
        if x.numel() == 0:
            raise ValueError(f"{what}: the waveform is empty")
        if not torch.isfinite(x).all():
            raise ValueError(f"{what}: the waveform has NaN or inf values")
        peak = x.abs().max().item()
        if peak > 1.0:
            raise ValueError(
                f"{what}: values must lie in [-1, 1], max |x| is {peak:.4g}; rescale or clip it"
            )
        clips.append(x.detach().cpu().contiguous())
    if not clips:
        raise ValueError("audio: expected at least one waveform")
    return clips


@contextlib.contextmanager
def _numpy_seeded(seed: int) -> Iterator[None]:
    """numpy's global RNG seeded (laion_clap crops long clips with it), then restored."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _pipeline_dtype(dtype: torch.dtype | str | None, device: torch.device) -> torch.dtype:
    """``dtype`` (a torch dtype or its name); None: float16 on CUDA, float32 elsewhere."""
    if dtype is None:
        return torch.float16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        if not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise ValueError(f"dtype {dtype!r} is not a torch dtype (float16, float32, ...)")
        return getattr(torch, dtype)
    return dtype


def _file_hashes(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): sha256_file(p) for p in files}


@torch.no_grad()
def clap_embeddings(clap: ClapAudioEmbedder, audio: Sequence[Any], seed: int = 0) -> Tensor:
    """LAION-CLAP audio embeddings (N, 512) float32 on the CPU of 48 kHz float32 waveforms,
    called as the codec calls it (checked clips, numpy's RNG seeded for laion_clap's crops)."""
    clips = _waveforms(audio)
    with _numpy_seeded(seed):
        emb = clap.get_audio_embedding_from_data(clips, use_tensor=True)
    return torch.as_tensor(emb).float().cpu()


class AudioCodec(PaperCodec):
    """CLAP + autoencoder encoder in, autoencoder decoder + AudioLDM out.

    Args:
        clap: a LAION-CLAP audio embedder (``laion_clap.CLAP_Module`` or ``TinyClapAudio``).
        autoencoder: the 512 <-> 768 ``AudioAutoencoder``.
        pipeline: a diffusers ``AudioLDMPipeline`` conditioned on 512-d embeddings.
        device: where every part runs.
        dtype: the pipeline's dtype (or its name); None: float16 on CUDA, float32 elsewhere.
            CLAP and the autoencoder run in float32.
        batch_size: clips per CLAP call and latents per pipeline call.
        steps: AudioLDM's inference steps (the public code: 20).
        guidance_scale: AudioLDM's classifier-free guidance (its default 2.5).
        audio_length_s: decoded length in seconds; None: the pipeline's default.
        seed: decode draws item i's initial noise from a CPU generator seeded ``seed + i``
            (so a latent's audio does not depend on the batch size or the device); encode seeds
            numpy's RNG with it for laion_clap's crop of clips longer than 10 s.
        sources: files for ``describe`` (name -> path), filled by the loaders.
    """

    modality = "audio"
    sample_rate = INPUT_SAMPLE_RATE
    output_sample_rate = OUTPUT_SAMPLE_RATE

    def __init__(
        self,
        clap: ClapAudioEmbedder,
        autoencoder: AudioAutoencoder,
        pipeline: AudioLDMPipeline,
        *,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | str | None = None,
        batch_size: int = 16,
        steps: int = 20,
        guidance_scale: float = 2.5,
        audio_length_s: float | None = None,
        seed: int = 0,
        sources: dict[str, Path] | None = None,
    ) -> None:
        if not hasattr(clap, "get_audio_embedding_from_data"):
            raise TypeError(
                f"clap must offer get_audio_embedding_from_data, got {type(clap).__name__}"
            )
        if autoencoder.latent_dim != self.latent_dim:
            raise ValueError(
                f"the autoencoder's latent is {autoencoder.latent_dim}-d, not {self.latent_dim}"
            )
        condition_dim = pipeline.unet.config.projection_class_embeddings_input_dim
        if condition_dim != autoencoder.input_dim:
            raise ValueError(
                f"the pipeline takes {condition_dim}-d prompt embeddings but the autoencoder "
                f"decodes to {autoencoder.input_dim}-d"
            )
        if pipeline.vocoder.config.sampling_rate != OUTPUT_SAMPLE_RATE:
            raise ValueError(
                f"the pipeline's vocoder runs at {pipeline.vocoder.config.sampling_rate} Hz; "
                f"decoded audio must be {OUTPUT_SAMPLE_RATE} Hz"
            )
        if batch_size < 1 or steps < 1:
            raise ValueError(f"batch_size and steps must be >= 1, got {batch_size} and {steps}")
        self.clap, self.autoencoder, self.pipeline = clap, autoencoder.eval(), pipeline
        for part in ("unet", "vae", "text_encoder", "vocoder"):
            getattr(pipeline, part).eval()  # dropout off: the text encoder runs on the empty prompt
        pipeline.set_progress_bar_config(disable=True)
        self.batch_size, self.steps, self.seed = batch_size, steps, seed
        self.guidance_scale, self.audio_length_s = guidance_scale, audio_length_s
        self.requested_dtype = dtype
        self.sources = dict(sources or {})
        self._hashes: dict[str, dict[str, str]] | None = None
        self.to(device)

    def to(self, device: str | torch.device) -> AudioCodec:
        device = torch.device(device)
        dtype = _pipeline_dtype(self.requested_dtype, device)
        self.clap.to(device)
        self.autoencoder.to(device)
        if self.pipeline.dtype == dtype:  # a cast warns even when it changes nothing
            self.pipeline.to(device)
        else:
            self.pipeline.to(device, dtype)
        self._device, self.dtype = device, dtype
        return self

    @property
    def device(self) -> torch.device:
        return self._device

    @torch.no_grad()
    def encode_clap(self, audio: Sequence[Any]) -> Tensor:
        """LAION-CLAP audio embeddings (N, 512) float32 on the CPU, of 48 kHz waveforms."""
        return torch.cat([e.cpu() for e in self._clap_batches(audio)])

    @torch.no_grad()
    def encode(self, audio: Sequence[Any]) -> Tensor:
        """Raw latents (N, 768) float32 on the CPU: the autoencoder's code of the CLAP embedding."""
        return torch.cat([self.autoencoder.encode(e).cpu() for e in self._clap_batches(audio)])

    def _clap_batches(self, audio: Sequence[Any]) -> Iterator[Tensor]:
        clips = _waveforms(audio)
        for start in range(0, len(clips), self.batch_size):
            with _numpy_seeded(self.seed):
                emb = self.clap.get_audio_embedding_from_data(
                    clips[start : start + self.batch_size], use_tensor=True
                )
            yield torch.as_tensor(emb).float().to(self.device)

    @torch.no_grad()
    def decode(self, latents: Tensor) -> list[np.ndarray]:
        """int16 1-D waveforms at 16 kHz, one per latent row (N, 768)."""
        latents = check_latents(latents, self.latent_dim, "audio decode")
        waves: list[np.ndarray] = []
        for start in range(0, len(latents), self.batch_size):
            z = latents[start : start + self.batch_size].to(self.device)
            emb = self.autoencoder.decode(z).to(self.dtype)
            generators = [
                torch.Generator("cpu").manual_seed(self.seed + start + i) for i in range(len(z))
            ]
            audio = self.pipeline(
                prompt_embeds=emb,
                num_inference_steps=self.steps,
                guidance_scale=self.guidance_scale,
                audio_length_in_s=self.audio_length_s,
                generator=generators,
                output_type="np",
            ).audios
            bad = [start + i for i, a in enumerate(audio) if not np.isfinite(a).all()]
            if bad:
                raise RuntimeError(
                    f"AudioLDM gave NaN or inf samples for latents {bad} (dtype {self.dtype})"
                )
            waves += [(np.clip(a, -1.0, 1.0) * 32767.0).round().astype(np.int16) for a in audio]
        return waves

    def default_length_s(self) -> float:
        """The decoded length the pipeline uses when ``audio_length_s`` is None."""
        vocoder, pipe = self.pipeline.vocoder.config, self.pipeline
        hop = float(np.prod(vocoder.upsample_rates)) / vocoder.sampling_rate
        return pipe.unet.config.sample_size * pipe.vae_scale_factor * hop

    def describe(self) -> dict[str, Any]:
        if self._hashes is None:
            self._hashes = {name: _file_hashes(path) for name, path in self.sources.items()}
        return {
            "modality": self.modality,
            "encoder": f"{type(self.clap).__name__} audio embedding (512-d) -> autoencoder encoder",
            "decoder": "autoencoder decoder -> AudioLDMPipeline prompt_embeds",
            "pipeline": str(self.pipeline.config.get("_name_or_path", "")),
            "latent_dim": self.latent_dim,
            "input_sample_rate": self.sample_rate,
            "output_sample_rate": self.output_sample_rate,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "audio_length_s": self.audio_length_s or self.default_length_s(),
            "seed": self.seed,
            "dtype": str(self.dtype).removeprefix("torch."),
            "files": self._hashes,
        }


# -- loading --------------------------------------------------------------------------------


def _local(value: str | Path, name: str, folder: bool) -> Path:
    """``value`` as a path, or the weight folder's copy when it is the registry name ``name``."""
    if str(value) != name:
        return Path(value).expanduser()
    return snapshot_path(name) if folder else checked_path(name)  # or MissingWeightsError


def load_audio_codec(
    clap_checkpoint: str | Path | None = CLAP_ENTRY,
    autoencoder_file: str | Path = AUTOENCODER_ENTRY,
    audioldm_dir: str | Path = AUDIOLDM_SNAPSHOT,
    *,
    clap: ClapAudioEmbedder | None = None,
    device: str | torch.device = "cpu",
    **options: Any,
) -> AudioCodec:
    """The codec from local files; nothing is downloaded.

    Args:
        clap_checkpoint: the LAION-CLAP HTSAT-base checkpoint (the released clap.pt), or the
            registry entry "clap-flowbind" (the weight folder's copy); loaded with
            ``metrics.backbones.clap.ClapAudioText``, which needs laion_clap's hub files in the
            local cache and names those missing (BackboneUnavailableError). None with ``clap``.
        autoencoder_file: the autoencoder state dict (the released lightweight_audio_ae.pth),
            or the registry entry "flowbind-audio-ae".
        audioldm_dir: a local snapshot of cvssp/audioldm-m-full (or a saved tiny pipeline), or
            the hub snapshot name "audioldm-m-full" (the weight folder's copy).
        clap: an audio embedder used instead of a checkpoint (e.g. ``tiny_clap_audio()``).
        device: where the codec runs.
        **options: ``AudioCodec``'s options (dtype, batch_size, steps, guidance_scale,
            audio_length_s, seed).

    Raises:
        FileNotFoundError: naming every missing path and what goes there (MissingWeightsError,
            a FileNotFoundError, for a registry name whose copy is absent).
    """
    if (clap_checkpoint is None) == (clap is None):
        raise ValueError("pass either clap_checkpoint or clap (then clap_checkpoint=None)")
    paths = {
        "autoencoder_file": _local(autoencoder_file, AUTOENCODER_ENTRY, folder=False),
        "audioldm_dir": _local(audioldm_dir, AUDIOLDM_SNAPSHOT, folder=True),
    }
    if clap_checkpoint is not None:
        paths = {"clap_checkpoint": _local(clap_checkpoint, CLAP_ENTRY, folder=False), **paths}
    missing = [
        f"{path} ({name}: {_WHAT_GOES_THERE[name]})"
        for name, path in paths.items()
        if not (path / "model_index.json" if name == "audioldm_dir" else path).is_file()
    ]
    if missing:
        raise FileNotFoundError("the audio codec's files are missing:\n- " + "\n- ".join(missing))
    autoencoder = load_audio_autoencoder(paths["autoencoder_file"])
    if clap is None:
        clap = ClapAudioText(paths["clap_checkpoint"], entry=CLAP_ENTRY).clap
    from diffusers import AudioLDMPipeline

    dtype = _pipeline_dtype(options.get("dtype"), torch.device(device))
    with _hub_offline():
        pipeline = AudioLDMPipeline.from_pretrained(
            paths["audioldm_dir"], torch_dtype=dtype, local_files_only=True
        )
    return AudioCodec(clap, autoencoder, pipeline, device=device, sources=paths, **options)


# -- the tiny instance ----------------------------------------------------------------------

_CLAP_ALIAS = "_flowbind_laion_clap_module"


def _laion_clap_part(name: str) -> types.ModuleType:
    """``laion_clap.clap_module.<name>`` imported without ``laion_clap/__init__`` (hub access)."""
    if _CLAP_ALIAS not in sys.modules:
        spec = importlib.util.find_spec("laion_clap")
        if spec is None or not spec.submodule_search_locations:
            raise BackboneUnavailableError(
                "laion_clap is not installed: pip install laion-clap==1.1.7"
            )
        package = types.ModuleType(_CLAP_ALIAS)
        package.__path__ = [str(Path(spec.submodule_search_locations[0]) / "clap_module")]
        sys.modules[_CLAP_ALIAS] = package
    return importlib.import_module(f"{_CLAP_ALIAS}.{name}")


def _clip_features(waveform: Tensor, max_len: int = CLIP_SAMPLES) -> dict[str, Tensor]:
    """laion_clap's non-fusion clip input: repeat-padded to ``max_len``, or cropped at a random
    offset from numpy's global RNG (``get_audio_features`` with rand_trunc / repeatpad)."""
    longer = len(waveform) > max_len
    if longer:
        start = np.random.randint(0, len(waveform) - max_len + 1)
        waveform = waveform[start : start + max_len]
    elif len(waveform) < max_len:
        waveform = waveform.repeat(int(max_len / len(waveform)))
        waveform = F.pad(waveform, (0, max_len - len(waveform)), mode="constant", value=0)
    return {"longer": torch.tensor([longer]), "waveform": waveform}


class TinyClapAudio(nn.Module):
    """LAION-CLAP's audio side with tiny random weights, called like ``CLAP_Module``.

    ``audio_branch`` is laion_clap's ``HTSAT_Swin_Transformer`` with HTSAT-base's audio config
    (48 kHz, 64 mel bins, 256 spectrogram size) and small widths; ``audio_projection`` is CLAP's
    Linear -> ReLU -> Linear to 512. Embeddings are unit norm, as CLAP's.
    """

    def __init__(
        self,
        embed_dim: int = 16,
        depths: tuple[int, ...] = (1, 1, 1, 1),
        num_heads: tuple[int, ...] = (1, 2, 2, 4),
        joint_dim: int = CLAP_DIM,
    ) -> None:
        super().__init__()
        htsat = _laion_clap_part("htsat")
        config_file = Path(htsat.__file__).parent / "model_configs" / "HTSAT-base.json"
        self.audio_cfg = json.loads(config_file.read_text())["audio_cfg"]
        self.audio_branch = htsat.HTSAT_Swin_Transformer(
            spec_size=256,
            patch_size=4,
            patch_stride=(4, 4),
            num_classes=self.audio_cfg["class_num"],
            embed_dim=embed_dim,
            depths=list(depths),
            num_heads=list(num_heads),
            window_size=8,
            config=types.SimpleNamespace(**self.audio_cfg),
        )
        width = embed_dim * 2 ** (len(depths) - 1)
        self.audio_projection = nn.Sequential(
            nn.Linear(width, joint_dim), nn.ReLU(), nn.Linear(joint_dim, joint_dim)
        )
        self.eval()

    def get_audio_embedding(self, data: list[dict[str, Tensor]]) -> Tensor:
        """CLAP.get_audio_embedding: clip inputs (``_clip_features``) -> (N, 512) unit norm."""
        device = next(self.parameters()).device
        batch = {k: torch.cat([d[k].unsqueeze(0) for d in data]).to(device) for k in data[0]}
        embedding = self.audio_branch(batch, mixup_lambda=None, device=device)["embedding"]
        return F.normalize(self.audio_projection(embedding), dim=-1)

    def get_audio_embedding_from_data(self, x: Any, use_tensor: bool = False) -> Any:
        """CLAP_Module.get_audio_embedding_from_data: mono clips at 48 kHz -> (N, 512)."""
        self.eval()
        clips = []
        for waveform in x:
            if not use_tensor:  # laion_clap rounds numpy input to int16 levels
                waveform = torch.from_numpy(
                    (np.clip(waveform, -1, 1) * 32767.0).astype(np.int16) / 32767.0
                ).float()
            clips.append(_clip_features(waveform, self.audio_cfg["clip_samples"]))
        emb = self.get_audio_embedding(clips)
        return emb if use_tensor else emb.detach().cpu().numpy()


def tiny_clap_audio(seed: int = 0) -> TinyClapAudio:
    """A ``TinyClapAudio`` whose random weights come from ``seed`` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyClapAudio()


def _tiny_tokenizer() -> Any:
    """A byte-level RoBERTa tokenizer: the special tokens and the 256 byte symbols, no merges."""
    from transformers import RobertaTokenizer
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    tokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", *bytes_to_unicode().values()]
    with tempfile.TemporaryDirectory() as folder:
        vocab, merges = Path(folder) / "vocab.json", Path(folder) / "merges.txt"
        vocab.write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
        merges.write_text("#version: 0.2\n")
        return RobertaTokenizer(str(vocab), str(merges), model_max_length=77)


def tiny_audioldm_pipeline(seed: int = 0, condition_dim: int = CLAP_DIM) -> AudioLDMPipeline:
    """An AudioLDMPipeline of tiny random components (diffusers' test sizes), 64 samples long."""
    from diffusers import AudioLDMPipeline, AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import (
        ClapTextConfig,
        ClapTextModelWithProjection,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
    )

    tokenizer = _tiny_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            block_out_channels=(8, 16),
            layers_per_block=1,
            norm_num_groups=8,
            sample_size=8,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=(8, 16),
            class_embed_type="simple_projection",
            projection_class_embeddings_input_dim=condition_dim,
            class_embeddings_concat=True,
        )
        vae = AutoencoderKL(
            block_out_channels=[8, 16],
            in_channels=1,
            out_channels=1,
            norm_num_groups=8,
            down_block_types=["DownEncoderBlock2D"] * 2,
            up_block_types=["UpDecoderBlock2D"] * 2,
            latent_channels=4,
        )
        text_encoder = ClapTextModelWithProjection(
            ClapTextConfig(
                bos_token_id=0,
                eos_token_id=2,
                pad_token_id=1,
                vocab_size=len(tokenizer),
                hidden_size=16,
                intermediate_size=32,
                num_attention_heads=2,
                num_hidden_layers=1,
                projection_dim=condition_dim,
            )
        )
        vocoder = SpeechT5HifiGan(
            SpeechT5HifiGanConfig(
                model_in_dim=8,
                sampling_rate=OUTPUT_SAMPLE_RATE,
                upsample_initial_channel=16,
                upsample_rates=[2, 2],
                upsample_kernel_sizes=[4, 4],
                resblock_kernel_sizes=[3, 7],
                resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
                normalize_before=False,
            )
        )
        # HiFi-GAN's own init (std 0.01) gives waveforms of about 1e-6: all zero in int16
        for weight in (p for p in vocoder.parameters() if p.ndim > 1):
            nn.init.normal_(weight, std=0.1)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
    )
    return AudioLDMPipeline(
        vae=vae.eval(),
        text_encoder=text_encoder.eval(),
        tokenizer=tokenizer,
        unet=unet.eval(),
        scheduler=scheduler,
        vocoder=vocoder.eval(),
    )


def tiny_audio_codec(seed: int = 0, folder: str | Path | None = None, **options: Any) -> AudioCodec:
    """The codec's architectures with tiny random weights from ``seed``; outputs mean nothing.

    With ``folder``, the pipeline is saved to ``folder/audioldm-tiny`` (save_pretrained) and the
    autoencoder to ``folder/lightweight_audio_ae.pth``, so that
    ``load_audio_codec(None, folder / AUTOENCODER_FILE, folder / TINY_AUDIOLDM_DIR,
    clap=tiny_clap_audio(seed))`` builds the same codec back.

    Args:
        seed: every random weight.
        folder: where to save the pipeline and the autoencoder (None: nothing is written).
        **options: ``AudioCodec``'s options (device, dtype, batch_size, steps, ...).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        autoencoder = AudioAutoencoder()
    pipeline = tiny_audioldm_pipeline(seed)
    sources: dict[str, Path] = {}
    if folder is not None:
        folder = Path(folder)
        sources["autoencoder_file"] = save_audio_autoencoder(autoencoder, folder / AUTOENCODER_FILE)
        sources["audioldm_dir"] = folder / TINY_AUDIOLDM_DIR
        pipeline.save_pretrained(sources["audioldm_dir"])
    return AudioCodec(tiny_clap_audio(seed), autoencoder, pipeline, sources=sources, **options)
