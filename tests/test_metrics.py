"""Metrics against independent computations: closed forms, torchmetrics, loops from the formula."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from metrics.ais import ais, ais_score
from metrics.attributes import AttributeAccuracy, attribute_accuracy, attribute_accuracy_scores
from metrics.bootstrap import bootstrap_mean
from metrics.cknna import CKNNA, cknna, cknna_score
from metrics.clap_score import clap_score
from metrics.clip_score import ClipScore, clip_score, clip_score_ci
from metrics.fad import FAD, fad
from metrics.fid import (
    FID,
    FrechetStats,
    RankWarning,
    frechet_distance,
    frechet_from_rows_low_rank,
    frechet_from_stats,
    frechet_score,
    frechet_seed_mean,
)
from metrics.validation import MetricInputError


def gaussian(rng, n, mean, cov):
    return rng.multivariate_normal(mean, cov, size=n)


def random_cov(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


# -- Frechet distance ----------------------------------------------------------------------


def test_frechet_of_a_set_with_itself_is_zero_and_it_is_symmetric():
    rng = np.random.default_rng(0)
    a = gaussian(rng, 400, np.zeros(6), random_cov(rng, 6))
    b = gaussian(rng, 300, np.ones(6), random_cov(rng, 6))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(a, b) > 1.0


def test_frechet_matches_closed_forms_for_known_gaussians():
    # Diagonal covariances commute: d = |dmu|^2 + sum (sqrt(s_a) - sqrt(s_b))^2.
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    s_a, s_b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = 1 + 0 + 4 + (1 - 3) ** 2 + (2 - 1) ** 2 + 0
    assert frechet_from_stats(mu_a, np.diag(s_a), mu_b, np.diag(s_b)) == pytest.approx(expected)
    # A common rotation of both Gaussians leaves the distance unchanged (non-diagonal case).
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))
    rotated = frechet_from_stats(q @ mu_a, q @ np.diag(s_a) @ q.T, q @ mu_b, q @ np.diag(s_b) @ q.T)
    assert rotated == pytest.approx(expected, rel=1e-9)
    # Scalar case against the textbook formula with a generic covariance pair (1-D).
    assert frechet_from_stats([0.0], [[2.0]], [3.0], [[8.0]]) == pytest.approx(9 + 2 + 8 - 2 * 4.0)


def test_frechet_of_samples_approaches_the_population_value():
    rng = np.random.default_rng(2)
    mu_a, mu_b = np.zeros(4), np.array([0.5, 0, 0, -0.5])
    cov_a, cov_b = np.diag([1.0, 2.0, 3.0, 4.0]), np.diag([2.0, 2.0, 1.0, 4.0])
    expected = frechet_from_stats(mu_a, cov_a, mu_b, cov_b)
    sampled = frechet_distance(
        gaussian(rng, 40_000, mu_a, cov_a), gaussian(rng, 40_000, mu_b, cov_b)
    )
    assert sampled == pytest.approx(expected, abs=0.05)


class PoolFeatures(nn.Module):
    """Images (N, 3, H, W) uint8 -> 12 features: per-channel 2x2 average pools."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = nn.functional.adaptive_avg_pool2d(x.float() / 255.0, 2)
        return pooled.flatten(1) + 0.01 * torch.arange(12.0)


def test_frechet_matches_torchmetrics_fid_with_an_injected_feature_module():
    torchmetrics_fid = pytest.importorskip("torchmetrics.image.fid")
    gen = torch.Generator().manual_seed(0)
    real = torch.randint(0, 256, (64, 3, 16, 16), generator=gen, dtype=torch.uint8)
    fake = (real.float() * 0.7 + 30).clamp(0, 255).to(torch.uint8)
    fake[:, 0] = torch.randint(0, 256, (64, 16, 16), generator=gen, dtype=torch.uint8)
    reference = torchmetrics_fid.FrechetInceptionDistance(feature=PoolFeatures())
    reference.update(real, real=True)
    reference.update(fake, real=False)
    expected = float(reference.compute())
    features = PoolFeatures()
    ours = frechet_distance(features(real), features(fake))
    assert ours == pytest.approx(expected, rel=1e-4)
    streamed = FID(features)
    for chunk in range(0, 64, 16):
        streamed.update(real[chunk : chunk + 16], real=True)
        streamed.update(fake[chunk : chunk + 16], real=False)
    assert streamed.compute() == pytest.approx(expected, rel=1e-4)


def test_streaming_statistics_do_not_grow_with_samples():
    stats = FrechetStats()
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((500, 5)) for _ in range(8)]
    for batch in batches:
        stats.update(batch)
    mean, cov = stats.mean_cov()
    everything = np.concatenate(batches)
    assert stats.total.shape == (5,) and stats.outer.shape == (5, 5) and stats.n == 4000
    np.testing.assert_allclose(mean, everything.mean(0), atol=1e-12)
    np.testing.assert_allclose(cov, np.cov(everything, rowvar=False), atol=1e-10)


@pytest.mark.parametrize(("n_a", "n_b", "dim"), [(5, 7, 40), (3, 30, 50), (20, 12, 64)])
def test_frechet_with_fewer_rows_than_dimensions_equals_the_covariance_formula(n_a, n_b, dim):
    rng = np.random.default_rng(n_a)
    a = rng.normal(size=(n_a, dim))
    b = 1.5 * rng.normal(size=(n_b, dim)) + 0.3
    full = frechet_from_stats(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )
    assert frechet_from_rows_low_rank(a, b) == pytest.approx(full, rel=1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert frechet_distance(a, b) == pytest.approx(full, rel=1e-7)  # takes the row route


def test_frechet_refuses_bad_input_and_warns_about_rank():
    rng = np.random.default_rng(0)
    good = rng.standard_normal((50, 4))
    bad = good.copy()
    bad[3, 1] = np.nan
    with pytest.raises(MetricInputError, match="NaN or inf in 1 of 50 rows"):
        frechet_distance(good, bad)
    with pytest.raises(MetricInputError, match="4 dimensions, feats_b 3"):
        frechet_distance(good, good[:, :3])
    with pytest.raises(MetricInputError, match="at least 2"):
        frechet_distance(good[:1], good)
    with pytest.warns(RankWarning, match="rank at most 9 < 16"):
        frechet_distance(rng.standard_normal((10, 16)), rng.standard_normal((40, 16)))


def test_frechet_interval_is_seeded_and_contains_its_value():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 3)), rng.standard_normal((300, 3)) + 0.5
    first = frechet_score(a, b, resamples=200, seed=1)
    again = frechet_score(a, b, resamples=200, seed=1)
    assert first == again and first.method == "delete-half jackknife"
    assert first.low < first.value < first.high
    assert first.value == pytest.approx(frechet_distance(a, b))


def test_frechet_interval_contains_a_small_biased_value_that_resampling_would_miss():
    """Two draws of one distribution: the distance is all finite-sample bias, and resamples
    with replacement (fewer distinct items) give larger values than the full set every time."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((200, 32)), rng.standard_normal((200, 32))
    value = frechet_distance(a, b)
    resampled = [
        frechet_distance(a[rng.integers(0, 200, 200)], b[rng.integers(0, 200, 200)])
        for _ in range(50)
    ]
    assert min(resampled) > value  # the percentile interval would sit wholly above the value
    score = frechet_score(a, b, resamples=100)
    assert 0 <= score.low <= score.value <= score.high


def test_delete_half_interval_estimates_the_sampling_spread():
    """Its standard deviation is the spread of the distance over fresh samples, within 35 %."""
    rng = np.random.default_rng(1)

    def draw():
        return rng.standard_normal((400, 4)), rng.standard_normal((400, 4)) + 0.4

    fresh = np.std([frechet_distance(*draw()) for _ in range(200)], ddof=1)
    estimated = [frechet_score(*draw(), resamples=100, seed=s) for s in range(10)]
    sd = np.mean([(s.high - s.low) / (2 * 1.959964) for s in estimated])
    assert 0.65 * fresh < sd < 1.35 * fresh, (sd, fresh)


def test_frechet_seed_mean_of_one_set_is_frechet_score_and_pairs_the_items_of_several():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((120, 5))
    seeds = [rng.standard_normal((100, 5)) + shift for shift in (0.3, 0.6, 0.9)]
    assert frechet_seed_mean(seeds[:1], real, resamples=50, seed=3) == frechet_score(
        seeds[0], real, resamples=50, seed=3
    )
    pooled = frechet_seed_mean(seeds, real, resamples=50)
    assert pooled.value == pytest.approx(np.mean([frechet_distance(s, real) for s in seeds]))
    assert pooled.low <= pooled.value <= pooled.high
    # the same halves of the items in every set: identical sets pool to that set's score
    assert frechet_seed_mean([seeds[1]] * 3, real, resamples=50) == pytest.approx(
        frechet_score(seeds[1], real, resamples=50)
    )
    with pytest.raises(MetricInputError, match="same items"):
        frechet_seed_mean([seeds[0], seeds[1][:90]], real)


def test_frechet_interval_needs_four_items_per_set():
    rng = np.random.default_rng(0)
    with pytest.raises(MetricInputError, match="at least 4 items per set"):
        frechet_score(rng.standard_normal((3, 2)), rng.standard_normal((10, 2)))


def test_fad_uses_every_frame_of_every_clip():
    rng = np.random.default_rng(0)
    clips_a = [rng.standard_normal((3, 4)) for _ in range(30)]
    clips_b = [rng.standard_normal((2, 4)) + 1 for _ in range(40)]
    assert fad(clips_a, clips_b) == pytest.approx(
        frechet_distance(np.concatenate(clips_a), np.concatenate(clips_b))
    )
    metric = FAD()
    metric.update(clips_a, real=True)
    metric.update(clips_b, real=False)
    assert metric.compute() == pytest.approx(fad(clips_a, clips_b))


# -- CLIP / CLAP score ---------------------------------------------------------------------


def test_clip_score_by_hand_and_negative_cosines_clip_to_zero():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    b = np.array([[2.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    # cosines: 1, 1/sqrt(2), -1 -> clipped 1, 0.7071, 0
    expected = 100 * (1 + 2**-0.5 + 0) / 3
    assert clip_score(a, b) == pytest.approx(expected)
    assert clap_score(a, b) == pytest.approx(expected)
    assert clip_score(a[2:], b[2:]) == 0.0
    metric = ClipScore()
    metric.update(a[:2], b[:2])
    metric.update(a[2:], b[2:])
    assert metric.compute() == pytest.approx(expected)
    with pytest.raises(MetricInputError, match="same shape"):
        clip_score(a, b[:2])


def test_clip_score_interval_narrows_with_more_items():
    rng = np.random.default_rng(0)
    small = clip_score_ci(rng.standard_normal((50, 8)), rng.standard_normal((50, 8)))
    large = clip_score_ci(rng.standard_normal((2000, 8)), rng.standard_normal((2000, 8)))
    assert small.low <= small.value <= small.high
    assert large.half_width < small.half_width / 3


# -- AIS -----------------------------------------------------------------------------------


def test_ais_is_100_when_each_condition_is_most_similar_and_0_when_least():
    conditions = np.eye(5)
    assert ais(conditions + 0.1, conditions) == pytest.approx(100.0)
    assert ais(-conditions, conditions) == pytest.approx(0.0)


def test_ais_ties_do_not_count():
    conditions = np.eye(4)
    generated = np.ones((4, 4))  # equally similar to every condition
    assert ais(generated, conditions) == 0.0


def test_ais_with_an_explicit_reference_set_and_the_symmetric_form():
    # Two generated images, their conditioning audios, and four reference audios.
    images = np.array([[1.0, 0.0], [0.0, 1.0]])
    audios = np.array([[1.0, 0.2], [0.6, 0.8]])
    reference = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0], [0.7, 0.7]])
    # By hand: image 0 pair cos = 0.9806; beats refs with cos 0, -1, 0.7071 (3 of 4; 1.0 ties no).
    # image 1 pair cos = 0.8; beats refs with cos 0, 0, 0.7071 (3 of 4).
    assert ais(images, audios, reference) == pytest.approx(100 * (3 / 4 + 3 / 4) / 2)
    # I->A: generated audios scored against their conditioning images; same function.
    generated_audio, condition_images = np.eye(3), np.eye(3) + 0.05
    assert ais(generated_audio, condition_images) == pytest.approx(100.0)
    score = ais_score(generated_audio, condition_images, resamples=50)
    assert score.value == pytest.approx(100.0) and score.low == pytest.approx(100.0)


def test_ais_matches_a_loop_over_items():
    rng = np.random.default_rng(0)
    g, c = rng.standard_normal((30, 6)), rng.standard_normal((30, 6))
    gn = g / np.linalg.norm(g, axis=1, keepdims=True)
    cn = c / np.linalg.norm(c, axis=1, keepdims=True)
    fractions = []
    for i in range(30):
        pair = gn[i] @ cn[i]
        others = [j for j in range(30) if j != i]
        fractions.append(np.mean([pair > gn[i] @ cn[j] for j in others]))
    assert ais(g, c) == pytest.approx(100 * np.mean(fractions))


# -- CKNNA ---------------------------------------------------------------------------------


def cknna_by_loops(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """The formula written out with Python loops, from the platonic-rep description."""

    def prep(x):
        q = np.mean([np.quantile(np.abs(row), 0.95) for row in x])
        x = np.clip(x, -q, q)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def knn(kernel):
        n = len(kernel)
        sets = []
        for i in range(n):
            order = sorted((j for j in range(n) if j != i), key=lambda j: -kernel[i, j])
            sets.append(set(order[:k]))
        return sets

    def hsic(kk, ll):
        n = len(kk)
        kk, ll = kk.copy(), ll.copy()
        for i in range(n):
            kk[i, i] = ll[i, i] = 0.0
        term1 = sum(kk[i, j] * ll[j, i] for i in range(n) for j in range(n))
        term2 = kk.sum() * ll.sum() / ((n - 1) * (n - 2))
        term3 = 2 * sum(kk[i, m] * ll[m, j] for i in range(n) for m in range(n) for j in range(n))
        return (term1 + term2 - term3 / (n - 2)) / (n * (n - 3))

    def sim(kk, ll):
        nk, nl = knn(kk), knn(ll)
        n = len(kk)
        mask = np.array(
            [[1.0 if j in nk[i] and j in nl[i] else 0.0 for j in range(n)] for i in range(n)]
        )
        return hsic(mask * kk, mask * ll)

    fa, fb = prep(a), prep(b)
    kk, ll = fa @ fa.T, fb @ fb.T
    return sim(kk, ll) / (np.sqrt(sim(kk, kk) * sim(ll, ll)) + 1e-6)


def test_cknna_matches_a_loop_based_implementation():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((24, 5))
    b = a @ rng.standard_normal((5, 7)) + 0.5 * rng.standard_normal((24, 7))
    assert cknna(a, b, k=4) == pytest.approx(cknna_by_loops(a, b, 4), rel=1e-9)
    noise = rng.standard_normal((24, 7))
    assert cknna(a, noise, k=4) == pytest.approx(cknna_by_loops(a, noise, 4), rel=1e-9)


def test_cknna_is_one_for_identical_features_and_invariant_to_rotation_and_permutation():
    from metrics.cknna import _prepare, _similarity

    rng = np.random.default_rng(1)
    a = rng.standard_normal((200, 16))
    b = a @ rng.standard_normal((16, 16)) + rng.standard_normal((200, 16))
    fa = _prepare(a, 0.95)
    self_sim = float(_similarity(fa @ fa.T, fa @ fa.T, 10))
    assert cknna(a, a) == pytest.approx(self_sim / (self_sim + 1e-6), rel=1e-12)  # the guard
    assert cknna(a, a) > 0.999
    base = cknna(a, b)
    assert 0.0 < base < 0.999
    perm = rng.permutation(200)
    assert cknna(a[perm], b[perm]) == pytest.approx(base, rel=1e-9)
    # Rotations preserve the kernels exactly; only the per-coordinate outlier clamp notices them.
    q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    assert cknna(a @ q, b, q=1) == pytest.approx(cknna(a, b, q=1), rel=1e-9)
    assert cknna(a @ q, b) == pytest.approx(base, abs=0.05)


def test_cknna_refuses_unpaired_or_too_few_items_and_has_an_interval():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((60, 4))
    with pytest.raises(MetricInputError, match="60 rows and feats_b 59"):
        cknna(a, a[:59])
    with pytest.raises(MetricInputError, match="at least 12"):
        cknna(a[:8], a[:8])
    b = a + 0.3 * rng.standard_normal((60, 4))
    score = cknna_score(a, b, resamples=20)
    assert score.low <= score.value <= score.high and 0 < score.value < 1
    # 20 items give CKNNA a value but too few for subsamples that keep half of them
    assert 0 < cknna(a[:20], b[:20]) < 1
    with pytest.raises(MetricInputError, match="interval with k=10 needs at least 24 items"):
        cknna_score(a[:20], b[:20], resamples=20)
    metric = CKNNA()
    metric.update(a[:30], b[:30])
    metric.update(a[30:], b[30:])
    assert metric.compute() == pytest.approx(cknna(a, b), rel=1e-12)


# -- attribute accuracy and the bootstrap --------------------------------------------------


def test_attribute_accuracy_on_a_hand_made_example():
    truth = {"kind": np.array([0, 1, 2, 3]), "colour": np.array([5, 5, 0, 1])}
    predicted = {"kind": np.array([0, 1, 0, 3]), "colour": np.array([5, -1, 0, 1])}
    assert attribute_accuracy(predicted, truth) == {"kind": 0.75, "colour": 0.75}
    scores = attribute_accuracy_scores({"kind": predicted["kind"]}, truth, resamples=100)
    assert scores["kind"].value == 0.75 and 0 <= scores["kind"].low <= 0.75
    with pytest.raises(MetricInputError, match="no ground truth"):
        attribute_accuracy({"pitch": [0]}, truth)
    with pytest.raises(MetricInputError, match="3 predictions for 4 items"):
        attribute_accuracy({"kind": [0, 1, 2]}, truth)
    metric = AttributeAccuracy()
    half = {k: v[:2] for k, v in predicted.items()}, {k: v[:2] for k, v in truth.items()}
    rest = {k: v[2:] for k, v in predicted.items()}, {k: v[2:] for k, v in truth.items()}
    metric.update(*half)
    metric.update(*rest)
    assert metric.compute() == attribute_accuracy(predicted, truth)


def test_bootstrap_mean_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(200):
        sample = rng.standard_normal(100)
        score = bootstrap_mean(sample, resamples=400, seed=trial)
        covered += score.low <= 0.0 <= score.high
    assert 0.88 <= covered / 200 <= 0.99


def test_metrics_accept_tensors_and_warn_nothing_on_good_input():
    rng = np.random.default_rng(0)
    a = torch.as_tensor(rng.standard_normal((40, 3)), dtype=torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_distance(a, a + 1) == pytest.approx(3.0, abs=1e-5)
        assert clip_score(a, a) == pytest.approx(100.0)


def test_the_batched_subsample_distances_equal_the_one_by_one_formula():
    from metrics.bootstrap import half_sample_indices
    from metrics.fid import _frechet_rows, _frechet_subsamples

    rng = np.random.default_rng(0)
    a = rng.standard_normal((120, 16)).astype(np.float32)
    b = (1.3 * rng.standard_normal((90, 16)) + 0.2).astype(np.float32)
    rows_a, rows_b = half_sample_indices(120, 300, 0), half_sample_indices(90, 300, 1)
    batched = _frechet_subsamples(a, b, rows_a, rows_b)
    one_by_one = [_frechet_rows(a[i], b[j]) for i, j in zip(rows_a, rows_b, strict=True)]
    # float64 throughout against the one-by-one path's float32 means of float32 features
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-6)
