"""One run of Lloyd's algorithm: the loop, the M-step and the empty-cluster rule.

Called by :class:`kmeans.KMeans` (each of its ``n_init`` runs) and by the
quantizer's coarse-to-fine fit (:mod:`kmeans._coarse_to_fine`). The E-step
it repeats lives elsewhere, behind one interface (call it to assign, then
ask it for ``distances`` or the ``inertia``):
:class:`kmeans._bounds.BoundedAssigner` for data with few features (every
colour space) and :class:`kmeans._distances.PlainAssigner` for wider data.

All functions here assume validated input: ``X`` is a float64 array of shape
(n_samples, n_features), ``sample_weight`` is float64 of shape (n_samples,)
with non-negative values, ``centers`` is float64 of shape (n_clusters,
n_features). Cluster sums use ``np.bincount``, which adds in input order and
never goes through BLAS, so they are the same on every platform.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._bounds import BoundedAssigner
from ._distances import EXPLICIT_MAX_FEATURES, PlainAssigner


def make_assigner(X):
    """The E-step for `X`: bounded for few features, plain (matrix product) for many."""
    return BoundedAssigner(X) if X.shape[1] <= EXPLICIT_MAX_FEATURES else PlainAssigner(X)


def weighted_cluster_sums(X, sample_weight, labels, n_clusters, weighted_X=None):
    """Sum of weights and weighted sum of points for each cluster.

    `weighted_X`, if given, is ``X * sample_weight[:, None]``, computed once
    by a caller that needs the sums many times.

    Returns
    -------
    weight_in_clusters : ndarray of shape (n_clusters,)
    sums : ndarray of shape (n_clusters, n_features)
    """
    weight_in_clusters = np.bincount(labels, weights=sample_weight, minlength=n_clusters)
    sums = np.empty((n_clusters, X.shape[1]), dtype=np.float64)
    for j in range(X.shape[1]):
        weighted = X[:, j] * sample_weight if weighted_X is None else weighted_X[:, j]
        sums[:, j] = np.bincount(labels, weights=weighted, minlength=n_clusters)
    return weight_in_clusters, sums


def relocate_empty_clusters(X, sample_weight, labels, min_distances, weight_in_clusters, sums):
    """Move each empty cluster onto one of the points farthest from their center.

    This is scikit-learn's rule: the ``n_empty`` points with the largest
    (unweighted) squared distance to their current center each become the
    sole member of one empty cluster, and are taken out of the sums of the
    cluster they were in. No center is ever NaN. `weight_in_clusters` and
    `sums` are modified in place; `labels` are not (the next E-step fixes them).
    """
    empty = np.flatnonzero(weight_in_clusters == 0)
    if empty.size == 0:
        return
    # A point of zero weight cannot hold a cluster open.
    candidates = np.where(sample_weight > 0, min_distances, -1.0)
    n_empty = min(empty.size, int(np.count_nonzero(sample_weight > 0)))
    farthest = np.argsort(-candidates, kind="stable")[:n_empty]
    for new_cluster, point in zip(empty[:n_empty], farthest):
        weight = sample_weight[point]
        old_cluster = labels[point]
        sums[old_cluster] -= weight * X[point]
        weight_in_clusters[old_cluster] -= weight
        sums[new_cluster] = weight * X[point]
        weight_in_clusters[new_cluster] = weight


def lloyd_single(
    X,
    sample_weight,
    centers_init,
    *,
    max_iter: int,
    tol: float,
    callback: Callable | None = None,
    assigner=None,
    labels_init=None,
    callback_inertia: bool = True,
    finish: bool = True,
):
    """One run of Lloyd's algorithm from `centers_init`.

    Each iteration assigns every point to its nearest center (E-step), then
    moves each center to the weighted mean of its points (M-step). The run
    stops when no label changes (strict convergence), when the centers moved
    by at most `tol` in total squared distance, or after `max_iter`
    iterations. After a non-strict stop one more E-step makes the labels
    match the returned centers, as scikit-learn does.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
    centers_init : ndarray of shape (n_clusters, n_features)
        Not modified.
    max_iter : int
    tol : float
        Absolute tolerance on the sum of squared center shifts (already
        scaled by the data's variance by the caller).
    callback : callable, optional
        Called once before the first iteration as ``callback(0, centers_init,
        None)``, then after every iteration as ``callback(n_iter, centers,
        inertia)`` where `inertia` is that of the iteration's labels against
        the centers before the update. Returning True after an iteration
        stops the run there.
    assigner : BoundedAssigner or PlainAssigner, optional
        The E-step to use (default: :func:`make_assigner`). A caller passes
        its own to prime it with known labels (see `labels_init`) or to keep
        its bounds after the run.
    labels_init : ndarray of shape (n_samples,), optional
        Labels of the rows against `centers_init`, matching the bounds the
        `assigner` was primed with (:meth:`BoundedAssigner.prime`).
    callback_inertia : bool, default=True
        False passes None as the callback's inertia: with bounds, the exact
        inertia costs a pass over the data that a progress report need not pay.
    finish : bool, default=True
        False leaves out what a caller that goes on to replace the centers
        (the quantizer's rounded palette) does not need, two passes over the
        data: the last E-step after a stop on `tol`, so the labels may be
        those of the centers before the last update (the assigner's bounds
        describe them, and its next E-step starts from there), and the
        inertia (None).

    Returns
    -------
    labels : ndarray of shape (n_samples,), dtype intp
    inertia : float, or None when not `finish`
    centers : ndarray of shape (n_clusters, n_features)
    n_iter : int
    """
    n_samples = X.shape[0]
    n_clusters = centers_init.shape[0]
    assign = assigner if assigner is not None else make_assigner(X)
    centers = np.array(centers_init, dtype=np.float64, order="C")
    labels = np.full(n_samples, -1, dtype=np.intp)
    if labels_init is not None:
        labels[:] = labels_init
    labels_old = np.full(n_samples, -1, dtype=np.intp)
    strict_convergence = False
    n_iter = 0
    weighted_X = X * sample_weight[:, None]
    if callback is not None:
        callback(0, centers, None)
    for n_iter in range(1, max_iter + 1):
        # E-step, then M-step.
        assign(centers, labels)
        weight_in_clusters, sums = weighted_cluster_sums(X, sample_weight, labels, n_clusters, weighted_X)
        if not weight_in_clusters.all():
            relocate_empty_clusters(
                X, sample_weight, labels, assign.distances(centers, labels), weight_in_clusters, sums
            )
        nonempty = weight_in_clusters > 0
        centers_new = centers.copy()
        centers_new[nonempty] = sums[nonempty] / weight_in_clusters[nonempty, None]
        center_shift_total = float(((centers_new - centers) ** 2).sum())
        stop_requested = False
        if callback is not None:
            # The E-step's own distances: no extra pass over the data (the final inertia is exact).
            inertia = float((assign.distances(centers, labels) * sample_weight).sum()) if callback_inertia else None
            stop_requested = bool(callback(n_iter, centers_new, inertia))
        centers = centers_new
        if np.array_equal(labels, labels_old):
            strict_convergence = True
            break
        if center_shift_total <= tol or stop_requested:
            break
        labels_old[:] = labels
    if not finish:
        return labels, None, centers, n_iter
    if not strict_convergence:
        # The labels were computed against the centers before the last
        # update; one more E-step makes them consistent with what we return.
        assign(centers, labels)
    return labels, assign.inertia(centers, labels, sample_weight), centers, n_iter
