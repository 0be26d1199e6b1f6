"""One run of Lloyd's algorithm, and the assignment step (E-step) it repeats.

All functions here assume validated input: ``X`` is a float64 array of shape
(n_samples, n_features), ``sample_weight`` is float64 of shape (n_samples,)
with non-negative values, ``centers`` is float64 of shape (n_clusters,
n_features). The data is usually column-major (Fortran order), so that one
feature's values are contiguous: the low-dimensional distance kernel walks
the data one feature at a time.

Determinism
-----------
For data with few features (``n_features <= _EXPLICIT_MAX_FEATURES``, which
includes every colour space), squared distances are computed as
``sum_j (x_j - c_j)**2`` with elementwise NumPy operations in a fixed order.
IEEE 754 rounds each of those operations the same way on every platform, so
the labels are bit-for-bit the same in CPython and in Pyodide (WebAssembly).
The expanded form ``|x|^2 - 2 x.c + |c|^2`` goes through a matrix product
whose summation order depends on the BLAS, so it is used only for wider
data, where it is much faster. Cluster sums use ``np.bincount``, which adds
in input order, and never BLAS.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Data with at most this many features uses the explicit, platform-exact
#: distance kernel; wider data uses a matrix product.
_EXPLICIT_MAX_FEATURES = 8

#: Bytes of the float64 distance block computed at a time. 1 MiB keeps a
#: block in the L2 cache; the block is the only (n, k)-shaped temporary.
_BLOCK_BYTES = 1 << 20


def block_rows(n_clusters: int) -> int:
    """Rows per distance block so that a block takes about ``_BLOCK_BYTES``."""
    return max(64, _BLOCK_BYTES // (8 * max(n_clusters, 1)))


def squared_distances(X, centers, out=None):
    """Squared Euclidean distances between the rows of `X` and `centers`.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    centers : ndarray of shape (n_clusters, n_features)
    out : ndarray of shape (n_rows, n_clusters), optional
        Buffer to write into (modified in place).

    Returns
    -------
    distances : ndarray of shape (n_rows, n_clusters)
        Never negative.
    """
    n_rows, n_features = X.shape
    if out is None:
        out = np.empty((n_rows, centers.shape[0]), dtype=np.float64)
    if n_features <= _EXPLICIT_MAX_FEATURES:
        # (x_j - c_j)^2 summed feature by feature: exact IEEE operations in a
        # fixed order, so every platform gets the same bits (see module doc).
        diff = np.empty_like(out)
        for j in range(n_features):
            np.subtract(X[:, j, None], centers[None, :, j], out=diff)
            np.multiply(diff, diff, out=diff)
            if j == 0:
                out[...] = diff
            else:
                out += diff
        return out
    np.matmul(X, centers.T, out=out)
    out *= -2.0
    out += np.einsum("ij,ij->i", X, X)[:, None]
    out += np.einsum("ij,ij->i", centers, centers)[None, :]
    # Cancellation in the expanded form can give tiny negative values.
    np.maximum(out, 0.0, out=out)
    return out


def assign_labels(X, centers, labels, min_distances):
    """E-step: give every row the index of its nearest center.

    Works through `X` in blocks of rows, so the extra memory is a few
    blocks of about ``_BLOCK_BYTES`` each, whatever the number of rows:
    12 million rows and 256 centers never build the 12e6 x 256 distance
    matrix (which would take 24.6 GB).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Column-major (Fortran) order is fastest for few features.
    centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,), dtype intp
        Output, modified in place. Ties go to the lowest center index.
    min_distances : ndarray of shape (n_samples,), dtype float64
        Output, modified in place: squared distance of each row to its center.
    """
    if X.shape[1] <= _EXPLICIT_MAX_FEATURES:
        _assign_labels_explicit(X, centers, labels, min_distances)
        return
    n_samples = X.shape[0]
    step = block_rows(centers.shape[0])
    block = np.empty((min(step, n_samples), centers.shape[0]), dtype=np.float64)
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        distances = squared_distances(X[start:stop], centers, out=block[: stop - start])
        np.argmin(distances, axis=1, out=labels[start:stop])
        min_distances[start:stop] = distances[np.arange(stop - start), labels[start:stop]]


def _assign_labels_explicit(X, centers, labels, min_distances):
    """The E-step for few features: see :func:`_nearest_two`, block by block."""
    step = min(X.shape[0], _EXPLICIT_BLOCK_ROWS)
    for start in range(0, X.shape[0], step):
        stop = min(start + step, X.shape[0])
        labels[start:stop], min_distances[start:stop], _second = _nearest_two(X[start:stop], centers)


#: Rows per block of the explicit kernel: a few vectors of this length stay in cache.
_EXPLICIT_BLOCK_ROWS = _BLOCK_BYTES // 8 // 4


def _nearest_two(X, centers):
    """Nearest center, its squared distance, and (a lower bound on) the squared distance to the second.

    Exact and platform-independent for the first two; see
    :func:`_nearest_two_explicit` and :func:`_nearest_two_expanded`.
    """
    if centers.shape[0] >= _EXPANDED_MIN_CLUSTERS:
        return _nearest_two_expanded(X, centers)
    return _nearest_two_explicit(X, centers)


def _nearest_two_explicit(X, centers):
    """Nearest center, its squared distance, and the squared distance to the second nearest.

    One center at a time, the squared distance of every row is built feature
    by feature (the same operations, in the same order, as
    :func:`squared_distances` and :func:`_own_distances`), and running
    minimums keep the best two. Every operation runs over a contiguous
    vector, about three times faster than reducing a (rows, n_clusters)
    block along its short axis. Ties go to the lower index, as argmin does.
    """
    size, n_features = X.shape
    if size * centers.shape[0] <= _SMALL_BLOCK_ENTRIES:
        return _nearest_two_small(X, centers)
    columns = [np.ascontiguousarray(X[:, j]) for j in range(n_features)]
    labels = np.zeros(size, dtype=np.intp)
    best = np.empty(size)
    second = np.full(size, np.inf)
    dist = np.empty(size)
    tmp = np.empty(size)
    closer = np.empty(size, dtype=bool)
    for k, center in enumerate(centers):
        np.subtract(columns[0], center[0], out=dist)
        np.multiply(dist, dist, out=dist)
        for j in range(1, n_features):
            np.subtract(columns[j], center[j], out=tmp)
            np.multiply(tmp, tmp, out=tmp)
            np.add(dist, tmp, out=dist)
        if k == 0:
            best[...] = dist
            continue
        np.less(dist, best, out=closer)  # strictly: a tie keeps the lower index
        np.minimum(second, dist, out=second)
        np.copyto(second, best, where=closer)
        np.copyto(best, dist, where=closer)
        np.putmask(labels, closer, k)
    return labels, best, second


#: Up to this many (row, center) pairs, :func:`_nearest_two_explicit` builds the
#: whole distance block at once: a few NumPy calls instead of a dozen per center,
#: which matters for small inputs (a coarse colour histogram, rows in doubt).
_SMALL_BLOCK_ENTRIES = 1 << 16


def _nearest_two_small(X, centers):
    """:func:`_nearest_two_explicit` for small inputs, with the same arithmetic and ties."""
    distances = squared_distances(X, centers)
    rows = np.arange(X.shape[0])
    labels = np.argmin(distances, axis=1)
    best = distances[rows, labels]
    distances[rows, labels] = np.inf
    second = distances.min(axis=1) if centers.shape[0] > 1 else np.full(X.shape[0], np.inf)
    return labels, best, second


#: From this many clusters on, :func:`_nearest_two` ranks centers with a matrix
#: product and rechecks only the rows whose best two are nearly tied.
_EXPANDED_MIN_CLUSTERS = 32


def _nearest_two_expanded(X, centers):
    """:func:`_nearest_two` for many centers: rank by a matrix product, recheck near-ties exactly.

    ``|c|^2 - 2 x.c`` differs from the squared distance by ``|x|^2``, the
    same for every center of a row, so it ranks the centers of that row.
    A single-precision matrix product computes it fast (``|c|^2`` rides
    along as an extra column of ones in X), but with rounding that depends
    on the BLAS. So the product only *ranks*: a row whose best two centers
    are further apart than a bound on that rounding has the same nearest
    center as the exact computation; the few other rows are recomputed
    exactly (with the explicit arithmetic of :func:`squared_distances`).
    The distance to the nearest center is recomputed exactly for every row
    (:func:`_own_distances`) and the second distance is returned as a lower
    bound, which is all the Hamerly bounds need. So labels and distances
    are the same on every platform.
    """
    labels, best, _runner_up, second, _third = _nearest_three_expanded(X, centers)
    return labels, best, second


def _nearest_three_expanded(X, centers):
    """:func:`_nearest_two_expanded`, plus the runner-up center and a bound on the rest.

    Returns
    -------
    labels, best : the nearest center of each row and its exact squared distance.
    runner_up : ndarray of shape (n_rows,), dtype intp
        A candidate second-nearest center of each row (the product's second
        choice; with one center, or when every other distance overflows,
        the row's own center).
    second : lower bound on the squared distance to `runner_up`.
    third : lower bound on the squared distance to every center other than
        the two. With many centers this one is often much larger than
        `second`, which is what :class:`_BoundedAssigner` makes use of.
    """
    size, n_features = X.shape
    n_clusters = centers.shape[0]
    labels = np.empty(size, dtype=np.intp)
    runner_up = np.empty(size, dtype=np.intp)
    second = np.empty(size)
    third = np.empty(size)
    # Distances do not change when points and centers move together, and the
    # rounding error shrinks with their size: center both on the data's midrange.
    middle = 0.5 * (X.max(axis=0) + X.min(axis=0))
    X_centered = X - middle
    x_sq = np.einsum("ij,ij->i", X_centered, X_centered)
    centered = centers - middle
    centers_sq = np.einsum("ij,ij->i", centered, centered)
    scale = float(x_sq.max()) + float(centers_sq.max())
    # Single precision halves the memory traffic. Data too large or too small for
    # its exponent range is ranked in double precision: below 1e-30 float32's
    # underflow (absolute, about 1e-38 per operation) would no longer be small
    # next to the bound below.
    single = 1e-30 < scale < 1e30
    dtype, unit_roundoff = (np.float32, 2.0**-24) if single else (np.float64, 2.0**-53)
    ranker = np.vstack([-2.0 * centered.T, centers_sq]).astype(dtype)
    # A bound on the rounding of one rank, in any summation order and with the
    # conversions included: (n_features + 3) unit roundoffs of the sum of the
    # terms' sizes, which is at most 2 (|x|^2 + |c|^2). Doubled for safety in
    # single precision; in double precision the exact recheck's own rounding is
    # of the same size, so the margin is larger there.
    safety = 2.0 if single else 8.0
    slack = safety * 2.0 * (n_features + 3) * unit_roundoff * scale + 1e-300
    step = max(64, _BLOCK_BYTES // (np.dtype(dtype).itemsize * n_clusters))
    rows = np.arange(min(step, size))
    augmented = np.ones((min(step, size), n_features + 1), dtype=dtype)
    ranks_buffer = np.empty((min(step, size), n_clusters), dtype=dtype)
    for start in range(0, size, step):
        stop = min(start + step, size)
        here = rows[: stop - start]
        points = augmented[: stop - start]
        points[:, :n_features] = X_centered[start:stop]
        ranks = np.matmul(points, ranker, out=ranks_buffer[: stop - start])
        # Argmin and a gather, three times: faster than min reductions over the rows.
        best = np.argmin(ranks, axis=1)
        best_rank = ranks[here, best].astype(np.float64)
        ranks[here, best] = np.inf
        runner = np.argmin(ranks, axis=1)
        second_rank = ranks[here, runner].astype(np.float64)
        if n_clusters > 2:
            ranks[here, runner] = np.inf
            third_rank = ranks[here, np.argmin(ranks, axis=1)].astype(np.float64)
        else:
            third_rank = np.full(stop - start, np.inf)
        labels[start:stop] = best
        runner_up[start:stop] = runner
        second[start:stop] = np.maximum(second_rank + x_sq[start:stop] - slack, 0.0)
        third[start:stop] = np.maximum(third_rank + x_sq[start:stop] - slack, 0.0)
        # Written so that NaN (ranks that overflowed) counts as a tie.
        tied = np.flatnonzero(~(second_rank - best_rank > 2 * slack))
        if tied.size:
            # Exact distances for these few rows, as a (rows, n_clusters) block: the same
            # operations in the same order as the explicit kernel, so the same bits.
            tied += start
            exact = squared_distances(X[tied], centers)
            at = np.arange(tied.size)
            labels[tied] = np.argmin(exact, axis=1)
            exact[at, labels[tied]] = np.inf
            runner_up[tied] = np.argmin(exact, axis=1)
            second[tied] = exact[at, runner_up[tied]]
            exact[at, runner_up[tied]] = np.inf
            third[tied] = exact.min(axis=1) if n_clusters > 2 else np.inf
    return labels, _own_distances(X, centers, labels), runner_up, second, third


def _own_distances(X, centers, labels):
    """Squared distance of each row to its own center, bit-identical to :func:`_nearest_two`."""
    # One 1-D take per feature: cheaper than gathering whole center rows.
    dist = X[:, 0] - np.take(centers[:, 0], labels)
    dist *= dist
    for j in range(1, X.shape[1]):
        tmp = X[:, j] - np.take(centers[:, j], labels)
        tmp *= tmp
        dist += tmp
    return dist


class _BoundedAssigner:
    """The E-step with Hamerly's bounds: most points skip the distances to all centers.

    For every point we keep an upper bound on its (Euclidean) distance to
    its own center and a lower bound on its distance to every other center.
    When the centers move, the upper bound grows by the move of the point's
    own center and the lower bound drops by the largest move. A point whose
    upper bound is below both its lower bound and half the distance from
    its center to the nearest other center cannot change cluster. Only the
    other points get their own distance recomputed (tightening the upper
    bound), and only those still in doubt are compared with every center.
    Near convergence that is a small fraction, which makes late iterations
    cheap: one pass of bound arithmetic over the points instead of K
    distance computations.

    With many centers (from ``_EXPANDED_MIN_CLUSTERS`` on) one lower bound
    for all other centers is weak: a point near the boundary of two clusters
    is always in doubt. So each point also keeps its runner-up center and a
    lower bound on the distance to it, and the shared lower bound covers the
    remaining centers only, usually much farther. A point in doubt first
    gets the exact distance to its runner-up; only if that does not settle
    it is it compared with every center. On photos at K=256 this removes
    about a quarter of the time.

    The labels are exactly what the full comparison gives (ties included):
    the bounds only decide which points to recompute, with a safety margin
    for rounding, and every recomputation uses the same arithmetic.
    :meth:`distances` gives the exact squared distances when needed.

    Reference: G. Hamerly, "Making k-means even faster", SIAM SDM 2010.
    """

    #: Relative safety margin on the bounds, far above accumulated rounding.
    _MARGIN = 1e-9

    def __init__(self, X):
        self.X = X
        # Bounds are stored widened by the safety margin once, when computed, and
        # shifted by `offset`, the sum of the largest center moves so far: moving
        # every lower bound down by that move is then one scalar addition.
        # True bounds: upper - offset (or more), lower - offset (or less).
        self.upper = np.zeros(X.shape[0])
        self.lower = np.zeros(X.shape[0])
        # With many centers, each row also keeps a runner-up center and a lower
        # bound on its distance to it (stored like `lower`); `lower` then bounds
        # the distance to every *other* center. A row near the boundary of two
        # clusters is settled by one exact distance to the runner-up instead of
        # a comparison with every center. A row without a runner-up has itself
        # as its runner-up (its own center) and an infinite bound.
        # `tracks_runner_ups` is False while every row is its own runner-up.
        self._clear_runner_ups(np.zeros(X.shape[0], dtype=np.intp))
        self.offset = 0.0
        self.previous_centers = None
        # An absolute margin in the data's own scale.
        self.scale = float(np.max(np.abs(X)) * np.sqrt(X.shape[1]))
        # The floor covers squared distances so small (subnormal) that their
        # rounding is far coarser than any relative margin.
        self.slack = self._MARGIN * self.scale + 1e-150

    #: The offset is folded back into the stored bounds once it exceeds this
    #: many times the data's scale, long before its rounding nears the margin.
    _REBASE = 1e3

    def _widen_up(self, distance):
        return distance * (1 + self._MARGIN) + (self.slack + self.offset)

    def _widen_down(self, distance):
        return distance * (1 - self._MARGIN) - (self.slack - self.offset)

    def prime(self, centers, labels, lower, upper=None, runner_up=None, runner_up_lower=None):
        """Start from known labels instead of a full first E-step.

        Parameters
        ----------
        centers : ndarray of shape (n_clusters, n_features)
            The centers the labels refer to.
        labels : ndarray of shape (n_samples,)
            The caller's labels (the same array is passed to the next call).
        lower : ndarray of shape (n_samples,)
            For every row, a lower bound on its Euclidean distance to every
            center other than its own (and other than its runner-up, when
            given). The next call then recomputes only the rows these bounds
            cannot settle.
        upper : ndarray of shape (n_samples,), optional
            An upper bound on each row's distance to its own center; by
            default the exact distance is computed.
        runner_up, runner_up_lower : ndarray of shape (n_samples,), optional
            A second center for each row and a lower bound on the distance to it.
        """
        self.previous_centers = np.array(centers, dtype=np.float64)
        if upper is None:
            upper = np.sqrt(self.distances(self.previous_centers, labels))
        self.offset = 0.0
        self.upper = self._widen_up(np.asarray(upper, dtype=np.float64))
        self.lower = self._widen_down(np.asarray(lower, dtype=np.float64))
        if runner_up is None:
            self._clear_runner_ups(labels)
        else:
            self.tracks_runner_ups = True
            self.runner_up = np.array(runner_up, dtype=np.intp)
            self.runner_up_lower = self._widen_down(np.asarray(runner_up_lower, dtype=np.float64))

    def distances(self, centers, labels):
        """Exact squared distance of every row to its own center (bit-identical to the E-step's)."""
        X = self.X
        out = np.empty(X.shape[0])
        for start in range(0, X.shape[0], _EXPLICIT_BLOCK_ROWS):
            stop = min(start + _EXPLICIT_BLOCK_ROWS, X.shape[0])
            out[start:stop] = _own_distances(X[start:stop], centers, labels[start:stop])
        return out

    def __call__(self, centers, labels, *, max_shift=None, relabel=None):
        """Give every row of X its nearest center, updating `labels` in place.

        `max_shift`, when given, replaces the per-center moves since the last
        call by one bound for all: for a caller that swapped the centers for
        new ones and relabelled the rows to match, such as a rounded palette.
        `relabel` (old center index -> new, the mapping the caller applied to
        the labels) then maps the runner-ups too; without it they are
        forgotten (folded into the shared lower bound).
        """
        X = self.X
        if self.previous_centers is None:
            self._recompute(np.arange(X.shape[0]), centers, labels)
        else:
            if max_shift is None:
                shifts = _row_norms(centers - self.previous_centers)
                max_shift = float(shifts.max())
            else:
                shifts = np.full(centers.shape[0], float(max_shift))
                if relabel is None:
                    self._forget_runner_ups(labels)
                elif self.tracks_runner_ups:
                    self.runner_up = np.asarray(relabel)[self.runner_up]
                else:
                    self._clear_runner_ups(labels)
            if self.offset + max_shift <= self._REBASE * self.scale:
                self.offset += max_shift
                # The upper bound grows by the own center's move (and the offset's),
                # the runner-up's bound drops by its own center's move.
                self.upper += np.take(shifts + max_shift, labels)
                if self.tracks_runner_ups:
                    self.runner_up_lower += np.take(max_shift - shifts, self.runner_up)
            else:
                # A large offset would round small bounds away: fold it back in and
                # move the bounds one by one this time.
                self.upper += np.take(shifts, labels) - self.offset
                self.lower -= self.offset + max_shift
                if self.tracks_runner_ups:
                    self.runner_up_lower -= self.offset + np.take(shifts, self.runner_up)
                self.offset = 0.0
            half_gap = self._widen_down(0.5 * np.sqrt(_center_gaps(centers)))
            lower = np.minimum(self.lower, self.runner_up_lower) if self.tracks_runner_ups else self.lower
            bound = np.maximum(lower, np.take(half_gap, labels))
            doubtful = np.flatnonzero(self.upper >= bound)
            if doubtful.size:
                # Tighten the upper bound and the runner-up's to exact distances, then test again.
                points = X[doubtful]
                own = self._widen_up(np.sqrt(_own_distances(points, centers, labels[doubtful])))
                self.upper[doubtful] = own
                bound_here = bound[doubtful]
                if self.tracks_runner_ups:
                    runner_up = self.runner_up[doubtful]
                    has_runner_up = runner_up != labels[doubtful]
                    if has_runner_up.any():
                        runner = self._widen_down(np.sqrt(_own_distances(points, centers, runner_up)))
                        runner[~has_runner_up] = np.inf
                        self.runner_up_lower[doubtful] = runner
                        bound_here = np.maximum(
                            np.minimum(self.lower[doubtful], runner), half_gap[labels[doubtful]]
                        )
                doubtful = doubtful[own >= bound_here]
                self._recompute(doubtful, centers, labels)
        self.previous_centers = np.array(centers, dtype=np.float64)

    def _forget_runner_ups(self, labels):
        """Fold the runner-up bounds into `lower` (which then bounds every other center)."""
        if self.tracks_runner_ups:
            np.minimum(self.lower, self.runner_up_lower, out=self.lower)
        self._clear_runner_ups(labels)

    def _clear_runner_ups(self, labels):
        """Every row its own runner-up, with an infinite bound: `lower` alone bounds the other centers."""
        self.runner_up = np.array(labels, dtype=np.intp)
        self.runner_up_lower = np.full(self.X.shape[0], np.inf)
        self.tracks_runner_ups = False

    def _recompute(self, rows, centers, labels):
        """Compare `rows` with every center, block by block."""
        many = centers.shape[0] >= _EXPANDED_MIN_CLUSTERS
        for start in range(0, rows.size, _EXPLICIT_BLOCK_ROWS):
            block = rows[start : start + _EXPLICIT_BLOCK_ROWS]
            if many:
                self.tracks_runner_ups = True
                new_labels, best, runner_up, second, rest = _nearest_three_expanded(self.X[block], centers)
                self.runner_up[block] = runner_up
                self.runner_up_lower[block] = self._widen_down(np.sqrt(second))
                self.lower[block] = self._widen_down(np.sqrt(rest))
            else:
                new_labels, best, second = _nearest_two(self.X[block], centers)
                self.runner_up[block] = new_labels
                self.runner_up_lower[block] = np.inf
                self.lower[block] = self._widen_down(np.sqrt(second))
            labels[block] = new_labels
            self.upper[block] = self._widen_up(np.sqrt(best))


def _row_norms(vectors):
    """Euclidean length of each row, without underflow or overflow in the squares."""
    largest = np.max(np.abs(vectors), axis=1)
    safe = np.where(largest > 0, largest, 1.0)
    return largest * np.sqrt(((vectors / safe[:, None]) ** 2).sum(axis=1))


def _center_gaps(centers):
    """Squared distance from each center to its nearest other center (inf for one center)."""
    gaps = squared_distances(centers, centers)
    np.fill_diagonal(gaps, np.inf)
    return gaps.min(axis=1)


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


def _relocate_empty_clusters(X, sample_weight, labels, min_distances, weight_in_clusters, sums):
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
    assigner: _BoundedAssigner | None = None,
    labels_init=None,
    callback_inertia: bool = True,
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
    assigner : _BoundedAssigner, optional
        The E-step to use (data with at most ``_EXPLICIT_MAX_FEATURES``
        features only). A caller passes its own to prime it with known
        labels (see `labels_init`) or to keep its bounds after the run.
    labels_init : ndarray of shape (n_samples,), optional
        Labels of the rows against `centers_init`, matching the bounds the
        `assigner` was primed with (:meth:`_BoundedAssigner.prime`).
    callback_inertia : bool, default=True
        False passes None as the callback's inertia: with bounds, the exact
        inertia costs a pass over the data that a progress report need not pay.

    Returns
    -------
    labels : ndarray of shape (n_samples,), dtype intp
    inertia : float
    centers : ndarray of shape (n_clusters, n_features)
    n_iter : int
    """
    n_samples = X.shape[0]
    n_clusters = centers_init.shape[0]
    centers = np.array(centers_init, dtype=np.float64, order="C")
    labels = np.full(n_samples, -1, dtype=np.intp)
    if labels_init is not None:
        labels[:] = labels_init
    labels_old = np.full(n_samples, -1, dtype=np.intp)
    strict_convergence = False
    n_iter = 0
    if X.shape[1] <= _EXPLICIT_MAX_FEATURES:
        assign = assigner if assigner is not None else _BoundedAssigner(X)
        distances = assign.distances
    else:
        min_distances = np.empty(n_samples, dtype=np.float64)

        def assign(centers, labels):
            assign_labels(X, centers, labels, min_distances)

        def distances(centers, labels):
            return min_distances  # the expanded E-step's, against the centers just used
    weighted_X = X * sample_weight[:, None]
    if callback is not None:
        callback(0, centers, None)
    for n_iter in range(1, max_iter + 1):
        assign(centers, labels)
        weight_in_clusters, sums = weighted_cluster_sums(X, sample_weight, labels, n_clusters, weighted_X)
        if not weight_in_clusters.all():
            _relocate_empty_clusters(
                X, sample_weight, labels, distances(centers, labels), weight_in_clusters, sums
            )
        nonempty = weight_in_clusters > 0
        centers_new = centers.copy()
        centers_new[nonempty] = sums[nonempty] / weight_in_clusters[nonempty, None]
        center_shift_total = float(((centers_new - centers) ** 2).sum())
        stop_requested = bool(
            callback is not None
            and callback(
                n_iter, centers_new,
                _inertia(distances(centers, labels), sample_weight) if callback_inertia else None,
            )
        )
        centers = centers_new
        if np.array_equal(labels, labels_old):
            strict_convergence = True
            break
        if center_shift_total <= tol or stop_requested:
            break
        labels_old[:] = labels
    if not strict_convergence:
        # The labels were computed against the centers before the last
        # update; one more E-step makes them consistent with what we return.
        assign(centers, labels)
    if X.shape[1] <= _EXPLICIT_MAX_FEATURES:
        inertia = _inertia(distances(centers, labels), sample_weight)
    else:
        inertia = weighted_inertia(X, sample_weight, centers, labels)
    return labels, inertia, centers, n_iter


def _inertia(squared_distances, sample_weight) -> float:
    # Not np.dot: BLAS sums in an order that differs between platforms.
    return float((squared_distances * sample_weight).sum())


def weighted_inertia(X, sample_weight, centers, labels) -> float:
    """Sum of ``sample_weight * |x - center(x)|^2``, computed directly (no expansion)."""
    total = 0.0
    step = 1 << 16
    for start in range(0, X.shape[0], step):
        stop = min(start + step, X.shape[0])
        diff = X[start:stop] - centers[labels[start:stop]]
        total += float(((diff * diff).sum(axis=1) * sample_weight[start:stop]).sum())
    return total
