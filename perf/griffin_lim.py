"""Griffin-Lim time: the suite's phase recovery against torchaudio's, on the same magnitudes.

    python -m perf.griffin_lim --clips 256 --threads 1

Times ``--repeats`` runs of each on ``--clips`` random magnitude spectra of the embedded
audio's STFT (257 bins x 63 frames, 32 iterations, momentum 0.99: what the audio codec's
decoder runs), after one untimed run that also compiles the numba kernels, and prints seconds
per run, clips per second and the speed-up.
"""

from __future__ import annotations

import argparse
import time

import torch
from torchaudio.transforms import GriffinLim

from bench.embedded.audio import HOP, N_FFT, N_SAMPLES
from bench.embedded.spectrogram import N_STFT_FRAMES, phase_recovery


def _best(run, repeats: int) -> float:
    run()  # untimed: first-call costs (numba compilation or its cache, FFT plans)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    magnitude = torch.rand(args.clips, N_FFT // 2 + 1, N_STFT_FRAMES, generator=generator) ** 3
    reference = GriffinLim(
        n_fft=N_FFT,
        n_iter=args.iterations,
        win_length=N_FFT,
        hop_length=HOP,
        window_fn=torch.hann_window,
        power=1.0,
        momentum=0.99,
        length=N_SAMPLES,
        rand_init=False,
    )
    ours = _best(lambda: phase_recovery(magnitude, args.iterations), args.repeats)
    theirs = _best(lambda: reference(magnitude), args.repeats)
    figures = {"suite_s": ours, "torchaudio_s": theirs, "speedup": theirs / ours}
    print(
        f"{args.clips} clips, {args.iterations} iterations, {args.threads} thread(s): "
        f"suite {ours:.2f} s ({args.clips / ours:.0f} clips/s), torchaudio {theirs:.2f} s "
        f"({args.clips / theirs:.0f} clips/s), {theirs / ours:.2f}x"
    )
    return figures


if __name__ == "__main__":
    main()
