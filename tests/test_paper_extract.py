"""Feature extraction of the paper benchmark: batched, sharded, resumable, bad items listed.

Runs the real extraction code on a COCO fixture in its on-disk format with the tiny random text
and image codecs (the same architectures as the paper's, so the latents mean nothing).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from paper_fixtures import garble, write_coco

from bench.paper.datasets import TooManyBadItemsError, open_dataset
from bench.paper.extract import extract_split
from bench.paper.image_codec import tiny_image_codec
from bench.paper.splits import PaperSplit, paper_tasks
from bench.paper.text_codec import tiny_text_codec
from flowbind.files import read_npz

D = 64  # the tiny codecs' latent size


class Counting:
    """A codec that counts the items it encodes."""

    def __init__(self, codec) -> None:
        self.codec, self.encoded = codec, 0
        self.latent_dim, self.sample_rate = codec.latent_dim, None

    def encode(self, batch):
        self.encoded += len(batch)
        return self.codec.encode(batch)


@pytest.fixture(scope="module")
def codecs():
    return {
        "text": tiny_text_codec(seed=0, latent_dim=D),
        "image": tiny_image_codec(seed=0, latent_dim=D),
    }


@pytest.fixture
def coco(tmp_path: Path):
    expected = write_coco(tmp_path / "coco")
    return tmp_path / "coco", expected


def run(tmp_path: Path, root: Path, codecs, **options):
    out = {
        "latents": tmp_path / "out" / "test_ti.npz",
        "record": tmp_path / "out" / "test_ti.json",
        "work": tmp_path / "out" / "shards",
    }
    lines: list[str] = []
    stats = extract_split(
        "test_ti",
        {"coco": open_dataset("coco", root)},
        codecs,
        **out,
        shard_size=2,
        batch_size=2,
        log=lines.append,
        progress=False,
        **options,
    )
    return out, stats, lines


def test_latent_store_and_split_record(tmp_path, coco, codecs):
    root, expected = coco
    out, stats, lines = run(tmp_path, root, codecs)
    z = read_npz(out["latents"])
    assert list(z["ids"]) == expected["test_ids"]
    assert z["text"].shape == z["image"].shape == (3, D) and z["image"].dtype == np.float32
    np.testing.assert_allclose(
        z["text"], codecs["text"].encode(list(c[0] for c in expected["test_captions"])), atol=1e-5
    )
    assert stats["kept"] == 3 and stats["bad"] == {"text": 0, "image": 0}
    assert any("items/s" in line for line in lines)
    split = PaperSplit(out["record"])
    assert split.ids == expected["test_ids"]
    assert split.references == [list(c) for c in expected["test_captions"]]
    images = split.image  # read from the files on access, none kept in memory
    assert len(images) == 3 and images[0].dtype == np.uint8 and images[0].shape[2] == 3
    np.testing.assert_array_equal(images[1:][0], images[1])
    with pytest.raises(ValueError, match="has no audio"):
        split.view("audio")
    assert paper_tasks()["t2i"].split == "test_t2i" and paper_tasks()["i2t"].split == "test_ti"


def test_a_rerun_skips_finished_shards_and_redoes_a_lost_one(tmp_path, coco, codecs):
    root, _ = coco
    out, _, _ = run(tmp_path, root, codecs)
    first = read_npz(out["latents"])
    counting = {m: Counting(c) for m, c in codecs.items()}
    run(tmp_path, root, counting)
    assert [c.encoded for c in counting.values()] == [0, 0]  # everything was done
    (out["work"] / "image" / "shard_00001.npz").unlink()  # as if killed while writing it
    run(tmp_path, root, counting)
    assert counting["image"].encoded == 1 and counting["text"].encoded == 0  # shard 1: 1 item
    again = read_npz(out["latents"])
    for key in ("text", "image"):
        np.testing.assert_array_equal(again[key], first[key])


def test_a_corrupt_image_is_left_out_of_every_modality_and_listed(tmp_path, coco, codecs):
    root, expected = coco
    bad_id = expected["test_ids"][1]
    garble(root / "val2014" / f"COCO_val2014_{int(bad_id.split('_')[1]):012d}.jpg")
    out, stats, lines = run(tmp_path, root, codecs, max_bad_fraction=0.5)
    z = read_npz(out["latents"])
    assert bad_id not in list(z["ids"]) and len(z["ids"]) == len(z["text"]) == 2
    record = json.loads(out["record"].read_text())
    assert [b["id"] for b in record["bad_items"]] == [bad_id]
    assert stats["bad"] == {"text": 0, "image": 1}
    assert any(f"bad item skipped: {bad_id}" in line for line in lines)
    with pytest.raises(TooManyBadItemsError, match="1 of 3 items are bad"):
        run(tmp_path / "strict", root, codecs, max_bad_fraction=0.1)
