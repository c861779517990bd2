"""The paper benchmark's three codecs, loaded as the workflow config says.

    codecs = load_codecs(config["paper"], folder="results/codecs")

``paper.weights: registry`` loads the real parts from the weight registry: EmbeddingGemma and
Gemma-3-1B (hub folders), CLIP ViT-L/14, Stable unCLIP, LAION-CLAP, AudioLDM. The text decoder
(prefix projector + fine-tuned LM) and the audio autoencoder are the released files, or, with
``text_decoder: trained`` / ``audio_autoencoder: trained``, the workflow's own training of them
(``<folder>/text_decoder.pt``, ``<folder>/audio_autoencoder.pth``).

``paper.weights: tiny`` loads tiny random instances of the same architectures that
``build_tiny_codecs`` wrote to ``<folder>/tiny`` (the paper_tiny config: scores mean nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

MODALITIES = ("text", "image", "audio")
TINY = "tiny"
TEXT_DECODER_FILE = "text_decoder.pt"
AUDIO_AUTOENCODER_FILE = "audio_autoencoder.pth"
TINY_SEED = 0
# The tiny AudioLDM decodes 0.05 s (800 samples): enough for wav2clip's 512-sample minimum,
# a fraction of the seconds one clip of its default length would take on a CPU.
TINY_AUDIO_SECONDS = 0.05


def build_tiny_codecs(folder: str | Path, seed: int = TINY_SEED) -> dict[str, Path]:
    """Write the tiny codecs to ``folder/<modality>/``; returns the folders."""
    from bench.paper.audio_codec import tiny_audio_codec
    from bench.paper.image_codec import tiny_image_codec
    from bench.paper.text_codec import tiny_text_codec

    folder = Path(folder)
    tiny_text_codec(seed=seed, folder=folder / "text")
    tiny_image_codec(seed=seed, folder=folder / "image")
    tiny_audio_codec(seed=seed, folder=folder / "audio")
    return {m: folder / m for m in MODALITIES}


def _device(device: str | torch.device | None) -> torch.device:
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def load_codec(
    modality: str,
    settings: dict[str, Any],
    folder: str | Path = "results/codecs",
    device: str | torch.device | None = None,
    trained_parts: bool = True,
) -> Any:
    """One codec of the paper benchmark.

    Args:
        modality: text, image or audio.
        settings: the config's ``paper`` mapping.
        folder: where the workflow keeps its own codec parts (tiny codecs, trained decoders).
        device: where the codec runs; default CUDA when available.
        trained_parts: False loads the text codec with a fresh prefix projector over the LM as
            it is (where the text_decoder rule starts).
    """
    folder, device = Path(folder), _device(device)
    seed = settings.get("decode_seed", 0)
    batch = settings.get("decode_batch_size", 16)
    tiny = settings["weights"] == TINY
    if modality == "text":
        from bench.paper.text_codec import load_text_codec, tiny_text_files

        if tiny:
            files = tiny_text_files(folder / TINY / "text")
            encoder, lm, released = (
                files["encoder_dir"],
                files["lm_dir"],
                files["decoder_checkpoint"],
            )
        else:
            encoder, lm, released = "embeddinggemma-300m", "gemma-3-1b-pt", "flowbind-text-decoder"
        decoder: Any = released
        if settings["text_decoder"] == "trained":
            decoder = folder / TEXT_DECODER_FILE if trained_parts else None
        return load_text_codec(encoder, lm, decoder, device, batch_size=batch)
    if modality == "image":
        from bench.paper.image_codec import TINY_CLIP_FILE, TINY_UNCLIP_DIR, load_image_codec

        if tiny:
            clip_file, unclip = (
                folder / TINY / "image" / TINY_CLIP_FILE,
                folder / TINY / "image" / TINY_UNCLIP_DIR,
            )
        else:
            from metrics.backbones.hub import snapshot_path
            from metrics.backbones.registry import checked_path

            clip_file = checked_path("clip-vit-l-14-openai")
            unclip = snapshot_path("stable-unclip-small")
        return load_image_codec(clip_file, unclip, device, seed=seed, batch_size=batch)
    if modality == "audio":
        from bench.paper.audio_codec import AUTOENCODER_FILE, TINY_AUDIOLDM_DIR, load_audio_codec

        autoencoder: Any = "flowbind-audio-ae"
        if tiny:  # the tiny "released" autoencoder: random weights
            autoencoder = folder / TINY / "audio" / AUTOENCODER_FILE
        if settings["audio_autoencoder"] == "trained":
            autoencoder = folder / AUDIO_AUTOENCODER_FILE
        return load_audio_codec(
            None if tiny else "clap-flowbind",
            autoencoder,
            folder / TINY / "audio" / TINY_AUDIOLDM_DIR if tiny else "audioldm-m-full",
            clap=clap_embedder(settings) if tiny else None,
            device=device,
            seed=seed,
            batch_size=batch,
            audio_length_s=TINY_AUDIO_SECONDS if tiny else None,
        )
    raise ValueError(f"unknown modality {modality!r}; the codecs are {MODALITIES}")


def load_codecs(
    settings: dict[str, Any],
    folder: str | Path = "results/codecs",
    device: str | torch.device | None = None,
    modalities: tuple[str, ...] = MODALITIES,
) -> dict[str, Any]:
    """modality -> codec, for ``modalities``."""
    return {m: load_codec(m, settings, folder, device) for m in modalities}


def clap_embedder(settings: dict[str, Any]) -> Any:
    """The audio codec's CLAP (its 512-d embeddings train the audio autoencoder)."""
    if settings["weights"] == TINY:
        from bench.paper.audio_codec import tiny_clap_audio

        return tiny_clap_audio(TINY_SEED)
    from metrics.backbones.clap import ClapAudioText

    return ClapAudioText("clap-flowbind", entry="clap-flowbind").clap
