"""What a paper-benchmark run needs, checked before any job starts.

    problems = missing(config)     # every absent weight file, model folder and data path
    entries = needed_entries(config)

The workflow calls ``missing`` when it plans a run with ``benchmark: paper``: one message lists
every weight file and hub folder the configured codecs, metric backbones and methods load, and
every data set file or folder the splits read, each with where it goes. ``needed_entries``
is what the ``download_weights`` target fetches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.paper.splits import datasets_used

# registry entries and hub folders of each part
TEXT_CODEC = ("embeddinggemma-300m", "gemma-3-1b-pt")
IMAGE_CODEC = ("clip-vit-l-14-openai", "stable-unclip-small")
AUDIO_CODEC = ("clap-flowbind", "audioldm-m-full")
BACKBONES = ("inception-fid", "vggish", "clip-vit-b-32-openai", "wav2clip")
TRIPLET_IMAGES = ("flux-1-schnell",)


def needed_entries(config: Mapping[str, Any]) -> list[str]:
    """Registry entries and hub folders a paper run with ``config`` loads, in a stable order."""
    paper = config["paper"]
    if paper["weights"] == "tiny":
        return []
    entries = [*TEXT_CODEC, *IMAGE_CODEC, *AUDIO_CODEC, *BACKBONES, paper["clap_entry"]]
    if paper["text_decoder"] == "released":
        entries.append("flowbind-text-decoder")
    if paper["audio_autoencoder"] == "released":
        entries.append("flowbind-audio-ae")
    if paper["triplet_images"] == "generate":
        entries += TRIPLET_IMAGES
    if "flowbind_released" in config["methods"]:
        from bench.paper.released import FlowBindReleasedMethod

        options = config.get("baselines", {}).get("flowbind_released", {})
        entries += FlowBindReleasedMethod.files_needed(options)
    return list(dict.fromkeys(entries))


def missing_weights(entries: list[str]) -> list[str]:
    """One message per entry whose file or folder is absent (MissingWeightsError's text)."""
    from metrics.backbones import hub
    from metrics.backbones.registry import MissingWeightsError, weight_path

    problems = []
    for name in entries:
        try:
            hub.snapshot_path(name) if name in hub.SNAPSHOTS else weight_path(name)
        except MissingWeightsError as err:
            problems.append(str(err))
    return problems


def missing_data(config: Mapping[str, Any]) -> list[str]:
    """One message per data set whose layout check fails (DataLayoutError's text)."""
    from bench.paper.datasets import DataLayoutError, open_dataset

    problems = []
    data = config["paper"]["data"]
    for name, parts in datasets_used().items():
        if name == "triplets" and config["paper"]["triplet_images"] == "generate":
            continue  # its images come from a rule; its clips are AudioCaps', checked as such
        try:
            open_dataset(name, data[name]["root"], **data[name]["options"]).check(parts)
        except DataLayoutError as err:
            problems.append(f"data set {name!r} (paper.data.{name}.root): {err}")
    return problems


def missing_clap_files() -> list[str]:
    """The Hugging Face files laion_clap loads at import (the audio codec and CLAP score)."""
    from metrics.backbones.clap import _HUB_PREPARE, missing_clap_hub_files

    files = missing_clap_hub_files()
    if not files:
        return []
    return [
        "Hugging Face files LAION-CLAP reads when it is imported (tokenizers and roberta-base):"
        "\n    " + "\n    ".join(files) + f"\n  On a machine with internet:\n    {_HUB_PREPARE}"
    ]


def missing(config: Mapping[str, Any]) -> list[str]:
    """Every missing weight file, model folder and data path of a paper run (empty: none)."""
    if config["paper"]["weights"] == "tiny":
        return []  # the workflow builds the tiny codecs and data itself
    return missing_weights(needed_entries(config)) + missing_clap_files() + missing_data(config)


def report(problems: list[str]) -> str:
    """The one message the workflow stops with."""
    body = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(problems, 1))
    return (
        f"the paper benchmark cannot start: {len(problems)} thing(s) are missing (nothing is "
        f"downloaded at run time).\n\n{body}\n\nWeights: `snakemake download_weights "
        "--configfile workflow/config/paper.yaml` on a machine with internet fetches and "
        "verifies every one; data: see docs/paper.md."
    )
