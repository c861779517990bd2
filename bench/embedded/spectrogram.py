"""The log-mel front end shared by the audio codec and the audio evaluator, and Griffin-Lim
phase recovery from a log-mel spectrogram."""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from bench.embedded.audio import HOP, LOG_FLOOR, N_FFT, N_FRAMES, N_MELS, N_SAMPLES, SAMPLE_RATE


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
