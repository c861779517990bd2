"""The triplet images step, with a stand-in pipeline.

FLUX.1-schnell's pipeline is not built here: a tiny instance needs a T5 tokenizer, whose files
come from the hub, and building one offline was not attempted. The stand-in is called exactly
as diffusers' FluxPipeline is (prompts, steps, guidance, token limit, one generator per item)
and draws its image from the item's generator, so the test checks the step's own logic: where
images go, the per-item seeds, resuming, atomic writes, and the workflow's wiring. It says
nothing about FLUX's images.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from paper_fixtures import write_triplets
from PIL import Image
from workflow_run import ROOT, snakemake

from bench.paper.datasets import open_dataset
from bench.paper.triplet_images import FLUX_MAX_TOKENS, generate_triplet_images, triplet_targets


class StandInFlux:
    """Called as FluxPipeline; each image is noise drawn from that item's generator."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, prompt, num_inference_steps, guidance_scale, max_sequence_length, generator):
        self.calls.append({"prompt": list(prompt), "steps": num_inference_steps})
        assert guidance_scale == 0.0 and max_sequence_length == FLUX_MAX_TOKENS
        images = [
            Image.fromarray(
                (torch.rand(8, 8, 3, generator=g) * 255).to(torch.uint8).numpy(), mode="RGB"
            )
            for g in generator
        ]
        return SimpleNamespace(images=images)


@pytest.fixture
def triplets(tmp_path):
    root = tmp_path / "audiocaps"
    write_triplets(root, image_dir="made")
    for png in (root / "made").iterdir():  # as if the images were still to be generated
        png.unlink()
    return root


def test_missing_images_are_made_once_each_from_their_own_seed(triplets):
    targets = triplet_targets(open_dataset("triplets", triplets, image_dir="made"))
    assert [p.name for _, p in targets] == [
        f"{y}.png" for y in ("-0DLPzsiXXE", "_xY9aBcDeFg", "abcdefghijk")
    ]
    flux = StandInFlux()
    assert generate_triplet_images(targets, flux, seed=5, batch_size=2, log=lambda _: None) == 3
    assert [len(c["prompt"]) for c in flux.calls] == [2, 1]
    assert flux.calls[0]["prompt"][0] == targets[0][0] and flux.calls[0]["steps"] == 4
    first = np.asarray(Image.open(targets[1][1]))
    # item 1 is drawn from seed 5 + 1 whatever the batch it falls in
    expected = (torch.rand(8, 8, 3, generator=torch.Generator().manual_seed(6)) * 255).to(
        torch.uint8
    )
    np.testing.assert_array_equal(first, expected.numpy())
    # a rerun keeps what is there and makes only what is missing
    targets[2][1].unlink()
    again = StandInFlux()
    assert generate_triplet_images(targets, again, seed=5, log=lambda _: None) == 1
    assert again.calls[0]["prompt"] == [targets[2][0]]
    assert not list(targets[0][1].parent.glob(".*.tmp"))  # written under a temporary name
    # the adapter now reads the triplets
    items = open_dataset("triplets", triplets, image_dir="made").items("test")
    assert len(items) == 3 and all(i.image.is_file() for i in items)


def test_a_pipeline_output_that_is_not_an_rgb_image_is_refused(triplets):
    targets = triplet_targets(open_dataset("triplets", triplets, image_dir="made"))[:1]

    def grey(**_):
        return SimpleNamespace(images=[np.zeros((8, 8), np.uint8)])

    with pytest.raises(ValueError, match=r"uint8 \(8, 8\)"):
        generate_triplet_images(targets, grey, log=lambda _: None)
    assert not targets[0][1].exists()


def test_the_workflow_generates_them_before_extracting_the_triplets(tmp_path):
    config = ROOT / "workflow" / "config" / "paper.yaml"
    result = snakemake(
        tmp_path,
        "-n",
        "results/latents/test_triplet.npz",
        "--configfile",
        str(config),
        "--config",
        "paper={triplet_images: generate}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rule triplet_images:" in result.stdout
    assert "flux-1-schnell" in result.stderr  # the up-front check names its weights
