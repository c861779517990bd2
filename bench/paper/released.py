"""``flowbind_released``: the authors' released FlowBind weights as a method of the benchmark.

It is scored exactly as a model trained here: the workflow's `train` step "fits" it by loading
the released files into this suite's FlowBind model (nothing is trained, 0 steps), and the
generate and evaluate steps run it unchanged. The files come from the weight registry
(``metrics.backbones.registry``; ``python -m metrics.backbones.registry download flowbind-model
flowbind-config flowbind-text-mean ...``) or from paths given in the method's options:

    checkpoint  the released model.pth ("registry": entry flowbind-model)
    config      the released config.json ("registry": entry flowbind-config)
    stats       "released": the public repository's per-modality latent mean and std (the
                inputs the released drifts were trained on; entries flowbind-<modality>-mean /
                -std, checked against their sha256); "fitted": fitted on this run's training
                latents, as for a model trained here

Only the released codecs' latents make sense to it (EmbeddingGemma, CLIP ViT-L/14, CLAP + the
released audio autoencoder): the paper benchmark's codecs with the released decoder files.
Files are read with ``torch.load(weights_only=True)`` (``flowbind.released``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowbind.checkpoint import save_model
from flowbind.data import Latents, PairTable
from flowbind.method import FitReport, FlowBindMethod
from flowbind.model import FlowBind
from flowbind.released import (
    PublicFormatError,
    load_public_state,
    public_config,
    read_public_checkpoint,
    read_public_stats,
)
from metrics.backbones.registry import checked_path

MODALITIES = ("text", "image", "audio")


@dataclass(frozen=True)
class ReleasedOptions:
    """Where the released files are; see the module docstring."""

    checkpoint: str = "registry"
    config: str = "registry"
    stats: str = "released"

    def __post_init__(self) -> None:
        if self.stats not in ("released", "fitted"):
            raise ValueError(f"stats must be 'released' or 'fitted', got {self.stats!r}")


def _file(option: str, entry: str) -> Path:
    """The registry entry's checked file for "registry", else the given path (which must exist)."""
    if option == "registry":
        return checked_path(entry)
    path = Path(option).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (registry entry {entry!r} is the default)")
    return path


def released_stats() -> dict[str, tuple[Any, Any]]:
    """The public repository's (mean, std) per modality, from the registry (sha256 checked)."""
    return {
        m: (
            read_public_stats(checked_path(f"flowbind-{m}-mean")),
            read_public_stats(checked_path(f"flowbind-{m}-std")),
        )
        for m in MODALITIES
    }


class FlowBindReleasedMethod(FlowBindMethod):
    """The released FlowBind model in this suite's FlowBind, loaded instead of trained."""

    name = "flowbind_released"
    options_class = ReleasedOptions
    trainable = False

    def fit(
        self,
        latents: Latents,
        pairs: Sequence[PairTable],
        out_dir: str | Path,
        progress: bool = True,
    ) -> FitReport:
        """Load the released weights (no training) and write them as a trained run would be."""
        start = time.perf_counter()
        out_dir = Path(out_dir)
        options = ReleasedOptions(**self.options)
        config_path = _file(options.config, "flowbind-config")
        try:
            data = json.loads(config_path.read_text())
        except json.JSONDecodeError as err:
            raise PublicFormatError(f"{config_path} is not valid JSON ({err})") from err
        config = public_config(data)
        self.model_config = config
        model = FlowBind(config)
        public = read_public_checkpoint(_file(options.checkpoint, "flowbind-model"))
        missing = [m for m in config.modalities if m not in public]
        if missing:
            raise PublicFormatError(
                f"the released checkpoint has no drift for {missing}; it has {sorted(public)}"
            )
        stats = released_stats() if options.stats == "released" else None
        load_public_state(model, public, stats)
        if stats is None:
            model.normalizer.fit(latents)
        self.model = model.eval()
        save_model(self.model, out_dir / "model")
        self.write_meta(out_dir)
        # loaded, not trained here: no steps, stages or training pairs of its own
        return self.report([], time.perf_counter() - start, steps=0, stages=0)

    @classmethod
    def files_needed(cls, options: Mapping[str, Any] | None = None) -> list[str]:
        """The registry entries this method reads with ``options`` (for the up-front check)."""
        opts = ReleasedOptions(**dict(options or {}))
        entries = []
        if opts.checkpoint == "registry":
            entries.append("flowbind-model")
        if opts.config == "registry":
            entries.append("flowbind-config")
        if opts.stats == "released":
            entries += [f"flowbind-{m}-{s}" for m in MODALITIES for s in ("mean", "std")]
        return entries
