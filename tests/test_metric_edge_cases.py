"""Metric edge cases: exact ties in AIS, the CLIP/CLAP clamp convention, bad attribute codes."""

import math

import numpy as np
import pytest

from metrics.ais import AIS, ais, ais_per_item
from metrics.attributes import AttributeAccuracy, attribute_accuracy, attribute_accuracy_scores
from metrics.clap_score import clap_score
from metrics.clip_score import ClipScore, clip_score
from metrics.validation import MetricInputError

# -- AIS: a reference equal to the condition is a tie, and ties never count -----------------


def exact_cos(u: np.ndarray, v: np.ndarray) -> float:
    """Cosine from correctly rounded float64 sums: the same pair of rows always gives the same
    value, wherever the rows sit in memory."""
    return math.fsum(u * v) / (math.sqrt(math.fsum(u * u)) * math.sqrt(math.fsum(v * v)))


def ais_by_hand(g: np.ndarray, c: np.ndarray, r: np.ndarray | None = None) -> float:
    """SonicDiffusion's AIS from its definition, one item and one reference at a time."""
    fractions = []
    for i in range(len(g)):
        pair = exact_cos(g[i], c[i])
        refs = [c[j] for j in range(len(c)) if j != i] if r is None else list(r)
        fractions.append(np.mean([pair > exact_cos(g[i], ref) for ref in refs]))
    return 100.0 * float(np.mean(fractions))


def test_ais_does_not_count_a_reference_that_is_a_copy_of_the_condition():
    rng = np.random.default_rng(0)
    g, c = rng.standard_normal((60, 512)), rng.standard_normal((60, 512))
    # Conditions as their own references: item i's own condition ties with itself.
    assert ais(g, c, c) == pytest.approx(ais_by_hand(g, c, c), abs=1e-12)
    # Copies of the conditions mixed among other references, in another order.
    others = rng.standard_normal((40, 512))
    reference = np.concatenate([others, c[::-1].copy()])[rng.permutation(100)]
    assert ais(g, c, reference) == pytest.approx(ais_by_hand(g, c, reference), abs=1e-12)
    # Keeping the own condition among the references scales the default score by (N - 1) / N.
    assert ais(g, c, c) == pytest.approx(ais(g, c) * 59 / 60, abs=1e-12)


def test_ais_does_not_count_another_item_with_the_same_condition():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((20, 512))
    c = base[np.repeat(np.arange(20), 3)]  # three items share each condition
    g = c + 0.5 * rng.standard_normal(c.shape)
    assert ais(g, c) == pytest.approx(ais_by_hand(g, c), abs=1e-12)
    # Every item beats exactly the 57 references that are other conditions when each output is
    # closest to its own condition; the 2 copies of its own condition are ties.
    per_item = ais_per_item(c + 1e-3 * rng.standard_normal(c.shape), c)
    np.testing.assert_array_equal(per_item, np.full(60, 57 / 59))


# -- CLIP / CLAP score: the clamp is per pair, not on the mean ------------------------------


def torchmetrics_clip_score(a: np.ndarray, b: np.ndarray) -> float:
    """torchmetrics' convention, max(mean(100 cos), 0): torchmetrics 1.9.0,
    functional/multimodal/clip_score.py lines 353-354 (``score = score.mean(0)`` then
    ``torch.max(score, torch.zeros_like(score))``) and multimodal/clip_score.py line 223."""
    cos = [exact_cos(x, y) for x, y in zip(a, b, strict=True)]
    return max(100.0 * float(np.mean(cos)), 0.0)


def test_clip_score_equals_torchmetrics_when_every_cosine_is_positive():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((200, 32))
    b = a + 0.8 * rng.standard_normal(a.shape)
    cos = np.array([exact_cos(x, y) for x, y in zip(a, b, strict=True)])
    assert cos.min() > 0
    assert clip_score(a, b) == pytest.approx(torchmetrics_clip_score(a, b), rel=1e-12)
    assert clap_score(a, b) == pytest.approx(torchmetrics_clip_score(a, b), rel=1e-12)


def test_clip_score_clamps_each_pair_so_it_exceeds_torchmetrics_with_negative_cosines():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((200, 32)), rng.standard_normal((200, 32))
    cos = np.array([exact_cos(x, y) for x, y in zip(a, b, strict=True)])
    assert (cos < 0).any() and (cos > 0).any()
    expected = 100.0 * float(np.mean(np.maximum(cos, 0.0)))  # CLIP-S style, w = 100
    assert clip_score(a, b) == pytest.approx(expected, rel=1e-12)
    assert clip_score(a, b) > torchmetrics_clip_score(a, b) + 1.0
    metric = ClipScore()
    metric.update(a[:100], b[:100])
    metric.update(a[100:], b[100:])
    assert metric.compute() == pytest.approx(expected, rel=1e-12)
    # All cosines negative: both conventions give 0.
    assert clip_score(a, -a) == 0.0 == torchmetrics_clip_score(a, -a)


# -- attribute accuracy: NaN predictions and string labels are refused ----------------------


def test_attribute_accuracy_refuses_nan_predictions():
    truth = {"kind": np.array([0, 1, 2, 3])}
    predicted = {"kind": np.array([0.0, np.nan, 2.0, np.nan])}
    for score in (attribute_accuracy, attribute_accuracy_scores, AttributeAccuracy().update):
        with pytest.raises(ValueError, match=r"predicted\['kind'\] holds NaN at rows \[1, 3\]"):
            score(predicted, truth)
    with pytest.raises(MetricInputError, match="code -1"):
        attribute_accuracy(predicted, truth)
    with pytest.raises(MetricInputError, match=r"truth\['kind'\] holds NaN at rows \[0\]"):
        attribute_accuracy({"kind": [0, 1]}, {"kind": [np.nan, 1.0]})
    with pytest.raises(MetricInputError, match=r"non-integer values at rows \[1\]"):
        attribute_accuracy({"kind": [0.0, 1.5]}, {"kind": [0, 1]})
    with pytest.raises(MetricInputError, match=r"non-integer values at rows \[0\]"):
        attribute_accuracy({"kind": [np.inf, 1.0]}, {"kind": [0, 1]})


def test_attribute_accuracy_refuses_string_labels():
    truth = {"kind": np.array(["cat", "dog", "cat"])}
    predicted = {"kind": np.array(["cat", "dog", "dog"])}
    with pytest.raises(ValueError, match=r"integer class indices, got dtype <U3; map names"):
        attribute_accuracy(predicted, truth)
    with pytest.raises(MetricInputError, match=r"truth\['kind'\] must hold integer"):
        attribute_accuracy({"kind": [0, 1, 0]}, truth)
    with pytest.raises(MetricInputError, match="dtype object"):
        attribute_accuracy({"kind": [0, None]}, {"kind": [0, 1]})


def test_attribute_accuracy_accepts_integer_valued_floats():
    truth = {"kind": np.array([0, 1, 2, 3])}
    predicted = {"kind": np.array([0.0, 1.0, -1.0, 3.0])}
    assert attribute_accuracy(predicted, truth) == {"kind": 0.75}
    unsigned = {"kind": np.array([0, 1, 1, 1], dtype=np.uint8)}
    assert attribute_accuracy(unsigned, truth) == {"kind": 0.5}


@pytest.mark.parametrize("make", [lambda: ClipScore(), lambda: AIS()], ids=["clip", "ais"])
def test_alignment_metrics_before_any_update_name_the_mistake(make):
    metric = make()
    with pytest.raises(MetricInputError, match="before any update"):
        metric.compute()
