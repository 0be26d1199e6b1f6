"""Choosing the initial centers: k-means++ (greedy) and plain random rows.

:func:`greedy_kmeans_plusplus` and :func:`random_rows` assume validated input
(see ``_validation``) and take an explicit ``rng``; :class:`kmeans.KMeans`
calls them through ``INIT_METHODS``. Only :func:`kmeans_plusplus`, the public
one, checks its arguments.

Random draws use only ``rng.random``, turned into indices with a cumulative
sum and ``np.searchsorted``. Both are exact and sequential, so a seed picks
the same rows in CPython and in Pyodide.
"""

from __future__ import annotations

import numpy as np

from ._distances import block_rows, squared_distances
from ._validation import as_rng, check_data, check_n_clusters, check_sample_weight


def _weighted_draw(cumulative_weights, values):
    """Indices i with cumulative_weights[i-1] <= value < cumulative_weights[i]."""
    indices = np.searchsorted(cumulative_weights, values, side="right")
    # A value equal to the total (possible after rounding) maps past the end.
    return np.minimum(indices, cumulative_weights.size - 1)


def _squared_distances_to_rows(X, rows):
    """Squared distances of every row of `X` to each of `rows`, shape (len(rows), n_samples)."""
    out = np.empty((rows.shape[0], X.shape[0]), dtype=np.float64)
    step = block_rows(16)  # 65,536 points at a time
    for start in range(0, X.shape[0], step):
        stop = min(start + step, X.shape[0])
        # (row - x)^2 equals (x - row)^2 to the bit: the same values as squared_distances(X, rows).T
        squared_distances(rows, X[start:stop], out=out[:, start:stop])
    return out


def local_trials(n_clusters: int) -> int:
    """Candidates drawn per center by default: ``2 + int(log(n_clusters))``, as scikit-learn."""
    return 2 + int(np.log(n_clusters))


def greedy_kmeans_plusplus(
    X, n_clusters, sample_weight, rng, n_local_trials=None, *, on_center=None
):
    """Greedy k-means++ (assumes validated input).

    The first center is a row drawn with probability proportional to its
    weight. Each next center is the best of `n_local_trials` candidates, each
    drawn with probability proportional to ``weight * D(x)^2`` (D the distance
    to the nearest center chosen so far); "best" means the candidate that
    leaves the smallest total weighted ``D^2``. This is scikit-learn's greedy
    variant, with ``2 + log(n_clusters)`` trials by default.

    Parameters
    ----------
    on_center : callable, optional
        Watches the seeding (the page shows it): called once per center as
        ``on_center(c, chosen_index, candidates, closest_sq_before)``.
        `candidates` are the rows drawn for center `c` (just the chosen row
        for ``c = 0``); `closest_sq_before` is every row's ``D(x)^2`` before
        center `c`, which times the weights gave the draw its odds (all ones
        for ``c = 0``, drawn by weight alone). The arrays are the
        algorithm's own: read them, do not modify them. Watching changes
        no result.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
        The rows of `X` that were chosen.
    """
    n_features = X.shape[1]
    if n_local_trials is None:
        n_local_trials = local_trials(n_clusters)
    centers = np.empty((n_clusters, n_features), dtype=np.float64)
    indices = np.empty(n_clusters, dtype=np.intp)

    cumulative = np.cumsum(sample_weight)
    first = int(_weighted_draw(cumulative, rng.random(1) * cumulative[-1])[0])
    centers[0] = X[first]
    indices[0] = first
    if on_center is not None:
        on_center(0, first, np.array([first], dtype=np.intp), np.ones(X.shape[0]))
    closest_sq = _squared_distances_to_rows(X, X[first : first + 1])[0]

    for c in range(1, n_clusters):
        cumulative = np.cumsum(sample_weight * closest_sq)
        candidates = _weighted_draw(cumulative, rng.random(n_local_trials) * cumulative[-1])
        # All candidates at once, one row each: a row sums in the same order as a 1-D array.
        candidate_sq = _squared_distances_to_rows(X, X[candidates])
        np.minimum(candidate_sq, closest_sq[None, :], out=candidate_sq)
        potentials = (candidate_sq * sample_weight[None, :]).sum(axis=1)
        best = int(np.argmin(potentials))  # the first of equal potentials, as a strict < scan
        centers[c] = X[candidates[best]]
        indices[c] = candidates[best]
        if on_center is not None:
            on_center(c, int(candidates[best]), candidates, closest_sq)
        closest_sq = candidate_sq[best].copy()
    return centers, indices


def random_rows(X, n_clusters, sample_weight, rng):
    """`n_clusters` distinct rows of `X`, drawn with probability proportional to weight.

    Rows are drawn one at a time without replacement (assumes validated input
    with at least `n_clusters` rows of positive weight).
    """
    weights = sample_weight.copy()
    indices = np.empty(n_clusters, dtype=np.intp)
    for c in range(n_clusters):
        cumulative = np.cumsum(weights)
        indices[c] = _weighted_draw(cumulative, rng.random(1) * cumulative[-1])[0]
        weights[indices[c]] = 0.0
    return X[indices].copy(), indices


def kmeans_plusplus(
    X, n_clusters, *, sample_weight=None, seed=None, n_local_trials=None, on_center=None
):
    """Choose `n_clusters` initial centers from the rows of `X` by k-means++.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
        Number of centers, between 1 and n_samples.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row; None gives every row weight 1.
    seed : int, numpy.random.Generator or None, default=None
        Source of randomness. The same int gives the same centers everywhere.
    n_local_trials : int, default=None
        Candidates tried for each center; None means ``2 + int(log(n_clusters))``.
    on_center : callable, default=None
        Called once per center, in order, as ``on_center(c, chosen_index,
        candidates, closest_sq_before)``: the index of center `c`'s row,
        the rows drawn as its candidates (the best one is kept; only the
        chosen row for the first center), and the squared distance of every
        row to its nearest earlier center, by which (times the weights) the
        candidates were drawn (all ones for the first center, drawn by
        weight alone). For showing the seeding; it changes no result.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
        Row index in `X` of each center.

    References
    ----------
    D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
    seeding", Proc. ACM-SIAM SODA, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> centers, indices = kmeans_plusplus(X, 2, seed=0)
    >>> sorted(X[indices, 0].tolist())
    [1, 10]
    """
    X = check_data(X)
    n_clusters = check_n_clusters(n_clusters, X.shape[0])
    weights = check_sample_weight(sample_weight, X.shape[0])
    return greedy_kmeans_plusplus(
        X, n_clusters, weights, as_rng(seed), n_local_trials, on_center=on_center
    )


#: The initialisations :class:`kmeans.KMeans` knows by name, each
#: ``f(X, n_clusters, sample_weight, rng) -> (centers, indices)``.
INIT_METHODS = {"k-means++": greedy_kmeans_plusplus, "random": random_rows}
