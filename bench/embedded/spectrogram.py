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
* Griffin-Lim: :class:`torchaudio.transforms.GriffinLim`, fast Griffin-Lim (Perraudin et al.,
  2013) with momentum 0.99, started from zero phase (``rand_init=False``, so the result is
  deterministic), ``power=1`` because it receives magnitudes, output cut to ``N_SAMPLES``.

None of these emits a deprecation warning in torchaudio 2.11 (only the ``return_complex`` and
``onesided`` arguments do, which are not passed).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torchaudio
from torch import Tensor
from torchaudio.transforms import GriffinLim

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
    phase comes from torchaudio's fast Griffin-Lim (Perraudin et al., 2013) with ``iterations``
    iterations, started from zero phase, so the result is deterministic. ``momentum`` must be
    in [0, 1).
    """
    mel = torch.exp(logmel.squeeze(1)[..., : 1 + N_SAMPLES // HOP]) - LOG_FLOOR
    magnitude = torch.matmul(_mel_pinv(), mel.clamp_min(0.0)).clamp_min(0.0)
    return phase_recovery(iterations, momentum)(magnitude).clamp(-1.0, 1.0)


def phase_recovery(iterations: int = 32, momentum: float = 0.99) -> GriffinLim:
    """The Griffin-Lim that :func:`griffin_lim` runs: linear magnitudes (..., N_FFT // 2 + 1,
    frames) to waveforms (..., N_SAMPLES), on the STFT of :func:`log_mel`."""
    return GriffinLim(
        n_fft=N_FFT,
        n_iter=iterations,
        win_length=N_FFT,
        hop_length=HOP,
        window_fn=torch.hann_window,
        power=1.0,
        momentum=momentum,
        length=N_SAMPLES,
        rand_init=False,
    )
