"""load_points (the user's CSV/TSV/text/NPY files) and make_points (seeded toy sets)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from kmeans import load_points, make_points


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
     ("P.CSV", b"\xef\xbb\xbfx,y\n1,2\n3,4\n-5.5,60\n")],
    ids=["csv", "csv-header", "csv-spaces-crlf", "tsv-header", "whitespace-txt", "comments-blanks",
         "utf8-bom-uppercase-ext"],
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
    [("p.csv", b"x,y\n1,2\n3,4\n5\n6,7\n", r"^p\.csv: line 4 has 1 values but line 2 has 2"),
     ("p.txt", b"1 2 3\n4 5\n", r"line 2 has 2 values but line 1 has 3"),
     ("p.csv", b"1,2\n3,abc\n", r"^p\.csv: line 2, column 2: 'abc' is not a number"),
     ("p.csv", b"1,2\n3," + b"z" * 40 + b"\n", r"'z{20}\.\.\.' is not a number"),
     ("p.csv", b"1,2\n,4\n", r"line 2, column 1 is empty; every cell must hold a number"),
     ("p.csv", b"1,2\nnan,4\n", r"line 2, column 1 is 'nan'; only finite numbers.*NaN"),
     ("p.csv", b"1,2\n3,-inf\n", r"line 2, column 2 is '-inf'"),
     ("p.csv", b"", r"^p\.csv: the file is empty"),
     ("p.csv", b"\n  \n# only a comment\n", r"the file has no data rows"),
     ("p.csv", b"x,y\n", r"the file has a header row but no data rows"),
     ("p.txt", b"\xff\xfe\x00\x01", r"the file is not text \(it is not valid UTF-8\)"),
     ("p.xlsx", b"1,2\n", r"^p\.xlsx: unknown file type '\.xlsx'; use \.csv, \.tsv, \.txt"),
     ("points", b"1,2\n", r"unknown file type '\(none\)'")],
    ids=["ragged", "ragged-txt", "non-numeric", "long-cell-shortened", "empty-cell", "nan", "inf",
         "empty-file", "blank-lines-only", "header-only", "not-utf8", "unknown-extension",
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

KINDS = ["blobs", "unequal", "elongated", "noise"]


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
     ("elongated", 3, [100, 100, 101]), ("noise", 1, [301])],
    ids=KINDS,
)
def test_make_points_groups(kind, groups, sizes):
    _, y = make_points(kind, n_points=301, seed=0)
    assert np.bincount(y).tolist() == sizes
    assert len(set(y.tolist())) == groups


def test_make_points_blobs_are_separated():
    X, y = make_points("blobs", n_points=300, seed=0)
    means = np.array([X[y == g].mean(axis=0) for g in range(3)])
    np.testing.assert_allclose(means, [(1.8, 5.0), (6.0, 3.0), (3.2, 1.0)], atol=0.15)


def test_make_points_noise_range():
    X, _ = make_points("noise", n_points=500, seed=1)
    assert X.min() >= 0 and X.max() < 8


def test_make_points_unknown_kind():
    with pytest.raises(ValueError, match=r"Unknown kind 'moons'; use 'blobs'"):
        make_points("moons")
