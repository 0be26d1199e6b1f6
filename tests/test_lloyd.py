"""The Lloyd engine: distances, the blocked E-step, cluster sums, empty clusters, one run."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from kmeans import _distances
from kmeans._bounds import BoundedAssigner
from kmeans._distances import assign_labels, squared_distances, weighted_inertia
from kmeans._lloyd import lloyd_single, relocate_empty_clusters, weighted_cluster_sums


def _py_assign(X, centers):
    """Pure-Python reference twin of the E-step: labels and squared distances, ties -> lower."""
    labels, distances = [], []
    for x in X.tolist():
        best, best_label = None, None
        for k, c in enumerate(centers.tolist()):
            d = sum((a - b) ** 2 for a, b in zip(x, c))
            if best is None or d < best:
                best, best_label = d, k
        labels.append(best_label)
        distances.append(best)
    return np.array(labels), np.array(distances)


def _run_assign(X, centers):
    labels = np.empty(X.shape[0], dtype=np.intp)
    min_distances = np.empty(X.shape[0])
    assign_labels(X, centers, labels, min_distances)
    return labels, min_distances


@pytest.mark.parametrize("n_features", [1, 3, 8, 9, 20], ids=lambda d: f"{d}-features")
def test_squared_distances_match_brute_force(n_features):
    rng = np.random.default_rng(n_features)
    X = rng.normal(size=(70, n_features))
    centers = rng.normal(size=(6, n_features))
    expected = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    got = squared_distances(X, centers)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert (got >= 0).all()


def test_squared_distances_expanded_form_is_never_negative():
    # A point equal to a center: |x|^2 - 2x.c + |c|^2 cancels to about 0 and may
    # round below it; the kernel clips (20 features -> expanded form).
    rng = np.random.default_rng(0)
    X = rng.normal(1e4, 1.0, size=(200, 20))
    out = squared_distances(X, X[:10].copy())
    assert (out >= 0).all()
    assert out[np.arange(10), np.arange(10)].max() < 1e-3


@pytest.mark.parametrize("n_features", [2, 3, 8, 9, 20], ids=lambda d: f"{d}-features")
def test_assign_labels_matches_reference_twin(n_features):
    rng = np.random.default_rng(100 + n_features)
    X = np.asfortranarray(rng.normal(size=(300, n_features)))
    centers = rng.normal(size=(7, n_features))
    labels, min_distances = _run_assign(X, centers)
    expected_labels, expected_distances = _py_assign(X, centers)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_allclose(min_distances, expected_distances, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_features", [2, 12], ids=["explicit-kernel", "matmul-kernel"])
def test_assign_labels_ties_go_to_lower_index(n_features):
    # Integer data and centers: every distance is exact, so ties are real ties.
    X = np.zeros((4, n_features))
    X[1, 0] = 2.0
    X[2, 0] = -2.0
    X[3, 1] = 1.0
    centers = np.zeros((3, n_features))
    centers[0, 0] = 1.0
    centers[1, 0] = -1.0
    centers[2, 1] = 1.0
    labels, min_distances = _run_assign(X, centers)
    # row 0 is at 1 from all three -> 0; row 2 is nearest to center 1;
    # row 3 sits on center 2.
    np.testing.assert_array_equal(labels, [0, 0, 1, 2])
    np.testing.assert_array_equal(min_distances, [1, 1, 1, 0])


@pytest.mark.parametrize(
    "n_features, n_clusters, n_samples",
    [(3, 5, 2 * _distances.EXPLICIT_BLOCK_ROWS + 37), (10, 300, 2 * _distances.block_rows(8 * 300) + 37)],
    ids=["explicit-kernel", "matmul-kernel"],
)
def test_assign_labels_across_block_boundaries(n_features, n_clusters, n_samples):
    # Two full blocks and a ragged last one.
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.normal(size=(n_samples, n_features)))
    centers = rng.normal(size=(n_clusters, n_features))
    labels, min_distances = _run_assign(X, centers)
    d = squared_distances(X, centers)
    np.testing.assert_array_equal(labels, d.argmin(axis=1))
    np.testing.assert_allclose(min_distances, d.min(axis=1), rtol=1e-12, atol=1e-12)


def test_tracemalloc_sees_numpy_allocations():
    # The memory test below relies on NumPy reporting its buffers to tracemalloc.
    tracemalloc.start()
    try:
        block = np.ones(4 * 2**20)  # 32 MiB
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert block.nbytes <= peak < 2 * block.nbytes


@pytest.mark.parametrize(
    "n_samples, n_features",
    [(1_000_000, 3), (250_000, 20)],
    ids=["1e6x3-explicit", "2.5e5x20-matmul"],
)
def test_assign_labels_memory_is_bounded(n_samples, n_features):
    n_clusters = 256
    bound = 16 * 2**20  # 16 MiB, against an n x K float64 matrix of 0.5-2 GB
    assert n_samples * n_clusters * 8 > 30 * bound
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.random((n_samples, n_features)))
    centers = rng.random((n_clusters, n_features))
    labels = np.empty(n_samples, dtype=np.intp)
    min_distances = np.empty(n_samples)

    tracemalloc.start()
    try:
        assign_labels(X, centers, labels, min_distances)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < bound, f"E-step allocated {peak / 2**20:.1f} MiB"
    # Correctness on a subset, against a brute-force argmin.
    rows = rng.choice(n_samples, 2000, replace=False)
    distances = ((X[rows, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(labels[rows], distances.argmin(axis=1))
    np.testing.assert_allclose(min_distances[rows], distances.min(axis=1), rtol=1e-9, atol=1e-12)


def test_weighted_cluster_sums_hand_checked():
    X = np.array([[0.0, 1.0], [2.0, 3.0], [10.0, 10.0]])
    weights = np.array([1.0, 3.0, 2.0])
    counts, sums = weighted_cluster_sums(X, weights, np.array([0, 0, 2]), 3)
    np.testing.assert_array_equal(counts, [4, 0, 2])
    np.testing.assert_array_equal(sums, [[6, 10], [0, 0], [20, 20]])


def test_relocate_empty_cluster_takes_the_farthest_point():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    weights = np.ones(4)
    labels = np.array([0, 0, 0, 0])
    centers = np.array([[1.0], [100.0]])
    min_distances = ((X - centers[labels]) ** 2).sum(axis=1)  # [1, 0, 1, 81]
    counts, sums = weighted_cluster_sums(X, weights, labels, 2)
    relocate_empty_clusters(X, weights, labels, min_distances, counts, sums)
    np.testing.assert_array_equal(counts, [3, 1])
    np.testing.assert_array_equal(sums, [[3], [10]])
    np.testing.assert_array_equal(labels, [0, 0, 0, 0])  # labels are left to the next E-step


def test_relocate_ignores_zero_weight_points():
    X = np.array([[0.0], [1.0], [50.0]])
    weights = np.array([1.0, 1.0, 0.0])  # the far point cannot hold a cluster
    labels = np.array([0, 0, 0])
    min_distances = np.array([0.25, 0.25, 2450.25])
    counts, sums = weighted_cluster_sums(X, weights, labels, 2)
    relocate_empty_clusters(X, weights, labels, min_distances, counts, sums)
    np.testing.assert_array_equal(counts, [1, 1])
    np.testing.assert_array_equal(sums, [[1], [0]])  # point 0 (first of the tie) moved


def _toy():
    X = np.array([[0.0], [1.0], [9.0], [10.0]])
    return X, np.ones(4), np.array([[0.0], [1.0]])


def test_lloyd_single_hand_checked():
    X, w, init = _toy()
    labels, inertia, centers, n_iter = lloyd_single(X, w, init, max_iter=10, tol=0.0)
    # 1: labels [0,1,1,1] -> 0, 20/3;  2: [0,0,1,1] -> 0.5, 9.5;  3: unchanged -> stop
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    np.testing.assert_array_equal(centers, [[0.5], [9.5]])
    assert inertia == 1.0
    assert n_iter == 3
    np.testing.assert_array_equal(init, [[0.0], [1.0]])  # not modified


def test_lloyd_single_callback_sequence():
    X, w, init = _toy()
    calls = []
    lloyd_single(X, w, init, max_iter=10, tol=0.0,
                 callback=lambda i, c, inertia: calls.append((i, c.copy(), inertia)))
    assert [i for i, _, _ in calls] == [0, 1, 2, 3]
    np.testing.assert_array_equal(calls[0][1], init)
    assert calls[0][2] is None
    # Inertia of each iteration's labels against the centers before its update.
    assert [inertia for _, _, inertia in calls[1:]] == pytest.approx([145.0, 1 + 149 / 9, 1.0])


def test_lloyd_single_callback_true_stops_and_labels_match_centers():
    X, w, init = _toy()
    labels, inertia, centers, n_iter = lloyd_single(
        X, w, init, max_iter=10, tol=0.0, callback=lambda i, c, inertia: i == 1
    )
    assert n_iter == 1
    np.testing.assert_allclose(centers, [[0.0], [20 / 3]])
    # The final E-step after an early stop: labels are those of the returned centers.
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])
    assert inertia == pytest.approx(1 + (9 - 20 / 3) ** 2 + (10 - 20 / 3) ** 2)


@pytest.mark.parametrize("max_iter", [1, 2], ids=["max_iter=1", "max_iter=2"])
def test_lloyd_single_max_iter(max_iter):
    X, w, init = _toy()
    _, _, _, n_iter = lloyd_single(X, w, init, max_iter=max_iter, tol=0.0)
    assert n_iter == max_iter


def test_lloyd_single_large_tol_stops_after_one_iteration():
    X, w, init = _toy()
    labels, _, centers, n_iter = lloyd_single(X, w, init, max_iter=10, tol=1e9)
    assert n_iter == 1
    np.testing.assert_allclose(centers, [[0.0], [20 / 3]])
    np.testing.assert_array_equal(labels, [0, 0, 1, 1])


def test_lloyd_single_unfinished_keeps_the_last_e_step():
    # finish=False (the quantizer's last level): no E-step after the stop on tol and no inertia; the
    # labels and the assigner's bounds are those of the centers before the last update.
    X, w, init = _toy()
    labels, inertia, centers, n_iter = lloyd_single(X, w, init, max_iter=10, tol=1e9, finish=False)
    assert inertia is None and n_iter == 1
    np.testing.assert_allclose(centers, [[0.0], [20 / 3]])
    np.testing.assert_array_equal(labels, [0, 1, 1, 1])  # nearest of the initial centers 0 and 1


@pytest.mark.parametrize("tol", [0.0, 1.0], ids=["converged", "stopped-on-tol"])
def test_unfinished_run_then_rounded_palette_equals_the_full_comparison(tol):
    # What the quantizer does after an unfinished run: replace the centers by rounded ones.
    X, centers = _clustered_points(8)
    w = np.random.default_rng(9).integers(1, 9, X.shape[0]).astype(np.float64)
    assigner = BoundedAssigner(X)
    labels, _, fitted, _ = lloyd_single(X, w, centers, max_iter=100, tol=tol, assigner=assigner, finish=False)
    full, _, expected_centers, _ = lloyd_single(X, w, centers, max_iter=100, tol=tol)
    np.testing.assert_array_equal(fitted, expected_centers)
    # On tol the run stops before its labels settle (4 of them differ here): the case that matters.
    assert (labels != full).any() == (tol > 0)
    rounded, relabel = np.unique(np.rint(fitted), axis=0, return_inverse=True)
    relabel = relabel.reshape(-1)
    labels = relabel[labels]
    assigner.replace_centers(rounded, labels, relabel=relabel)
    np.testing.assert_array_equal(labels, _run_assign(X, rounded)[0])


def test_weighted_inertia_hand_checked():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0]])
    centers = np.array([[0.0, 0.0], [10.0, 10.0]])
    assert weighted_inertia(X, np.array([1.0, 2.0, 5.0]), centers, np.array([0, 0, 1])) == 50.0


# -- Hamerly bounds: priming and swapped centers --------------------------------------------

def _clustered_points(seed, n_samples=5000, n_features=3, n_clusters=24):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 255, size=(n_clusters, n_features))
    X = centers[rng.integers(n_clusters, size=n_samples)] + rng.normal(0, 12, (n_samples, n_features))
    return np.asfortranarray(np.rint(X)), rng.uniform(0, 255, size=(n_clusters, n_features))


@pytest.mark.parametrize("n_clusters", [8, 40], ids=["explicit", "expanded"])
def test_primed_assigner_gives_the_full_e_step(n_clusters):
    # Priming with valid but loose bounds (true distances widened by a random
    # margin, as a coarser level gives them) must not change a single label.
    X, centers = _clustered_points(1, n_clusters=n_clusters)
    labels, distances = _run_assign(X, centers)
    d = squared_distances(X, centers)
    d[np.arange(X.shape[0]), labels] = np.inf
    second = np.sqrt(d.min(axis=1))
    slack = np.random.default_rng(2).uniform(0, 20, X.shape[0])
    assigner = BoundedAssigner(X)
    primed = labels.copy()
    assigner.prime(centers, primed, lower=np.maximum(second - slack, 0), upper=np.sqrt(distances) + slack)
    moved = centers + np.random.default_rng(3).normal(0, 4, centers.shape)
    assigner(moved, primed)
    expected_labels, expected_distances = _run_assign(X, moved)
    np.testing.assert_array_equal(primed, expected_labels)
    np.testing.assert_array_equal(assigner.distances(moved, primed), expected_distances)


def test_assigner_with_swapped_centers_and_max_shift():
    # The rounded palette: centers replaced by rounded copies, in another order.
    X, centers = _clustered_points(4)
    assigner = BoundedAssigner(X)
    labels = np.empty(X.shape[0], dtype=np.intp)
    assigner(centers, labels)
    rounded = np.rint(centers)
    order = np.argsort(rounded[:, 0], kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    max_shift = float(np.sqrt(((rounded - centers) ** 2).sum(axis=1).max()))
    labels = inverse[labels]
    assigner.replace_centers(rounded[order], labels, max_shift=max_shift)
    expected_labels, _ = _run_assign(X, rounded[order])
    np.testing.assert_array_equal(labels, expected_labels)


def test_lloyd_single_primed_equals_unprimed():
    X, centers = _clustered_points(5)
    w = np.random.default_rng(6).integers(1, 9, X.shape[0]).astype(np.float64)
    plain = lloyd_single(X, w, centers, max_iter=100, tol=0.0)
    labels, distances = _run_assign(X, centers)
    assigner = BoundedAssigner(X)
    assigner.prime(centers, labels, lower=np.zeros(X.shape[0]), upper=np.sqrt(distances) + 1.0)
    primed = lloyd_single(X, w, centers, max_iter=100, tol=0.0, assigner=assigner, labels_init=labels)
    np.testing.assert_array_equal(primed[0], plain[0])
    np.testing.assert_array_equal(primed[2], plain[2])
    assert primed[1] == plain[1] and primed[3] == plain[3]


def test_replace_centers_needs_a_bound_on_the_moves_and_starts_fresh_without_bounds():
    X, centers = _clustered_points(7)
    fresh = BoundedAssigner(X)
    labels = np.empty(X.shape[0], dtype=np.intp)
    fresh.replace_centers(centers, labels)  # never called before: a full E-step
    np.testing.assert_array_equal(labels, _run_assign(X, centers)[0])
    with pytest.raises(ValueError, match="needs relabel or max_shift"):
        fresh.replace_centers(centers, labels)
