"""Distance kernels: squared distances, nearest centers, and the plain E-step.

Called by the Lloyd loop (:mod:`kmeans._lloyd`), the bounded E-step
(:mod:`kmeans._bounds`), k-means++ (:mod:`kmeans._init`) and the estimator
(:mod:`kmeans.cluster`). Everything here assumes validated input: ``X`` is
float64 of shape (n_samples, n_features), usually column-major (Fortran
order) so that one feature's values are contiguous; ``centers`` is float64
of shape (n_clusters, n_features).

Determinism
-----------
For data with few features (``n_features <= EXPLICIT_MAX_FEATURES``, which
includes every colour space), squared distances are computed as
``sum_j (x_j - c_j)**2`` with elementwise NumPy operations in a fixed order.
IEEE 754 rounds each of those operations the same way on every platform, so
labels and distances are bit-for-bit the same in CPython and in Pyodide
(WebAssembly). A matrix product, whose summation order depends on the BLAS,
is used in two places only: for wider data (much faster there), and to
*rank* many centers (:func:`nearest_three_expanded`), where every row whose
ranking could depend on rounding is recomputed with the explicit arithmetic.

Memory
------
The only (n_rows, n_clusters)-shaped temporaries are blocks of about
``BLOCK_BYTES``; :func:`block_rows` is the one rule that sizes them.
"""

from __future__ import annotations

import numpy as np

from ._selects import smaller

#: Data with at most this many features uses the explicit, platform-exact
#: distance kernel; wider data uses a matrix product.
EXPLICIT_MAX_FEATURES = 8

#: Bytes of a block of work computed at a time. 1 MiB keeps a block in the L2 cache.
BLOCK_BYTES = 1 << 20

#: From this many clusters on, :func:`nearest_centers` ranks centers with a
#: matrix product and also reports each row's runner-up center.
EXPANDED_MIN_CLUSTERS = 32

#: Up to this many (row, center) pairs, :func:`nearest_two_explicit` builds the
#: whole distance block at once: a few NumPy calls instead of a dozen per center,
#: which matters for small inputs (a coarse colour histogram, rows in doubt).
SMALL_BLOCK_ENTRIES = 1 << 16


def block_rows(bytes_per_row: int) -> int:
    """Rows per block so that a block of `bytes_per_row`-byte rows takes about ``BLOCK_BYTES``.

    Examples
    --------
    >>> block_rows(8 * 16), block_rows(8 * 1_000_000)
    (8192, 64)
    """
    return max(64, BLOCK_BYTES // max(bytes_per_row, 1))


#: Rows per block of the explicit kernels, which keep about four float64
#: vectors of this length in cache.
EXPLICIT_BLOCK_ROWS = block_rows(4 * 8)


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
    if n_features <= EXPLICIT_MAX_FEATURES:
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
    """E-step without bounds: give every row the index of its nearest center.

    Works through `X` in blocks of rows, so the extra memory is a few
    blocks of about ``BLOCK_BYTES`` each, whatever the number of rows:
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
    n_samples = X.shape[0]
    if X.shape[1] <= EXPLICIT_MAX_FEATURES:
        for start in range(0, n_samples, EXPLICIT_BLOCK_ROWS):
            stop = min(start + EXPLICIT_BLOCK_ROWS, n_samples)
            labels[start:stop], min_distances[start:stop], _second = nearest_two(X[start:stop], centers)
        return
    step = block_rows(8 * centers.shape[0])
    block = np.empty((min(step, n_samples), centers.shape[0]), dtype=np.float64)
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        distances = squared_distances(X[start:stop], centers, out=block[: stop - start])
        np.argmin(distances, axis=1, out=labels[start:stop])
        min_distances[start:stop] = distances[np.arange(stop - start), labels[start:stop]]


class PlainAssigner:
    """The E-step without bounds, behind the same interface as :class:`kmeans._bounds.BoundedAssigner`.

    For wide data (more than ``EXPLICIT_MAX_FEATURES`` features), where the
    matrix-product kernel is used and bounds would not pay. Calling it
    assigns every row (:func:`assign_labels`); :meth:`distances` returns the
    squared distances of that call; :meth:`inertia` computes the objective
    directly.
    """

    def __init__(self, X):
        self.X = X
        self.min_distances = np.empty(X.shape[0], dtype=np.float64)

    def __call__(self, centers, labels):
        assign_labels(self.X, centers, labels, self.min_distances)

    def distances(self, centers, labels):
        """Squared distance of every row to its own center, as of the last call."""
        return self.min_distances

    def inertia(self, centers, labels, sample_weight) -> float:
        """Sum of ``sample_weight * |x - center(x)|^2`` (:func:`weighted_inertia`)."""
        return weighted_inertia(self.X, sample_weight, centers, labels)


def nearest_centers(X, centers):
    """Nearest center of every row, with what the bounded E-step needs to skip it next time.

    Returns
    -------
    labels : ndarray of shape (n_rows,), dtype intp
        Ties go to the lowest index.
    best : ndarray of shape (n_rows,)
        Exact squared distance to the nearest center.
    runner_up : ndarray of shape (n_rows,) or None
        With ``EXPANDED_MIN_CLUSTERS`` or more centers, a candidate second
        nearest center (see :func:`nearest_three_expanded`); else None.
    runner_up_sq : ndarray of shape (n_rows,) or None
        A lower bound on the squared distance to `runner_up`.
    rest_sq : ndarray of shape (n_rows,)
        A lower bound on the squared distance to every other center (other
        than `runner_up`, when there is one).
    """
    if centers.shape[0] >= EXPANDED_MIN_CLUSTERS:
        return nearest_three_expanded(X, centers)
    labels, best, second = nearest_two_explicit(X, centers)
    return labels, best, None, None, second


def nearest_two(X, centers):
    """Nearest center, its squared distance, and (a lower bound on) the squared distance to the second.

    Exact and platform-independent for the first two; see
    :func:`nearest_two_explicit` and :func:`nearest_two_expanded`.
    """
    if centers.shape[0] >= EXPANDED_MIN_CLUSTERS:
        return nearest_two_expanded(X, centers)
    return nearest_two_explicit(X, centers)


def nearest_two_explicit(X, centers):
    """Nearest center, its squared distance, and the squared distance to the second nearest.

    One center at a time, the squared distance of every row is built feature
    by feature (the same operations, in the same order, as
    :func:`squared_distances` and :func:`own_distances`), and running
    minimums keep the best two. Every operation runs over a contiguous
    vector, about three times faster than reducing a (rows, n_clusters)
    block along its short axis. Ties go to the lower index, as argmin does.
    """
    size, n_features = X.shape
    if size * centers.shape[0] <= SMALL_BLOCK_ENTRIES:
        return nearest_two_small(X, centers)
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
        # Selects, not np.minimum, np.copyto(where=) or np.putmask (see kmeans._selects; distances
        # are never NaN).
        second = np.where(closer, best, smaller(dist, second))
        best = np.where(closer, dist, best)
        labels = np.where(closer, k, labels)
    return labels, best, second


def nearest_two_small(X, centers):
    """:func:`nearest_two_explicit` for small inputs, with the same arithmetic and ties."""
    distances = squared_distances(X, centers)
    rows = np.arange(X.shape[0])
    labels = np.argmin(distances, axis=1)
    best = distances[rows, labels]
    distances[rows, labels] = np.inf
    second = distances.min(axis=1) if centers.shape[0] > 1 else np.full(X.shape[0], np.inf)
    return labels, best, second


def nearest_two_expanded(X, centers):
    """:func:`nearest_two` for many centers: rank by a matrix product, recheck near-ties exactly.

    The second value returned is a lower bound on the squared distance to
    the second nearest center, which is all Hamerly's bounds need; see
    :func:`nearest_three_expanded` for how the ranking stays exact.
    """
    labels, best, _runner_up, second, _third = nearest_three_expanded(X, centers)
    return labels, best, second


def nearest_three_expanded(X, centers):
    """Nearest center by a single-precision ranking, plus the runner-up center and a bound on the rest.

    ``|c|^2 - 2 x.c`` differs from the squared distance by ``|x|^2``, the
    same for every center of a row, so it ranks the centers of that row.
    A single-precision matrix product computes it fast (``|c|^2`` rides
    along as an extra column of ones in X), but with rounding that depends
    on the BLAS. So the product only *ranks*: a row whose best two centers
    are further apart than a bound on that rounding has the same nearest
    center as the exact computation; the few other rows are recomputed
    exactly (with the explicit arithmetic of :func:`squared_distances`).
    The distance to the nearest center is recomputed exactly for every row
    (:func:`own_distances`), so labels and distances are the same on every
    platform.

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
        `second`, which is what the bounded E-step makes use of.
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
    step = block_rows(np.dtype(dtype).itemsize * n_clusters)
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
            exact = squared_distances(gather_rows(X, tied), centers)
            at = np.arange(tied.size)
            labels[tied] = np.argmin(exact, axis=1)
            exact[at, labels[tied]] = np.inf
            runner_up[tied] = np.argmin(exact, axis=1)
            second[tied] = exact[at, runner_up[tied]]
            exact[at, runner_up[tied]] = np.inf
            third[tied] = exact.min(axis=1) if n_clusters > 2 else np.inf
    return labels, own_distances(X, centers, labels), runner_up, second, third


def own_distances(X, centers, labels):
    """Squared distance of each row to its own center, bit-identical to :func:`nearest_two`'s."""
    # One 1-D gather per feature: cheaper than gathering whole center rows. Indexing, not
    # np.take: in WebAssembly take is about six times slower (a 1.4-million-row gather from
    # 16 values: 10 ms against 1.7 ms in Pyodide 0.27.7), natively a little faster.
    dist = X[:, 0] - centers[:, 0][labels]
    dist *= dist
    for j in range(1, X.shape[1]):
        tmp = X[:, j] - centers[:, j][labels]
        tmp *= tmp
        dist += tmp
    return dist


def gather_rows(X, rows):
    """``X[rows]``, column-major, gathered a column at a time.

    For column-major `X` (as every caller's is), about twice as fast as
    indexing the rows in WebAssembly, where gathering whole rows of a
    column-major array goes element by element.
    """
    out = np.empty((rows.size, X.shape[1]), dtype=X.dtype, order="F")
    for j in range(X.shape[1]):
        out[:, j] = X[:, j][rows]
    return out


def row_norms(vectors):
    """Euclidean length of each row, without underflow or overflow in the squares."""
    largest = np.max(np.abs(vectors), axis=1)
    safe = np.where(largest > 0, largest, 1.0)
    return largest * np.sqrt(((vectors / safe[:, None]) ** 2).sum(axis=1))


def center_gaps(centers):
    """Squared distance from each center to its nearest other center (inf for one center)."""
    gaps = squared_distances(centers, centers)
    np.fill_diagonal(gaps, np.inf)
    return gaps.min(axis=1)


def weighted_inertia(X, sample_weight, centers, labels) -> float:
    """Sum of ``sample_weight * |x - center(x)|^2``, computed directly (no expansion)."""
    total = 0.0
    # Two float64 per row; the grouping of the sum (so its last bits) follows the block.
    step = block_rows(16)
    for start in range(0, X.shape[0], step):
        stop = min(start + step, X.shape[0])
        diff = X[start:stop] - centers[labels[start:stop]]
        total += float(((diff * diff).sum(axis=1) * sample_weight[start:stop]).sum())
    return total
