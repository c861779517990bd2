"""Audio view: 1 s of 16 kHz mono, ``count`` notes with timbre, pitch and envelope of the scene.

Timbre follows ``kind`` (disc: sine; bar: odd harmonics, square-wave-like; pillar: all
harmonics, sawtooth-like; slash: inharmonic bell partials), the fundamental follows ``pitch``
(G3, G4, G5), the note envelope follows ``envelope`` (short: percussive decay; long: slow
attack, sustain), the rhythm follows ``count``. Nuisance: loudness, onset time, note spacing,
pitch jitter, noise level.

NumPy only: the log-mel front end and Griffin-Lim, which need torch, are in
:mod:`bench.embedded.spectrogram`, so building the data set does not import torch.
"""

from __future__ import annotations

import numpy as np

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
