"""The fourth modality's tasks end to end without training: point-cloud outputs written and read
back with their checksums, and a point cloud -> text translation scored."""

import numpy as np
import pytest

from bench.embedded.build import generate_split
from bench.embedded.evaluators import TextEvaluator
from bench.embedded.storage import DatasetError
from bench.evaluate import evaluate_task
from bench.generate import read_outputs, write_decoded
from bench.tasks import get_task


class CaptionsOnly:
    """The backbones a point cloud -> text task needs: the caption parser for attributes."""

    def attributes(self, modality, batch):
        assert modality == "text"
        return TextEvaluator().predict(batch)


def test_point_cloud_outputs_are_written_and_read_back_checked(tmp_path):
    task = get_task("t2p")
    split = generate_split("test_tp", 4, seed=0)
    folder = write_decoded(tmp_path / "t2p", task, split.ids, {"points": split.points})
    out = read_outputs(folder, task, split.ids)
    assert out["points"].dtype == np.float32 and out["points"].shape == split.points.shape
    np.testing.assert_array_equal(out["points"], split.points)
    cloud = folder / "points" / f"{split.ids[1]}.npy"
    cloud.write_bytes(cloud.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(DatasetError, match=f"{split.ids[1]}.npy has changed since it was written"):
        read_outputs(folder, task, split.ids)


def test_a_caption_from_a_point_cloud_is_scored_on_what_the_cloud_conveys():
    """P->T: CIDEr-D, the share of captions the parser reads, and the attributes; kind and size
    are conveyed by the cloud, the caption's colour, pitch and envelope by nothing."""
    task = get_task("p2t")
    split = generate_split("test_tp", 8, seed=1)
    captions = list(split.captions)
    captions[:2] = ["not a caption of the grammar", "big big big"]  # unreadable: wrong on all
    records, items = evaluate_task(
        task, {"ids": split.ids, "text": captions}, split, CaptionsOnly(), resamples=20
    )
    parsed = next(r for r in records if r["metric"] == "Parsed")
    assert parsed["value"] == pytest.approx(100 * 6 / 8)
    accuracy = {r["attribute"]: r for r in records if r["kind"] == "attribute"}
    assert {a for a, r in accuracy.items() if r["conveyed"]} == {"kind", "size"}
    assert all(r["value"] == pytest.approx(100 * 6 / 8) for r in accuracy.values())
    assert not [r for r in records if r["kind"] == "alignment"]  # no point-text pair exists
    assert {r["metric"] for r in records} == {"CIDEr", "Parsed", "accuracy"}
    np.testing.assert_array_equal(items["fidelity/Parsed//text/"], [0, 0] + [100] * 6)
