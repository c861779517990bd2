"""The triplet test set's images: one FLUX.1-schnell image per AudioCaps test caption.

    pipeline = load_flux(snapshot_path("flux-1-schnell"), device="cuda")
    made = generate_triplet_images(triplet_targets(triplets), pipeline, seed=0)

The paper pairs each AudioCaps test clip with an image generated from its caption by
FLUX.1-schnell; the images go where the triplets adapter reads them
(``<image_dir>/<youtube_id>.png``). Generation uses the model's distilled recipe (4 steps, no
classifier-free guidance, prompts of up to 256 T5 tokens) at its default size, one seeded
generator per item (seed + the item's position), so a rerun draws the same image. An image
already there is kept: an interrupted job resumes, and a folder made elsewhere is read as it is.
Each file is written to a temporary name and renamed, so no half-written image is ever read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

FLUX_STEPS = 4
FLUX_GUIDANCE = 0.0
FLUX_MAX_TOKENS = 256


def triplet_targets(triplets: Any) -> list[tuple[str, Path]]:
    """(caption, image path) of every test clip of a ``Triplets`` adapter, in split order."""
    return triplets.image_targets()


def load_flux(folder: str | Path, device: str | torch.device | None = None) -> Any:
    """FLUX.1-schnell from its local snapshot (bf16 on CUDA, float32 on the CPU)."""
    from diffusers import FluxPipeline

    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    pipeline = FluxPipeline.from_pretrained(folder, torch_dtype=dtype, local_files_only=True)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(device)


def _write_png(path: Path, image: Any) -> None:
    array = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"the pipeline gave an image of {array.dtype} {array.shape} for {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(array, mode="RGB").save(tmp, format="PNG")
    os.replace(tmp, path)


def generate_triplet_images(
    targets: Sequence[tuple[str, Path]],
    pipeline: Callable[..., Any],
    seed: int = 0,
    batch_size: int = 4,
    steps: int = FLUX_STEPS,
    guidance_scale: float = FLUX_GUIDANCE,
    log: Callable[[str], Any] = print,
) -> int:
    """Generate the images of ``targets`` that are not there yet; returns how many were made.

    Args:
        targets: (caption, where its image goes), as ``triplet_targets`` gives them.
        pipeline: a diffusers text-to-image pipeline (FluxPipeline) or anything called the same
            way, returning an object whose ``images`` are PIL images or uint8 (H, W, 3) arrays.
        seed: item i (its position in ``targets``) is drawn with seed + i.
        batch_size: prompts per pipeline call.
        steps, guidance_scale: the sampling recipe (FLUX.1-schnell's: 4 steps, no guidance).
        log: one line per batch to the job log.
    """
    todo = [(i, c, p) for i, (c, p) in enumerate(targets) if not Path(p).is_file()]
    log(f"{len(targets) - len(todo)} of {len(targets)} images already there; {len(todo)} to make")
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        generators = [torch.Generator().manual_seed(seed + i) for i, _, _ in chunk]
        out = pipeline(
            prompt=[caption for _, caption, _ in chunk],
            num_inference_steps=steps,
            guidance_scale=guidance_scale,
            max_sequence_length=FLUX_MAX_TOKENS,
            generator=generators,
        )
        for (_, _, path), image in zip(chunk, out.images, strict=True):
            _write_png(Path(path), image)
        log(f"made {min(start + batch_size, len(todo))} of {len(todo)}")
    return len(todo)
