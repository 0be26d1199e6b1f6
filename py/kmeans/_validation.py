"""Checks on user input, done once at the public edge.

Private helpers elsewhere in the package assume their input went through
these functions: 2-D float64 data with finite values, weights that are
non-negative and not all zero, a cluster count that the data can satisfy.
Every message says what was wrong and what is accepted, because the page and
the CLI show it to the user verbatim.
"""

from __future__ import annotations

import numbers

import numpy as np


def count_of(count: int, word: str) -> str:
    """``1 colour``, ``16 colours``: a count and its noun, for messages."""
    return f"{count} {word if count == 1 else word + 's'}"


def check_data(X, *, name: str = "X") -> np.ndarray:
    """Return `X` as a 2-D float64 array with finite values, or raise.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data. Lists, tuples and NumPy arrays of ints, floats or bools work.
    name : str, default="X"
        What to call the data in error messages.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64

    Raises
    ------
    TypeError
        If the values are not numbers (strings, objects, complex numbers).
    ValueError
        If `X` is not 2-D, has no rows or no columns, holds NaN or infinity,
        or values so large (or all so small) that squared distances would not
        fit in a float64 (``MAX_MAGNITUDE``, ``MIN_MAGNITUDE``).
    """
    try:
        array = np.asarray(X)
    except ValueError as error:  # ragged nested lists
        raise ValueError(
            f"{name} must be a rectangular table of numbers (every row the same length): {error}"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold numbers (int, float or bool), got values of type {array.dtype}"
        )
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features), got {array.ndim}-D "
            f"with shape {array.shape}; reshape a single feature with X.reshape(-1, 1)"
        )
    n_samples, n_features = array.shape
    if n_samples == 0 or n_features == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}; it needs at least one row and one column")
    array = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise ValueError(
            f"{name} contains NaN or infinity (first at row {row}, column {column}: "
            f"{array[row, column]}); only finite numbers are accepted"
        )
    magnitude = np.abs(array)
    largest = float(magnitude.max())
    if largest > MAX_MAGNITUDE:
        row, column = np.unravel_index(int(np.argmax(magnitude)), array.shape)
        raise ValueError(
            f"{name} holds {array[row, column]:.3g} (row {row}, column {column}); values up to "
            f"{MAX_MAGNITUDE:g} in size are accepted, so that squared distances fit in a float64. "
            f"Scale the data down: K-means finds the same clusters in scaled data"
        )
    if 0 < largest < MIN_MAGNITUDE:
        raise ValueError(
            f"every value of {name} is below {MIN_MAGNITUDE:g} in size (the largest is {largest:.3g}), so "
            f"squared distances would round to 0. Scale the data up: K-means finds the same clusters in "
            f"scaled data"
        )
    return array


#: Largest value (in size) :func:`check_data` accepts: the squared distances of any data that fits
#: in memory stay far below float64's largest number (1.8e308).
MAX_MAGNITUDE = 1e100

#: Data whose values are all smaller than this (and not all 0) is refused: squares of differences
#: below about 1e-162 round to 0 in float64, and all points would look equally close.
MIN_MAGNITUDE = 1e-100


def check_n_clusters(n_clusters, n_samples: int, *, name: str = "n_clusters") -> int:
    """Return `n_clusters` as an int in ``[1, n_samples]``, or raise ValueError/TypeError."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {n_clusters!r}")
    n_clusters = int(n_clusters)
    if n_clusters < 1:
        raise ValueError(f"{name}={n_clusters} should be >= 1")
    if n_samples < n_clusters:
        raise ValueError(
            f"{name}={n_clusters} is more than the data has points: it has {n_samples}, so {name} "
            f"must be 1 to {n_samples} (n_samples={n_samples} should be >= {name}={n_clusters})"
        )
    return n_clusters


def check_positive_int(value, name: str) -> int:
    """Return `value` as an int >= 1, or raise with a message naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Return weights of shape (n_samples,) as float64; None means all ones.

    Raises
    ------
    ValueError
        If the shape is wrong, a weight is negative, NaN or infinite, or all
        weights are zero.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    weights = np.asarray(sample_weight)
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got values of type {weights.dtype}")
    weights = weights.astype(np.float64, copy=False)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample, "
            f"got shape {weights.shape}"
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("sample_weight must be finite and >= 0")
    if not weights.any():
        raise ValueError("sample_weight must not be all zero")
    return weights


def as_rng(seed) -> np.random.Generator:
    """Turn `seed` (None, an int or a Generator) into a NumPy Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, a non-negative int or a numpy Generator, got {seed!r}")
