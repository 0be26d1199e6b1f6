"""Colour quantization: K-means picks a palette, every pixel gets an index.

A true-colour pixel takes 24 bits (red, green and blue bytes). If we choose
a *palette* (in vector-quantization terms a *codebook*) of K colours, every
pixel can instead store the index of its palette entry: 16 colours need 4
bits per pixel, 256 colours need 8. K-means is a natural way to choose the
palette: the centers of K clusters of the pixels' colours are the K colours
that make the summed squared error of the image smallest (at a local
optimum). Writing the indices and the palette as an indexed PNG then gives
a much smaller file that looks nearly the same.

What is exact and what is not
-----------------------------
K-means on the pixels is the same problem as K-means on the image's
*distinct* colours, each weighted by how many pixels have it: the objective,
every assignment and every weighted mean are identical. So the fit runs on
the distinct colours (a photo of 12 million pixels typically has under a
million) with their counts as `sample_weight`, which changes nothing but
the speed. Coarser colour histograms only choose where that fit starts
(see :func:`_fit_colours`): it ends at a fixed point of Lloyd's algorithm
on the pixels themselves (to the tolerance `tol`, as scikit-learn's does).
Two things are approximations, both documented on
:func:`quantize_image`: a palette holds whole numbers, so the fitted centers
are rounded to the nearest integer, and every pixel then gets its nearest
palette colour (which can differ from its cluster when a rounded center
moved across a boundary).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._lloyd import (
    _EXPANDED_MIN_CLUSTERS,
    _BoundedAssigner,
    _nearest_three_expanded,
    _nearest_two,
    _row_norms,
    assign_labels,
    lloyd_single,
)
from ._validation import as_rng, check_positive_int
from .cluster import KMeans

#: A palette image holds at most this many colours.
MAX_PALETTE_SIZE = 256

#: Above this many distinct colours the palette is fitted coarse-to-fine
#: (see :func:`_fit_colours`); below it, directly on the distinct colours.
_COARSE_MIN_COLOURS = 1 << 15

#: Bits kept per channel by the coarse colour histogram: 5 gives at most
#: 32768 bins, each at the exact weighted mean of the colours in it.
_COARSE_BITS = 5

#: n_init="auto": this many k-means++ restarts, or one from `_AUTO_ONE_RUN_FROM` colours on.
_AUTO_RESTARTS = 3
_AUTO_ONE_RUN_FROM = 128

#: Above this many distinct colours the coarse-to-fine fit has a middle
#: level, a histogram of `_MIDDLE_BITS` bits per channel (a 12-megapixel
#: photo has about 500,000 distinct colours and 50,000 such bins).
_MIDDLE_MIN_COLOURS = 1 << 17
_MIDDLE_BITS = 6

#: Images with fewer pixels than this sort their colour keys to find the
#: distinct colours; larger ones use a counting pass over all 2**24 RGB
#: values, which is linear in the pixels but always touches a 128 MiB table.
_COUNTING_MIN_PIXELS = 1 << 21


@dataclasses.dataclass
class QuantizedImage:
    """An image as a palette and one palette index per pixel.

    Attributes
    ----------
    palette : ndarray of shape (n_colors, 3) or (n_colors, 4), dtype uint8
        RGB colours, or RGBA when the image has transparency. Sorted by how
        many pixels use each colour, most used first.
    indices : ndarray of shape (height, width), dtype uint8
        Palette index of each pixel.
    n_iter : int
        Lloyd iterations of the fit (0 when the image had few enough colours
        to keep them all).
    sse : float
        Sum over all pixels and channels of the squared difference between
        the original and the quantized image (fully transparent pixels count
        as exact).
    """

    palette: np.ndarray
    indices: np.ndarray
    n_iter: int
    sse: float

    @property
    def n_colors(self) -> int:
        """Number of palette entries."""
        return self.palette.shape[0]

    @property
    def mse(self) -> float:
        """Mean squared error per channel value, on the 0-255 scale."""
        return self.sse / (self.indices.size * self.palette.shape[1])

    @property
    def psnr(self) -> float:
        """Peak signal-to-noise ratio in dB (infinite for an exact copy)."""
        return math.inf if self.mse == 0 else 10 * math.log10(255.0**2 / self.mse)

    def to_array(self) -> np.ndarray:
        """The quantized image, shape (height, width, 3 or 4), dtype uint8."""
        return self.palette[self.indices]


def check_image(image) -> np.ndarray:
    """Return `image` as a (height, width, 3|4) uint8 array, or raise ValueError/TypeError."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"image must have dtype uint8 (values 0-255), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(
            f"image must have shape (height, width, 3) for RGB or (height, width, 4) for RGBA, "
            f"got shape {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty: shape {image.shape}")
    return image


def check_n_colors(n_colors) -> int:
    """Return `n_colors` as an int in 1..256, or raise ValueError."""
    if isinstance(n_colors, bool) or not isinstance(n_colors, (int, np.integer)):
        raise ValueError(f"n_colors must be a whole number from 1 to 256, got {n_colors!r}")
    if not 1 <= n_colors <= MAX_PALETTE_SIZE:
        raise ValueError(
            f"n_colors={n_colors} is out of range: a palette image holds 1 to "
            f"{MAX_PALETTE_SIZE} colours"
        )
    return int(n_colors)


def _pack(channels) -> np.ndarray:
    """Pack 3 or 4 uint8 channel planes (each shape (n,)) into one integer key per pixel.

    Channel c goes to bits 8c to 8c+7, the byte order of an RGBA pixel read as a
    little-endian 32-bit integer (see :func:`_keys`). Three channels give intp
    keys (24 bits fit even in WebAssembly's 32-bit intp), which np.bincount
    and indexing take without a cast; four give uint32.
    """
    key = np.zeros(channels[0].shape, dtype=np.intp if len(channels) <= 3 else np.uint32)
    for c, plane in enumerate(channels):
        key |= plane.astype(key.dtype) << (8 * c)
    return key


def _keys(pixels, n_channels) -> np.ndarray:
    """Colour keys of the first `n_channels` of each row of `pixels` (shape (n, 3 or 4), uint8).

    On a little-endian machine (every platform we run on, WebAssembly
    included) a pixel's four RGBA bytes already are its key: for contiguous
    RGBA rows one view and one mask do instead of shifting each channel, and
    RGB rows are first copied into 4-byte rows.
    """
    if sys.byteorder == "little" and n_channels <= 3:
        if pixels.shape[1] == 3:
            rows = np.zeros((pixels.shape[0], 4), dtype=np.uint8)
            rows[:, :3] = pixels
            return rows.view(np.int32).reshape(-1).astype(np.intp, copy=False)
        if pixels.flags.c_contiguous:
            keys = pixels.view(np.int32).reshape(-1) & 0xFFFFFF
            return keys.astype(np.intp, copy=False)
    if pixels.shape[1] == 4 and n_channels == 4 and pixels.flags.c_contiguous and sys.byteorder == "little":
        return pixels.view(np.uint32).reshape(-1)
    return _pack([pixels[:, c] for c in range(n_channels)])


def _unpack(keys, n_channels) -> np.ndarray:
    """Inverse of :func:`_pack`: keys (n,) -> float64 colours (n, n_channels), column-major."""
    colours = np.empty((keys.size, n_channels), dtype=np.float64, order="F")
    for c in range(n_channels):
        colours[:, c] = (keys >> (8 * c)) & 0xFF
    return colours


def _distinct(keys, n_bits):
    """Distinct keys (sorted), their counts, and a function mapping keys to positions.

    24-bit keys never need np.unique's argsort: big images take a counting
    pass (np.bincount, linear time), smaller ones a plain sort of the keys.
    The per-pixel mapping is then one lookup in a table indexed by colour.
    """
    if n_bits == 24 and keys.size >= _COUNTING_MIN_PIXELS:
        table = np.bincount(keys, minlength=1 << 24)
        distinct = np.flatnonzero(table > 0).astype(np.uint32)  # a bool scan is faster than an int one
        counts = table[distinct]
        # Only the entries of distinct keys are ever read, so the count table's
        # memory (no longer needed) holds the values: no new table to allocate.
        return distinct, counts, _table_lookup(keys, distinct, table)
    if n_bits == 24:
        ordered = np.sort(keys.astype(np.uint32))  # sorting 4-byte keys is faster than 8-byte ones
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        distinct = ordered[starts]
        return distinct, np.diff(starts, append=ordered.size), _table_lookup(keys, distinct)
    distinct, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return distinct, counts, lambda table_values: table_values[inverse.reshape(-1)]


def _table_lookup(keys, distinct, spare=None):
    """A function mapping per-colour values (one per entry of `distinct`) to per-key values.

    The values go into a table indexed by 24-bit colour, which `keys` then
    index: only the entries of distinct colours are written or read, so the
    table needs no initialising. `spare`, an array of at least 2**24 entries
    that is no longer needed, holds the table when its items are big enough.
    """

    def lookup(table_values):
        if spare is not None and table_values.dtype.itemsize <= spare.dtype.itemsize:
            values = spare.view(table_values.dtype)[: 1 << 24]
        else:
            values = np.empty(1 << 24, dtype=table_values.dtype)
        values[distinct] = table_values
        return values[keys]

    return lookup


def _weighted_tolerance(colours, weights, tol):
    """`tol` times the mean per-channel variance of the pixels (not of the distinct colours)."""
    total = weights.sum()
    mean = (colours * weights[:, None]).sum(axis=0) / total
    variance = (((colours - mean) ** 2) * weights[:, None]).sum(axis=0) / total
    return float(variance.mean() * tol)


class _Histogram(NamedTuple):
    """A colour histogram: see :func:`_coarse_histogram`."""

    means: np.ndarray
    bin_weights: np.ndarray
    bin_of_colour: np.ndarray
    radius: np.ndarray


def _coarse_histogram(colours, weights, bits=_COARSE_BITS) -> _Histogram:
    """Bin colours by their top `bits` bits per channel.

    Returns
    -------
    _Histogram, a named tuple of:
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
    """
    shift = 8 - bits
    n_channels = colours.shape[1]
    bins = np.zeros(colours.shape[0], dtype=np.intp)
    for c in range(n_channels):
        bins <<= bits
        bins |= colours[:, c].astype(np.intp) >> shift
    bin_weights = np.bincount(bins, weights=weights)
    used = np.flatnonzero(bin_weights)
    position = np.zeros(bin_weights.size, dtype=np.intp)
    position[used] = np.arange(used.size)
    means = np.empty((used.size, n_channels), dtype=np.float64, order="F")
    radius_sq = np.zeros(used.size)
    width = (1 << shift) - 1
    for c in range(n_channels):
        means[:, c] = np.bincount(bins, weights=colours[:, c] * weights)[used] / bin_weights[used]
        low = (used >> (bits * (n_channels - 1 - c)) & ((1 << bits) - 1)) << shift
        radius_sq += np.maximum(means[:, c] - low, low + width - means[:, c]) ** 2
    return _Histogram(means, bin_weights[used], position[bins], np.sqrt(radius_sq))


def _fit_colours(colours, weights, n_clusters, *, seed, max_iter, tol, n_init, callback,
                 callback_inertia=True):
    """K-means on weighted distinct colours.

    With many distinct colours the fit runs coarse to fine, on a pyramid of
    colour histograms (see :func:`_coarse_histogram`):

    1. `n_init` runs of k-means++ and Lloyd's algorithm on the coarse
       histogram (5 bits per channel, at most 32768 bins) find good centers
       cheaply.
    2. With more than ``_MIDDLE_MIN_COLOURS`` colours, every run then goes on
       to a middle histogram (6 bits per channel); the best run there is
       kept. Choosing at this finer level picks better runs than the coarse
       inertia does, and the exact phase then starts close to its end.
    3. Lloyd's algorithm on the exact distinct colours, started from those
       centers, converges to a K-means solution of the image's pixels,
       usually in a few iterations.

    The result is exact K-means (a fixed point of Lloyd's algorithm on the
    pixels); the coarser levels only choose where it starts. Each level also
    starts the next one's Hamerly bounds: a colour lies inside its bin's box,
    so its distance to any center is within the box's radius of the bin
    mean's, and the first E-step recomputes only colours near a boundary.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_channels)
    n_iter : int
        Iterations along the kept run, over all levels.
    state : tuple (labels, assigner) or None
        After a coarse-to-fine fit: the colours' labels and the bounded
        E-step holding bounds for them, which make assigning the colours to
        nearby centers (the rounded palette) cheap.
    """
    if colours.shape[0] <= _COARSE_MIN_COLOURS:
        model = KMeans(n_clusters, n_init=n_init, max_iter=max_iter, tol=tol, random_state=seed)
        model.fit(colours, sample_weight=weights, callback=callback)
        return model.cluster_centers_, model.n_iter_, None
    coarse = _coarse_histogram(colours, weights)
    means, bin_weights, bin_of_colour, radius = coarse
    exact_tol = _weighted_tolerance(colours, weights, tol)
    if means.shape[0] < n_clusters:
        # Fewer bins than clusters: fit them all, add the heaviest other colours.
        model = KMeans(means.shape[0], n_init=n_init, max_iter=max_iter, tol=tol, random_state=as_rng(seed))
        model.fit(means, sample_weight=bin_weights, callback=callback)
        extra = np.argsort(-weights, kind="stable")[: n_clusters + means.shape[0]]
        extra = [i for i in extra if not (colours[i] == model.cluster_centers_).all(axis=1).any()]
        centers = np.vstack([model.cluster_centers_, colours[extra[: n_clusters - means.shape[0]]]])
        assigner = _BoundedAssigner(colours)
        labels, _inertia, centers, n_iter = lloyd_single(
            colours, weights, centers, max_iter=max_iter, tol=exact_tol,
            callback=_shifted(callback, model.n_iter_), assigner=assigner,
            callback_inertia=callback_inertia,
        )
        return centers, model.n_iter_ + n_iter, (labels, assigner)

    rng = as_rng(seed)
    runs = []  # (inertia, centers, iterations so far) of every restart
    for _ in range(n_init):
        model = KMeans(n_clusters, n_init=1, max_iter=max_iter, tol=tol, random_state=rng)
        model.fit(means, sample_weight=bin_weights, callback=callback)
        runs.append((model.inertia_, model.cluster_centers_, model.n_iter_))
    parent, parent_of_colour = coarse, bin_of_colour
    if colours.shape[0] > _MIDDLE_MIN_COLOURS:
        middle = _coarse_histogram(colours, weights, _MIDDLE_BITS)
        parent_of_bin = np.empty(middle.means.shape[0], dtype=np.intp)
        # Every colour of a fine bin is in the same coarse bin.
        parent_of_bin[middle.bin_of_colour] = bin_of_colour
        for index, (_inertia, centers, done) in enumerate(runs):
            _labels, inertia, centers, n_iter, _assigner = _primed_lloyd(
                middle.means, middle.bin_weights, centers, coarse, parent_of_bin,
                max_iter=max_iter, tol=exact_tol, callback=_shifted(callback, done),
                callback_inertia=callback_inertia,
            )
            runs[index] = (inertia, centers, done + n_iter)
        parent, parent_of_colour = middle, middle.bin_of_colour
    _inertia, centers, done = min(runs, key=lambda run: run[0])
    labels, _inertia, centers, n_iter, assigner = _primed_lloyd(
        colours, weights, centers, parent, parent_of_colour,
        max_iter=max_iter, tol=exact_tol, callback=_shifted(callback, done),
        callback_inertia=callback_inertia,
    )
    return centers, done + n_iter, (labels, assigner)


def _with_progress(callback, progress):
    """One callback for :func:`_fit_colours` that serves both `callback` and `progress`."""
    if progress is None:
        return callback

    def both(n_iter, centers, inertia):
        if n_iter > 0:
            progress(n_iter)
        return callback(n_iter, centers, inertia) if callback is not None else None

    return both


def _shifted(callback, offset):
    """`callback` for a later phase: iterations counted on from `offset`, no start call."""
    if callback is None:
        return None

    def shifted(n_iter, centers, inertia):
        return callback(offset + n_iter, centers, inertia) if n_iter > 0 else None

    return shifted


def _primed_lloyd(points, weights, centers, parent, parent_of_point, *, max_iter, tol, callback,
                  callback_inertia):
    """Lloyd's algorithm on `points`, its first E-step primed from the coarser level `parent`.

    `parent` is a :func:`_coarse_histogram` result whose bins contain the
    points (`parent_of_point` says which). A point's distance to any center
    is within its bin's radius of the bin mean's, so the bin mean's nearest
    two centers give every point a label and Hamerly bounds.

    Returns labels, inertia, centers, n_iter (as :func:`lloyd_single`) and
    the assigner, which keeps bounds valid for the returned labels.
    """
    assigner = _BoundedAssigner(points)
    if centers.shape[0] >= _EXPANDED_MIN_CLUSTERS:
        # With many centers, also the runner-up of each bin and a bound on the rest.
        bin_labels, bin_best, bin_runner_up, bin_second, bin_rest = _nearest_three_expanded(parent.means, centers)
        runner_up = bin_runner_up[parent_of_point]
        runner_up_lower = np.maximum(np.sqrt(bin_second) - parent.radius, 0.0)[parent_of_point]
    else:
        bin_labels, bin_best, bin_rest = _nearest_two(parent.means, centers)
        runner_up = runner_up_lower = None
    labels_init = bin_labels[parent_of_point]
    assigner.prime(
        centers, labels_init,
        lower=np.maximum(np.sqrt(bin_rest) - parent.radius, 0.0)[parent_of_point],
        upper=(np.sqrt(bin_best) + parent.radius)[parent_of_point],
        runner_up=runner_up, runner_up_lower=runner_up_lower,
    )
    labels, inertia, centers, n_iter = lloyd_single(
        points, weights, centers, max_iter=max_iter, tol=tol, callback=callback,
        assigner=assigner, labels_init=labels_init, callback_inertia=callback_inertia,
    )
    return labels, inertia, centers, n_iter, assigner


def _palette_labels(colours, centers, state):
    """Round the centers to a palette and give every colour its nearest palette entry.

    Returns the palette (sorted, without repeats), each colour's label and
    its squared distance. Every distinct colour takes its nearest palette
    colour (exact integers in float64, so the same on every platform; ties
    go to the lower palette index). After a two-phase fit the bounds of the
    last E-step carry over: rounding moves each center by at most
    sqrt(3)/2, so only colours near a boundary are compared with every
    palette colour.
    """
    rounded = np.clip(np.rint(centers), 0, 255)
    palette, inverse = np.unique(rounded, axis=0, return_inverse=True)
    if state is None:
        sq_errors = np.empty(colours.shape[0], dtype=np.float64)
        labels = np.empty(colours.shape[0], dtype=np.intp)
        assign_labels(colours, palette, labels, sq_errors)
        return palette, labels, sq_errors
    labels, assigner = state
    inverse = inverse.reshape(-1)
    # Measured from the centers the bounds last saw, which are `centers` except
    # after an empty cluster was moved in the very last step.
    max_shift = float(_row_norms(rounded - assigner.previous_centers).max())
    labels = inverse[labels]
    assigner(palette, labels, max_shift=max_shift, relabel=inverse)
    return palette, labels, assigner.distances(palette, labels)


def quantize_image(
    image,
    n_colors: int = 16,
    *,
    seed=0,
    max_iter: int = 300,
    tol: float = 1e-4,
    n_init="auto",
    callback: Callable | None = None,
    progress: Callable | None = None,
) -> QuantizedImage:
    """Reduce an image to at most `n_colors` colours chosen by K-means.

    Parameters
    ----------
    image : ndarray of shape (height, width, 3) or (height, width, 4), dtype uint8
        RGB or RGBA pixels.
    n_colors : int, default=16
        Palette size, 1 to 256. When the image has fully transparent pixels,
        one entry is the transparent colour (0, 0, 0, 0).
    seed : int, numpy.random.Generator or None, default=0
        Seed for the k-means++ initialisation.
    max_iter : int, default=300
        Maximum number of Lloyd iterations.
    tol : float, default=1e-4
        Relative tolerance, as for :class:`kmeans.KMeans`.
    n_init : "auto" or int, default="auto"
        Number of k-means++ restarts; the best is kept (see
        :func:`_fit_colours`). The restarts run on small colour histograms,
        so they are cheap, and a better start makes the exact phase converge
        sooner. "auto" means 3 below 128 colours and 1 from 128 on: with many
        clusters the runs differ little (on the benchmark photos at K=256,
        within 0.8% of each other either way) while each restart costs more.
    callback : callable, optional
        Passed to :meth:`kmeans.KMeans.fit`: ``callback(0, centers, None)``
        at the start, then ``callback(n_iter, centers, inertia)`` after each
        iteration; return True to stop early.
    progress : callable, optional
        ``progress(n_iter)`` after each iteration of every phase. Cheaper than
        `callback` for a progress bar: nothing extra is computed for it.

    Returns
    -------
    QuantizedImage
        Palette, per-pixel indices and error statistics.

    Warns
    -----
    UserWarning
        If the image has fewer distinct colours than `n_colors`: the palette
        then holds exactly those colours.

    Notes
    -----
    Alpha is kept. Fully transparent pixels are left out of the fit (their
    hidden colour does not pull the palette) and share one transparent
    palette entry. If other pixels are partly transparent, the fit runs on
    RGBA values so that each palette entry carries its own alpha, as an
    indexed PNG requires. The fit is exact K-means on the image's pixels
    (see the module docstring); the palette is the fitted centers rounded to
    whole numbers, and each pixel is given its nearest palette colour.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> image[:, 1:] = [250, 10, 10]
    >>> result = quantize_image(image, 2)
    >>> result.palette.tolist(), result.indices.tolist()
    ([[250, 10, 10], [0, 0, 0]], [[1, 0, 0], [1, 0, 0]])
    """
    image = check_image(image)
    n_colors = check_n_colors(n_colors)
    max_iter = check_positive_int(max_iter, "max_iter")
    if isinstance(n_init, str) and n_init == "auto":
        n_init = _AUTO_RESTARTS if n_colors < _AUTO_ONE_RUN_FROM else 1
    n_init = check_positive_int(n_init, "n_init")
    height, width, n_channels = image.shape
    flat = image.reshape(-1, n_channels)

    alpha = flat[:, 3] if n_channels == 4 else None
    if alpha is not None and alpha.min() == 255:
        alpha = None  # opaque: one pass instead of three
    partly_transparent = alpha is not None and bool(((alpha > 0) & (alpha < 255)).any())
    visible = None if alpha is None else alpha > 0
    if visible is not None and visible.all():
        visible = None  # nothing to leave out
    has_transparent = visible is not None

    # The colour space of the fit: RGB, or RGBA when alpha varies.
    fit_channels = 4 if partly_transparent else 3
    out_channels = 4 if (partly_transparent or has_transparent) else 3
    pixels = flat if visible is None else flat[visible]
    if pixels.shape[0] == 0:
        raise ValueError("image is fully transparent: there are no colours to quantize")
    keys = _keys(pixels, fit_channels)
    distinct, counts, lookup = _distinct(keys, 8 * fit_channels)
    colours = _unpack(distinct, fit_channels)
    weights = counts.astype(np.float64)

    n_fit = n_colors - 1 if has_transparent else n_colors
    if n_fit < 1:
        raise ValueError(
            "n_colors=1 leaves no colour for the visible pixels once one palette entry is "
            "reserved for transparency; use n_colors >= 2"
        )
    if distinct.size <= n_fit:
        if distinct.size < n_fit:
            warnings.warn(
                f"the image has only {distinct.size} distinct colours, fewer than "
                f"n_colors={n_colors}; the palette keeps all of them",
                UserWarning,
                stacklevel=2,
            )
        centers, n_iter, state = colours, 0, None
    else:
        centers, n_iter, state = _fit_colours(
            colours, weights, n_fit, seed=seed, max_iter=max_iter, tol=tol, n_init=n_init,
            callback=_with_progress(callback, progress), callback_inertia=callback is not None,
        )
    palette, labels, sq_errors = _palette_labels(colours, centers, state)

    # Drop unused entries and sort the palette by use, most used first (ties
    # by colour, so the order is deterministic).
    usage = np.bincount(labels, weights=weights, minlength=palette.shape[0])
    order = np.lexsort((np.arange(palette.shape[0]), -usage))
    order = order[usage[order] > 0]
    rank = np.empty(palette.shape[0], dtype=np.intp)
    rank[order] = np.arange(order.size)
    palette = palette[order].astype(np.uint8)
    if out_channels == 4 and fit_channels == 3:
        palette = np.column_stack([palette, np.full(palette.shape[0], 255, np.uint8)])

    pixel_labels = lookup(rank[labels].astype(np.uint8))
    if visible is None:
        indices = pixel_labels
    else:
        transparent_index = palette.shape[0]
        palette = np.vstack([palette, np.zeros((1, 4), np.uint8)])
        indices = np.full(height * width, transparent_index, dtype=np.uint8)
        indices[visible] = pixel_labels
    sse = float((sq_errors * weights).sum())
    return QuantizedImage(palette, indices.reshape(height, width), n_iter, sse)
