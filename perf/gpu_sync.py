"""Check on a CUDA device that the fast training path synchronises with the host only at log
and checkpoint steps.

    python -m perf.gpu_sync                        # paper-like widths, random latents
    python -m perf.gpu_sync --width 256 --steps 40 --log-every 10

Runs ``flowbind.train`` with ``fast=True`` under CUDA's sync debug mode ("warn"), which warns at
every call that waits for the device, and counts the warnings by the step they happen in (each
step starts with one draw from the sampler). A sync in a step that neither logs nor writes a
checkpoint is a failure: the step's work would wait for the host. Exits non-zero then, printing
where. Needs a GPU; on a CPU it says so and exits 2.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
import warnings
from collections import Counter
from pathlib import Path

import torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=1152)
    parser.add_argument("--depth", type=int, default=12)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--compile", default="off")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("perf.gpu_sync needs a CUDA device; none is available here")
        return 2

    from flowbind import FlowBind, FlowBindConfig, TrainConfig, train
    from flowbind.data import ResidentSampler
    from perf.train import random_pairs

    latents, pairs = random_pairs(args.dim, 20_000)
    model = FlowBind(
        FlowBindConfig(
            latent_dim=args.dim,
            hidden_dim=args.width,
            depth=args.depth,
            encoder_hidden_dim=args.width,
        )
    )
    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch,
        batching="proportional",
        log_every=args.log_every,
        checkpoint_every=args.steps,
        warmup_steps=5,
        device="cuda",
        fast=True,
        compile=args.compile,
    )
    step, seen = 0, 0  # the step running (0: set-up), warnings already attributed
    syncs: Counter[int] = Counter()
    where: dict[int, str] = {}
    sample = ResidentSampler.sample
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def note_syncs() -> None:
            nonlocal seen
            for w in caught[seen:]:
                if "synchroniz" in str(w.message).lower():
                    syncs[step] += 1
                    where.setdefault(step, f"{w.filename}:{w.lineno}: {w.message}")
            seen = len(caught)

        def sample_and_note(self, device=None):
            # every step starts with one draw: what was recorded until now belongs to the last
            nonlocal step
            note_syncs()
            step += 1
            return sample(self, device)

        ResidentSampler.sample = sample_and_note
        torch.cuda.set_sync_debug_mode("warn")
        try:
            train(model, latents, pairs, config, Path(out) / "run", progress=False)
            note_syncs()
        except Exception:
            traceback.print_exc()
            return 1
        finally:
            torch.cuda.set_sync_debug_mode("default")
            ResidentSampler.sample = sample
    allowed = {s for s in range(1, args.steps + 1) if s % args.log_every == 0 or s == args.steps}
    # set-up (step 0) and step 1 (compilation, cuBLAS handles, the allocator's first blocks)
    # are not steady-state steps
    bad = {s: n for s, n in syncs.items() if s not in allowed and s > 1}
    print(f"host syncs by step: {dict(sorted(syncs.items()))} (log steps: {sorted(allowed)})")
    if bad:
        for s in sorted(bad):
            print(f"step {s}: {bad[s]} sync(s), first at {where[s]}")
        print("FAIL: the fast path waited for the device outside log and checkpoint steps")
        return 1
    print("OK: no host sync outside log and checkpoint steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
