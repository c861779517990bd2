"""Audio view: 1 s of 16 kHz mono, ``count`` notes with timbre, pitch and envelope of the scene.

Timbre follows ``kind`` (disc: sine; bar: odd harmonics, square-wave-like; pillar: all
harmonics, sawtooth-like; slash: inharmonic bell partials), the fundamental follows ``pitch``
(G3, G4, G5), the note envelope follows ``envelope`` (short: percussive decay; long: slow
attack, sustain), the rhythm follows ``count``. Nuisance: loudness, onset time, note spacing,
pitch jitter, noise level.

Also here: the log-mel front end shared by the audio codec and the audio evaluator, and
Griffin-Lim phase recovery from a log-mel spectrogram.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

SAMPLE_RATE = 16_000
N_SAMPLES = 16_000
N_FFT = 512
HOP = 256
N_MELS = 64
N_FRAMES = 64  # 63 STFT frames, padded by one
LOG_FLOOR = 1e-5
PITCH_HZ = {"low": 196.0, "mid": 392.0, "high": 784.0}
_PITCHES = ("low", "mid", "high")
# Partials (frequency ratio, amplitude) per kind, in the order of world.ATTRIBUTES["kind"].
_PARTIALS = (
    ((1.0, 1.0),),
    tuple((k, 1.0 / k) for k in (1, 3, 5, 7, 9)),
    tuple((k, 1.0 / k) for k in range(1, 10)),
    ((1.0, 1.0), (2.4, 0.6), (3.9, 0.45), (5.4, 0.3)),
)
_NYQUIST_MARGIN = 7_500.0


NOTE_SECONDS = 0.26


def note_envelope(long: bool) -> np.ndarray:
    """One note's amplitude envelope from its onset, float32 (NOTE_SECONDS * SAMPLE_RATE,)."""
    t = np.arange(int(NOTE_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    if long:  # slow attack, sustain, release ending at 0.24 s
        env = np.clip(t / 0.06, 0.0, 1.0) * np.clip((0.24 - t) / 0.04, 0.0, 1.0)
    else:  # percussive: 4 ms attack, 35 ms exponential decay
        env = np.clip(t / 0.004, 0.0, 1.0) * np.exp(-t / 0.035)
    return env.astype(np.float32)


def _partial_table(kind: np.ndarray, f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and amplitudes (N, max partials); partials above 7.5 kHz get amplitude 0."""
    width = max(len(p) for p in _PARTIALS)
    ratios = np.zeros((len(_PARTIALS), width))
    amps = np.zeros((len(_PARTIALS), width))
    for k, partials in enumerate(_PARTIALS):
        ratios[k, : len(partials)] = [r for r, _ in partials]
        amps[k, : len(partials)] = [a for _, a in partials]
    freqs = ratios[kind] * f0[:, None]
    return freqs, np.where(freqs < _NYQUIST_MARGIN, amps[kind], 0.0)


def synthesize_audio(
    attributes: dict[str, np.ndarray], rng: np.random.Generator, chunk: int = 256
) -> np.ndarray:
    """Synthesise every scene as int16 (N, 16000); ``rng`` draws the audio nuisance only.

    Background noise is a random window of one Gaussian noise bank per call (white noise looks
    the same wherever it starts), which is far cheaper than fresh noise per clip.
    """
    n = len(attributes["kind"])
    kind = attributes["kind"]
    f0 = np.array([PITCH_HZ[p] for p in _PITCHES])[attributes["pitch"]]
    f0 = f0 * rng.uniform(0.97, 1.03, n)
    gain = rng.uniform(0.25, 0.8, n).astype(np.float32)
    onset = rng.uniform(0.03, 0.12, n)
    spacing = rng.uniform(0.27, 0.30, n)
    noise_level = rng.uniform(0.002, 0.012, n).astype(np.float32)
    freqs, amps = _partial_table(kind, f0)
    phase = rng.uniform(0, 2 * np.pi, freqs.shape)
    bank = rng.standard_normal(1 << 18, dtype=np.float32)
    noise_start = rng.integers(0, len(bank) - N_SAMPLES, n)

    t = (np.arange(N_SAMPLES) / SAMPLE_RATE).astype(np.float32)
    templates = (note_envelope(False), note_envelope(True))
    out = np.empty((n, N_SAMPLES), dtype=np.int16)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        wave = np.zeros((len(rows), N_SAMPLES), dtype=np.float32)
        for k, partials in enumerate(_PARTIALS):
            local = np.flatnonzero(kind[rows] == k)
            sel = rows[local]
            tone = np.zeros((len(sel), N_SAMPLES), dtype=np.float32)
            for p in range(len(partials)):
                arg = (2 * np.pi * freqs[sel, p, None]).astype(np.float32) * t
                arg += phase[sel, p, None].astype(np.float32)
                np.sin(arg, out=arg)
                arg *= amps[sel, p, None].astype(np.float32)
                tone += arg
            wave[local] = tone
        wave /= np.abs(wave).max(axis=1, keepdims=True)
        env = np.zeros_like(wave)
        for j, i in enumerate(rows):
            template = templates[attributes["envelope"][i]]
            for note in range(attributes["count"][i] + 1):
                o = int(round((onset[i] + note * spacing[i]) * SAMPLE_RATE))
                stop = min(o + len(template), N_SAMPLES)
                env[j, o:stop] += template[: stop - o]
        wave *= env
        wave *= gain[rows, None]
        for j, i in enumerate(rows):
            wave[j] += noise_level[i] * bank[noise_start[i] : noise_start[i] + N_SAMPLES]
        np.clip(wave, -1.0, 1.0, out=wave)
        wave *= 32767.0
        np.rint(wave, out=wave)
        out[rows] = wave.astype(np.int16)
    return out


def to_float(audio: np.ndarray | Tensor) -> Tensor:
    """int16 samples to float32 in [-1, 1]."""
    audio = torch.as_tensor(audio)
    return audio.float() / 32767.0 if audio.dtype == torch.int16 else audio.float()


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)


@functools.cache
def mel_filterbank() -> Tensor:
    """Triangular HTK-scale filters, (N_MELS, N_FFT // 2 + 1), area-normalised like Slaney."""
    freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(40.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (freqs[None] - lower) / (centre - lower)
    fall = (upper - freqs[None]) / (upper - centre)
    fb = np.maximum(0.0, np.minimum(rise, fall)) * (2.0 / (upper - lower))
    return torch.as_tensor(fb, dtype=torch.float32)


def _window() -> Tensor:
    return torch.hann_window(N_FFT)


def log_mel(audio: np.ndarray | Tensor) -> Tensor:
    """Log-mel spectrogram (N, 1, N_MELS, N_FRAMES) of int16 or float waveforms (N, samples)."""
    wave = to_float(audio)
    spec = torch.stft(wave, N_FFT, HOP, window=_window(), center=True, return_complex=True).abs()
    mel = torch.einsum("mf,nft->nmt", mel_filterbank(), spec)
    logmel = torch.log(mel + LOG_FLOOR)
    pad = N_FRAMES - logmel.shape[-1]
    if pad > 0:
        logmel = torch.nn.functional.pad(logmel, (0, pad), value=float(np.log(LOG_FLOOR)))
    return logmel[..., :N_FRAMES].unsqueeze(1)


@functools.cache
def _mel_pinv() -> Tensor:
    return torch.linalg.pinv(mel_filterbank())


def griffin_lim(logmel: Tensor, iterations: int = 32, momentum: float = 0.99) -> Tensor:
    """Waveforms (N, N_SAMPLES) float in [-1, 1] from log-mel (N, 1, N_MELS, N_FRAMES).

    The magnitude spectrum is the pseudo-inverse of the mel filters, clamped at zero; the
    phase comes from fast Griffin-Lim (Perraudin et al., 2013) started from zero phase, so the
    result is deterministic.
    """
    mel = torch.exp(logmel.squeeze(1)[..., : 1 + N_SAMPLES // HOP]) - LOG_FLOOR
    magnitude = torch.einsum("fm,nmt->nft", _mel_pinv(), mel.clamp_min(0.0)).clamp_min(0.0)
    window = _window()
    angles = torch.ones_like(magnitude, dtype=torch.complex64)
    previous = torch.zeros_like(angles)
    for _ in range(iterations):
        wave = torch.istft(magnitude * angles, N_FFT, HOP, window=window, length=N_SAMPLES)
        rebuilt = torch.stft(wave, N_FFT, HOP, window=window, return_complex=True)
        angles = rebuilt - (momentum / (1 + momentum)) * previous
        angles = angles / angles.abs().clamp_min(1e-8)
        previous = rebuilt
    wave = torch.istft(magnitude * angles, N_FFT, HOP, window=window, length=N_SAMPLES)
    return wave.clamp(-1.0, 1.0)
