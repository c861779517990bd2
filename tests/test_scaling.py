"""The cost table against the number of modalities: counted from the implementations, with each
network kept at its three-modality width."""

import pytest
from workflow_run import ROOT

from baselines.crossflow import CrossFlowModel
from bench.scaling import cost_rows, modality_names, pair_sizes
from flowbind import AnchorEncoder, DriftNet, FlowBindConfig

MODEL = {"latent_dim": 8, "hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16}
TRAIN = {"steps": 10, "batch_size": 8, "seed": 0}
BASE = {"text-image": 31, "text-audio": 10, "image-audio": 18}


def settings(*methods):
    return {m: {"model": MODEL, "train": TRAIN, "objective": {}, "options": {}} for m in methods}


def by(rows, method):
    return {r["modalities"]: r for r in rows if r["method"] == method}


def test_modalities_and_pairs_grow_by_image_pairs_only():
    assert modality_names(3) == ("text", "image", "audio")
    assert modality_names(6) == ("text", "image", "audio", "points", "m5", "m6")
    assert pair_sizes(5, BASE) == {**BASE, "image-points": 18, "image-m5": 18}
    with pytest.raises(ValueError, match="three modalities"):
        modality_names(2)


def test_flowbind_adds_one_drift_and_one_encoder_head_per_modality():
    rows = by(cost_rows(["flowbind"], settings("flowbind"), BASE, counts=(3, 4, 6)), "flowbind")
    config = FlowBindConfig(**MODEL)
    per_modality = sum(p.numel() for p in DriftNet(config).parameters()) + sum(
        p.numel() for p in AnchorEncoder(config).heads["text"].parameters()
    )
    assert rows[4]["parameters"] - rows[3]["parameters"] == per_modality
    assert rows[6]["parameters"] - rows[3]["parameters"] == 3 * per_modality
    assert rows[4]["parameters_ratio"] == pytest.approx(4 / 3)
    # one more image-<m> table of batch_size rows a step: the step's FLOPs grow with it
    assert rows[3]["step_gflop"] < rows[4]["step_gflop"] < rows[6]["step_gflop"]


def test_baselines_keep_their_three_modality_widths():
    methods = ("omniflow", "crossflow", "codi", "text_anchor")
    rows = cost_rows(methods, settings(*methods), BASE, counts=(3, 4))
    crossflow = by(rows, "crossflow")
    # CrossFlow: the image-points table adds two flows (both directions) of the same width
    three = CrossFlowModel(
        FlowBindConfig(**MODEL, modalities=modality_names(3)),
        None,
        [("text", "image"), ("text", "audio"), ("image", "audio")],
    )
    per_flow = sum(p.numel() for p in three.parameters()) // 6
    assert crossflow[4]["parameters"] - crossflow[3]["parameters"] == 2 * per_flow
    # OmniFlow's one joint network keeps its hidden width: only its K * D input grows
    omniflow = by(rows, "omniflow")
    assert 1 < omniflow[4]["parameters_ratio"] < 4 / 3
    # text anchoring and CoDi cannot use an image-points table: the new networks add
    # parameters but no training FLOPs
    for method in ("codi", "text_anchor"):
        row = by(rows, method)
        assert row[4]["parameters"] > row[3]["parameters"]
        assert row[4]["step_gflop"] == row[3]["step_gflop"]


def test_the_command_writes_the_table_with_measured_times_where_asked(tmp_path):
    from bench.scaling import main

    out = tmp_path / "cost_scaling.csv"
    tiny = str(ROOT / "workflow" / "config" / "tiny.yaml")
    argv = ["--configfile", tiny, "--out", str(out), "--counts", "3", "4", "--timed", "3"]
    assert main(argv) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("Method,Modalities,Parameters")
    rows = [line.split(",") for line in lines[1:]]
    assert [(r[0], r[1]) for r in rows] == [
        ("FlowBind", "3"),
        ("FlowBind", "4"),
        ("Text-anchoring", "3"),
        ("Text-anchoring", "4"),
    ]
    assert all(float(r[-1]) > 0 for r in rows if r[1] == "3")  # timed
    assert all(r[-1] == "" for r in rows if r[1] == "4")  # not asked
