"""The KMeans estimator, with scikit-learn's interface and semantics."""

from __future__ import annotations

import numbers

import numpy as np

from ._distances import assign_labels, squared_distances, weighted_inertia
from ._init import INIT_METHODS
from ._lloyd import lloyd_single
from ._validation import (
    as_rng,
    check_data,
    check_n_clusters,
    check_positive_int,
    check_sample_weight,
    count_of,
)

def _tolerance(X, tol: float) -> float:
    """Scale `tol` by the mean per-feature variance of `X`, as scikit-learn does."""
    if tol == 0:
        return 0.0
    return float(np.mean(np.var(X, axis=0)) * tol)


def _count_distinct_rows(X) -> int:
    return int(np.unique(X, axis=0).shape[0])


class KMeans:
    """K-means clustering by Lloyd's algorithm, scikit-learn style.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (and centers).
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features), \
default="k-means++"
        How to choose the initial centers: greedy k-means++, `n_clusters`
        distinct random rows of X, or the given centers.
    n_init : "auto" or int, default="auto"
        Number of runs from different initial centers; the run with the
        lowest inertia is kept. "auto" means 1 for k-means++ or given
        centers and 10 for "random", as in scikit-learn.
    max_iter : int, default=300
        Maximum number of Lloyd iterations in one run.
    tol : float, default=1e-4
        A run stops when the sum of squared center shifts is at most
        ``tol * mean(var(X, axis=0))``.
    random_state : int, numpy.random.Generator or None, default=None
        Seed for the initialisation. The same int gives the same result in
        CPython and in Pyodide.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), dtype int32
    inertia_ : float
        Sum of (weighted) squared distances of the samples to their center.
    n_iter_ : int
        Iterations of the best run.
    n_features_in_ : int

    Notes
    -----
    An empty cluster is moved onto the point farthest from its own center
    (scikit-learn's rule), so no center is ever NaN. The data is centered
    before fitting for numerical accuracy, and the centers moved back.
    Memory beyond the data itself is a few arrays of length n_samples plus
    a 1 MiB distance block, whatever `n_clusters` is.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> km.predict([[0, 0], [12, 3]]).tolist() == [km.labels_[0], km.labels_[3]]
    True
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # -- validation -------------------------------------------------------

    def _check_params(self, X):
        n_clusters = check_n_clusters(self.n_clusters, X.shape[0])
        max_iter = check_positive_int(self.max_iter, "max_iter")
        if not isinstance(self.tol, numbers.Real) or not np.isfinite(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if isinstance(self.init, str):
            if self.init not in INIT_METHODS:
                raise ValueError(
                    f"Unknown init {self.init!r}; use 'k-means++', 'random' or an array of centers"
                )
            init = self.init
            default_n_init = 10 if init == "random" else 1
        else:
            init = check_data(self.init, name="init")
            if init.shape != (n_clusters, X.shape[1]):
                raise ValueError(
                    f"init has shape {init.shape}, but should be (n_clusters, n_features) = "
                    f"({n_clusters}, {X.shape[1]})"
                )
            default_n_init = 1
        if self.n_init == "auto":
            n_init = default_n_init
        else:
            n_init = check_positive_int(self.n_init, "n_init")
        if not isinstance(init, str):
            n_init = 1  # the same given centers would give the same run every time
        return n_clusters, init, n_init, max_iter

    def _check_fitted_input(self, X):
        if not hasattr(self, "cluster_centers_"):
            raise ValueError("This KMeans instance is not fitted yet; call fit(X) first")
        X = check_data(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but KMeans was fitted with {self.n_features_in_}"
            )
        return X

    # -- fitting ------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None, *, callback=None):
        """Compute the clusters of `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample; a sample of weight w counts as w copies.
        callback : callable, optional
            ``callback(0, initial_centers, None)`` at the start of each run,
            then ``callback(n_iter, centers, inertia)`` after each iteration
            (centers in the data's coordinates); return True to stop that
            run early.

        Returns
        -------
        self : KMeans

        Raises
        ------
        ValueError
            If X is not 2-D, holds NaN or infinity, has fewer rows or fewer
            distinct rows than n_clusters, or a parameter is out of range.
        """
        X = check_data(X)
        n_clusters, init, n_init, max_iter = self._check_params(X)
        weights = check_sample_weight(sample_weight, X.shape[0])
        n_weighted = np.count_nonzero(weights)
        if n_weighted < n_clusters:
            raise ValueError(
                f"only {n_weighted} {'sample has' if n_weighted == 1 else 'samples have'} a weight > 0, "
                f"fewer than n_clusters={n_clusters}"
            )
        rng = as_rng(self.random_state)
        tol = _tolerance(X, self.tol)

        # Centering the data makes the distance arithmetic more accurate;
        # column-major order makes each feature contiguous for the kernel.
        X_mean = X.mean(axis=0)
        X_centered = np.asfortranarray(X - X_mean)

        run_callback = None
        if callback is not None:
            def run_callback(n_iter, centers, inertia):
                return callback(n_iter, centers + X_mean, inertia)

        best = None
        for _ in range(n_init):
            if isinstance(init, str):
                centers_init, _indices = INIT_METHODS[init](X_centered, n_clusters, weights, rng)
            else:
                centers_init = init - X_mean
            if np.unique(centers_init, axis=0).shape[0] < n_clusters:
                n_distinct = _count_distinct_rows(X[weights > 0])
                if n_distinct < n_clusters:
                    raise ValueError(
                        f"X has only {count_of(n_distinct, 'distinct point')}, fewer than "
                        f"n_clusters={n_clusters}; choose n_clusters <= {n_distinct}"
                    )
            labels, inertia, centers, n_iter = lloyd_single(
                X_centered, weights, centers_init, max_iter=max_iter, tol=tol,
                callback=run_callback,
            )
            if best is None or inertia < best[1]:
                best = (labels, inertia, centers, n_iter)

        labels, inertia, centers, n_iter = best
        self.cluster_centers_ = centers + X_mean
        self.labels_ = labels.astype(np.int32)
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.n_features_in_ = X.shape[1]
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the label of each sample (``self.labels_``)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X):
        """Index of the nearest fitted center for each row of `X`.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int32
        """
        X = self._check_fitted_input(X)
        labels = np.empty(X.shape[0], dtype=np.intp)
        min_distances = np.empty(X.shape[0], dtype=np.float64)
        assign_labels(X, self.cluster_centers_, labels, min_distances)
        return labels.astype(np.int32)

    def transform(self, X):
        """Euclidean distance of each row of `X` to each center, shape (n_samples, n_clusters)."""
        X = self._check_fitted_input(X)
        return np.sqrt(squared_distances(X, self.cluster_centers_))

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return ``transform(X)``."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the inertia of `X` against the fitted centers (higher is better)."""
        X = self._check_fitted_input(X)
        weights = check_sample_weight(sample_weight, X.shape[0])
        labels = self.predict(X)
        return -weighted_inertia(X, weights, self.cluster_centers_, labels)

    def __repr__(self):
        return (
            f"KMeans(n_clusters={self.n_clusters!r}, init={self.init if isinstance(self.init, str) else 'array'!r}, "
            f"n_init={self.n_init!r}, max_iter={self.max_iter!r}, tol={self.tol!r}, "
            f"random_state={self.random_state!r})"
        )
