"""The silhouette: how well each point sits in its own cluster, from -1 to 1.

For a point ``i`` in cluster ``A``:

1. ``a(i)``, its mean distance to the *other* points of ``A``;
2. ``b(i)``, its mean distance to the points of the nearest other cluster
   (the smallest such mean over the clusters ``B != A``);
3. ``s(i) = (b(i) - a(i)) / max(a(i), b(i))``.

``s(i)`` near 1: the point is much closer to its own cluster than to any
other; near 0: it sits on a border; below 0: another cluster would suit it
better. A point alone in its cluster gets 0, as does a point with
``a(i) = b(i) = 0`` (duplicates split between clusters). The mean of
``s(i)`` over all points (:func:`silhouette_score`) compares clusterings of
the same data, for instance different numbers of clusters: unlike the
inertia, it does not simply improve as clusters are added.

Distances are Euclidean. They are computed for a block of rows at a time
(``_distances.block_rows``), so memory stays at about one block however many
points there are, although the time grows with the square of their number;
:func:`silhouette_score` can average over a seeded sample instead.

The results equal scikit-learn's ``silhouette_samples`` and
``silhouette_score`` (its "euclidean" metric) up to rounding.

References
----------
P. J. Rousseeuw, "Silhouettes: a graphical aid to the interpretation and
validation of cluster analysis", Journal of Computational and Applied
Mathematics 20, 1987.
"""

from __future__ import annotations

import numpy as np

from ._distances import block_rows, squared_distances
from ._validation import as_rng, check_data, check_positive_int


def _check_labels(labels, n_samples: int) -> np.ndarray:
    """`labels` as a 1-D array of one label per sample, or a ValueError/TypeError."""
    labels = np.asarray(labels)
    if labels.shape != (n_samples,):
        raise ValueError(
            f"labels must hold one label per sample: shape ({n_samples},), got shape {labels.shape}"
        )
    if labels.dtype.kind not in "biufUS":
        raise TypeError(f"labels must be numbers or strings, got values of type {labels.dtype}")
    if labels.dtype.kind == "f" and not np.isfinite(labels).all():
        raise ValueError("labels must not hold NaN or infinity")
    return labels


def _encode_labels(labels):
    """Checked labels as codes 0 .. n_labels - 1, and n_labels; 2 <= n_labels < n_samples, or ValueError."""
    names, codes = np.unique(labels, return_inverse=True)
    n_samples, n_labels = labels.shape[0], names.size
    if not 2 <= n_labels <= n_samples - 1:
        raise ValueError(
            f"the silhouette needs 2 to n_samples - 1 = {n_samples - 1} different labels; got "
            f"{n_labels}: with one cluster there is no other cluster to compare with, and with one "
            f"point per cluster there is no own cluster"
        )
    return codes.reshape(-1), n_labels


def _silhouette_of_codes(X, codes, n_labels):
    """Silhouette of each row of `X` (assumes validated input; codes 0 .. n_labels - 1, all used)."""
    n_samples = X.shape[0]
    sizes = np.bincount(codes, minlength=n_labels)
    # Columns sorted by cluster, so each cluster's distances are one contiguous run that
    # np.add.reduceat sums; the rows of a block are taken in the same order.
    order = np.argsort(codes, kind="stable")
    X_sorted = X[order]
    codes_sorted = codes[order]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    a = np.empty(n_samples, dtype=np.float64)
    b = np.empty(n_samples, dtype=np.float64)
    step = block_rows(8 * n_samples)
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        distances = squared_distances(X_sorted[start:stop], X_sorted)
        # A point's distance to itself is 0: write it, as the matrix-product kernel of wide
        # data may leave a rounding residue there.
        rows = np.arange(stop - start)
        distances[rows, start + rows] = 0.0
        np.sqrt(distances, out=distances)
        sums = np.add.reduceat(distances, starts, axis=1)  # (rows, n_labels)
        own = codes_sorted[start:stop]
        own_sum = sums[rows, own]
        # a(i): the mean over the *other* members; a lone point (0 / 0) is handled below.
        np.divide(own_sum, sizes[own] - 1, out=a[start:stop], where=sizes[own] > 1)
        a[start:stop][sizes[own] <= 1] = 0.0
        means = sums / sizes
        means[rows, own] = np.inf  # b(i) looks at the other clusters only
        b[start:stop] = means.min(axis=1)

    largest = np.maximum(a, b)
    s = np.zeros(n_samples, dtype=np.float64)
    # s is 0 for a lone point, and where a = b = 0 (duplicates in two clusters).
    defined = (sizes[codes_sorted] > 1) & (largest > 0)
    np.divide(b - a, largest, out=s, where=defined)
    result = np.empty(n_samples, dtype=np.float64)
    result[order] = s  # back to the caller's order of rows
    return result


def silhouette_samples(X, labels) -> np.ndarray:
    """The silhouette of every sample, from -1 (misplaced) to 1 (well inside its cluster).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        The cluster of each sample: any integers (or strings); 2 to
        ``n_samples - 1`` different values.

    Returns
    -------
    silhouette : ndarray of shape (n_samples,)
        ``(b - a) / max(a, b)``, with ``a`` the sample's mean distance to the
        other members of its cluster and ``b`` its smallest mean distance to
        another cluster; 0 for a sample alone in its cluster.

    Raises
    ------
    ValueError
        If `labels` is not one label per sample, or there are fewer than 2
        or more than ``n_samples - 1`` different labels.

    Notes
    -----
    Takes time proportional to ``n_samples ** 2`` and memory of about one
    1 MiB block of distances.

    Examples
    --------
    >>> X = [[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]]
    >>> silhouette_samples(X, [0, 0, 0, 1, 1, 1]).round(3).tolist()
    [0.781, 0.679, 0.679, 0.781, 0.679, 0.679]
    """
    X = check_data(X)
    codes, n_labels = _encode_labels(_check_labels(labels, X.shape[0]))
    return _silhouette_of_codes(X, codes, n_labels)


def silhouette_score(X, labels, *, sample_size=None, seed=None) -> float:
    """Mean silhouette of the samples (:func:`silhouette_samples`): higher is better.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        The cluster of each sample; 2 to ``n_samples - 1`` different values
        (in the sample, when `sample_size` is given).
    sample_size : int, default=None
        Average over this many distinct rows, drawn at random, instead of all
        of them: the time grows with the square of the rows used. None, or
        a size of at least ``n_samples``, uses every row.
    seed : int, numpy.random.Generator or None, default=None
        Picks the sample's rows, ``rng.permutation(n_samples)[:sample_size]``:
        the same int picks the same rows everywhere.

    Returns
    -------
    score : float
        From -1 to 1.

    Raises
    ------
    ValueError
        As :func:`silhouette_samples`, or if `sample_size` is not a whole
        number of at least 1.

    Notes
    -----
    scikit-learn draws its sample with the legacy ``RandomState``, so the
    same seed picks other rows there; without sampling the scores agree.

    Examples
    --------
    >>> X = [[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]]
    >>> round(silhouette_score(X, [0, 0, 0, 1, 1, 1]), 4)
    0.7133
    """
    X = check_data(X)
    labels = _check_labels(labels, X.shape[0])
    if sample_size is not None:
        sample_size = check_positive_int(sample_size, "sample_size")
        if sample_size < X.shape[0]:
            rows = as_rng(seed).permutation(X.shape[0])[:sample_size]
            X, labels = X[rows], labels[rows]
    # The label count is checked on the rows used, as scikit-learn does.
    codes, n_labels = _encode_labels(labels)
    return float(np.mean(_silhouette_of_codes(X, codes, n_labels)))
