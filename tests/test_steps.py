"""The teaching functions of kmeans.steps, on hand-checked fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from kmeans import compute_centroids, find_closest_centroids, kmeans_init_centroids, run_kmeans

# -- kmeans_init_centroids ------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 3, 6], ids=["k=1", "k=3", "k=all-rows"])
def test_init_centroids_are_k_distinct_rows_of_X(six_points, k):
    centroids = kmeans_init_centroids(six_points, k, rng=0)
    assert centroids.shape == (k, 2)
    rows = {tuple(row) for row in six_points.tolist()}
    chosen = [tuple(row) for row in centroids.tolist()]
    assert all(row in rows for row in chosen)
    assert len(set(chosen)) == k


def test_init_centroids_same_seed_same_rows():
    X = np.random.default_rng(3).normal(size=(50, 4))
    first = kmeans_init_centroids(X, 5, rng=7)
    np.testing.assert_array_equal(first, kmeans_init_centroids(X, 5, rng=7))
    np.testing.assert_array_equal(first, kmeans_init_centroids(X, 5, rng=np.random.default_rng(7)))
    assert not np.array_equal(first, kmeans_init_centroids(X, 5, rng=8))


def test_init_centroids_returns_a_copy(six_points):
    centroids = kmeans_init_centroids(six_points, 2, rng=0)
    centroids[:] = -1
    assert (six_points >= 0).all()


@pytest.mark.parametrize(
    "k, error, match",
    [(0, ValueError, r"k=0 should be >= 1"), (7, ValueError, r"n_samples=6 should be >= k=7"),
     (2.5, TypeError, r"k must be an integer")],
    ids=["zero", "more-than-rows", "float"],
)
def test_init_centroids_rejects_bad_k(six_points, k, error, match):
    with pytest.raises(error, match=match):
        kmeans_init_centroids(six_points, k, rng=0)


# -- find_closest_centroids -----------------------------------------------------------------

def test_find_closest_centroids_hand_checked():
    X = [[0, 0], [1, 0], [4, 4], [5, 5], [0, 9]]
    centroids = [[0, 0], [5, 5], [0, 10]]
    # squared distances:  [0,0]->(0, 50, 100)  [1,0]->(1, 41, 101)  [4,4]->(32, 2, 52)
    #                     [5,5]->(50, 0, 50)   [0,9]->(81, 41, 1)
    np.testing.assert_array_equal(find_closest_centroids(X, centroids), [0, 0, 1, 1, 2])


def test_find_closest_centroids_ties_go_to_the_lower_index():
    centroids = [[1, 0], [-1, 0], [0, 1]]
    # [0,0] -> (1, 1, 1): a three-way tie;  [2,0] -> (1, 9, 5);  [0,5] -> (26, 26, 16)
    idx = find_closest_centroids([[0, 0], [2, 0], [0, 5]], centroids)
    np.testing.assert_array_equal(idx, [0, 0, 2])
    # Two tied centroids behind a farther one: the lower of the tied indices wins.
    np.testing.assert_array_equal(find_closest_centroids([[0, 0]], [[0, 7], [1, 0], [-1, 0]]), [1])


# -- compute_centroids ----------------------------------------------------------------------

def test_compute_centroids_hand_checked_means():
    X = [[0, 0], [2, 4], [10, 10], [12, 14], [5, 5]]
    idx = [0, 0, 1, 1, 2]
    np.testing.assert_array_equal(
        compute_centroids(X, idx, 3), [[1.0, 2.0], [11.0, 12.0], [5.0, 5.0]]
    )


def test_compute_centroids_empty_cluster_keeps_previous_centroid():
    X = [[0, 0], [2, 2], [10, 10]]
    previous = [[1, 1], [-50, 7], [9, 9]]
    centroids = compute_centroids(X, [0, 0, 2], 3, previous_centroids=previous)
    np.testing.assert_array_equal(centroids, [[1, 1], [-50, 7], [10, 10]])


def test_compute_centroids_empty_cluster_without_previous_goes_to_overall_mean():
    X = [[0, 0], [2, 2], [10, 14]]
    centroids = compute_centroids(X, [0, 0, 0], 3)
    assert not np.isnan(centroids).any()
    np.testing.assert_allclose(centroids, [[4, 16 / 3]] * 3)


@pytest.mark.parametrize(
    "idx, match",
    [([0, 1], r"must be 3 integer labels"), ([0.0, 1.0, 0.0], r"must be 3 integer labels"),
     ([0, 2, 0], r"range\(k\) = range\(2\)"), ([0, -1, 0], r"range\(k\)")],
    ids=["short", "float-labels", "too-big", "negative"],
)
def test_compute_centroids_rejects_bad_idx(idx, match):
    with pytest.raises(ValueError, match=match):
        compute_centroids([[0, 0], [1, 1], [2, 2]], idx, 2)


# -- run_kmeans -----------------------------------------------------------------------------

def test_run_kmeans_six_points_hand_checked(six_points):
    # Round 1 from (1,0) and (1,4): [1,2] and [10,2] are tied (-> 0), so
    # labels [0,1,0,0,1,0] and centroids (5.5, 1), (5.5, 4). Round 2 changes no
    # label, so the run stops in this local optimum (a horizontal split).
    centroids, idx, history = run_kmeans(six_points, [[1, 0], [1, 4]], max_iters=10)
    assert len(history) == 2
    np.testing.assert_array_equal(history[0], [[1, 0], [1, 4]])
    np.testing.assert_array_equal(history[1], [[5.5, 1], [5.5, 4]])
    np.testing.assert_array_equal(centroids, history[-1])
    np.testing.assert_array_equal(idx, [0, 1, 0, 0, 1, 0])


def test_run_kmeans_history_starts_with_a_copy_of_the_init(six_points):
    init = np.array([[1.0, 2.0], [10.0, 0.0]])
    centroids, idx, history = run_kmeans(six_points, init)
    np.testing.assert_array_equal(history[0], [[1, 2], [10, 0]])
    np.testing.assert_array_equal(init, [[1, 2], [10, 0]])  # not modified
    np.testing.assert_array_equal(centroids, [[1, 2], [10, 2]])
    np.testing.assert_array_equal(idx, [0, 0, 0, 1, 1, 1])


def test_run_kmeans_hand_checked_history():
    X = np.array([[0.0], [1.0], [9.0], [10.0]])
    centroids, idx, history = run_kmeans(X, [[0.0], [1.0]], max_iters=10)
    # round 1: labels [0, 1, 1, 1] -> centroids 0 and 20/3
    # round 2: labels [0, 0, 1, 1] -> centroids 0.5 and 9.5
    # round 3: labels unchanged -> stop (no new history entry)
    np.testing.assert_allclose(np.vstack(history).reshape(-1, 2), [[0, 1], [0, 20 / 3], [0.5, 9.5]])
    np.testing.assert_array_equal(centroids, [[0.5], [9.5]])
    np.testing.assert_array_equal(idx, [0, 0, 1, 1])


def test_run_kmeans_callback_called_once_per_iteration():
    X = np.array([[0.0], [1.0], [9.0], [10.0]])
    calls = []
    _, _, history = run_kmeans(
        X, [[0.0], [1.0]], max_iters=10,
        callback=lambda i, c, idx: calls.append((i, c.copy(), idx.copy())),
    )
    assert [i for i, _, _ in calls] == [1, 2]
    assert len(history) == len(calls) + 1
    for (_, c, _), h in zip(calls, history[1:]):
        np.testing.assert_array_equal(c, h)
    np.testing.assert_array_equal(calls[0][2], [0, 1, 1, 1])


def test_run_kmeans_callback_true_stops_early():
    X = np.array([[0.0], [1.0], [9.0], [10.0]])
    seen = []

    def stop_after_first(iteration, centroids, idx):
        seen.append(iteration)
        return True

    centroids, idx, history = run_kmeans(X, [[0.0], [1.0]], max_iters=10, callback=stop_after_first)
    assert seen == [1]
    assert len(history) == 2
    np.testing.assert_allclose(centroids, [[0.0], [20 / 3]])
    # idx is always recomputed for the returned centroids.
    np.testing.assert_array_equal(idx, [0, 0, 1, 1])


def test_run_kmeans_max_iters_bounds_history():
    X = np.random.default_rng(0).normal(size=(200, 2))
    init = X[:5]
    calls = []
    _, _, history = run_kmeans(X, init, max_iters=2, callback=lambda i, c, idx: calls.append(i))
    assert calls == [1, 2]
    assert len(history) == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [({"initial_centroids": [[0, 0, 0]]}, r"initial_centroids have 3 features, X has 2"),
     ({"initial_centroids": [[0, 0]], "max_iters": 0}, r"max_iters must be an integer >= 1")],
    ids=["feature-mismatch", "max-iters-zero"],
)
def test_run_kmeans_rejects_bad_arguments(six_points, kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_kmeans(six_points, **kwargs)
