"""The paper's metric backbones behind the evaluators' interface, on random weights (offline).

These check the plumbing (batching, shapes, devices, the cache of real-item features and its
record, scoring without attributes), not the pretrained networks: their weights cannot be
downloaded here. LAION-CLAP is a stand-in (StandInClap) because it cannot be built offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.evaluate import evaluate_task
from bench.paper.backbones import PaperBackbones, ReferenceFeatures
from bench.tasks import get_task

N = 4


class FakeSplit:
    """A test split as the paper benchmark offers it: ids, references, views, file digests."""

    def __init__(self, name: str, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.name = name
        self.ids = [f"item{i}" for i in range(N)]
        self.references = [[f"a photo of thing {i}", f"thing {i}"] for i in range(N)]
        self.captions = [r[0] for r in self.references]
        # real images of different sizes, as in COCO
        self.image = [rng.integers(0, 256, (40 + 8 * i, 48, 3), dtype=np.uint8) for i in range(N)]
        self.audio = [rng.integers(-3000, 3000, 16000, dtype=np.int16) for _ in range(N)]
        self.attributes: dict = {}
        self.loads = 0

    def view(self, modality: str):
        self.loads += 1
        return {"text": self.captions, "image": self.image, "audio": self.audio}[modality]

    def digests(self, modality: str):
        return None


@pytest.fixture(scope="module")
def backbones() -> PaperBackbones:
    return PaperBackbones(weights=None, device="cpu", batch_size=3)


def test_each_backbone_gives_float32_rows_on_its_device(backbones):
    split = FakeSplit("test_ti")
    assert backbones.fid_features(split.image).shape == (N, 2048)
    assert backbones.fad_features(split.audio).shape == (N, 128)  # one 0.96 s frame per clip
    assert backbones.clip("text", split.captions).shape == (N, 512)
    assert backbones.clip("image", split.image).shape == (N, 512)
    assert backbones.clap("text", split.captions).shape == (N, 512)
    assert backbones.clap("audio", split.audio).shape == (N, 512)
    out = backbones.ais("audio", split.audio)
    assert out.shape == (N, 512) and out.dtype == torch.float32 and out.device.type == "cpu"
    # batching does not change a row (batch_size 3 splits the 4 items in two)
    single = torch.cat([backbones.clip("image", [x]) for x in split.image])
    torch.testing.assert_close(backbones.clip("image", split.image), single, atol=1e-5, rtol=1e-4)


def test_real_features_are_cached_with_a_record_of_how_they_were_made(backbones, tmp_path):
    split = FakeSplit("test_ti")
    cache = ReferenceFeatures(tmp_path, backbones)
    first = cache.get("fid", split.ids, lambda: split.view("image"))
    again = cache.get("fid", split.ids, lambda: split.view("image"))
    assert split.loads == 1  # the second call read the file
    torch.testing.assert_close(first, again)
    record = json.loads((tmp_path / "fid.json").read_text())
    assert record["items"] == N and "bilinear resize to 299" in record["preprocessing"]
    assert record["weights"]["weights"].startswith("random")
    # other items, or a changed file digest, make the cache stale: computed again
    cache.get("fid", split.ids, lambda: split.view("image"), digests=["x"] * N)
    assert split.loads == 2


@pytest.mark.parametrize("key", ["t2i", "a2i", "t2a"])
def test_paper_scoring_has_no_attribute_records(backbones, tmp_path, key):
    task = get_task(key)
    split = FakeSplit(task.split)
    generated = FakeSplit(task.split, seed=1)
    outputs = {"ids": split.ids, **{t: generated.view(t) for t in task.targets}}
    scorer = PaperBackbones(weights=None, device="cpu", reference_dir=tmp_path)
    scorer._nets = backbones._nets  # the same random networks, built once
    records, items = evaluate_task(task, outputs, split, scorer, resamples=2)
    kinds = {(r["kind"], r["metric"]) for r in records}
    fidelity = "FID" if task.targets == ("image",) else "FAD"
    alignment = {"t2i": "CLIP", "a2i": "AIS", "t2a": "CLAP"}[key]
    assert kinds == {("fidelity", fidelity), ("alignment", alignment)}
    assert all(np.isfinite(r["value"]) for r in records) and items
    assert sorted(p.name for p in (tmp_path / task.split).iterdir()) == sorted(
        f"{kind}.{ext}"
        for kind in (
            {"FID": "fid", "FAD": "fad"}[fidelity],
            {"CLIP": "clip-text", "AIS": "ais-audio", "CLAP": "clap-text"}[alignment],
        )
        for ext in ("json", "npz")
    )


def test_reference_cache_folder_is_per_split(backbones, tmp_path: Path):
    scorer = PaperBackbones(weights=None, device="cpu", reference_dir=tmp_path)
    scorer._nets = backbones._nets
    a, b = FakeSplit("test_ti"), FakeSplit("test_triplet", seed=2)
    assert not torch.equal(scorer.real(a, "fid"), scorer.real(b, "fid"))
    assert (tmp_path / "test_ti" / "fid.npz").is_file()
    assert (tmp_path / "test_triplet" / "fid.npz").is_file()
