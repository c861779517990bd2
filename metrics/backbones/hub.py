"""Model folders from the Hugging Face hub that the paper benchmark's codecs load.

Some pretrained parts are whole repositories (a diffusers pipeline, a Sentence-Transformers
model, a causal LM), not single files. Each is one ``HubSnapshot``: the repository, the files
the loader needs, and the folder it lives in: ``<weights folder>/hub/<owner>--<name>`` (the
weights folder of ``metrics.backbones.registry``). Nothing is downloaded at run time.

    snapshot_path(name)     the folder, or MissingWeightsError saying where it goes and how
                            to fetch it
    verify_snapshot(name)   True when every file matches the sha256 list written at download
                            (MANIFEST), False when the folder has none (put there by hand)
    download_snapshot(name) fetch with huggingface_hub (internet, and a token for gated
                            repositories), then write the MANIFEST

The hub itself checks each large file's sha256 as it downloads; the MANIFEST then lets every
later run check that nothing changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from metrics.backbones.weights import (
    MissingWeightsError,
    WeightsChecksumError,
    sha256_file,
    weights_dir,
)

MANIFEST = "MANIFEST.sha256.json"


@dataclass(frozen=True)
class HubSnapshot:
    """A hub repository the suite loads as a local folder.

    Attributes:
        name: the entry's name, e.g. "audioldm-m-full".
        repo_id: the hub repository.
        required: files the loader reads first; their presence marks a complete folder.
        description: what it is and which codec loads it.
        gated: whether the hub asks you to accept a licence (then log in with a token).
        allow_patterns: the files to fetch (None: the whole repository).
        size_gb: the download's approximate size.
    """

    name: str
    repo_id: str
    required: tuple[str, ...]
    description: str
    gated: bool = False
    allow_patterns: tuple[str, ...] | None = None
    size_gb: float = 0.0

    @property
    def path(self) -> Path:
        """Its folder: ``<weights folder>/hub/<owner>--<name>``."""
        return weights_dir() / "hub" / self.repo_id.replace("/", "--")


SNAPSHOTS: dict[str, HubSnapshot] = {
    s.name: s
    for s in (
        HubSnapshot(
            "embeddinggemma-300m",
            "google/embeddinggemma-300m",
            ("modules.json", "config.json", "model.safetensors"),
            "EmbeddingGemma-300m (Sentence-Transformers): the text encoder",
            gated=True,
            size_gb=1.2,
        ),
        HubSnapshot(
            "gemma-3-1b-pt",
            "google/gemma-3-1b-pt",
            ("config.json", "model.safetensors", "tokenizer.json"),
            "Gemma-3-1B (pretrained): the text decoder's language model",
            gated=True,
            size_gb=2.0,
        ),
        HubSnapshot(
            "stable-unclip-small",
            "stabilityai/stable-diffusion-2-1-unclip-small",
            ("model_index.json", "unet/config.json", "vae/config.json"),
            "Stable unCLIP 2.1 small (diffusers): the image decoder",
            allow_patterns=("*.json", "*.txt", "*/*.safetensors"),
            size_gb=5.5,
        ),
        HubSnapshot(
            "audioldm-m-full",
            "cvssp/audioldm-m-full",
            ("model_index.json", "unet/config.json", "vocoder/config.json"),
            "AudioLDM-m-full (diffusers): the audio decoder",
            allow_patterns=("*.json", "*.txt", "*/*.safetensors", "*/*.bin"),
            size_gb=1.8,
        ),
        HubSnapshot(
            "flux-1-schnell",
            "black-forest-labs/FLUX.1-schnell",
            ("model_index.json", "transformer/config.json"),
            "FLUX.1-schnell (diffusers): generates the triplet test set's images from captions",
            gated=True,
            allow_patterns=("*.json", "*.txt", "*.model", "*/*.safetensors"),
            size_gb=34.0,
        ),
    )
}


def get_snapshot(name: str) -> HubSnapshot:
    """The HubSnapshot called ``name``; KeyError listing the known ones if there is none."""
    try:
        return SNAPSHOTS[name]
    except KeyError:
        raise KeyError(f"no hub snapshot {name!r}; known: {', '.join(sorted(SNAPSHOTS))}") from None


def _fetch_hint(snapshot: HubSnapshot) -> str:
    login = "  (gated: accept its licence on the hub and run `hf auth login` first)\n"
    return (
        f"  On a machine with internet:\n    python -m metrics.backbones.registry download "
        f"{snapshot.name}\n{login if snapshot.gated else ''}"
        f"  or: hf download {snapshot.repo_id} --local-dir {snapshot.path}"
    )


def snapshot_path(name: str) -> Path:
    """The folder of snapshot ``name``; MissingWeightsError naming its missing files if absent."""
    snapshot = get_snapshot(name)
    missing = [f for f in snapshot.required if not (snapshot.path / f).is_file()]
    if not missing:
        return snapshot.path
    raise MissingWeightsError(
        f"model folder {name!r} ({snapshot.description}, about {snapshot.size_gb:g} GB) is "
        f"missing or incomplete.\n  It goes in:\n    {snapshot.path}\n  missing there: "
        f"{', '.join(missing)}\n{_fetch_hint(snapshot)}"
    )


def _files(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST and ".cache" not in p.relative_to(folder).parts
    )


def write_manifest(folder: Path) -> Path:
    """Record the sha256 of every file under ``folder`` in its MANIFEST (written atomically)."""
    sums = {name: sha256_file(folder / name) for name in _files(folder)}
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(sums, indent=1, sort_keys=True))
    os.replace(tmp, folder / MANIFEST)
    return folder / MANIFEST


def verify_snapshot(name: str) -> bool:
    """Check snapshot ``name`` against its MANIFEST.

    Returns True when every listed file is there with its sha256, False when there is no
    MANIFEST; raises WeightsChecksumError naming the files that differ or are gone.
    """
    folder = snapshot_path(name)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False
    sums = json.loads(manifest.read_text())
    bad = [f for f, digest in sums.items() if not (folder / f).is_file()]
    bad += [
        f
        for f, digest in sums.items()
        if (folder / f).is_file() and sha256_file(folder / f) != digest
    ]
    if bad:
        raise WeightsChecksumError(
            f"model folder {name!r} at {folder}: {len(bad)} file(s) differ from its MANIFEST or "
            f"are gone ({', '.join(bad[:5])}); delete the folder and download it again"
        )
    return True


def download_snapshot(name: str) -> Path:
    """Download snapshot ``name`` into its folder with huggingface_hub, then write its MANIFEST."""
    from huggingface_hub import snapshot_download

    snapshot = get_snapshot(name)
    snapshot.path.mkdir(parents=True, exist_ok=True)
    patterns = list(snapshot.allow_patterns) if snapshot.allow_patterns else None
    snapshot_download(snapshot.repo_id, local_dir=snapshot.path, allow_patterns=patterns)
    snapshot_path(name)  # every required file arrived
    write_manifest(snapshot.path)
    return snapshot.path
