"""load_points (the user's CSV/TSV/text/NPY files) and make_points (seeded toy sets)."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from kmeans import KMeans, load_points, make_points
from kmeans.datasets import POINT_KINDS


def _npy(array, **options) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **options)
    return buffer.getvalue()


# -- load_points: what is accepted ----------------------------------------------------------

@pytest.mark.parametrize(
    "name, data",
    [("p.csv", b"1,2\n3,4\n-5.5,6e1\n"),
     ("p.csv", b"x,y\n1,2\n3,4\n-5.5,6e1\n"),
     ("p.csv", b" x , y \r\n 1 , 2 \r\n3,4\r\n-5.5,60\r\n"),
     ("p.tsv", b"x\ty\n1\t2\n3\t4\n-5.5\t60\n"),
     ("p.txt", b"1 2\n3    4\n  -5.5\t 60\n"),
     ("p.txt", b"# two columns\nx y\n\n1 2\n3 4\n# a comment\n-5.5 60\n"),
     ("P.CSV", b"\xef\xbb\xbfx,y\n1,2\n3,4\n-5.5,60\n"),
     ("p.csv", b"x;y\n1;2\n3,0;4\n-5,5;6e1\n"),
     ("p.csv", b"1;2\n3;4\n-5.5;60\n"),
     ("p.csv", b"x;1,y\n1,2\n3,4\n-5.5,60\n")],
    ids=["csv", "csv-header", "csv-spaces-crlf", "tsv-header", "whitespace-txt", "comments-blanks",
         "utf8-bom-uppercase-ext", "semicolons-decimal-commas", "semicolons-decimal-points",
         "semicolon-in-a-column-name"],
)
def test_text_formats(name, data):
    np.testing.assert_array_equal(load_points(data, name=name), [[1, 2], [3, 4], [-5.5, 60]])


def test_path_and_pathlike(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("a,b,c\n1,2,3\n")
    for source in (path, str(path)):
        X = load_points(source)
        assert X.dtype == np.float64
        np.testing.assert_array_equal(X, [[1, 2, 3]])


def test_npy_2d_and_1d():
    X = np.arange(6, dtype=np.int32).reshape(3, 2)
    np.testing.assert_array_equal(load_points(_npy(X), name="x.npy"), X)
    assert load_points(_npy(X), name="x.npy").dtype == np.float64
    np.testing.assert_array_equal(load_points(_npy(np.arange(3.0)), name="x.npy"), [[0], [1], [2]])


def test_single_column_and_min_features():
    np.testing.assert_array_equal(load_points(b"1\n2\n", name="x.csv"), [[1], [2]])
    with pytest.raises(ValueError, match=r"^x\.csv: the data has 1 column; at least 2 are needed"):
        load_points(b"1\n2\n", name="x.csv", min_features=2)
    with pytest.raises(ValueError, match=r"the data has 2 columns; at least 3 are needed"):
        load_points(b"1,2\n", name="x.csv", min_features=3)


# -- load_points: what is refused -----------------------------------------------------------

@pytest.mark.parametrize(
    "name, data, match",
    [("p.csv", b"x,y\n1,2\n3,4\n5\n6,7\n", r"^p\.csv: line 4 has 1 value but line 2 has 2"),
     ("p.txt", b"1 2 3\n4 5\n", r"line 2 has 2 values but line 1 has 3"),
     ("p.csv", b"1,2\n3,abc\n", r"^p\.csv: line 2, column 2: 'abc' is not a number"),
     ("p.csv", b"1,2\n3," + b"z" * 40 + b"\n", r"'z{20}\.\.\.' is not a number"),
     ("p.csv", b"1,2\n,4\n", r"line 2, column 1 is empty; every cell must hold a number"),
     ("p.csv", b"1,2\nnan,4\n", r"line 2, column 1 is 'nan'; only finite numbers.*NaN"),
     ("p.csv", b"1,2\n3,-inf\n", r"line 2, column 2 is '-inf'"),
     ("p.csv", b"1;2\n3;4;5\n", r"line 2 has 3 values but line 1 has 2"),
     ("p.csv", b"", r"^p\.csv: the file is empty"),
     ("p.csv", b"\n  \n# only a comment\n", r"the file has no data rows"),
     ("p.csv", b"x,y\n", r"the file has a header row but no data rows"),
     ("p.txt", b"\xff\xfe\x00\x01", r"the file is not text \(it is not valid UTF-8\)"),
     ("p.xlsx", b"1,2\n", r"^p\.xlsx: unknown file type '\.xlsx'; use \.csv, \.tsv, \.txt"),
     ("points", b"1,2\n", r"unknown file type '\(none\)'")],
    ids=["ragged", "ragged-txt", "non-numeric", "long-cell-shortened", "empty-cell", "nan", "inf",
         "ragged-semicolons", "empty-file", "blank-lines-only", "header-only", "not-utf8", "unknown-extension",
         "no-extension"],
)
def test_bad_text_files(name, data, match):
    with pytest.raises(ValueError, match=match):
        load_points(data, name=name)


@pytest.mark.parametrize(
    "data, match",
    [(_npy(np.array([{"a": 1}, None], dtype=object), allow_pickle=True),
      r"^x\.npy: the \.npy file holds Python objects, which are not loaded"),
     (_npy(np.zeros((2, 2, 2))), r"the array must be 1-D or 2-D, got shape \(2, 2, 2\)"),
     (_npy(np.zeros((0, 3))), r"the array is empty \(shape \(0, 3\)\)"),
     (_npy(np.array([[1.0, np.nan]])), r"the data contains NaN or infinity"),
     (_npy(np.array(["a", "b"])), r"the data must hold numbers"),
     (_npy(np.arange(6.0))[:-4], r"not a valid \.npy file"),
     (b"garbage bytes", r"not a valid \.npy file"),
     (b"\x80\x04K\x01.", r"not a valid \.npy file")],
    ids=["object-array", "3-D", "empty-array", "nan", "strings", "truncated", "garbage", "pickle"],
)
def test_bad_npy_files(data, match):
    with pytest.raises(ValueError, match=match):
        load_points(data, name="x.npy")


def test_npz_archive_named_npy_is_a_value_error():
    # np.load returns an NpzFile (not an array) for a zip archive: before the
    # fix this escaped as AttributeError ('NpzFile' object has no attribute 'ndim').
    buffer = io.BytesIO()
    np.savez(buffer, X=np.arange(6.0).reshape(3, 2))
    with pytest.raises(ValueError, match=r"^x\.npy: not a valid \.npy file"):
        load_points(buffer.getvalue(), name="x.npy")


def test_bytes_need_a_name():
    with pytest.raises(ValueError, match=r"give the file name with the bytes"):
        load_points(b"1,2\n")


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_points(tmp_path / "nope.csv")


# -- make_points ----------------------------------------------------------------------------

KINDS = list(POINT_KINDS)


def test_point_kinds_in_menu_order():
    assert POINT_KINDS == ("blobs", "unequal", "elongated", "noise", "rings", "moons", "smiley",
                           "anisotropic", "outliers")


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_make_points_is_deterministic_by_seed(kind):
    X, y = make_points(kind, n_points=200, seed=4)
    again_X, again_y = make_points(kind, n_points=200, seed=4)
    np.testing.assert_array_equal(X, again_X)
    np.testing.assert_array_equal(y, again_y)
    other_X, _ = make_points(kind, n_points=200, seed=5)
    assert not np.array_equal(X, other_X)
    assert X.shape == (200, 2)
    assert y.shape == (200,)
    assert np.isfinite(X).all()


@pytest.mark.parametrize(
    "kind, groups, sizes",
    [("blobs", 3, [100, 100, 101]), ("unequal", 3, [210, 45, 46]),
     ("elongated", 3, [100, 100, 101]), ("noise", 1, [301]), ("rings", 2, [150, 151]),
     ("moons", 2, [150, 151]), ("smiley", 4, [135, 45, 45, 76]), ("anisotropic", 3, [100, 100, 101]),
     ("outliers", 4, [95, 95, 96, 15])],
    ids=KINDS,
)
def test_make_points_groups(kind, groups, sizes):
    _, y = make_points(kind, n_points=301, seed=0)
    assert np.bincount(y).tolist() == sizes
    assert len(set(y.tolist())) == groups


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
@pytest.mark.parametrize("n_points", [0, 1, 2, 3, 7, 1001])
def test_make_points_honours_n_points(kind, n_points):
    X, y = make_points(kind, n_points=n_points, seed=1)
    assert X.shape == (n_points, 2) and y.shape == (n_points,)
    assert np.isfinite(X).all()


def test_make_points_blobs_are_separated():
    X, y = make_points("blobs", n_points=300, seed=0)
    means = np.array([X[y == g].mean(axis=0) for g in range(3)])
    np.testing.assert_allclose(means, [(1.8, 5.0), (6.0, 3.0), (3.2, 1.0)], atol=0.15)


def test_make_points_noise_range():
    X, _ = make_points("noise", n_points=500, seed=1)
    assert X.min() >= 0 and X.max() < 8


# The sets that show where K-means fails: each is what it says, and K-means with the right
# K does not find its groups.

def _agreement(truth, labels):
    """Share of points whose K-means label maps to their group, under the best such mapping."""
    n_groups = truth.max() + 1
    return max(np.mean(np.array(mapping)[labels] == truth)
               for mapping in itertools.permutations(range(n_groups)))


def _gap(A, B):
    """Smallest distance between a point of A and a point of B."""
    return np.sqrt(((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2)).min()


def _kmeans_labels(X, k):
    return KMeans(k, random_state=0).fit(X).labels_


def test_rings_are_concentric_and_kmeans_cuts_them_in_half():
    X, y = make_points("rings", n_points=400, seed=0)
    radius = np.hypot(*(X - X.mean(axis=0)).T)
    assert radius[y == 0].max() < radius[y == 1].min()  # the radii separate the rings
    assert _gap(X[y == 0], X[y == 1]) > 0.5
    # K-means with K=2 splits the plane by a straight line: half of each ring on each side.
    assert _agreement(y, _kmeans_labels(X, 2)) < 0.7


def test_moons_interleave_and_kmeans_mixes_them():
    X, y = make_points("moons", n_points=400, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    # Each moon reaches into the other's hollow: neither x nor y alone separates them ...
    assert np.percentile(upper[:, 0], 95) > np.percentile(lower[:, 0], 5) + 2
    assert np.percentile(upper[:, 1], 5) < np.percentile(lower[:, 1], 95) - 0.5
    # ... yet a gap runs between them all along.
    assert _gap(upper, lower) > 0.3
    assert _agreement(y, _kmeans_labels(X, 2)) < 0.9


def test_smiley_has_a_face_and_kmeans_does_not_see_it():
    X, y = make_points("smiley", n_points=400, seed=0)
    centre = X[y == 0].mean(axis=0)
    radius = np.hypot(*(X - centre).T)
    assert radius[y == 0].min() > radius[y != 0].max()  # eyes and mouth inside the outline
    eyes = [X[y == g].mean(axis=0) for g in (1, 2)]
    assert eyes[0][0] < centre[0] < eyes[1][0] and min(eyes[0][1], eyes[1][1]) > centre[1]
    assert X[y == 3][:, 1].max() < centre[1]  # the mouth below the middle
    assert min(_gap(X[y == g], X[y != g]) for g in range(4)) > 0.5
    assert _agreement(y, _kmeans_labels(X, 4)) < 0.8


def test_anisotropic_groups_are_long_parallel_and_kmeans_cuts_across():
    X, y = make_points("anisotropic", n_points=600, seed=0)
    axes = []
    for g in range(3):
        spread, directions = np.linalg.eigh(np.cov(X[y == g].T))
        assert spread[1] > 16 * spread[0]  # 4 times longer than wide
        axes.append(directions[:, 1])
    assert all(abs(axes[0] @ axis) > 0.99 for axis in axes)  # parallel
    assert _agreement(y, _kmeans_labels(X, 3)) < 0.8


def test_outliers_are_far_and_pull_the_centroids():
    X, y = make_points("outliers", n_points=300, seed=0)
    outliers = y == 3
    assert outliers.sum() == 15
    means = np.array([X[y == g].mean(axis=0) for g in range(3)])
    nearest = np.sqrt(((X[outliers, None, :] - means[None]) ** 2).sum(axis=2)).min(axis=1)
    assert nearest.min() > 4.0
    # Without the outliers K-means finds the blobs' means; with them, its centroids move.
    clean = KMeans(3, random_state=0).fit(X[~outliers]).cluster_centers_
    pulled = KMeans(3, random_state=0).fit(X).cluster_centers_
    shift = lambda centers: np.sqrt(((centers[:, None] - means[None]) ** 2).sum(axis=2)).min(axis=1).max()
    assert shift(clean) < 1e-9 and shift(pulled) > 0.2
    # Even a fourth cluster does not gather them: they lie all around, so their mean is in the middle.
    assert np.bincount(_kmeans_labels(X, 4)[outliers]).max() < outliers.sum()


def test_make_points_unknown_kind():
    with pytest.raises(ValueError, match=r"Unknown kind 'stars'; use one of: blobs, unequal, elongated, noise, "
                                         r"rings, moons, smiley, anisotropic, outliers$"):
        make_points("stars")
