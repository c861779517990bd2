"""The log-mel front end shared by the audio codec and the audio evaluator, and Griffin-Lim
phase recovery from a log-mel spectrogram.

Both are torchaudio's, with these options:

* STFT: ``n_fft = 512``, hop 256, periodic Hann window of ``n_fft`` samples, centred frames
  with reflect padding, one-sided, not normalised, magnitude (``power=1``): the defaults of
  :func:`torch.stft`.
* Mel filters: :func:`torchaudio.functional.melscale_fbanks` with ``mel_scale="htk"``
  (2595 log10(1 + f / 700)), 40 Hz to Nyquist, 64 triangles on the 257 STFT bin centres
  ``linspace(0, 8000, 257)``, and ``norm="slaney"`` (each triangle scaled by
  2 / (upper - lower edge), i.e. area-normalised); tests/test_datasets.py checks them against
  the formula in float64 and against librosa (within 1e-7 of filters that peak at 0.028).
* Griffin-Lim: the algorithm of :class:`torchaudio.transforms.GriffinLim` (fast Griffin-Lim,
  Perraudin et al., 2013) with momentum 0.99, started from zero phase (``rand_init=False``, so
  the result is deterministic), ``power=1`` because it receives magnitudes, output cut to
  ``N_SAMPLES``, on the STFT above. :func:`phase_recovery` runs it on real arrays: with the
  hop half the window, framing and overlap-add are two passes over the samples, and the
  momentum update and phase normalisation one fused pass over the spectrum (numba), where
  torchaudio's complex ``abs``/``div`` and ``unfold_backward`` took most of its time. The
  FFTs are torch's. It agrees with torchaudio's sample for sample to 2e-4 (waveforms in
  [-1, 1]) where the iteration is stable; at 32 iterations with momentum 0.99 the two
  roundings drift apart (0.03 on the test's sines) while the spectra they rebuild stay equally
  close to the target (tests/test_datasets.py). It takes 0.3-0.4 of torchaudio's time on one
  thread (``python -m perf.griffin_lim``).

None of these emits a deprecation warning in torchaudio 2.11 (only the ``return_complex`` and
``onesided`` arguments do, which are not passed).
"""

from __future__ import annotations

import functools

import numba
import numpy as np
import torch
import torchaudio
from torch import Tensor

from bench.embedded.audio import HOP, LOG_FLOOR, N_FFT, N_FRAMES, N_MELS, N_SAMPLES, SAMPLE_RATE

F_MIN = 40.0
F_MAX = SAMPLE_RATE / 2


def to_float(audio: np.ndarray | Tensor) -> Tensor:
    """int16 samples to float32 in [-1, 1]."""
    audio = torch.as_tensor(audio)
    return audio.float() / 32767.0 if audio.dtype == torch.int16 else audio.float()


@functools.cache
def _mel_spectrogram() -> torchaudio.transforms.MelSpectrogram:
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=SAMPLE_RATE,
        n_fft=N_FFT,
        win_length=N_FFT,
        hop_length=HOP,
        f_min=F_MIN,
        f_max=F_MAX,
        n_mels=N_MELS,
        window_fn=torch.hann_window,
        power=1.0,
        normalized=False,
        center=True,
        pad_mode="reflect",
        norm="slaney",
        mel_scale="htk",
    )


def mel_filterbank() -> Tensor:
    """Triangular HTK-scale filters, (N_MELS, N_FFT // 2 + 1), area-normalised like Slaney.

    The filters :func:`log_mel` applies (torchaudio's ``melscale_fbanks``, transposed).
    """
    return _mel_spectrogram().mel_scale.fb.T


def log_mel(audio: np.ndarray | Tensor) -> Tensor:
    """Log-mel spectrogram (N, 1, N_MELS, N_FRAMES) of int16 or float waveforms (N, samples)."""
    mel = _mel_spectrogram()(to_float(audio))
    logmel = torch.log(mel + LOG_FLOOR)
    pad = N_FRAMES - logmel.shape[-1]
    if pad > 0:
        logmel = torch.nn.functional.pad(logmel, (0, pad), value=float(np.log(LOG_FLOOR)))
    return logmel[..., :N_FRAMES].unsqueeze(1)


# mel -> linear magnitude: the pseudo-inverse of the same torchaudio filterbank, as before,
# rather than torchaudio.transforms.InverseMelScale. The filterbank (64 x 257) has full row
# rank and condition number ~5, so InverseMelScale's least squares (torch.linalg.lstsq, driver
# "gels": the minimum-norm solution for this underdetermined system) is the same linear map;
# the two agree to 1e-5 relative. The pseudo-inverse is computed once and applied as a matrix
# product, where InverseMelScale factorises the filterbank again for every spectrogram of every
# call; and it lets the mel values be clamped at zero before the inverse (exp(log(x + floor)) -
# floor can dip below zero by rounding), which InverseMelScale does not do itself.
@functools.cache
def _mel_pinv() -> Tensor:
    return torch.linalg.pinv(mel_filterbank())


def griffin_lim(logmel: Tensor, iterations: int = 32, momentum: float = 0.99) -> Tensor:
    """Waveforms (N, N_SAMPLES) float in [-1, 1] from log-mel (N, 1, N_MELS, N_FRAMES).

    The magnitude spectrum is the pseudo-inverse of the mel filters, clamped at zero; the
    phase comes from fast Griffin-Lim (:func:`phase_recovery`) with ``iterations``
    iterations, started from zero phase, so the result is deterministic. ``momentum`` must be
    in [0, 1).
    """
    mel = torch.exp(logmel.squeeze(1)[..., : 1 + N_SAMPLES // HOP]) - LOG_FLOOR
    magnitude = torch.matmul(_mel_pinv(), mel.clamp_min(0.0)).clamp_min(0.0)
    return phase_recovery(magnitude, iterations, momentum).clamp(-1.0, 1.0)


HALF = N_FFT // 2  # the hop: frames overlap by half, so each is two blocks of HALF samples
if HOP != HALF:
    raise ValueError(f"phase_recovery assumes a hop of half the window: N_FFT={N_FFT}, HOP={HOP}")
N_STFT_FRAMES = 1 + N_SAMPLES // HOP


@functools.cache
def _window_and_envelope() -> tuple[np.ndarray, np.ndarray]:
    """The periodic Hann window and 1 / (the overlap-added squared window) on the kept samples:
    torch.istft's normalisation with ``center=True`` and ``length=N_SAMPLES``."""
    window = torch.hann_window(N_FFT).numpy()
    squared = (window * window).reshape(2, HALF)
    envelope = np.zeros((N_STFT_FRAMES + 1, HALF), np.float32)
    envelope[:-1] += squared[0]
    envelope[1:] += squared[1]
    return window, 1.0 / envelope.reshape(-1)[HALF : HALF + N_SAMPLES]


@numba.njit(cache=True)
def _overlap_add(frames, window, inverse_envelope, out):  # pragma: no cover (compiled)
    """out (N, L) <- the windowed frames (N, T, N_FFT) overlap-added at hop HALF, less the
    HALF samples of centring padding, divided by the squared window's envelope."""
    n_items, n_frames, width = frames.shape
    length = out.shape[1]
    half = width // 2
    for n in range(n_items):
        out[n, :] = 0.0
        for t in range(n_frames):
            start = t * half - half
            for k in range(max(0, -start), min(width, length - start)):
                out[n, start + k] += frames[n, t, k] * window[k]
        for i in range(length):
            out[n, i] *= inverse_envelope[i]


@numba.njit(cache=True)
def _frames(signal, window, out):  # pragma: no cover (compiled)
    """out (N, T, N_FFT) <- windowed frames at hop HALF of each signal (N, L), reflect-padded
    by HALF on both sides (torch.stft with ``center=True``, ``pad_mode="reflect"``)."""
    n_items, length = signal.shape
    n_frames, width = out.shape[1], out.shape[2]
    half = width // 2
    for n in range(n_items):
        for t in range(n_frames):
            start = t * half - half
            if start >= 0 and start + width <= length:
                for k in range(width):
                    out[n, t, k] = signal[n, start + k] * window[k]
            else:
                for k in range(width):
                    j = start + k
                    if j < 0:
                        j = -j
                    elif j >= length:
                        j = 2 * (length - 1) - j
                    out[n, t, k] = signal[n, j] * window[k]


@numba.njit(cache=True)
def _next_spectrum(rebuilt, previous, magnitude, alpha, out):  # pragma: no cover (compiled)
    """out <- magnitude * z / (|z| + 1e-16) with z = rebuilt - alpha * previous (flat arrays):
    torchaudio's momentum step and phase normalisation, times the target magnitude."""
    for i in range(rebuilt.shape[0]):
        z = rebuilt[i] - alpha * previous[i]
        out[i] = z * (magnitude[i] / (np.sqrt(z.real * z.real + z.imag * z.imag) + 1e-16))


def phase_recovery(magnitude: Tensor, iterations: int = 32, momentum: float = 0.99) -> Tensor:
    """Fast Griffin-Lim from linear magnitudes (N, N_FFT // 2 + 1, frames) to waveforms
    (N, N_SAMPLES), on the STFT of :func:`log_mel`, started from zero phase.

    Each iteration is torchaudio's (``torchaudio.functional.griffinlim``): the inverse STFT of
    magnitude x phase, its STFT ``S``, then phase ``(S - a S_prev) / |S - a S_prev|`` with
    ``a = momentum / (1 + momentum)``; the output is the inverse STFT of the last one.
    """
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if magnitude.shape[-2:] != (HALF + 1, N_STFT_FRAMES):
        raise ValueError(
            f"phase_recovery expects magnitudes (N, {HALF + 1}, {N_STFT_FRAMES}), got "
            f"{tuple(magnitude.shape)}"
        )
    window, inverse_envelope = _window_and_envelope()
    target = np.ascontiguousarray(magnitude.detach().float().cpu().transpose(-1, -2).numpy())
    n_items = target.shape[0]
    alpha = np.float32(momentum / (1 + momentum))
    spectrum = target.astype(np.complex64)  # zero phase
    previous = np.zeros_like(spectrum)
    wave = np.empty((n_items, N_SAMPLES), np.float32)
    frames = np.empty((n_items, N_STFT_FRAMES, N_FFT), np.float32)
    for _ in range(iterations):
        _overlap_add(
            torch.fft.irfft(torch.from_numpy(spectrum), n=N_FFT).numpy(),
            window,
            inverse_envelope,
            wave,
        )
        _frames(wave, window, frames)
        rebuilt = torch.fft.rfft(torch.from_numpy(frames)).numpy()
        _next_spectrum(
            rebuilt.reshape(-1),
            previous.reshape(-1),
            target.reshape(-1),
            alpha,
            spectrum.reshape(-1),
        )
        previous = rebuilt
    _overlap_add(
        torch.fft.irfft(torch.from_numpy(spectrum), n=N_FFT).numpy(), window, inverse_envelope, wave
    )
    return torch.from_numpy(wave)
