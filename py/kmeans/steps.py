"""K-means step by step: the functions of the classic teaching notebook.

Read this file top to bottom to learn the algorithm. K-means looks for `k`
points, the *centroids*, such that every example is close to one of them:

1. **Initialise**: pick `k` distinct examples at random as the first
   centroids (:func:`kmeans_init_centroids`).
2. **Assign**: give every example the index of its closest centroid
   (:func:`find_closest_centroids`).
3. **Update**: move every centroid to the mean of the examples assigned to
   it (:func:`compute_centroids`).
4. **Repeat** steps 2 and 3 until nothing changes (:func:`run_kmeans`).

Each step can only lower the sum of squared distances from the examples to
their centroids, so the loop always settles, though not always on the best
answer: that depends on step 1, which is why real tools (see
:class:`kmeans.KMeans`) start from several initialisations and use the
smarter k-means++ seeding.

These functions favour clarity over speed and memory. The engine behind
:class:`kmeans.KMeans` computes the same thing in blocks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validation import as_rng, check_data, check_n_clusters, check_positive_int


def kmeans_init_centroids(X, k, rng=None):
    """Pick `k` distinct random examples of `X` as initial centroids.

    Parameters
    ----------
    X : array-like of shape (m, n)
        The examples, one per row.
    k : int
        Number of centroids.
    rng : int, numpy.random.Generator or None, default=None
        Source of randomness; an int seeds a new Generator.

    Returns
    -------
    centroids : ndarray of shape (k, n)

    Examples
    --------
    >>> X = [[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]]
    >>> kmeans_init_centroids(X, 2, rng=0).shape
    (2, 2)
    """
    X = check_data(X)
    k = check_n_clusters(k, X.shape[0], name="k")
    rng = as_rng(rng)
    # Shuffle the row indices and keep the first k: k different rows.
    random_order = rng.permutation(X.shape[0])
    return X[random_order[:k]].copy()


def find_closest_centroids(X, centroids):
    """Index of the closest centroid for every example.

    Parameters
    ----------
    X : array-like of shape (m, n)
    centroids : array-like of shape (k, n)

    Returns
    -------
    idx : ndarray of shape (m,), dtype int
        ``idx[i]`` is the index of the centroid closest to ``X[i]`` (by
        squared Euclidean distance; ties go to the lower index).

    Examples
    --------
    >>> find_closest_centroids([[0, 0], [9, 9]], [[1, 1], [8, 8]]).tolist()
    [0, 1]
    """
    X = check_data(X)
    centroids = check_data(centroids, name="centroids")
    # differences[i, j] is the vector from centroid j to example i.
    differences = X[:, np.newaxis, :] - centroids[np.newaxis, :, :]
    squared_distances = (differences**2).sum(axis=2)  # shape (m, k)
    return squared_distances.argmin(axis=1)


def compute_centroids(X, idx, k, previous_centroids=None):
    """New centroids: the mean of the examples assigned to each one.

    Parameters
    ----------
    X : array-like of shape (m, n)
    idx : array-like of shape (m,)
        Centroid index of each example, each in ``range(k)``.
    k : int
        Number of centroids.
    previous_centroids : array-like of shape (k, n), optional
        A centroid with no examples keeps its previous position. Without
        this argument it is placed at the mean of all examples, so a
        centroid is never NaN.

    Returns
    -------
    centroids : ndarray of shape (k, n)

    Examples
    --------
    >>> compute_centroids([[0, 0], [2, 2], [10, 10]], [0, 0, 1], 2).tolist()
    [[1.0, 1.0], [10.0, 10.0]]
    """
    X = check_data(X)
    idx = np.asarray(idx)
    if idx.shape != (X.shape[0],) or idx.dtype.kind not in "iu":
        raise ValueError(f"idx must be {X.shape[0]} integer labels, got shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= k):
        raise ValueError(f"every label in idx must be in range(k) = range({k})")
    if previous_centroids is None:
        fallback = np.tile(X.mean(axis=0), (k, 1))
    else:
        fallback = np.array(previous_centroids, dtype=np.float64)
    centroids = np.empty((k, X.shape[1]))
    for j in range(k):
        members = X[idx == j]
        centroids[j] = members.mean(axis=0) if len(members) else fallback[j]
    return centroids


def run_kmeans(X, initial_centroids, max_iters=10, callback: Callable | None = None):
    """Run K-means from `initial_centroids`, remembering every step.

    Parameters
    ----------
    X : array-like of shape (m, n)
    initial_centroids : array-like of shape (k, n)
    max_iters : int, default=10
        Maximum number of assign/update rounds. The loop stops earlier when
        no example changes centroid.
    callback : callable, optional
        Called after each round as ``callback(iteration, centroids, idx)``
        (iteration counts from 1). If it returns True, the run stops there.

    Returns
    -------
    centroids : ndarray of shape (k, n)
        The final centroids.
    idx : ndarray of shape (m,)
        The closest of the final centroids for each example.
    history : list of ndarray of shape (k, n)
        The centroids before the first round and after every round:
        ``history[0]`` is `initial_centroids`, ``history[-1]`` is `centroids`.
        Drawing each centroid's path through `history` shows the run.

    Examples
    --------
    >>> X = [[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]]
    >>> centroids, idx, history = run_kmeans(X, [[1, 2], [10, 0]])
    >>> centroids.tolist(), idx.tolist(), len(history)
    ([[1.0, 2.0], [10.0, 2.0]], [0, 0, 0, 1, 1, 1], 2)
    """
    X = check_data(X)
    centroids = check_data(initial_centroids, name="initial_centroids")
    if centroids.shape[1] != X.shape[1]:
        raise ValueError(
            f"initial_centroids have {centroids.shape[1]} features, X has {X.shape[1]}"
        )
    max_iters = check_positive_int(max_iters, "max_iters")
    k = centroids.shape[0]
    history = [centroids.copy()]
    idx = None
    for iteration in range(1, max_iters + 1):
        new_idx = find_closest_centroids(X, centroids)  # step 2: assign
        if idx is not None and np.array_equal(new_idx, idx):
            break  # nothing moved: the centroids are already the means
        idx = new_idx
        centroids = compute_centroids(X, idx, k, previous_centroids=centroids)  # step 3
        history.append(centroids.copy())
        if callback is not None and callback(iteration, centroids, idx):
            break
    return centroids, find_closest_centroids(X, centroids), history
