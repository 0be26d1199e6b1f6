"""The KMeans estimator: interface, validation, empty clusters, parity with scikit-learn,
and invariants checked with hypothesis."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kmeans import KMeans
from kmeans._validation import MIN_MAGNITUDE
from sklearn.cluster import KMeans as SKLearnKMeans
from sklearn.datasets import make_blobs


def _blobs(seed, n_samples=300, n_features=2, centers=4):
    X, _ = make_blobs(n_samples, n_features=n_features, centers=centers, random_state=seed)
    return X


# -- the estimator interface ----------------------------------------------------------------

def test_six_points_expected_results(six_points):
    km = KMeans(n_clusters=2, init=[[1, 2], [10, 0]]).fit(six_points)
    np.testing.assert_array_equal(km.cluster_centers_, [[1, 2], [10, 2]])
    np.testing.assert_array_equal(km.labels_, [0, 0, 0, 1, 1, 1])
    assert km.inertia_ == 16.0
    assert km.n_iter_ == 2
    assert km.n_features_in_ == 2
    assert km.labels_.dtype == np.int32


def test_init_only_stores_parameters():
    km = KMeans(5, init="random", n_init=3, max_iter=7, tol=0.5, random_state=1)
    assert (km.n_clusters, km.init, km.n_init, km.max_iter, km.tol, km.random_state) == (
        5, "random", 3, 7, 0.5, 1)
    assert not hasattr(km, "cluster_centers_")
    assert repr(km) == ("KMeans(n_clusters=5, init='random', n_init=3, max_iter=7, tol=0.5, "
                        "random_state=1)")


def test_fit_returns_self_and_methods_agree():
    X = _blobs(0)
    km = KMeans(4, random_state=0)
    assert km.fit(X) is km
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    distances = km.transform(X)
    assert distances.shape == (300, 4)
    np.testing.assert_array_equal(distances.argmin(axis=1), km.labels_)
    np.testing.assert_allclose(
        distances, np.linalg.norm(X[:, None, :] - km.cluster_centers_[None], axis=2), rtol=1e-12
    )
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-12)
    np.testing.assert_array_equal(KMeans(4, random_state=0).fit_predict(X), km.labels_)
    np.testing.assert_allclose(KMeans(4, random_state=0).fit_transform(X), distances)


def test_score_with_sample_weight():
    X = _blobs(1)
    weights = np.random.default_rng(1).integers(1, 4, size=300).astype(float)
    km = KMeans(4, random_state=0).fit(X, sample_weight=weights)
    assert km.score(X, sample_weight=weights) == pytest.approx(-km.inertia_, rel=1e-12)
    assert km.score(X) == pytest.approx(
        -((X - km.cluster_centers_[km.labels_]) ** 2).sum(), rel=1e-12
    )


def test_predict_on_new_points(six_points):
    km = KMeans(2, random_state=0).fit(six_points)
    left = km.labels_[0]
    np.testing.assert_array_equal(km.predict([[0, 0], [12, 3], [2, 2]]), [left, 1 - left, left])


@pytest.mark.parametrize(
    "init, n_init, expected_runs",
    [("k-means++", "auto", 1), ("random", "auto", 10), ("random", 3, 3), ("k-means++", 4, 4),
     ("array", "auto", 1), ("array", 5, 1)],
    ids=["kmeans++-auto", "random-auto", "random-3", "kmeans++-4", "array-auto", "array-5"],
)
def test_n_init_counts_runs(init, n_init, expected_runs):
    X = _blobs(2)
    if init == "array":
        init = X[:4]
    starts = []
    KMeans(4, init=init, n_init=n_init, random_state=0).fit(
        X, callback=lambda n_iter, centers, inertia: starts.append(n_iter) if n_iter == 0 else None
    )
    assert len(starts) == expected_runs


def test_best_of_several_runs_is_kept():
    X = _blobs(3, centers=6)
    inertias = []

    def record(n_iter, centers, inertia):
        if n_iter == 0:
            inertias.append([])
        elif inertia is not None:
            inertias[-1].append(inertia)

    km = KMeans(6, init="random", n_init=10, random_state=3).fit(X, callback=record)
    assert len(inertias) == 10
    # The first of the ten runs is the run a single init draws from the same seed.
    first_run = KMeans(6, init="random", n_init=1, random_state=3).fit(X)
    assert km.inertia_ <= first_run.inertia_ + 1e-9
    # The kept inertia is the smallest final inertia over the runs (each at most
    # that run's last recorded iteration inertia).
    assert km.inertia_ <= min(run[-1] for run in inertias) + 1e-9


def test_random_init_is_seeded():
    X = _blobs(4)
    first = KMeans(4, init="random", random_state=5).fit(X)
    second = KMeans(4, init="random", random_state=5).fit(X)
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    assert first.n_iter_ == second.n_iter_


def test_tol_zero_runs_to_strict_convergence():
    X = _blobs(5, n_samples=500, centers=5)
    km = KMeans(5, init=X[:5], tol=0, max_iter=1000).fit(X)
    # Strict convergence: one more Lloyd step changes nothing.
    again = KMeans(5, init=km.cluster_centers_, max_iter=1, tol=0).fit(X)
    np.testing.assert_array_equal(again.labels_, km.labels_)
    np.testing.assert_allclose(again.cluster_centers_, km.cluster_centers_, rtol=0, atol=1e-12)


def test_max_iter_one():
    X = _blobs(6)
    km = KMeans(4, init=X[:4], max_iter=1).fit(X)
    assert km.n_iter_ == 1
    # The labels are those of the returned centers (the final E-step).
    np.testing.assert_array_equal(km.labels_, km.predict(X))


def test_init_array_is_not_modified():
    X = _blobs(7)
    init = X[:4].copy()
    before = init.copy()
    KMeans(4, init=init).fit(X)
    np.testing.assert_array_equal(init, before)


def test_fit_accepts_lists_ints_and_bools():
    km = KMeans(2, random_state=0).fit([[True, False], [True, True], [False, False], [False, True]])
    assert km.cluster_centers_.shape == (2, 2)
    km = KMeans(2, random_state=0).fit(np.array([[0, 0], [0, 1], [9, 9], [9, 8]], dtype=np.int8))
    assert sorted(km.cluster_centers_.tolist()) == [[0.0, 0.5], [9.0, 8.5]]


# -- empty clusters -------------------------------------------------------------------------

def test_empty_cluster_from_a_far_init_is_relocated(six_points):
    km = KMeans(3, init=[[1, 2], [10, 2], [1000, 1000]]).fit(six_points)
    assert not np.isnan(km.cluster_centers_).any()
    assert np.bincount(km.labels_, minlength=3).min() >= 1
    np.testing.assert_array_equal(km.predict(six_points), km.labels_)


def test_empty_cluster_with_duplicate_init_centers():
    X = _blobs(8, centers=3)
    init = np.vstack([X[:2], X[:1]])  # centers 0 and 2 coincide: 2 starts empty (ties -> 0)
    km = KMeans(3, init=init).fit(X)
    assert not np.isnan(km.cluster_centers_).any()
    assert np.bincount(km.labels_, minlength=3).min() >= 1


def test_empty_cluster_matches_sklearn():
    # One empty cluster, no tie for the farthest point: both move the far center
    # onto the point farthest from its own center (scikit-learn's rule). With
    # ties the choice among the tied points is an implementation detail.
    X = _blobs(9, n_samples=400, centers=3)
    init = np.vstack([X[:3], [[1000.0, 1000.0]]])
    starts = []
    ours = KMeans(4, init=init, n_init=1).fit(
        X, callback=lambda n_iter, centers, inertia: starts.append(centers.copy()))
    ref = SKLearnKMeans(4, init=init, n_init=1, algorithm="lloyd").fit(X)
    _assert_same_run(ours, ref)
    # The far center left after the first iteration and landed on a data point.
    assert np.isclose(X, starts[1][3], rtol=0, atol=1e-9).all(axis=1).sum() == 1


# -- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "X, params, error, match",
    [([[0, 0]] * 5 + [[1, 1]] * 5, {"n_clusters": 3}, ValueError,
      r"only 2 distinct points, fewer than n_clusters=3"),
     ([[0, 0]] * 5 + [[1, 1]] * 5, {"n_clusters": 3, "init": "random"}, ValueError,
      r"only 2 distinct points"),
     ([[0, 0], [1, 1]], {"n_clusters": 3}, ValueError, r"n_samples=2 should be >= n_clusters=3"),
     ([[0, 0], [1, 1]], {"n_clusters": 0}, ValueError, r"n_clusters=0 should be >= 1"),
     ([[0, 0], [1, 1]], {"n_clusters": -2}, ValueError, r"n_clusters=-2 should be >= 1"),
     ([[0, 0], [1, 1]], {"n_clusters": 1.5}, TypeError, r"n_clusters must be an integer"),
     ([[0, 0], [1, np.nan]], {"n_clusters": 1}, ValueError, r"NaN.*row 1, column 1"),
     ([[0, 0], [1, np.inf]], {"n_clusters": 1}, ValueError, r"NaN or infinity"),
     ([[0, 0], [1, -3e154]], {"n_clusters": 1}, ValueError,
      r"X holds -3e\+154 \(row 1, column 1\); values up to 1e\+100 in size are accepted.*Scale the data down"),
     ([[0, 1e-160], [2e-170, 0]], {"n_clusters": 1}, ValueError,
      r"every value of X is below 1e-100 in size \(the largest is 1e-160\).*Scale the data up"),
     ([["a", "b"], ["c", "d"]], {"n_clusters": 1}, TypeError, r"must hold numbers"),
     ([1.0, 2.0, 3.0], {"n_clusters": 1}, ValueError, r"must be 2-D.*got 1-D.*reshape"),
     (np.zeros((2, 2, 2)), {"n_clusters": 1}, ValueError, r"must be 2-D.*got 3-D"),
     (np.zeros((0, 2)), {"n_clusters": 1}, ValueError, r"X is empty"),
     ([[0, 0], [1]], {"n_clusters": 1}, ValueError, r"rectangular table"),
     ([[0, 0], [1, 1]], {"n_clusters": 1, "init": "spectral"}, ValueError,
      r"Unknown init 'spectral'"),
     ([[0, 0], [1, 1]], {"n_clusters": 2, "init": [[0, 0]]}, ValueError,
      r"init has shape \(1, 2\), but should be \(n_clusters, n_features\) = \(2, 2\)"),
     ([[0, 0], [1, 1]], {"n_clusters": 1, "init": [[0, 0, 0]]}, ValueError,
      r"init has shape \(1, 3\)"),
     ([[0, 0], [1, 1]], {"n_clusters": 1, "max_iter": 0}, ValueError,
      r"max_iter must be an integer >= 1"),
     ([[0, 0], [1, 1]], {"n_clusters": 1, "n_init": 0}, ValueError,
      r"n_init must be an integer >= 1"),
     ([[0, 0], [1, 1]], {"n_clusters": 1, "tol": -1.0}, ValueError,
      r"tol must be a finite number >= 0"),
     ([[0, 0], [1, 1]], {"n_clusters": 1, "random_state": "x"}, TypeError, r"seed must be None")],
    ids=["few-distinct", "few-distinct-random", "n<k", "k0", "k-negative", "k-float", "nan", "inf", "huge", "tiny",
         "strings", "1-D", "3-D", "no-rows", "ragged", "unknown-init", "init-rows", "init-features",
         "max_iter0", "n_init0", "tol-negative", "bad-seed"],
)
def test_fit_rejects_bad_input(X, params, error, match):
    with pytest.raises(error, match=match):
        KMeans(**params).fit(X)


def test_fit_rejects_too_few_weighted_samples():
    match = r"only 1 sample has a weight > 0, fewer than n_clusters=2"
    with pytest.raises(ValueError, match=match):
        KMeans(2).fit([[0, 0], [1, 1], [2, 2]], sample_weight=[0, 1, 0])


def test_few_distinct_points_counts_only_weighted_rows():
    X = [[0, 0], [1, 1], [2, 2], [2, 2]]
    with pytest.raises(ValueError, match=r"only 2 distinct points"):
        KMeans(3, init=[[0, 0], [2, 2], [2, 2]]).fit(X, sample_weight=[0, 1, 1, 1])


@pytest.mark.parametrize("method", ["predict", "transform", "score"], ids=str)
def test_not_fitted(method):
    with pytest.raises(ValueError, match=r"not fitted yet; call fit\(X\) first"):
        getattr(KMeans(2), method)([[0, 0]])


@pytest.mark.parametrize("method", ["predict", "transform", "score"], ids=str)
def test_wrong_number_of_features(six_points, method):
    km = KMeans(2, random_state=0).fit(six_points)
    with pytest.raises(ValueError, match=r"X has 3 features, but KMeans was fitted with 2"):
        getattr(km, method)([[0, 0, 0]])


# -- parity with scikit-learn (reference only) ----------------------------------------------

def _assert_same_run(ours, ref):
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-6)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)


BLOB_CASES = [
    (0, 500, 2, 3, 3), (1, 2000, 3, 8, 8), (2, 3000, 5, 6, 10), (3, 1500, 12, 5, 7),
    (4, 1000, 50, 4, 4), (5, 800, 2, 10, 4),
]


@pytest.mark.parametrize(
    "seed, n_samples, n_features, true_centers, n_clusters", BLOB_CASES,
    ids=[f"seed{c[0]}-{c[1]}x{c[2]}-k{c[4]}" for c in BLOB_CASES],
)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_same_run_as_sklearn_on_blobs(seed, n_samples, n_features, true_centers, n_clusters,
                                      weighted):
    X, _ = make_blobs(n_samples, n_features=n_features, centers=true_centers, cluster_std=2.0,
                      random_state=seed)
    rng = np.random.default_rng(seed)
    init = X[rng.choice(n_samples, n_clusters, replace=False)]
    weights = rng.uniform(0.5, 3.0, size=n_samples) if weighted else None
    ours = KMeans(n_clusters, init=init, n_init=1).fit(X, sample_weight=weights)
    ref = SKLearnKMeans(n_clusters, init=init, n_init=1, algorithm="lloyd").fit(
        X, sample_weight=weights)
    _assert_same_run(ours, ref)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_same_run_as_sklearn_on_photo_pixels(china_pixels, weighted):
    rng = np.random.default_rng(1)
    init = china_pixels[rng.choice(china_pixels.shape[0], 16, replace=False)]
    weights = rng.integers(1, 5, size=china_pixels.shape[0]).astype(float) if weighted else None
    ours = KMeans(16, init=init, n_init=1).fit(china_pixels, sample_weight=weights)
    ref = SKLearnKMeans(16, init=init, n_init=1, algorithm="lloyd").fit(
        china_pixels, sample_weight=weights)
    _assert_same_run(ours, ref)
    assert ours.n_iter_ > 10  # a real run, not an immediate stop


@pytest.mark.parametrize("data", ["blobs", "photo"], ids=["blobs-3000x4-k10", "photo-10000px-k16"])
def test_kmeans_plusplus_inertia_close_to_sklearn(china_pixels, data):
    if data == "blobs":
        X, n_clusters = _blobs(11, n_samples=3000, n_features=4, centers=10), 10
    else:
        X, n_clusters = china_pixels[:10_000], 16
    ours = KMeans(n_clusters, init="k-means++", n_init=10, random_state=0).fit(X)
    ref = SKLearnKMeans(n_clusters, init="k-means++", n_init=10, random_state=0).fit(X)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=0.01)


# -- invariants (hypothesis) ----------------------------------------------------------------

def _data(draw, min_rows=2, max_rows=40, max_features=4):
    """Hypothesis data: a float table whose values are all different (so rows are distinct)."""
    n_features = draw(st.integers(1, max_features))
    n_samples = draw(st.integers(min_rows, max_rows))
    X = draw(hnp.arrays(
        np.float64, (n_samples, n_features), unique=True,
        elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    ))
    # Data whose values are all below MIN_MAGNITUDE is refused (its squared distances round to 0).
    assume(np.abs(X).max() >= MIN_MAGNITUDE)
    return X


@st.composite
def problems(draw):
    X = _data(draw)
    n_clusters = draw(st.integers(1, min(6, X.shape[0])))
    init = draw(st.sampled_from(["k-means++", "random"]))
    seed = draw(st.integers(0, 2**16))
    return X, n_clusters, init, seed


def _scale(X):
    return 1.0 + float((X**2).sum())


@settings(max_examples=40)
@given(problems())
def test_inertia_never_increases(problem):
    X, n_clusters, init, seed = problem
    inertias = []

    def record(n_iter, centers, inertia):
        if n_iter == 0:
            inertias.append([])
        else:
            inertias[-1].append(inertia)

    km = KMeans(n_clusters, init=init, n_init=2, tol=0, random_state=seed).fit(X, callback=record)
    slack = 1e-9 * _scale(X)
    for run in inertias:
        assert all(later <= earlier + slack for earlier, later in itertools.pairwise(run))
    assert km.inertia_ <= min(run[-1] for run in inertias) + slack


@settings(max_examples=40)
@given(problems())
def test_labels_index_a_center_and_are_the_argmin(problem):
    X, n_clusters, init, seed = problem
    km = KMeans(n_clusters, init=init, random_state=seed).fit(X)
    labels = km.labels_
    assert labels.shape == (X.shape[0],)
    assert ((labels >= 0) & (labels < n_clusters)).all()
    assert not np.isnan(km.cluster_centers_).any()
    distances = ((X[:, None, :] - km.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
    assigned = distances[np.arange(X.shape[0]), labels]
    # The label is a nearest center (up to rounding in the last bits).
    np.testing.assert_array_less(assigned, distances.min(axis=1) + 1e-9 * _scale(X))
    np.testing.assert_array_equal(km.predict(X), labels)
    assert km.inertia_ == pytest.approx(assigned.sum(), rel=1e-9, abs=1e-9)


@settings(max_examples=30)
@given(problems())
def test_same_seed_gives_bit_identical_results(problem):
    X, n_clusters, init, seed = problem
    first = KMeans(n_clusters, init=init, n_init=2, random_state=seed).fit(X)
    second = KMeans(n_clusters, init=init, n_init=2, random_state=seed).fit(X)
    assert first.cluster_centers_.tobytes() == second.cluster_centers_.tobytes()
    assert first.labels_.tobytes() == second.labels_.tobytes()
    assert first.inertia_ == second.inertia_
    assert first.n_iter_ == second.n_iter_


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**16),
    n_samples=st.integers(4, 40),
    n_features=st.integers(1, 4),
    n_clusters=st.integers(1, 4),
    data=st.data(),
)
def test_integer_weight_equals_repeated_copies(seed, n_samples, n_features, n_clusters, data):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.1, 10)
    weights = np.array(data.draw(st.lists(st.integers(1, 4), min_size=n_samples,
                                          max_size=n_samples)))
    init = X[rng.choice(n_samples, n_clusters, replace=False)]
    # tol=0: the tolerance is scaled by the (unweighted) variance of X, which
    # differs between the two forms; the stopping rule must not depend on it.
    weighted = KMeans(n_clusters, init=init, tol=0).fit(X, sample_weight=weights)
    repeated = KMeans(n_clusters, init=init, tol=0).fit(np.repeat(X, weights, axis=0))
    np.testing.assert_allclose(weighted.cluster_centers_, repeated.cluster_centers_,
                               rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.repeat(weighted.labels_, weights), repeated.labels_)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-9, abs=1e-12)
    assert weighted.n_iter_ == repeated.n_iter_


def test_data_as_large_as_accepted_gives_finite_results():
    # Right at the limit, squared distances still fit in a float64: no inf, no NaN, no warning.
    X = np.array([[1e100, 0.0], [0.9e100, 1.0], [-1e100, 0.0], [-0.9e100, 1.0]])
    model = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    assert np.isfinite(model.inertia_) and np.isfinite(model.cluster_centers_).all()
    assert sorted(np.bincount(model.labels_).tolist()) == [2, 2]
    assert model.labels_[0] == model.labels_[1] != model.labels_[2] == model.labels_[3]
