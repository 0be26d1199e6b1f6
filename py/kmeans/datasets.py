"""Data for clustering: the user's files (CSV, TSV, text, NPY) and seeded toy sets."""

from __future__ import annotations

import io
import os

import numpy as np

from ._validation import as_rng, check_data, count_of

#: File types :func:`load_points` reads, for error messages.
ACCEPTED_POINT_FILES = ".csv, .tsv, .txt (numbers separated by commas, semicolons, tabs or spaces) or .npy"


def _parse_number(cell: str, line_number: int, column: int) -> float:
    try:
        return float(cell)
    except ValueError:
        shown = cell if len(cell) <= 20 else cell[:20] + "..."
        raise ValueError(
            f"line {line_number}, column {column + 1}: {shown!r} is not a number"
            if cell
            else f"line {line_number}, column {column + 1} is empty; every cell must hold a number"
        ) from None


def _split(line: str, delimiter: str | None) -> list[str]:
    cells = [cell.strip() for cell in line.split(delimiter)]
    if delimiter == ";":
        # Semicolons separate the cells where a comma is the decimal mark (spreadsheets in much of
        # Europe write "1,5;2"): both marks are read.
        cells = [cell.replace(",", ".") for cell in cells]
    return cells


def _parse_text(text: str) -> np.ndarray:
    """Rows of numbers separated by commas, semicolons, tabs or whitespace; an optional header row."""
    rows = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        raise ValueError("the file has no data rows; it needs at least one row of numbers")
    first = rows[0][1]
    # Semicolons only when the second row has them too: a column name may hold one.
    semicolons = all(";" in line for _number, line in rows[:2])
    delimiter = ";" if semicolons else "," if "," in first else "\t" if "\t" in first else None
    header_cells = _split(first, delimiter)
    try:
        [float(cell) for cell in header_cells]
    except ValueError:
        rows = rows[1:]  # the first row names the columns
        if not rows:
            raise ValueError("the file has a header row but no data rows") from None
    n_columns = len(_split(rows[0][1], delimiter))
    values = []
    for line_number, line in rows:
        cells = _split(line, delimiter)
        if len(cells) != n_columns:
            raise ValueError(
                f"line {line_number} has {count_of(len(cells), 'value')} but line {rows[0][0]} has "
                f"{n_columns}; every row must have the same number of columns"
            )
        values.append([_parse_number(cell, line_number, j) for j, cell in enumerate(cells)])
        for j, value in enumerate(values[-1]):
            if not np.isfinite(value):
                raise ValueError(
                    f"line {line_number}, column {j + 1} is {cells[j]!r}; "
                    "only finite numbers are accepted (no NaN or infinity)"
                )
    return np.array(values, dtype=np.float64)


def load_points(source, *, name: str | None = None, min_features: int = 1) -> np.ndarray:
    """Read a table of points from a file.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A path, or the file's contents (then `name` tells the format).
    name : str, optional
        The file name; its extension (.csv, .tsv, .txt or .npy) picks the
        parser. Defaults to the path.
    min_features : int, default=1
        Refuse files with fewer columns than this.

    Returns
    -------
    X : ndarray of shape (n_points, n_features), dtype float64

    Raises
    ------
    ValueError
        For an unknown extension, an empty file, ragged rows, cells that are
        not numbers, NaN or infinity, too few columns, or an .npy file that
        holds objects (which are never unpickled).

    Examples
    --------
    >>> load_points(b"x,y\\n1,2\\n3,4\\n", name="points.csv").tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    if isinstance(source, (str, os.PathLike)):
        name = name or os.path.basename(os.fspath(source))
        with open(source, "rb") as handle:
            data = handle.read()
    else:
        data = bytes(source)
        if name is None:
            raise ValueError("give the file name with the bytes, so the format is known")
    extension = os.path.splitext(name)[1].lower()
    try:
        if not data:
            raise ValueError("the file is empty")
        if extension == ".npy":
            X = _load_npy(data)
        elif extension in (".csv", ".tsv", ".txt"):
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValueError("the file is not text (it is not valid UTF-8)") from None
            X = _parse_text(text)
        else:
            raise ValueError(f"unknown file type {extension or '(none)'!r}; use {ACCEPTED_POINT_FILES}")
        X = check_data(X, name="the data")
        if X.shape[1] < min_features:
            raise ValueError(
                f"the data has {count_of(X.shape[1], 'column')}; "
                f"at least {min_features} are needed"
            )
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name}: {error}") from None
    return X


def _load_npy(data: bytes) -> np.ndarray:
    # Without the .npy signature np.load would try other formats: an .npz
    # archive (returned as an NpzFile, not an array) or a pickle.
    if not data.startswith(b"\x93NUMPY"):
        raise ValueError("not a valid .npy file (it does not start with the .npy signature)")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError("the .npy file holds Python objects, which are not loaded; save numbers") from None
        raise ValueError(f"not a valid .npy file ({error})") from None
    except (OSError, EOFError):
        raise ValueError("not a valid .npy file (truncated or corrupt)") from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError(f"the array must be 1-D or 2-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"the array is empty (shape {array.shape})")
    return array


# -- seeded toy sets for the 2-D explorer -------------------------------------------------
#
# Each set is drawn by one function ``f(rng, n_points) -> (X, y)`` (``_POINT_SETS``). The
# first four are the notebook's and their outputs must not change (tests/test_golden.py and
# saved page links depend on them); the others show where K-means fails: it assumes round
# groups of similar size and spread, and every point belongs to some group.

def _blobs(rng, sizes, centers, scales):
    points = [rng.normal(center, scale, size=(size, 2)) for size, center, scale in zip(sizes, centers, scales)]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return np.vstack(points), labels


def _thirds(n_points):
    third = n_points // 3
    return [third, third, n_points - 2 * third]


def _shares(n_points, shares):
    """Group sizes in proportion to `shares`, summing to `n_points` (the last takes the rest)."""
    sizes = [int(n_points * share) for share in shares[:-1]]
    return sizes + [n_points - sum(sizes)]


def _arc(rng, size, center, radius, start, stop, noise):
    """`size` points along an arc from angle `start` to `stop` (radians), blurred by `noise`."""
    angles = rng.uniform(start, stop, size=size)
    on_arc = np.column_stack([np.cos(angles), np.sin(angles)]) * radius + center
    return on_arc + rng.normal(0.0, noise, size=(size, 2))


def _groups(parts):
    """Stack the groups' points; each point's label is the index of its group."""
    return np.vstack(parts), np.repeat(np.arange(len(parts)), [len(part) for part in parts])


def _blobs_set(rng, n_points):
    return _blobs(rng, _thirds(n_points), [(1.8, 5.0), (6.0, 3.0), (3.2, 1.0)], [0.45, 0.45, 0.45])


def _unequal_set(rng, n_points):
    big = int(n_points * 0.7)
    small = (n_points - big) // 2
    return _blobs(rng, [big, small, n_points - big - small],
                  [(3.0, 3.0), (7.0, 7.0), (8.0, 1.5)], [1.3, 0.25, 0.25])


def _elongated_set(rng, n_points):
    X, y = _blobs(rng, _thirds(n_points), [(0.0, 0.0), (0.0, 1.6), (0.0, 3.2)], [0.0, 0.0, 0.0])
    X[:, 0] = rng.uniform(-5, 5, size=n_points)
    X[:, 1] += rng.normal(0, 0.15, size=n_points)
    return X, y


def _noise_set(rng, n_points):
    return rng.uniform(0, 8, size=(n_points, 2)), np.zeros(n_points, dtype=np.intp)


def _rings_set(rng, n_points):
    inner, outer = _shares(n_points, [0.5, 0.5])
    return _groups([_arc(rng, inner, (4.0, 4.0), 1.2, 0.0, 2 * np.pi, 0.15),
                    _arc(rng, outer, (4.0, 4.0), 3.2, 0.0, 2 * np.pi, 0.15)])


def _moons_set(rng, n_points):
    # scikit-learn's make_moons, scaled by 2.5: the upper half of a circle, and the lower
    # half of one shifted right and down, so each reaches into the other's hollow.
    upper, lower = _shares(n_points, [0.5, 0.5])
    return _groups([_arc(rng, upper, (1.5, 3.0), 2.5, 0.0, np.pi, 0.2),
                    _arc(rng, lower, (4.0, 4.25), 2.5, np.pi, 2 * np.pi, 0.2)])


def _smiley_set(rng, n_points):
    outline, left, right, mouth = _shares(n_points, [0.45, 0.15, 0.15, 0.25])
    return _groups([_arc(rng, outline, (4.0, 4.0), 3.5, 0.0, 2 * np.pi, 0.12),
                    rng.normal((2.7, 5.2), 0.25, size=(left, 2)),
                    rng.normal((5.3, 5.2), 0.25, size=(right, 2)),
                    _arc(rng, mouth, (4.0, 4.0), 2.0, np.radians(200), np.radians(340), 0.12)])


#: The linear map of scikit-learn's "k-means assumptions" example: it stretches round
#: blobs into long parallel ellipses.
_SHEAR = np.array([[0.60834549, -0.63667341], [-0.40887718, 0.85253229]])


def _anisotropic_set(rng, n_points):
    X, y = _blobs(rng, _thirds(n_points), [(-5.0, -5.0), (0.0, 0.0), (5.0, 5.0)], [1.2, 1.2, 1.2])
    return X @ _SHEAR + (4.0, 4.0), y


def _outliers_set(rng, n_points):
    # About 5% of the points, spread uniformly over a wide ring around the three blobs:
    # every one is far from every blob, yet K-means must give each to some cluster.
    n_outliers = int(round(0.05 * n_points))
    X, y = _blobs_set(rng, n_points - n_outliers)
    radii = np.sqrt(rng.uniform(7.0**2, 11.0**2, size=n_outliers))  # uniform over the ring's area
    angles = rng.uniform(0.0, 2 * np.pi, size=n_outliers)
    outliers = np.column_stack([np.cos(angles), np.sin(angles)]) * radii[:, None] + (3.7, 3.0)
    return np.vstack([X, outliers]), np.concatenate([y, np.full(n_outliers, 3)])


_POINT_SETS = {
    "blobs": _blobs_set,
    "unequal": _unequal_set,
    "elongated": _elongated_set,
    "noise": _noise_set,
    "rings": _rings_set,
    "moons": _moons_set,
    "smiley": _smiley_set,
    "anisotropic": _anisotropic_set,
    "outliers": _outliers_set,
}

#: The sets drawn with trigonometry or a matrix product, rounded (see make_points).
_ROUNDED = frozenset({"rings", "moons", "smiley", "anisotropic", "outliers"})

#: The kinds :func:`make_points` draws, in the order a menu shows them.
POINT_KINDS = tuple(_POINT_SETS)


def make_points(kind: str = "blobs", *, n_points: int = 300, seed=0):
    """A seeded 2-D toy data set and the group each point was drawn from.

    Parameters
    ----------
    kind : str, default="blobs"
        One of ``POINT_KINDS``. Sets where K-means does well:

        - ``"blobs"``: three well-separated round groups of equal size (the
          notebook's data).
        - ``"unequal"``: groups of very different sizes and spreads.
        - ``"elongated"``: three long parallel streaks, which K-means cuts
          across.
        - ``"noise"``: uniform noise, with no groups at all.

        Sets that show where it fails, because its clusters are round,
        convex and share the space between centroids evenly:

        - ``"rings"``: two concentric circles.
        - ``"moons"``: two interleaved half circles.
        - ``"smiley"``: a face: its outline, two eyes and a mouth (4 groups).
        - ``"anisotropic"``: three blobs stretched by one linear map into
          long parallel ellipses (scikit-learn's k-means assumptions example).
        - ``"outliers"``: three blobs plus about 5% of the points far away,
          spread uniformly around them (the outliers are group 3).
    n_points : int, default=300
        Number of points, split between the groups.
    seed : int, numpy.random.Generator or None, default=0

    Returns
    -------
    X : ndarray of shape (n_points, 2)
    y : ndarray of shape (n_points,)
        The generating group of each point, 0, 1, ... (all zeros for "noise").

    Raises
    ------
    ValueError
        If `kind` is not one of ``POINT_KINDS``.

    Examples
    --------
    >>> X, y = make_points("blobs", n_points=300, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 2), [0, 1, 2])
    >>> X, y = make_points("smiley", n_points=200, seed=0)
    >>> np.bincount(y).tolist()
    [90, 30, 30, 50]
    """
    try:
        draw = _POINT_SETS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown kind {kind!r}; use one of: {', '.join(POINT_KINDS)}") from None
    X, y = draw(as_rng(seed), n_points)
    if kind in _ROUNDED:
        # np.cos, np.sin and matrix products may differ in the last bit between platforms
        # (their maths library, their BLAS). Rounded to 1e-9, the same seed gives the same
        # points in CPython and in Pyodide, so a shared link reopens the same run.
        X = np.round(X, 9)
    return X, y
