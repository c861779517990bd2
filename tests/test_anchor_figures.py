"""The shared-anchor picture of the report: neighbour purity and the PCA / t-SNE map."""

import numpy as np

from bench.report_figures import anchor_map_figure, neighbour_purity, purity_figure


def anchors_with(separated: bool, n: int = 60, seed: int = 0):
    """Three modalities' anchors of n items with a two-valued attribute; when ``separated``,
    the attribute moves every modality's anchor far along one axis and the item sets the rest."""
    rng = np.random.default_rng(seed)
    value = np.array(["a", "b"] * (n // 2))
    item = rng.standard_normal((n, 8))
    shift = np.where(value == "a", 0.0, 50.0)[:, None] * np.eye(8)[0] if separated else 0.0
    anchors = {
        m: item + shift + 0.01 * rng.standard_normal((n, 8)) for m in ("text", "image", "audio")
    }
    return anchors, {"kind": list(value)}


def test_purity_is_full_for_separated_values_and_near_chance_otherwise():
    anchors, labels = anchors_with(separated=True)
    rows = {r["Attribute"]: r for r in neighbour_purity(anchors, labels, k=5)}
    assert float(rows["kind"]["Purity (%)"]) == 100.0
    assert float(rows["kind"]["Chance (%)"]) == 50.0
    # each item's other-modality anchors are its nearest (0.01 noise): item purity 2 of 5
    assert float(rows["item"]["Cross-modal purity (%)"]) == 40.0
    shuffled = {"kind": list(np.random.default_rng(1).permutation(labels["kind"]))}
    rows = {r["Attribute"]: r for r in neighbour_purity(anchors, shuffled, k=5)}
    assert 30 < float(rows["kind"]["Cross-modal purity (%)"]) < 70


def test_the_map_and_the_purity_figure_are_written(tmp_path):
    anchors, labels = anchors_with(separated=True, n=40)
    anchor_map_figure(anchors, labels, tmp_path / "map.png")
    purity_figure(neighbour_purity(anchors, labels), tmp_path / "purity.png")
    for name in ("map.png", "purity.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    anchor_map_figure(anchors, {}, tmp_path / "unlabelled.png")  # the paper benchmark: no labels
    assert (tmp_path / "unlabelled.png").stat().st_size > 1000
