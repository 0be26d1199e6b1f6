"""Seeding: kmeans_plusplus (public) and the private random-rows init."""

from __future__ import annotations

import numpy as np
import pytest
from kmeans import kmeans_plusplus
from kmeans._init import _weighted_draw, random_rows


def _blobs(seed, n=300, n_features=2):
    return np.random.default_rng(seed).normal(size=(n, n_features))


@pytest.mark.parametrize(
    "seed, n, n_features, n_clusters",
    [(0, 300, 2, 8), (1, 50, 3, 50), (2, 1000, 12, 20)],
    ids=["2d-k8", "k-equals-n", "12d-k20"],
)
def test_kmeans_plusplus_picks_distinct_rows(seed, n, n_features, n_clusters):
    X = _blobs(seed, n, n_features)
    centers, indices = kmeans_plusplus(X, n_clusters, seed=seed)
    assert centers.shape == (n_clusters, n_features)
    assert indices.shape == (n_clusters,)
    assert len(set(indices.tolist())) == n_clusters
    np.testing.assert_array_equal(centers, X[indices])


def test_kmeans_plusplus_distinct_rows_with_duplicates_in_the_data():
    # 3 distinct points, each repeated 20 times: k=3 must find all three.
    X = np.repeat([[0.0, 0.0], [5.0, 5.0], [9.0, 0.0]], 20, axis=0)
    for seed in range(10):
        centers, _ = kmeans_plusplus(X, 3, seed=seed)
        assert np.unique(centers, axis=0).shape[0] == 3


def test_kmeans_plusplus_is_deterministic_per_seed():
    X = _blobs(5, 500, 3)
    centers, indices = kmeans_plusplus(X, 10, seed=42)
    again_centers, again_indices = kmeans_plusplus(X, 10, seed=42)
    np.testing.assert_array_equal(indices, again_indices)
    np.testing.assert_array_equal(centers, again_centers)
    _, from_generator = kmeans_plusplus(X, 10, seed=np.random.default_rng(42))
    np.testing.assert_array_equal(indices, from_generator)
    _, other = kmeans_plusplus(X, 10, seed=43)
    assert not np.array_equal(indices, other)


def test_kmeans_plusplus_never_picks_zero_weight_rows():
    X = _blobs(7, 200, 2)
    X[:5] += 100.0  # far outliers, which D^2 sampling would favour if weights were ignored
    weights = np.zeros(200)
    weights[5::4] = 1.0  # 49 rows may be chosen, the outliers and 146 others may not
    for seed in range(20):
        _, indices = kmeans_plusplus(X, 10, sample_weight=weights, seed=seed)
        assert (weights[indices] > 0).all()
        assert len(set(indices.tolist())) == 10


def test_kmeans_plusplus_spreads_over_separated_groups(six_points):
    for seed in range(10):
        _, indices = kmeans_plusplus(six_points, 2, seed=seed)
        assert sorted(six_points[indices, 0].tolist()) == [1, 10]


def test_kmeans_plusplus_n_local_trials_one_is_plain_kmeans_plusplus():
    X = _blobs(3, 100, 2)
    centers, indices = kmeans_plusplus(X, 5, seed=0, n_local_trials=1)
    assert len(set(indices.tolist())) == 5
    np.testing.assert_array_equal(centers, X[indices])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [({"n_clusters": 0}, ValueError, r"n_clusters=0 should be >= 1"),
     ({"n_clusters": 7}, ValueError, r"n_samples=6 should be >= n_clusters=7"),
     ({"n_clusters": 2, "sample_weight": [1, 1]}, ValueError,
      r"sample_weight must have shape \(6,\)"),
     ({"n_clusters": 2, "sample_weight": [1, 1, 1, -1, 1, 1]}, ValueError, r"finite and >= 0"),
     ({"n_clusters": 2, "sample_weight": [0] * 6}, ValueError, r"must not be all zero"),
     ({"n_clusters": 2, "seed": -1}, ValueError, r"seed must be >= 0"),
     ({"n_clusters": 2, "seed": "a"}, TypeError, r"seed must be None")],
    ids=["k0", "k-too-big", "weight-shape", "weight-negative", "weight-all-zero", "seed-negative",
         "seed-string"],
)
def test_kmeans_plusplus_rejects_bad_input(six_points, kwargs, error, match):
    with pytest.raises(error, match=match):
        kmeans_plusplus(six_points, **kwargs)


# -- private helpers ------------------------------------------------------------------------

def test_weighted_draw_maps_values_to_intervals():
    cumulative = np.cumsum([1.0, 0.0, 2.0, 1.0])  # [1, 1, 3, 4]
    draws = _weighted_draw(cumulative, np.array([0.0, 0.999, 1.0, 2.5, 3.0, 3.99, 4.0]))
    # Row 1 has zero weight: it is never drawn; the total maps to the last row.
    np.testing.assert_array_equal(draws, [0, 0, 2, 2, 3, 3, 3])


def test_random_rows_distinct_and_weighted():
    X = _blobs(11, 40, 2)
    weights = np.ones(40)
    weights[:30] = 0.0
    rng = np.random.default_rng(0)
    centers, indices = random_rows(X, 10, weights, rng)
    assert sorted(indices.tolist()) == list(range(30, 40))  # all 10 positive rows, once each
    np.testing.assert_array_equal(centers, X[indices])
    np.testing.assert_array_equal(weights[30:], 1.0)  # the caller's weights are untouched
