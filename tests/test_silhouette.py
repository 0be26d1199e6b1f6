"""silhouette_samples and silhouette_score, against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from kmeans import KMeans, make_points, silhouette_samples, silhouette_score

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def _blobs():
    X, y = make_points("blobs", n_points=300, seed=0)
    return X, y


def _singleton():
    # A lone point far away is a cluster of its own: its silhouette is 0.
    X, y = make_points("blobs", n_points=60, seed=1)
    return np.vstack([X, [[20.0, 20.0]]]), np.append(y, 3)


def _three_d():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(c, 0.7, size=(40, 3)) for c in ([0, 0, 0], [3, 0, 1], [0, 4, -2])])
    return X, np.repeat([0, 1, 2], 40)


def _ties():
    # A square lattice with duplicated points: many equal distances, and a = b = 0 for the
    # duplicates split between two clusters.
    grid = np.array([[x, y] for x in range(4) for y in range(4)], dtype=np.float64)
    X = np.vstack([grid, grid[:4]])
    labels = np.concatenate([(grid[:, 0] >= 2).astype(int), [1, 1, 1, 1]])
    return X, labels


def _duplicates():
    # Two clusters at the very same spot: a = b = 0 there, and the silhouette is 0.
    X = np.array([[0.0, 0.0]] * 4 + [[5.0, 5.0]] * 2 + [[5.0, 6.0]])
    return X, np.array([0, 0, 1, 1, 2, 2, 2])


def _wide():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 12)) + np.repeat(np.eye(12)[:3] * 4, 30, axis=0)
    return X, np.repeat([5, 9, 7], 30)  # labels need not be 0 .. n_labels - 1


def _kmeans_labels():
    X, _ = make_points("unequal", n_points=250, seed=4)
    return X, KMeans(4, random_state=0).fit(X).labels_


DATA = {"blobs": _blobs, "singleton": _singleton, "3-d": _three_d, "ties": _ties, "duplicates": _duplicates, "12-d": _wide,
        "kmeans-labels": _kmeans_labels}


@pytest.mark.parametrize("name", sorted(DATA))
def test_equal_to_sklearn(name):
    X, labels = DATA[name]()
    np.testing.assert_allclose(silhouette_samples(X, labels),
                               sklearn_metrics.silhouette_samples(X, labels), rtol=0, atol=1e-9)
    assert silhouette_score(X, labels) == pytest.approx(sklearn_metrics.silhouette_score(X, labels),
                                                        rel=0, abs=1e-9)


def test_a_lone_point_scores_zero():
    X, labels = _singleton()
    assert silhouette_samples(X, labels)[-1] == 0.0


def test_string_labels():
    X, labels = _three_d()
    names = np.array(["a", "b", "c"])[labels]
    np.testing.assert_array_equal(silhouette_samples(X, names), silhouette_samples(X, labels))


def test_sample_size_uses_the_seeded_rows():
    X, labels = _kmeans_labels()
    rows = np.random.default_rng(7).permutation(X.shape[0])[:100]
    expected = sklearn_metrics.silhouette_score(X[rows], labels[rows])
    assert silhouette_score(X, labels, sample_size=100, seed=7) == pytest.approx(expected, rel=0, abs=1e-9)
    assert silhouette_score(X, labels, sample_size=100, seed=7) == silhouette_score(
        X, labels, sample_size=100, seed=np.random.default_rng(7))
    # A sample as big as the data is the data.
    assert silhouette_score(X, labels, sample_size=250, seed=7) == silhouette_score(X, labels)


def test_memory_is_bounded_by_blocks(monkeypatch):
    # Blocks of 64 rows give the same values as one block.
    X, labels = _kmeans_labels()
    whole = silhouette_samples(X, labels)
    import kmeans.silhouette

    monkeypatch.setattr(kmeans.silhouette, "block_rows", lambda bytes_per_row: 7)
    np.testing.assert_array_equal(silhouette_samples(X, labels), whole)


@pytest.mark.parametrize(
    "labels, message",
    [([0, 0, 0, 0, 0, 0], r"needs 2 to n_samples - 1 = 5 different labels; got 1"),
     ([0, 1, 2, 3, 4, 5], r"needs 2 to n_samples - 1 = 5 different labels; got 6"),
     ([0, 1, 0, 1], r"one label per sample: shape \(6,\), got shape \(4,\)"),
     ([[0, 1, 0], [1, 0, 1]], r"one label per sample: shape \(6,\), got shape \(2, 3\)"),
     ([0, 1, 0, 1, np.nan, 0], r"labels must not hold NaN")],
    ids=["one-label", "every-point-its-own", "too-few", "2-d", "nan"],
)
def test_bad_labels_are_refused(six_points, labels, message):
    with pytest.raises(ValueError, match=message):
        silhouette_samples(six_points, labels)
    with pytest.raises(ValueError, match=message):
        silhouette_score(six_points, labels)


def test_a_sample_with_one_label_is_refused(six_points):
    with pytest.raises(ValueError, match=r"got 1"):
        silhouette_score(six_points, [0, 0, 0, 0, 0, 1], sample_size=2, seed=0)
    with pytest.raises(ValueError, match=r"sample_size must be an integer >= 1, got 0"):
        silhouette_score(six_points, [0, 0, 0, 1, 1, 1], sample_size=0)
