"""Codecs and evaluators of the embedded benchmark: interfaces, loading by name, quality floors.

The ``tiny`` profile trains every network for 80-150 steps, so its floors are looser than the
default profile's; ``test_default_profile_meets_its_floors`` trains the
default profile through the workflow (about 6 minutes) and checks the floors docs/embedded.md
states.
"""

import json
import shutil

import numpy as np
import pytest
import torch
from workflow_run import snakemake

from bench.embedded import load_split
from bench.embedded.__main__ import main
from bench.embedded.backbones import EmbeddedBackbones
from bench.embedded.build import generate_split
from bench.embedded.codecs import PointCodec
from bench.embedded.evaluators import ContrastivePair, PointEvaluator, TextEvaluator
from bench.embedded.prepare import (
    BUDGETS,
    format_quality,
    load_codec,
    load_evaluator,
    measure_point_networks,
    prepare,
)
from bench.embedded.world import BY_NAME, attributes_shown_by
from bench.latents import encode_split
from flowbind.checkpoint import CheckpointError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("embedded") / "tiny"
    quality = prepare(root, "tiny", seed=0, progress=False, points=True)
    return root, quality


def test_codecs_encode_to_d_and_decode_to_data(tiny):
    root, _ = tiny
    split = load_split(root / "data", "test_triplet")
    views = {"image": split.image[:6], "audio": split.audio[:6], "text": split.captions[:6]}
    for modality, batch in views.items():
        codec = load_codec(root, modality)
        z = codec.encode(batch)
        assert z.shape == (6, 64) and z.dtype == torch.float32
        assert torch.isfinite(z).all()
        out = codec.decode(z)
        if modality == "image":
            assert out.shape == (6, 64, 64, 3) and out.dtype == np.uint8
        elif modality == "audio":
            assert out.shape == (6, 16_000) and out.dtype == np.int16
        else:
            assert isinstance(out, list) and len(out) == 6 and all(isinstance(c, str) for c in out)
        assert not any(p.requires_grad for p in codec.parameters())


def test_codec_statistics_z_score_the_codec_split(tiny):
    root, _ = tiny
    split = load_split(root / "data", "codec")
    codec = load_codec(root, "image")
    z = codec.zscore(codec.encode(split.image))
    assert z.mean(0).abs().max() < 1e-3
    assert (z.std(0) - 1).abs().max() < 1e-3
    assert torch.allclose(codec.unzscore(z), codec.encode(split.image), atol=1e-4)


def test_tiny_profile_floors(tiny):
    """Looser floors for the tiny size (120-150 codec steps instead of 600-800)."""
    _, q = tiny
    for modality in ("image", "audio"):
        for attribute, acc in q["evaluator_accuracy"][modality].items():
            assert acc >= 0.9, (modality, attribute, acc)
    assert all(v == 1.0 for v in q["evaluator_accuracy"]["text"].values())
    for modality in ("image", "audio", "text"):
        for attribute, acc in q["codec_roundtrip"][modality].items():
            chance = 1 / BY_NAME[attribute].n
            assert acc > chance, (modality, attribute, acc)  # kind and colour need longer runs
    assert q["codec_roundtrip"]["image"]["colour"] >= 0.9
    assert q["codec_roundtrip"]["audio"]["pitch"] >= 0.9
    assert q["codec_roundtrip"]["text_parse_rate"] >= 0.8
    for r in (*q["retrieval"], *q["points"]["retrieval"]):
        assert r["top1"] >= 3 * r["chance"], r
        assert r["top1"] <= r["top1_ceiling"] + 0.05, r
        assert r["top1_attributes"] >= 0.4, r
    points = q["points"]
    assert min(points["evaluator_accuracy"].values()) >= 0.9, points
    assert all(acc > 1 / BY_NAME[a].n for a, acc in points["codec_roundtrip"].items()), points
    low, high = points["codec_chamfer"]["interval"]
    assert 0 < low <= points["codec_chamfer"]["value"] <= high, points


def test_the_fourth_modality_is_added_beside_the_three_and_read_back_by_name(tiny):
    root, q = tiny
    split = load_split(root / "data_points", "test_tp")
    codec = load_codec(root, "points")
    assert codec.decode(codec.encode(split.points[:4])).shape == (4, 256, 3)
    assert tuple(load_evaluator(root, "points").predict(split.points)) == ("kind", "size", "count")
    assert load_evaluator(root, "image_points").modalities == ("image", "points")
    assert sorted(p.name for p in (root / "codecs").iterdir()) == [
        "audio",
        "image",
        "points",
        "text",
    ]
    assert "point-cloud codec round trip" in format_quality(q)
    nets = EmbeddedBackbones(root)
    assert nets.fpd_features(split.points).shape == (len(split), 64)
    real = load_split(root / "data_points", "test_ip")
    same = nets.image_points("image", real.image) @ nets.image_points("points", real.points).T
    assert same.diagonal().mean() > same.mean()  # a scene's own cloud is nearer than the others
    latents = encode_split(root, "test_tip")
    assert sorted(latents) == ["ids", "image", "points", "text"]
    assert latents["points"].shape == (len(real), 64)


def test_networks_load_by_name_and_refuse_other_versions(tiny, tmp_path):
    root, _ = tiny
    pair = load_evaluator(root, "audio_image")
    assert isinstance(pair, ContrastivePair) and pair.modalities == ("audio", "image")
    assert isinstance(load_evaluator(root, "text"), TextEvaluator)
    with pytest.raises(ValueError, match="no evaluator 'clip'"):
        load_evaluator(root, "clip")
    copy = tmp_path / "copy"
    shutil.copytree(root / "codecs", copy / "codecs")
    config = copy / "codecs" / "image" / "config.json"
    meta = json.loads(config.read_text())
    meta["version"] = "0"
    config.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="version '0'.*Retrain"):
        load_codec(copy, "image")
    shutil.rmtree(copy / "codecs" / "audio")
    with pytest.raises(CheckpointError, match="python -m bench.embedded"):
        load_codec(copy, "audio")
    (copy / "codecs" / "text" / "weights.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="weights.safetensors"):
        load_codec(copy, "text")


def test_text_codec_refuses_words_outside_the_grammar(tiny):
    root, _ = tiny
    with pytest.raises(ValueError, match="unknown words \\['zebra'\\]"):
        load_codec(root, "text").encode(["a small red zebra"])


def test_evaluator_heads_cover_exactly_the_attributes_each_modality_shows(tiny):
    root, _ = tiny
    split = load_split(root / "data", "test_triplet")
    for modality in ("image", "audio"):
        predicted = load_evaluator(root, modality).predict(getattr(split, modality))
        assert tuple(predicted) == attributes_shown_by(modality)
    embedding = load_evaluator(root, "text_image").embed("text", split.captions)
    assert torch.allclose(embedding.norm(dim=1), torch.ones(len(split)), atol=1e-5)
    with pytest.raises(ValueError, match="not 'audio'"):
        load_evaluator(root, "text_image").embed("audio", split.audio)


def test_cli_rejects_a_latent_size_the_codecs_cannot_use(capsys):
    with pytest.raises(SystemExit):
        main(["--latent-dim", "30"])
    assert "multiple of 4" in capsys.readouterr().err


def test_default_profile_meets_its_floors(tmp_path):
    """The floors of docs/embedded.md: >= 98 % per evaluator head, >= 95 % per codec round
    trip; on the networks the workflow trains for the default config (one job each, two at a
    time, as in `make demo`), so this also runs its data, codec, evaluator and quality rules."""
    result = snakemake(tmp_path, "--cores", "2", "results/embedded/quality.json")
    assert result.returncode == 0, result.stderr[-4000:]
    q = json.loads((tmp_path / "results" / "embedded" / "quality.json").read_text())
    for modality in ("image", "audio", "text"):
        for attribute, acc in q["evaluator_accuracy"][modality].items():
            assert acc >= 0.98, (modality, attribute, acc)
        for attribute, acc in q["codec_roundtrip"][modality].items():
            assert acc >= 0.95, (modality, attribute, acc)
    for r in q["retrieval"]:
        assert r["top1"] >= 5 * r["chance"], r
        assert r["top1_attributes"] >= 0.6, r


def test_the_point_cloud_networks_meet_their_floors():
    """The fourth modality's floors (docs/embedded.md): >= 98 % per classifier head on held-out
    clouds; from decode(encode(x)) the codec keeps >= 95 % of count, >= 93 % of size and >= 88 % of
    kind (measured 0.99, 0.95 and 0.91: small solids blur into one another). Trained at the
    default budgets on the default split sizes (about 4 minutes)."""
    budget = BUDGETS["default"]
    splits = {
        name: generate_split(name, n, seed=0)
        for name, n in (
            ("codec_points", 3000),
            ("codec_points_val", 500),
            ("evaluator_points", 3000),
            ("evaluator_points_val", 500),
        )
    }
    ev = splits["evaluator_points"]
    classifier = PointEvaluator.train_on(
        ev.points, ev.attributes, budget.points_evaluator, seed=0, progress=False
    )
    codec = PointCodec.train_on(
        splits["codec_points"].points, 64, budget.points_codec, seed=0, progress=False
    )
    pair = ContrastivePair.train_on(
        "image", "points", {"image": ev.image, "points": ev.points}, budget.pair, 0, False
    )
    q = measure_point_networks(
        codec, classifier, [pair], splits["codec_points_val"], splits["evaluator_points_val"]
    )
    assert min(q["evaluator_accuracy"].values()) >= 0.98, q
    roundtrip = q["codec_roundtrip"]
    assert roundtrip["count"] >= 0.95 and roundtrip["size"] >= 0.93, q
    assert roundtrip["kind"] >= 0.88, q
    (retrieval,) = q["retrieval"]
    assert retrieval["top1_attributes"] >= 0.95, q  # the pair agrees on kind, size and count


def test_training_is_deterministic_from_the_seed():
    from bench.embedded.build import generate_split
    from bench.embedded.codecs import ImageCodec

    images = generate_split("codec", 32, seed=0).image
    torch.manual_seed(123)  # the global state before training must not matter
    first = ImageCodec.train_on(images, 64, 5, seed=1, progress=False).state_dict()
    second = ImageCodec.train_on(images, 64, 5, seed=1, progress=False).state_dict()
    other = ImageCodec.train_on(images, 64, 5, seed=2, progress=False).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_embedded_backbones_tell_matched_from_mismatched_outputs(tiny):
    from bench.embedded.backbones import EmbeddedBackbones
    from metrics.ais import ais
    from metrics.clip_score import clip_score
    from metrics.fid import RankWarning, frechet_distance

    root, _ = tiny
    split = load_split(root / "data", "test_triplet")
    nets = EmbeddedBackbones(root)
    shuffled = np.random.default_rng(0).permutation(len(split))
    text, image = nets.clip("text", split.captions), nets.clip("image", split.image)
    assert clip_score(text, image) > clip_score(text, image[shuffled]) + 10
    audio, image_ais = nets.ais("audio", split.audio), nets.ais("image", split.image)
    assert ais(image_ais, audio) > ais(image_ais[shuffled], audio) + 20
    half = len(split) // 2
    real = nets.fid_features(split.image)
    noise = np.random.default_rng(1).integers(0, 256, split.image.shape, dtype=np.uint8)
    with pytest.warns(RankWarning):  # 50 samples per half in 64 dimensions: flagged, not hidden
        within = frechet_distance(real[:half], real[half:])
    assert within < 0.2 * frechet_distance(real, nets.fid_features(noise))
    assert (
        nets.attributes("text", split.captions)["kind"].tolist()
        == split.attributes["kind"].tolist()
    )
