"""The fourth modality's networks: the point-cloud codec, classifier and image-point pair, on a
few steps of training (their quality floors are the slow tests')."""

import numpy as np
import pytest
import torch

from bench.embedded.build import generate_split
from bench.embedded.codecs import PointCodec
from bench.embedded.evaluators import ContrastivePair, PointEvaluator
from bench.embedded.nets import load_frozen
from bench.embedded.points import N_POINTS
from bench.embedded.world import attributes_shown_by


@pytest.fixture(scope="module")
def clouds():
    return generate_split("evaluator_points", 32, seed=0)


def test_the_codec_encodes_any_point_order_alike_and_decodes_to_clouds(clouds, tmp_path):
    codec = PointCodec.train_on(clouds.points, latent_dim=16, steps=3, seed=0, progress=False)
    z = codec.encode(clouds.points)
    assert z.shape == (32, 16) and torch.isfinite(z).all()
    shuffled = clouds.points[:, np.random.default_rng(0).permutation(N_POINTS)]
    torch.testing.assert_close(codec.encode(shuffled), z, rtol=1e-5, atol=1e-5)  # max pooling
    out = codec.decode(z)
    assert out.shape == (32, N_POINTS, 3) and out.dtype == np.float32
    assert (codec.zscore(z).mean(0).abs() < 1e-4).all()  # statistics of the codec split
    again = load_frozen(codec.save(tmp_path / "points"), "points_codec")
    np.testing.assert_array_equal(again.decode(z), out)


def test_the_classifier_has_one_head_per_attribute_a_point_cloud_shows(clouds):
    net = PointEvaluator.train_on(clouds.points, clouds.attributes, steps=3, seed=0, progress=False)
    predicted = net.predict(clouds.points)
    assert tuple(predicted) == attributes_shown_by("points") == ("kind", "size", "count")
    assert all(p.shape == (32,) for p in predicted.values())
    assert net.features(clouds.points).shape == (32, 64)


def test_the_image_point_pair_embeds_both_sides_on_the_unit_sphere(clouds):
    data = {"image": clouds.image, "points": clouds.points}
    pair = ContrastivePair.train_on("image", "points", data, steps=3, seed=0, progress=False)
    for modality, batch in data.items():
        embedding = pair.embed(modality, batch)
        assert embedding.shape == (32, 64)
        assert torch.allclose(embedding.norm(dim=1), torch.ones(32), atol=1e-5)
    with pytest.raises(ValueError, match="not 'audio'"):
        pair.embed("audio", clouds.points)
