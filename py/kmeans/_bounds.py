"""The bounded E-step (Hamerly's bounds): most points skip the distances to all centers.

Called by the Lloyd loop (:mod:`kmeans._lloyd`) for data with few features
(every colour space), and by the quantizer's coarse-to-fine fit
(:mod:`kmeans._coarse_to_fine`), which primes the bounds from a coarser
colour histogram, and by its palette stage (:mod:`kmeans.quantize`), which
replaces the fitted centers by the rounded palette.

The idea
--------
For every point we keep an upper bound on its (Euclidean) distance to its
own center and a lower bound on its distance to every other center. When
the centers move, the upper bound grows by the move of the point's own
center and the lower bound drops by the largest move. A point whose upper
bound is below both its lower bound and half the distance from its center
to the nearest other center cannot change cluster. Only the other points
get their own distance recomputed (tightening the upper bound), and only
those still in doubt are compared with every center. Near convergence that
is a small fraction, which makes late iterations cheap: one pass of bound
arithmetic over the points instead of K distance computations.

With many centers (from ``EXPANDED_MIN_CLUSTERS`` on) one lower bound for
all other centers is weak: a point near the boundary of two clusters is
always in doubt. So each point also keeps its *runner-up* center and a
lower bound on the distance to it, and the shared lower bound covers the
remaining centers only, usually much farther. A point in doubt first gets
the exact distance to its runner-up; only if that does not settle it is it
compared with every center.

The labels are exactly what the full comparison gives (ties included): the
bounds only decide which points to recompute, with a safety margin for
rounding, and every recomputation uses the same arithmetic as
:mod:`kmeans._distances`.

Reference: G. Hamerly, "Making k-means even faster", SIAM SDM 2010.
"""

from __future__ import annotations

import numpy as np

from ._distances import EXPLICIT_BLOCK_ROWS, center_gaps, gather_rows, nearest_centers, own_distances, row_norms
from ._selects import larger, smaller

#: Rows in doubt settled at a time by one E-step (a few MB of temporaries).
SETTLE_BLOCK_ROWS = 1 << 16


class BoundedAssigner:
    """The E-step with Hamerly's bounds, for data with few features.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The points, assumed validated (column-major is fastest).

    Notes
    -----
    The operations, in the order a caller uses them:

    - :meth:`prime` or :meth:`prime_from_parent` (optional): start from known
      labels and bounds instead of a full first E-step;
    - calling the assigner, ``assigner(centers, labels)``: one E-step after
      the centers moved (the first call without priming compares every row
      with every center);
    - :meth:`replace_centers`: one E-step after the centers were replaced by
      others nearby and renumbered, such as a rounded palette;
    - :meth:`distances` and :meth:`inertia`: the exact squared distances
      and the objective for given labels.
    """

    #: Relative safety margin on the bounds, far above accumulated rounding.
    _MARGIN = 1e-9

    #: The offset is folded back into the stored bounds once it exceeds this
    #: many times the data's scale, long before its rounding nears the margin.
    _REBASE = 1e3

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
        # the distance to every *other* center. A row without a runner-up has
        # itself as its runner-up (its own center) and an infinite bound.
        # `tracks_runner_ups` is False while every row is its own runner-up.
        self._untrack_runner_ups(np.zeros(X.shape[0], dtype=np.intp))
        self.offset = 0.0
        self.previous_centers = None
        # An absolute margin in the data's own scale.
        self.scale = float(np.max(np.abs(X)) * np.sqrt(X.shape[1]))
        # The floor covers squared distances so small (subnormal) that their
        # rounding is far coarser than any relative margin.
        self.slack = self._MARGIN * self.scale + 1e-150

    # -- starting points ------------------------------------------------------------------

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
            self._untrack_runner_ups(labels)
        else:
            self.tracks_runner_ups = True
            self.runner_up = np.array(runner_up, dtype=np.intp)
            self.runner_up_lower = self._widen_down(np.asarray(runner_up_lower, dtype=np.float64))

    def prime_from_parent(self, centers, parent_means, parent_radius, parent_of_row):
        """Prime the bounds from a coarser level whose bins contain the rows; return the labels.

        Every row lies in one bin of the parent level (`parent_of_row` says
        which), within the bin's `parent_radius` of its mean. So the row's
        distance to any center is within that radius of the bin mean's, and
        the bin mean's nearest centers give every row a label and bounds:
        the first E-step then recomputes only rows near a boundary.

        Parameters
        ----------
        centers : ndarray of shape (n_clusters, n_features)
        parent_means : ndarray of shape (n_bins, n_features)
        parent_radius : ndarray of shape (n_bins,)
            An upper bound on the distance from a bin's mean to any row in it.
        parent_of_row : ndarray of shape (n_samples,), dtype intp

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype intp
            Each row's label against `centers`, matching the bounds.
        """
        bin_labels, bin_best, bin_runner_up, bin_runner_up_sq, bin_rest = nearest_centers(parent_means, centers)
        runner_up = runner_up_lower = None
        if bin_runner_up is not None:
            runner_up = bin_runner_up[parent_of_row]
            runner_up_lower = np.maximum(np.sqrt(bin_runner_up_sq) - parent_radius, 0.0)[parent_of_row]
        labels = bin_labels[parent_of_row]
        self.prime(
            centers, labels,
            lower=np.maximum(np.sqrt(bin_rest) - parent_radius, 0.0)[parent_of_row],
            upper=(np.sqrt(bin_best) + parent_radius)[parent_of_row],
            runner_up=runner_up, runner_up_lower=runner_up_lower,
        )
        return labels

    # -- E-steps --------------------------------------------------------------------------

    def __call__(self, centers, labels):
        """Give every row its nearest of `centers`, updating `labels` in place.

        `centers` are the previous call's centers after a move (same number,
        same order): each bound moves by its own center's shift.
        """
        if self.previous_centers is None:
            self._recompute(np.arange(self.X.shape[0]), centers, labels)
        else:
            shifts = row_norms(centers - self.previous_centers)
            self._move_bounds(shifts, float(shifts.max()), labels)
            self._settle(centers, labels)
        self.previous_centers = np.array(centers, dtype=np.float64)

    def replace_centers(self, centers, labels, *, relabel=None, max_shift=None):
        """The centers were replaced by nearby ones and renumbered: update `labels` in place.

        For a palette: rounded centers, with repeats merged. The caller has
        already mapped `labels` to the new numbering.

        Parameters
        ----------
        centers : ndarray of shape (n_new, n_features)
        labels : ndarray of shape (n_samples,)
        relabel : ndarray of shape (n_previous,), optional
            The new index of each previous center. With it, each row keeps
            its runner-up center (renumbered), and `max_shift` defaults to
            the largest move from a previous center to its new one. Without
            it, the runner-ups are forgotten (folded into the shared lower
            bound) and `max_shift` must be given.
        max_shift : float, optional
            A bound on every center's move.
        """
        if self.previous_centers is None:  # never called: there are no bounds to carry over
            self(centers, labels)
            return
        if max_shift is None:
            if relabel is None:
                raise ValueError("replace_centers needs relabel or max_shift to bound the centers' moves")
            max_shift = float(row_norms(centers[np.asarray(relabel)] - self.previous_centers).max())
        if relabel is None:
            self._fold_runner_ups_into_lower(labels)
        elif self.tracks_runner_ups:
            self.runner_up = np.asarray(relabel)[self.runner_up]
        else:
            self._untrack_runner_ups(labels)
        self._move_bounds(np.full(centers.shape[0], float(max_shift)), float(max_shift), labels)
        self._settle(centers, labels)
        self.previous_centers = np.array(centers, dtype=np.float64)

    def distances(self, centers, labels):
        """Exact squared distance of every row to its own center (bit-identical to the E-step's)."""
        X = self.X
        out = np.empty(X.shape[0])
        for start in range(0, X.shape[0], EXPLICIT_BLOCK_ROWS):
            stop = min(start + EXPLICIT_BLOCK_ROWS, X.shape[0])
            out[start:stop] = own_distances(X[start:stop], centers, labels[start:stop])
        return out

    def inertia(self, centers, labels, sample_weight) -> float:
        """Sum of ``sample_weight * |x - center(x)|^2``."""
        # Not np.dot: BLAS sums in an order that differs between platforms.
        return float((self.distances(centers, labels) * sample_weight).sum())

    # -- the steps of an E-step -----------------------------------------------------------

    def _move_bounds(self, shifts, max_shift, labels):
        """Loosen the bounds for centers that moved by `shifts` (at most `max_shift`)."""
        if self.offset + max_shift <= self._REBASE * self.scale:
            self.offset += max_shift
            # The upper bound grows by the own center's move (and the offset's),
            # the runner-up's bound drops by its own center's move.
            self.upper += (shifts + max_shift)[labels]
            if self.tracks_runner_ups:
                self.runner_up_lower += (max_shift - shifts)[self.runner_up]
        else:
            # A large offset would round small bounds away: fold it back in and
            # move the bounds one by one this time.
            self.upper += shifts[labels] - self.offset
            self.lower -= self.offset + max_shift
            if self.tracks_runner_ups:
                self.runner_up_lower -= self.offset + shifts[self.runner_up]
            self.offset = 0.0

    def _settle(self, centers, labels):
        """Recompute the rows the bounds cannot settle: own distance, runner-up, then every center."""
        half_gap = self._widen_down(0.5 * np.sqrt(center_gaps(centers)))
        lower = smaller(self.lower, self.runner_up_lower) if self.tracks_runner_ups else self.lower
        bound = larger(lower, half_gap[labels])
        doubtful_rows = np.flatnonzero(self.upper >= bound)
        # A block of rows at a time (each row is settled on its own): after a big move nearly every
        # row is in doubt, and the coordinates, bounds and distances of a million rows at once took
        # about 100 MB.
        for start in range(0, doubtful_rows.size, SETTLE_BLOCK_ROWS):
            self._settle_rows(doubtful_rows[start : start + SETTLE_BLOCK_ROWS], bound, half_gap, centers, labels)

    def _settle_rows(self, doubtful, bound, half_gap, centers, labels):
        """:meth:`_settle` for the rows `doubtful`, given every row's `bound` and the centers' `half_gap`."""
        # Tighten the upper bound and the runner-up's to exact distances, then test again.
        points = gather_rows(self.X, doubtful)
        own = self._widen_up(np.sqrt(own_distances(points, centers, labels[doubtful])))
        self.upper[doubtful] = own
        bound_here = bound[doubtful]
        if self.tracks_runner_ups:
            runner_up = self.runner_up[doubtful]
            has_runner_up = runner_up != labels[doubtful]
            if has_runner_up.any():
                runner = self._widen_down(np.sqrt(own_distances(points, centers, runner_up)))
                runner[~has_runner_up] = np.inf
                self.runner_up_lower[doubtful] = runner
                bound_here = larger(smaller(self.lower[doubtful], runner), half_gap[labels[doubtful]])
        self._recompute(doubtful[own >= bound_here], centers, labels)

    def _recompute(self, rows, centers, labels):
        """Compare `rows` with every center, block by block, and store fresh bounds."""
        for start in range(0, rows.size, EXPLICIT_BLOCK_ROWS):
            block = rows[start : start + EXPLICIT_BLOCK_ROWS]
            new_labels, best, runner_up, runner_up_sq, rest = nearest_centers(gather_rows(self.X, block), centers)
            if runner_up is None:
                self.runner_up[block] = new_labels
                self.runner_up_lower[block] = np.inf
            else:
                self.tracks_runner_ups = True
                self.runner_up[block] = runner_up
                self.runner_up_lower[block] = self._widen_down(np.sqrt(runner_up_sq))
            self.lower[block] = self._widen_down(np.sqrt(rest))
            labels[block] = new_labels
            self.upper[block] = self._widen_up(np.sqrt(best))

    # -- runner-ups and margins -----------------------------------------------------------

    def _fold_runner_ups_into_lower(self, labels):
        """Stop tracking runner-ups, keeping what their bounds knew: `lower` then bounds every other center."""
        if self.tracks_runner_ups:
            np.minimum(self.lower, self.runner_up_lower, out=self.lower)
        self._untrack_runner_ups(labels)

    def _untrack_runner_ups(self, labels):
        """Every row its own runner-up, with an infinite bound: `lower` alone bounds the other centers."""
        self.runner_up = np.array(labels, dtype=np.intp)
        self.runner_up_lower = np.full(self.X.shape[0], np.inf)
        self.tracks_runner_ups = False

    def _widen_up(self, distance):
        return distance * (1 + self._MARGIN) + (self.slack + self.offset)

    def _widen_down(self, distance):
        return distance * (1 - self._MARGIN) - (self.slack - self.offset)
