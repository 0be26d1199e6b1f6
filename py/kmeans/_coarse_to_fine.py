"""The quantizer's fit: K-means on weighted distinct colours, coarse to fine.

Called by :func:`kmeans.quantize.quantize_image` with the distinct colours
of an image (already mapped into the fitting space) and their pixel counts.

With many distinct colours the fit runs on a pyramid of colour histograms
(see :func:`colour_histogram`):

1. `n_init` runs of k-means++ and Lloyd's algorithm on the coarse histogram
   (5 bits per channel, at most 32768 bins) find good centers cheaply.
2. With more than ``MIDDLE_MIN_COLOURS`` colours, every run then goes on to
   a middle histogram (6 bits per channel); the best run there is kept.
   Choosing at this finer level picks better runs than the coarse inertia
   does, and the exact phase then starts close to its end. The middle
   histogram is made first: for pixel counts the coarse one is summed from
   its bins (:func:`coarser_histogram`), the same to the bit.
3. Lloyd's algorithm on the exact distinct colours, started from those
   centers, converges to a K-means solution of the image's pixels, usually
   in a few iterations.

The result is exact K-means (a fixed point of Lloyd's algorithm on the
pixels, to the tolerance); the coarser levels only choose where it starts.
Each level also starts the next one's Hamerly bounds
(:meth:`kmeans._bounds.BoundedAssigner.prime_from_parent`), so the first
E-step of a level recomputes only the colours near a boundary.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._bounds import BoundedAssigner
from ._lloyd import lloyd_single
from .cluster import KMeans

#: Above this many distinct colours the fit runs coarse to fine; below it,
#: directly on the distinct colours.
COARSE_MIN_COLOURS = 1 << 15

#: Bits kept per channel by the coarse colour histogram: 5 gives at most
#: 32768 bins, each at the exact weighted mean of the colours in it.
COARSE_BITS = 5

#: Above this many distinct colours the pyramid has a middle level, a
#: histogram of `MIDDLE_BITS` bits per channel.
MIDDLE_MIN_COLOURS = 1 << 17
MIDDLE_BITS = 6


class Fit(NamedTuple):
    """What :func:`fit_colours` found."""

    #: ndarray of shape (n_clusters, n_channels): the fitted centers.
    centers: np.ndarray
    #: Lloyd iterations along the kept run, over all levels.
    n_iter: int
    #: ndarray of shape (n_colours,) or None: each colour's label, after a coarse-to-fine fit, against
    #: the centers of the last E-step (before the last update: the quantizer replaces them anyway).
    labels: np.ndarray | None = None
    #: The BoundedAssigner holding bounds valid for `labels` and those centers, or None. They make
    #: assigning the colours to nearby centers (the rounded palette) cheap.
    assigner: BoundedAssigner | None = None


class Histogram(NamedTuple):
    """A colour histogram: see :func:`colour_histogram`."""

    means: np.ndarray
    bin_weights: np.ndarray
    bin_of_colour: np.ndarray
    radius: np.ndarray
    #: ndarray of shape (n_bins,), dtype intp: each bin's number (its channels' top bits, packed).
    codes: np.ndarray
    #: ndarray of shape (n_bins, n_channels), or None: the weighted sums of the colours in each
    #: bin (`means` times `bin_weights`, before rounding); None when binned in another space.
    sums: np.ndarray | None


def colour_histogram(colours, weights, bits=COARSE_BITS, fitted=None) -> Histogram:
    """Bin colours by their top `bits` bits per channel.

    `colours` are whole sRGB(A) values, which choose the bins. `fitted`, when
    given, are the same colours in another fitting space (see
    :mod:`kmeans.colour_spaces`): the means and radii are then measured there.

    Returns
    -------
    Histogram, a named tuple of:
    means : ndarray of shape (n_bins, n_channels)
        The weighted mean colour of every non-empty bin.
    bin_weights : ndarray of shape (n_bins,)
        Their total weights. Together, a small weighted set whose K-means
        solution is close to that of the full colour set.
    bin_of_colour : ndarray of shape (n_colours,), dtype intp
        The bin (row of `means`) of every colour.
    radius : ndarray of shape (n_bins,)
        An upper bound on the distance from a bin's mean to any colour in it:
        the distance to the farthest corner of the bin's box.
    codes, sums : see :class:`Histogram`.
    """
    shift = 8 - bits
    n_channels = colours.shape[1]
    bins = np.zeros(colours.shape[0], dtype=np.intp)
    for c in range(n_channels):
        bins <<= bits
        bins |= colours[:, c].astype(np.intp) >> shift
    if fitted is None:
        return _box_histogram(bins, weights, lambda c: colours[:, c] * weights, bits, n_channels)
    bin_weights = np.bincount(bins, weights=weights)
    used = np.flatnonzero(bin_weights > 0)
    position = np.zeros(bin_weights.size, dtype=np.intp)
    position[used] = np.arange(used.size)
    means = np.empty((used.size, n_channels), dtype=np.float64, order="F")
    radius_sq = np.zeros(used.size)
    # A bin's box is curved in another space: its radius is measured, colour by colour.
    for c in range(n_channels):
        means[:, c] = np.bincount(bins, weights=fitted[:, c] * weights)[used] / bin_weights[used]
    bin_of_colour = position[bins]
    reach = np.zeros(colours.shape[0])
    for c in range(n_channels):
        reach += (fitted[:, c] - means[bin_of_colour, c]) ** 2
    np.maximum.at(radius_sq, bin_of_colour, reach)
    radius = np.sqrt(radius_sq) * (1 + 1e-9) + 1e-9
    return Histogram(means, bin_weights[used], bin_of_colour, radius, used, None)


def coarser_histogram(fine: Histogram, fine_bits: int, bits: int) -> tuple[Histogram, np.ndarray]:
    """The same colours binned by fewer `bits` per channel, summed from `fine`'s bins.

    Equal to ``colour_histogram(colours, weights, bits)`` (the same bits)
    when the colours and their weights are whole numbers, as pixel counts
    are: every sum is then exact, in any order. It costs a pass over
    `fine`'s bins instead of over the colours.

    Returns
    -------
    coarse : Histogram
    parent_of_bin : ndarray of shape (n_fine_bins,), dtype intp
        The coarse bin (row of ``coarse.means``) of every bin of `fine`.
    """
    n_channels = fine.means.shape[1]
    drop, mask = fine_bits - bits, (1 << fine_bits) - 1
    parent = np.zeros(fine.codes.size, dtype=np.intp)
    for c in range(n_channels):
        parent <<= bits
        parent |= (fine.codes >> (fine_bits * (n_channels - 1 - c)) & mask) >> drop
    coarse = _box_histogram(parent, fine.bin_weights, lambda c: fine.sums[:, c], bits, n_channels)
    parent_of_bin = coarse.bin_of_colour
    return coarse._replace(bin_of_colour=parent_of_bin[fine.bin_of_colour]), parent_of_bin


def _box_histogram(bins, weights, weighted, bits, n_channels) -> Histogram:
    """:func:`colour_histogram` of whole sRGB(A) colours in `bins`, whose channel c weighs ``weighted(c)``."""
    shift = 8 - bits
    bin_weights = np.bincount(bins, weights=weights)
    used = np.flatnonzero(bin_weights > 0)  # a bool scan is faster than a float one
    position = np.zeros(bin_weights.size, dtype=np.intp)
    position[used] = np.arange(used.size)
    sums = np.empty((used.size, n_channels), dtype=np.float64, order="F")
    means = np.empty((used.size, n_channels), dtype=np.float64, order="F")
    radius_sq = np.zeros(used.size)
    width = (1 << shift) - 1
    for c in range(n_channels):
        sums[:, c] = np.bincount(bins, weights=weighted(c))[used]
        means[:, c] = sums[:, c] / bin_weights[used]
        low = (used >> (bits * (n_channels - 1 - c)) & ((1 << bits) - 1)) << shift
        radius_sq += np.maximum(means[:, c] - low, low + width - means[:, c]) ** 2
    return Histogram(means, bin_weights[used], position[bins], np.sqrt(radius_sq), used, sums)


def weighted_tolerance(colours, weights, tol):
    """`tol` times the mean per-channel variance of the pixels (not of the distinct colours)."""
    total = weights.sum()
    mean = (colours * weights[:, None]).sum(axis=0) / total
    variance = (((colours - mean) ** 2) * weights[:, None]).sum(axis=0) / total
    return float(variance.mean() * tol)


def fit_colours(colours, weights, n_clusters, *, rng, max_iter, tol, n_init, callback=None,
                callback_inertia=True, srgb=None) -> Fit:
    """K-means on weighted distinct colours (see the module docstring).

    Parameters
    ----------
    colours : ndarray of shape (n_colours, n_channels)
        Distinct colours in the fitting space, more of them than `n_clusters`.
    weights : ndarray of shape (n_colours,)
        Pixel count of each colour.
    n_clusters : int
    rng : numpy.random.Generator
        The only source of randomness (k-means++ on every level).
    max_iter : int
        Per level.
    tol : float
        Relative tolerance, as :class:`kmeans.KMeans` takes it; each level
        scales it by the variance of what it fits.
    n_init : int
        k-means++ restarts on the coarsest level.
    callback : callable, optional
        ``callback(n_iter, centers, inertia)``, counted on across levels.
    callback_inertia : bool, default=True
        False lets the exact levels pass None as the inertia (cheaper).
    srgb : ndarray of shape (n_colours, n_channels), optional
        The colours as whole sRGB values, when `colours` are in another
        space: the histograms bin them by these.
    """
    if colours.shape[0] <= COARSE_MIN_COLOURS:
        model = KMeans(n_clusters, n_init=n_init, max_iter=max_iter, tol=tol, random_state=rng)
        model.fit(colours, sample_weight=weights, callback=callback)
        return Fit(model.cluster_centers_, model.n_iter_)
    binning, fitted = (colours, None) if srgb is None else (srgb, colours)
    middle = parent_of_bin = None  # parent_of_bin: the coarse bin of every middle bin
    if colours.shape[0] <= MIDDLE_MIN_COLOURS:
        coarse = colour_histogram(binning, weights, COARSE_BITS, fitted)
    elif fitted is None and np.array_equal(weights, np.floor(weights)):
        # Whole colours and weights (pixel counts): summed from the middle level's bins, the coarse
        # level is the same to the bit, at a tenth of the cost.
        middle = colour_histogram(binning, weights, MIDDLE_BITS)
        coarse, parent_of_bin = coarser_histogram(middle, MIDDLE_BITS, COARSE_BITS)
    else:
        middle = colour_histogram(binning, weights, MIDDLE_BITS, fitted)
        coarse = colour_histogram(binning, weights, COARSE_BITS, fitted)
        parent_of_bin = np.empty(middle.means.shape[0], dtype=np.intp)
        # Every colour of a middle bin is in the same coarse bin.
        parent_of_bin[middle.bin_of_colour] = coarse.bin_of_colour
    absolute_tol = weighted_tolerance(colours, weights, tol)
    if coarse.means.shape[0] < n_clusters:
        return _fit_bins_and_heaviest(colours, weights, n_clusters, coarse, rng=rng, max_iter=max_iter,
                                      tol=tol, absolute_tol=absolute_tol, n_init=n_init, callback=callback,
                                      callback_inertia=callback_inertia)

    runs = []  # (inertia, centers, iterations so far) of every restart
    for _ in range(n_init):
        model = KMeans(n_clusters, n_init=1, max_iter=max_iter, tol=tol, random_state=rng)
        model.fit(coarse.means, sample_weight=coarse.bin_weights, callback=callback)
        runs.append((model.inertia_, model.cluster_centers_, model.n_iter_))
    parent, parent_of_colour = coarse, coarse.bin_of_colour
    if middle is not None:
        for index, (_inertia, centers, done) in enumerate(runs):
            _labels, inertia, centers, n_iter, _assigner = primed_lloyd(
                middle.means, middle.bin_weights, centers, coarse, parent_of_bin,
                max_iter=max_iter, tol=absolute_tol, callback=_shifted(callback, done),
                callback_inertia=callback_inertia,
            )
            runs[index] = (inertia, centers, done + n_iter)
        parent, parent_of_colour = middle, middle.bin_of_colour
    _inertia, centers, done = min(runs, key=lambda run: run[0])
    labels, _inertia, centers, n_iter, assigner = primed_lloyd(
        colours, weights, centers, parent, parent_of_colour,
        max_iter=max_iter, tol=absolute_tol, callback=_shifted(callback, done),
        callback_inertia=callback_inertia, finish=False,
    )
    return Fit(centers, done + n_iter, labels, assigner)


def _fit_bins_and_heaviest(colours, weights, n_clusters, coarse, *, rng, max_iter, tol, absolute_tol,
                           n_init, callback, callback_inertia) -> Fit:
    """Fewer coarse bins than clusters: fit them all, add the heaviest other colours, refine exactly."""
    n_bins = coarse.means.shape[0]
    model = KMeans(n_bins, n_init=n_init, max_iter=max_iter, tol=tol, random_state=rng)
    model.fit(coarse.means, sample_weight=coarse.bin_weights, callback=callback)
    extra = np.argsort(-weights, kind="stable")[: n_clusters + n_bins]
    extra = [i for i in extra if not (colours[i] == model.cluster_centers_).all(axis=1).any()]
    centers = np.vstack([model.cluster_centers_, colours[extra[: n_clusters - n_bins]]])
    assigner = BoundedAssigner(colours)
    labels, _inertia, centers, n_iter = lloyd_single(
        colours, weights, centers, max_iter=max_iter, tol=absolute_tol,
        callback=_shifted(callback, model.n_iter_), assigner=assigner,
        callback_inertia=callback_inertia, finish=False,
    )
    return Fit(centers, model.n_iter_ + n_iter, labels, assigner)


def primed_lloyd(points, weights, centers, parent, parent_of_point, *, max_iter, tol, callback=None,
                 callback_inertia=True, finish=True):
    """Lloyd's algorithm on `points`, its first E-step primed from the coarser level `parent`.

    `parent` is a :class:`Histogram` whose bins contain the points
    (`parent_of_point` says which); `tol` is absolute; `finish` is
    :func:`kmeans._lloyd.lloyd_single`'s.

    Returns labels, inertia, centers, n_iter (as :func:`kmeans._lloyd.lloyd_single`)
    and the assigner, which keeps bounds valid for the returned labels.
    """
    assigner = BoundedAssigner(points)
    labels_init = assigner.prime_from_parent(centers, parent.means, parent.radius, parent_of_point)
    labels, inertia, centers, n_iter = lloyd_single(
        points, weights, centers, max_iter=max_iter, tol=tol, callback=callback,
        assigner=assigner, labels_init=labels_init, callback_inertia=callback_inertia, finish=finish,
    )
    return labels, inertia, centers, n_iter, assigner


def _shifted(callback, offset):
    """`callback` for a later phase: iterations counted on from `offset`, no start call."""
    if callback is None:
        return None

    def shifted(n_iter, centers, inertia):
        return callback(offset + n_iter, centers, inertia) if n_iter > 0 else None

    return shifted
