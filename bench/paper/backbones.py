"""The paper's metric backbones behind the embedded evaluators' interface (``bench.evaluate``).

    FID            Inception-v3 pool3 (pytorch-fid weights), 2048-d per image
    FAD            VGGish, 128-d per 0.96 s of 16 kHz audio; every frame of every clip is a row
    CLIP score     OpenAI CLIP ViT-B/32 text and image embeddings
    CLAP score     LAION-CLAP text and audio embeddings
    AIS            wav2clip on the audio side, CLIP ViT-B/32 on the image side

The networks are those of ``metrics.backbones`` (their weights from the registry); this class
only feeds them in batches on one device (CUDA when there is one) and returns float32 tensors
there. Ground-truth attributes exist only in the embedded world, so there is no ``attributes``
and the paper tables have no attribute columns.

Real items are scored many times (every method, every task on a split), so their features are
cached: ``ReferenceFeatures`` writes them once per split and backbone as an npz with a JSON
record of how they were made (the items' digest, the resize method and dtype conversion, the
network weights' sha256), and refuses a cache made otherwise. The MSCOCO-30k FID reference is
one such file; differing resize or uint8 handling is the commonest reason a published FID
cannot be reproduced, so the record says exactly what was done.

``weights=None`` builds every network with random weights (the ``paper_tiny`` config): scores
from it mean nothing. LAION-CLAP cannot be built offline at all (its constructor fetches
tokenizers from the hub), so with ``weights=None`` a stand-in of the same interface takes its
place (``StandInClap``): it checks the plumbing (shapes, batching, caching), not CLAP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from flowbind.files import atomic_file, read_npz, write_npz
from metrics.backbones.registry import REGISTRY, sha256_file

# How the images reach each network, recorded with every cached reference.
IMAGE_PREPROCESSING = {
    "inception": "uint8 -> float32 / 255, bilinear resize to 299 x 299 (F.interpolate, "
    "align_corners=False, no antialias: pytorch-fid), then 2x - 1",
    "clip": "bicubic antialiased resize of the shorter side to 224, centre crop, CLIP mean/std",
}
AUDIO_PREPROCESSING = {
    "vggish": "int16 / 32768 -> float64, 16 kHz, 0.96 s examples of 64-band log-mel (no PCA)",
    "wav2clip": "int16 / 32768, 16 kHz, one embedding per clip",
    "clap": "int16 / 32768, resampled 16 -> 48 kHz (torchaudio), laion_clap's own cropping",
}


class StandInClap(torch.nn.Module):
    """Not LAION-CLAP: a seeded random map with ClapAudioText's interface, for offline runs.

    Text: a bag of hashed words through a random projection; audio: the log power spectrum of
    16 kHz clips in 64 bands through a random projection. Unit-norm 512-d outputs.
    """

    dim = 512

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("words", torch.randn(4096, self.dim, generator=generator))
        self.register_buffer("bands", torch.randn(64, self.dim, generator=generator))

    def encode_texts(self, texts: Sequence[str]) -> Tensor:
        rows = []
        for text in texts:
            ids = [int(hashlib.md5(w.encode()).hexdigest()[:6], 16) % 4096 for w in text.split()]
            rows.append(self.words[ids].mean(0) if ids else self.words[0])
        return F.normalize(torch.stack(rows), dim=-1)

    def encode_audio(self, audio: Sequence[Any], sample_rate: int = 16000) -> Tensor:
        rows = []
        for clip in audio:
            x = torch.as_tensor(np.asarray(clip, dtype=np.float32) / 32768.0)
            power = torch.fft.rfft(x, n=1024).abs() ** 2
            bands = torch.stack([b.mean() for b in power[:-1].chunk(64)])
            rows.append(torch.log(bands + 1e-8) @ self.bands)
        return F.normalize(torch.stack(rows), dim=-1)


def _images(batch: list[Any]) -> Any:
    """One array when every image has the same size (one forward pass), else the list."""
    shapes = {np.shape(x) for x in batch}
    return np.stack(batch) if len(shapes) == 1 else list(batch)


def _chunks(batch: Sequence[Any], size: int):
    for start in range(0, len(batch), size):
        yield [batch[i] for i in range(start, min(start + size, len(batch)))]


class PaperBackbones:
    """The paper's backbones, built on first use, batched on ``device``.

    Args:
        weights: "registry" (each backbone's registry entry) or None (random weights; tests and
            the paper_tiny config only).
        device: where the networks run; default CUDA when available.
        batch_size: items per forward pass.
        clap_entry: the LAION-CLAP checkpoint of the CLAP score (registry entry).
    """

    def __init__(
        self,
        weights: str | None = "registry",
        device: str | torch.device | None = None,
        batch_size: int = 64,
        clap_entry: str = "clap-630k-audioset",
        reference_dir: str | Path | None = None,
    ) -> None:
        self.weights = weights
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = batch_size
        self.clap_entry = clap_entry
        self.reference_dir = None if reference_dir is None else Path(reference_dir)
        self._nets: dict[str, Any] = {}

    def real(self, split: Any, kind: str) -> Tensor:
        """Features of kind ``kind`` (see KINDS) of a test split's real items, cached per split
        in ``reference_dir/<split name>/`` when there is a reference_dir.

        ``split`` offers ``name``, ``ids``, ``view(modality)`` (the items' data) and
        ``digests(modality)`` (each item's file sha256, or None).
        """
        kind = ALIASES.get(kind, kind)
        modality = VIEWS[kind]
        if self.reference_dir is None:
            return KINDS[kind][1](self, split.view(modality))
        cache = ReferenceFeatures(self.reference_dir / split.name, self)
        return cache.get(kind, split.ids, lambda: split.view(modality), split.digests(modality))

    def _net(self, name: str) -> Any:
        if name not in self._nets:
            from metrics.backbones.paper import load_backbone

            if name == "clap" and self.weights is None:
                net = StandInClap()
            elif name == "clap":
                net = load_backbone("clap", weights=self.clap_entry, entry=self.clap_entry)
            else:
                net = load_backbone(name, weights=self.weights)
            self._nets[name] = net.to(self.device)
        return self._nets[name]

    def _batched(self, fn: Callable[[list[Any]], Tensor], batch: Sequence[Any]) -> Tensor:
        return torch.cat([fn(chunk).float() for chunk in _chunks(batch, self.batch_size)])

    def fid_features(self, images: Sequence[Any]) -> Tensor:
        return self._batched(lambda b: self._net("inception")(_images(b)), images)

    def fad_features(self, audio: Sequence[Any]) -> Tensor:
        """Every VGGish frame of every clip, clip-major: (frames, 128)."""
        return self._batched(lambda b: self._net("vggish")(list(b)), audio)

    def clip(self, modality: str, batch: Sequence[Any]) -> Tensor:
        net = self._net("clip")
        if modality == "text":
            return self._batched(net.encode_texts, batch)
        return self._batched(lambda b: net.encode_images(_images(b)), batch)

    def clap(self, modality: str, batch: Sequence[Any]) -> Tensor:
        net = self._net("clap")
        if modality == "text":
            return self._batched(net.encode_texts, batch).to(self.device)
        return self._batched(lambda b: net.encode_audio(list(b), 16000), batch).to(self.device)

    def ais(self, modality: str, batch: Sequence[Any]) -> Tensor:
        if modality == "audio":
            return self._batched(lambda b: self._net("wav2clip")(list(b)), batch)
        return self.clip("image", batch)

    def weights_record(self, name: str) -> dict[str, Any]:
        """Which weights backbone ``name`` runs with: registry entry, file, sha256."""
        if self.weights is None:
            return {"backbone": name, "weights": "random (scores mean nothing)"}
        entry = {
            "inception": "inception-fid",
            "vggish": "vggish",
            "clip": "clip-vit-b-32-openai",
            "wav2clip": "wav2clip",
            "clap": self.clap_entry,
        }[name]
        path = REGISTRY[entry].path
        return {
            "backbone": name,
            "entry": entry,
            "file": str(path),
            "sha256": sha256_file(path) if path.is_file() else None,
        }


# The backbone of each cached kind of feature: kind -> (network, method of PaperBackbones).
KINDS: dict[str, tuple[str, Callable[[PaperBackbones, Sequence[Any]], Tensor]]] = {
    "fid": ("inception", lambda b, x: b.fid_features(x)),
    "fad": ("vggish", lambda b, x: b.fad_features(x)),
    "clip-text": ("clip", lambda b, x: b.clip("text", x)),
    "clip-image": ("clip", lambda b, x: b.clip("image", x)),
    "clap-text": ("clap", lambda b, x: b.clap("text", x)),
    "clap-audio": ("clap", lambda b, x: b.clap("audio", x)),
    "ais-audio": ("wav2clip", lambda b, x: b.ais("audio", x)),
}


# The modality each kind of feature is computed from, and kinds that share a cache.
VIEWS = {
    "fid": "image",
    "fad": "audio",
    "clip-text": "text",
    "clip-image": "image",
    "clap-text": "text",
    "clap-audio": "audio",
    "ais-audio": "audio",
}
ALIASES = {"ais-image": "clip-image"}  # AIS's image side is CLIP ViT-B/32


def reference_kinds(modalities: tuple[str, ...]) -> list[str]:
    """The real-item features the tasks on a split of ``modalities`` compare with."""
    has = set(modalities)
    kinds = []
    if "image" in has:
        kinds += ["fid", *(["clip-image"] if has & {"text", "audio"} else [])]
    if "audio" in has:
        kinds += ["fad", *(["clap-audio"] if "text" in has else [])]
        kinds += ["ais-audio"] if "image" in has else []
    if "text" in has:
        kinds += (["clip-text"] if "image" in has else []) + (
            ["clap-text"] if "audio" in has else []
        )
    return kinds


def items_digest(ids: Sequence[str], digests: Sequence[str] | None = None) -> str:
    """sha256 over the items' ids (and each item's own file digest when given), in order."""
    h = hashlib.sha256()
    for i, item in enumerate(ids):
        h.update(f"{item}\0{digests[i] if digests else ''}\n".encode())
    return h.hexdigest()


class ReferenceFeatures:
    """Cached features of real items: ``<folder>/<kind>.npz`` plus ``<kind>.json``."""

    def __init__(self, folder: str | Path, backbones: PaperBackbones) -> None:
        self.folder = Path(folder)
        self.backbones = backbones

    def record(self, kind: str, ids: Sequence[str], digests: Sequence[str] | None) -> dict:
        network, _ = KINDS[kind]
        how = IMAGE_PREPROCESSING.get(network) or AUDIO_PREPROCESSING.get(network, "text")
        return {
            "kind": kind,
            "items": len(ids),
            "items_sha256": items_digest(ids, digests),
            "preprocessing": how,
            "weights": self.backbones.weights_record(network),
        }

    def get(
        self,
        kind: str,
        ids: Sequence[str],
        load: Callable[[], Sequence[Any]],
        digests: Sequence[str] | None = None,
    ) -> Tensor:
        """The features of kind ``kind`` of the items ``ids``, computed once and cached.

        Args:
            kind: one of KINDS, e.g. "fid".
            ids: the items, in order.
            load: gives the items' data (called only when the cache is missing or stale).
            digests: each item's file sha256, so that a changed file invalidates the cache.
        """
        npz, meta = self.folder / f"{kind}.npz", self.folder / f"{kind}.json"
        record = self.record(kind, ids, digests)
        if npz.is_file() and meta.is_file() and json.loads(meta.read_text()) == record:
            return torch.from_numpy(read_npz(npz)["features"]).to(self.backbones.device)
        _, compute = KINDS[kind]
        features = compute(self.backbones, load())
        self.folder.mkdir(parents=True, exist_ok=True)
        write_npz(npz, {"features": features.detach().cpu().numpy().astype(np.float32)})
        with atomic_file(meta) as tmp:
            tmp.write_text(json.dumps(record, indent=1))
        return features
