"""Conflicting conditions (bench/conflict.py): which scene each attribute is scored against."""

import numpy as np
import pytest

from bench.conflict import column_name, derangement, scored_columns


@pytest.mark.parametrize("n", [2, 3, 10, 257])
def test_the_derangement_moves_every_scene_and_is_a_permutation(n):
    perm = derangement(n, seed=3)
    assert sorted(perm) == list(range(n))
    assert not np.any(perm == np.arange(n))
    np.testing.assert_array_equal(perm, derangement(n, seed=3))  # fixed by its seed


def test_one_scene_cannot_conflict_with_another():
    with pytest.raises(ValueError, match="two or more test scenes"):
        derangement(1)


def test_each_image_attribute_is_scored_against_the_scene_of_the_sources_that_show_it():
    # kind: both sources show it; colour and size: the caption only; count: the audio only
    assert scored_columns() == [
        ("kind", "text"),
        ("kind", "audio"),
        ("colour", "text"),
        ("size", "text"),
        ("count", "audio"),
    ]
    assert column_name("count", "audio") == "count: audio's scene (%)"
